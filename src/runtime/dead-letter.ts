/**
 * What a dead letter carries, whatever the broker: the original headers (less the ones that
 * would make republishing it fail or lie) plus the reason headers. Shared by every
 * transport, so a dead letter reads the same over NATS, RabbitMQ and memory.
 */
import { createHash } from 'node:crypto';
import { H } from './codec.js';
import type { DeadLetterInfo, HeaderRecord } from './types.js';

/** Original headers are moved here, as JSON, when they could not travel as headers. */
export const STRIPPED_HEADERS = 'ec-dead-letter-stripped-headers';

/** Most bytes of stripped headers kept as data; the rest is cut and said to be cut. */
const STRIPPED_LIMIT = 8 * 1024;

/**
 * Headers a producer may set that would change what the broker does with the dead-letter
 * copy: JetStream's publish expectations (`Nats-Expected-Stream` makes the republish fail
 * forever), its dedupe id (the copy gets its own), rollups and TTLs, and our own reason and
 * transport bookkeeping headers (a forged reason must not pass for ours).
 */
function isStripped(name: string): boolean {
  const n = name.toLowerCase();
  return n.startsWith('nats-') || n.startsWith('ec-dead-letter-') || n.startsWith('x-ec-');
}

const BAD_NAME = /[^!-9;-~]/;
const BAD_VALUE = /[\r\n]/;

/**
 * Dead-letter headers for a message that arrived on `subject` with `original` headers. A
 * header that would not survive republishing (a stripped name, a name or value the wire
 * refuses) is kept, with its value, in one JSON header instead of being dropped.
 */
export function deadLetterHeaders(original: Readonly<HeaderRecord>, subject: string, info: DeadLetterInfo, deliveryCount: number): HeaderRecord {
  const out: HeaderRecord = {};
  let stripped: Record<string, string> | undefined;
  for (const k of Object.keys(original)) {
    const v = original[k] as string;
    if (isStripped(k) || k === '' || BAD_NAME.test(k) || BAD_VALUE.test(v)) (stripped ??= Object.create(null) as Record<string, string>)[k] = v;
    else out[k] = v;
  }
  if (stripped) out[STRIPPED_HEADERS] = strippedJson(stripped);
  out[H.dlReason] = info.reason;
  out[H.dlDetail] = oneLine(info.detail).slice(0, 2048);
  out[H.dlGroup] = info.group;
  out[H.dlSubject] = oneLine(subject);
  out[H.dlDeliveryCount] = String(deliveryCount);
  out[H.dlTime] = new Date().toISOString();
  return out;
}

function oneLine(s: string): string {
  return s.replace(/[\r\n]+/g, ' ');
}

function strippedJson(stripped: Record<string, string>): string {
  // JSON.stringify escapes CR and LF, so the value is one header-safe line.
  const json = JSON.stringify(stripped);
  if (json.length <= STRIPPED_LIMIT) return json;
  return JSON.stringify({ truncated: true, names: Object.keys(stripped).slice(0, 100) }).slice(0, STRIPPED_LIMIT);
}

/** Set when a dead letter carries no body because the original plus the reason would not fit: the original's size in bytes. */
export const OMITTED_BODY = 'ec-dead-letter-body-omitted';
/** SHA-256 (hex) of an omitted body, to match it with the original still in its stream. */
export const OMITTED_BODY_SHA256 = 'ec-dead-letter-body-sha256';
/** Set when even the original headers did not fit: how many were left out. */
export const OMITTED_HEADERS = 'ec-dead-letter-headers-omitted';

/**
 * A dead letter that fits the broker's message limit. The reason headers make a copy
 * larger than the message it reports on, so a message near the limit could never be
 * dead-lettered and would be redelivered forever: its body is left out then (its size and
 * hash say which it was; over NATS the original stays in its stream), and if the original
 * headers are still too many, they are left out too. `size` measures as the broker does.
 */
export function fitDeadLetter(
  headers: HeaderRecord,
  body: Uint8Array,
  limit: number | undefined,
  size: (headers: HeaderRecord, body: Uint8Array) => number,
): { headers: HeaderRecord; body: Uint8Array } {
  if (limit === undefined || size(headers, body) <= limit) return { headers, body };
  const out: HeaderRecord = { ...headers, [OMITTED_BODY]: String(body.byteLength), [OMITTED_BODY_SHA256]: createHash('sha256').update(body).digest('hex') };
  const empty = new Uint8Array(0);
  if (size(out, empty) <= limit) return { headers: out, body: empty };
  const kept: HeaderRecord = {};
  let omitted = 0;
  for (const k of Object.keys(out)) {
    if (k.startsWith('ec-dead-letter-') || k.startsWith('ce-')) kept[k] = out[k] as string;
    else omitted++;
  }
  kept[OMITTED_HEADERS] = String(omitted);
  return { headers: kept, body: empty };
}
