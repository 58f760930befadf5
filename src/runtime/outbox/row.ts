/**
 * An outbox row read back as a publish call, or the reason it cannot be one. A row the
 * relay cannot publish (written by hand, by an older release, or tampered with) is
 * dead-lettered in its table with this reason; it never stops the relay.
 */
import { addressOf } from '../address.js';
import { AddressParameterError } from '../errors.js';
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

export interface OutboxRow {
  id: string;
  position: string;
  event_id: unknown;
  type: unknown;
  version: unknown;
  subject: unknown;
  params: unknown;
  headers: unknown;
  metadata: unknown;
  correlation_id: unknown;
  causation_id: unknown;
  partition_key: unknown;
  occurred_at: unknown;
  body: unknown;
}

export type DecodedRow =
  | { ok: true; eventId: string; descriptor: EventDescriptor<unknown>; data: unknown; options: PublishOptions }
  | { ok: false; eventId: string; reason: OutboxFailureReason; detail: string };

const utf8 = new TextDecoder('utf-8', { fatal: true });
/** The event id becomes a header value and the broker's dedupe id: printable, bounded. */
const EVENT_ID = /^[\x21-\x7e]{1,255}$/;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const optionalText = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

export function decodeRow(row: OutboxRow, descriptors: ReadonlyMap<string, EventDescriptor<unknown>>, typesKnown: ReadonlySet<string>): DecodedRow {
  const eventId = typeof row.event_id === 'string' ? row.event_id : '';
  const fail = (reason: OutboxFailureReason, detail: string): DecodedRow => ({ ok: false, eventId, reason, detail });
  if (!EVENT_ID.test(eventId)) return fail('undecodable', `event id ${JSON.stringify(String(row.event_id)).slice(0, 80)} is not 1..255 printable ASCII characters`);
  const type = String(row.type);
  const version = String(row.version);
  const descriptor = descriptors.get(`${type}@${version}`);
  if (!descriptor) {
    return typesKnown.has(type)
      ? fail('unknown-version', `${type}@${version} is not among the relay's descriptors`)
      : fail('unknown-type', `type ${JSON.stringify(type.slice(0, 200))} is not among the relay's descriptors`);
  }
  if (!(row.body instanceof Uint8Array)) return fail('undecodable', 'body is not bytes');
  let data: unknown;
  try {
    data = JSON.parse(utf8.decode(row.body));
  } catch (err) {
    return fail('undecodable', `body is not UTF-8 JSON: ${(err as Error).message}`);
  }
  if (!isRecord(row.params) || Object.values(row.params).some((v) => typeof v !== 'string')) return fail('undecodable', 'params is not an object of strings');
  if (!isRecord(row.headers)) return fail('undecodable', 'headers is not an object');
  if (!isRecord(row.metadata)) return fail('undecodable', 'metadata is not an object');
  if (!(row.occurred_at instanceof Date) || Number.isNaN(row.occurred_at.getTime())) return fail('undecodable', 'occurred_at is not a time');
  const params = row.params as Record<string, string>;
  try {
    const subject = addressOf(descriptor).fill(params);
    // The subject column is what operators query; a row whose column disagrees with its
    // parameters was not written by add() and is not sent anywhere.
    if (subject !== row.subject) return fail('address-invalid', `subject column ${JSON.stringify(String(row.subject)).slice(0, 200)} is not the address filled with the row's params (${subject})`);
  } catch (err) {
    if (err instanceof AddressParameterError) return fail('address-invalid', err.message);
    throw err;
  }
  const options: PublishOptions = { id: eventId, params, metadata: row.metadata, timestamp: row.occurred_at };
  if (Object.keys(row.headers).length > 0) options.headers = row.headers;
  const correlationId = optionalText(row.correlation_id);
  const causationId = optionalText(row.causation_id);
  const orderingKey = optionalText(row.partition_key);
  if (correlationId !== undefined) options.correlationId = correlationId;
  if (causationId !== undefined) options.causationId = causationId;
  if (orderingKey !== undefined) options.orderingKey = orderingKey;
  return { ok: true, eventId, descriptor, data, options };
}
