/**
 * An outbox row read back as a publish call, or the reason it cannot be one. A row the
 * relay cannot publish (written by hand, by an older release, or tampered with) is
 * dead-lettered in its table with this reason; it never stops the relay.
 */
import { addressOf } from '../address.js';
import { STORED_DATA_JSON } from '../codec.js';
import { AddressParameterError } from '../errors.js';
import { millisSql } from '../pg-time.js';
import type { EventDescriptor, PublishOptions } from '../types.js';

/** Why a row was marked failed; written into its `error` column as `reason: detail`. */
export type OutboxFailureReason =
  | 'unknown-type'
  | 'unknown-version'
  | 'undecodable'
  | 'address-invalid'
  | 'validation-failed'
  | 'headers-invalid'
  | 'too-large'
  | 'id-collision';

/**
 * A row as the relay reads it: every column as PostgreSQL's text (no driver type parsing,
 * which cost more per row than the rest of reading it), in the order of `RELAY_COLUMNS`.
 * Only the fields a publish needs are parsed, here.
 */
export type RawOutboxRow = readonly [
  id: string,
  position: string,
  eventId: string,
  type: string,
  version: string,
  subject: string,
  params: string,
  headers: string,
  metadata: string,
  correlationId: string | null,
  causationId: string | null,
  partitionKey: string | null,
  occurredMs: string | null,
  bodyHex: string,
  ageMs: string | null,
];

/** The relay's SELECT list, in RawOutboxRow order; `o` is the outbox table. */
export const RELAY_COLUMNS = `o.id::text, o.position::text, o.event_id, o.type, o.version, o.subject, o.params, o.headers, o.metadata,
  o.correlation_id, o.causation_id, o.partition_key,
  ${millisSql('o.occurred_at')}, encode(o.body, 'hex'), ${millisSql('o.committed_at', 'clock_timestamp()')}`;

/** Column indexes of RawOutboxRow. */
export const COL = {
  id: 0,
  position: 1,
  eventId: 2,
  type: 3,
  version: 4,
  subject: 5,
  params: 6,
  headers: 7,
  metadata: 8,
  correlationId: 9,
  causationId: 10,
  partitionKey: 11,
  occurredMs: 12,
  bodyHex: 13,
  ageMs: 14,
} as const;

export type DecodedRow =
  | { ok: true; eventId: string; descriptor: EventDescriptor<unknown>; data: unknown; options: PublishOptions }
  | { ok: false; eventId: string; reason: OutboxFailureReason; detail: string };

/**
 * The body's bytes are sent as stored (see STORED_DATA_JSON), so they are decoded the way a
 * consumer will: a byte order mark is kept (and JSON.parse refuses it) rather than skipped.
 */
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
/** The event id becomes a header value and the broker's dedupe id: printable, bounded. */
const EVENT_ID = /^[\x21-\x7e]{1,255}$/;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const optionalText = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

const EMPTY = '{}';

/** A JSON object column's text (jsonb prints `{}` for an empty one, the common case). */
function objectColumn(text: string): Record<string, unknown> | undefined {
  if (text === EMPTY) return {};
  try {
    const v: unknown = JSON.parse(text);
    return isRecord(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

export function decodeRow(row: RawOutboxRow, descriptors: ReadonlyMap<string, EventDescriptor<unknown>>, typesKnown: ReadonlySet<string>): DecodedRow {
  const eventId = row[COL.eventId];
  const fail = (reason: OutboxFailureReason, detail: string): DecodedRow => ({ ok: false, eventId, reason, detail });
  if (!EVENT_ID.test(eventId)) return fail('undecodable', `event id ${JSON.stringify(eventId).slice(0, 80)} is not 1..255 printable ASCII characters`);
  const type = row[COL.type];
  const version = row[COL.version];
  const descriptor = descriptors.get(`${type}@${version}`);
  if (!descriptor) {
    return typesKnown.has(type)
      ? fail('unknown-version', `${type}@${version} is not among the relay's descriptors`)
      : fail('unknown-type', `type ${JSON.stringify(type.slice(0, 200))} is not among the relay's descriptors`);
  }
  const body = Buffer.from(row[COL.bodyHex], 'hex');
  let data: unknown;
  try {
    data = JSON.parse(utf8.decode(body));
  } catch (err) {
    return fail('undecodable', `body is not UTF-8 JSON: ${(err as Error).message}`);
  }
  const params = objectColumn(row[COL.params]);
  if (params === undefined) return fail('undecodable', 'params is not an object');
  for (const k in params) if (typeof params[k] !== 'string') return fail('undecodable', 'params is not an object of strings');
  const headers = objectColumn(row[COL.headers]);
  if (headers === undefined) return fail('undecodable', 'headers is not an object');
  const metadata = objectColumn(row[COL.metadata]);
  if (metadata === undefined) return fail('undecodable', 'metadata is not an object');
  // Whole milliseconds, NULL when infinite (see pg-time.ts).
  const ms = row[COL.occurredMs];
  const timestamp = new Date(ms === null ? NaN : Number(ms));
  if (Number.isNaN(timestamp.getTime())) return fail('undecodable', 'occurred_at is not a finite time');
  try {
    const subject = addressOf(descriptor).fill(params as Record<string, string>);
    // The subject column is what operators query; a row whose column disagrees with its
    // parameters was not written by add() and is not sent anywhere.
    if (subject !== row[COL.subject]) return fail('address-invalid', `subject column ${JSON.stringify(String(row[COL.subject])).slice(0, 200)} is not the address filled with the row's params (${subject})`);
  } catch (err) {
    if (err instanceof AddressParameterError) return fail('address-invalid', err.message);
    throw err;
  }
  // add() stored JSON.stringify of the value it validated; the bus validates it again and
  // sends these bytes rather than encoding the value a second time.
  const options: PublishOptions & { [STORED_DATA_JSON]: Uint8Array } = { id: eventId, params: params as Record<string, string>, metadata, timestamp, [STORED_DATA_JSON]: body };
  if (row[COL.headers] !== EMPTY) options.headers = headers;
  const correlationId = optionalText(row[COL.correlationId]);
  const causationId = optionalText(row[COL.causationId]);
  const orderingKey = optionalText(row[COL.partitionKey]);
  if (correlationId !== undefined) options.correlationId = correlationId;
  if (causationId !== undefined) options.causationId = causationId;
  if (orderingKey !== undefined) options.orderingKey = orderingKey;
  return { ok: true, eventId, descriptor, data, options };
}
