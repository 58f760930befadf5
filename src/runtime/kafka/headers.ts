/**
 * CloudEvents Kafka protocol binding 1.0 (binary content mode), both ways, and the
 * transport's own record headers.
 *
 * The bus speaks lowercase `ce-*` headers (the NATS binding); on Kafka a CloudEvents
 * attribute travels as the header `ce_<name>` and `datacontenttype` as `content-type`
 * (binding §3.2.3). Reading maps them back, so the bus's decoder sees exactly the names it
 * sees over NATS. Structured mode needs nothing here: the bus writes `content-type:
 * application/cloudevents+json` and the event as the body, which is the binding's
 * structured mode as it stands.
 *
 * Kafka header values are bytes, keys may repeat and values may be null. What the bus
 * cannot read as one string per name (a value or key that is not UTF-8, a null value, a
 * name given twice) makes the delivery malformed (dead-lettered as headers-invalid) rather
 * than guessed at: two readers must never see different values of one attribute.
 *
 * Headers the transport keeps for itself are hidden from the bus: `ec-subject` (the
 * concrete subject, which travels with the record since a topic carries many) and the
 * retry bookkeeping `ec-kafka-*`, which is read only on the group's own retry topics and
 * dropped everywhere else (a producer cannot forge an attempt count).
 */
import { isUtf8 } from 'node:buffer';
import type { HeaderReader, HeaderRecord } from '../types.js';

/** Prefix of CloudEvents attributes among Kafka headers. */
export const KAFKA_CE_PREFIX = 'ce_';
/** The concrete subject of the record. */
export const SUBJECT_HEADER = 'ec-subject';
/** Retries so far, on a retry topic only. */
export const ATTEMPT_HEADER = 'ec-kafka-attempt';
/** When a retry is due (ms since the epoch), on a retry topic only. */
export const DUE_HEADER = 'ec-kafka-due';
/** Correlation id of a request, and the reply topic to answer on. */
export const CORRELATION_HEADER = 'ec-kafka-correlation';
export const REPLY_TO_HEADER = 'ec-kafka-reply-to';

/** Names the transport owns: never shown to the bus, never taken from a producer. */
export function hidden(name: string): boolean {
  return name === SUBJECT_HEADER || name.startsWith('ec-kafka-');
}

/**
 * Kafka headers for an outbound message: `ce-x` → `ce_x`, the rest under its own name, then
 * the subject. A header the transport owns cannot be sent by the bus's caller.
 */
export function toKafkaHeaders(h: Readonly<HeaderRecord>, subject: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const k in h) {
    const v = h[k] as string;
    if (k.charCodeAt(0) === 99 /* c */ && k.startsWith('ce-')) out.set(KAFKA_CE_PREFIX + k.slice(3), v);
    else if (hidden(k) || k.startsWith(KAFKA_CE_PREFIX)) throw new Error(`header ${k} is reserved for the Kafka transport`);
    else out.set(k, v);
  }
  out.set(SUBJECT_HEADER, subject);
  return out;
}

/** Raw record headers as the client hands them over (noop deserialisers: Buffers, or undefined for null). */
export type RawHeaders = Map<Buffer | undefined, Buffer | undefined>;

/**
 * Inbound headers under the bus's names, plus the transport's own ones apart. Never throws:
 * what cannot be read is described in `problem`.
 */
export class KafkaHeaders implements HeaderReader {
  private readonly map = new Map<string, string>();
  /** The transport's headers (`ec-subject`, `ec-kafka-*`), for the consumer to trust or not. */
  readonly own = new Map<string, string>();
  /** Why the headers cannot be read as one string per name, when they cannot. */
  readonly problem: string | undefined;

  constructor(raw: RawHeaders | undefined) {
    let problem: string | undefined;
    if (raw) {
      for (const [kb, vb] of raw) {
        if (kb === undefined || !isUtf8(kb)) {
          problem ??= 'a header name is not UTF-8 text';
          continue;
        }
        const k = kb.toString('utf8');
        if (vb === undefined || vb === null) {
          problem ??= `header '${k.slice(0, 200)}' has a null value`;
          continue;
        }
        if (!isUtf8(vb)) {
          problem ??= `header '${k.slice(0, 200)}' is not UTF-8 text`;
          continue;
        }
        const v = vb.toString('utf8');
        if (hidden(k)) {
          // The first one stands (a dead letter reports the subject the record was read under).
          if (this.own.has(k)) problem ??= `header '${k.slice(0, 200)}' appears twice`;
          else this.own.set(k, v);
          continue;
        }
        // `ce_x` is read as `ce-x`; a literal `ce-x` keeps its name, and both on one record is
        // one name given twice.
        const name = k.startsWith(KAFKA_CE_PREFIX) ? 'ce-' + k.slice(KAFKA_CE_PREFIX.length) : k;
        if (this.map.has(name)) {
          problem ??= `header '${name.slice(0, 200)}' appears twice`;
          continue;
        }
        this.map.set(name, v);
      }
    }
    this.problem = problem;
  }

  get(name: string): string | undefined {
    return this.map.get(name);
  }

  keys(): Iterable<string> {
    return this.map.keys();
  }

  /** The headers as a record (bus names), e.g. to copy them into a dead letter. */
  record(): HeaderRecord {
    return Object.fromEntries(this.map);
  }
}

/** No headers at all: what the bus sees of a malformed delivery. */
export const NO_HEADERS: HeaderReader = { get: () => undefined, keys: () => [] };

/**
 * Size of a record as the broker counts it against `max.message.bytes`, near enough: key,
 * value, header names and values, and the per-record and per-batch framing (a record batch
 * of one record is 61 bytes of batch header plus up to ~20 of varints per record and header).
 */
export function recordBytes(headers: ReadonlyMap<string, string>, body: Uint8Array, key: string | undefined): number {
  let n = 61 + 20 + body.byteLength + (key ? Buffer.byteLength(key) : 0);
  for (const [k, v] of headers) n += Buffer.byteLength(k) + Buffer.byteLength(v) + 10;
  return n;
}

/**
 * recordBytes of the record `toKafkaHeaders(headers, subject)` makes, without making it
 * (the bus sizes every publish): `ce-x` and `ce_x` are as long, the subject is one header more.
 */
export function outboundBytes(headers: Readonly<HeaderRecord>, subject: string, body: Uint8Array, key: string): number {
  let n = 61 + 20 + body.byteLength + Buffer.byteLength(key) + SUBJECT_HEADER.length + Buffer.byteLength(subject) + 10;
  for (const k in headers) n += Buffer.byteLength(k) + Buffer.byteLength(headers[k] as string) + 10;
  return n;
}
