/**
 * What a dead letter carries, whatever the broker: the original headers (less the ones that
 * would make republishing it fail or lie) plus the reason headers. Shared by every
 * transport, so a dead letter reads the same over NATS, RabbitMQ and memory.
 */
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
