/**
 * Envelope <-> wire. Implements CloudEvents 1.0 with the NATS protocol binding: binary
 * content mode (attributes in `ce-*` headers, data as the body) by default, structured
 * JSON mode (`application/cloudevents+json`) as an option. The same headers work for AMQP
 * application properties, so other transports reuse this codec unchanged.
 */
import { gunzipSync, gzip } from 'node:zlib';
import { promisify } from 'node:util';
import { DecodeError } from './errors.js';
import type { Envelope, HeaderReader, HeaderRecord, InboundMessage } from './types.js';

const gzipAsync = promisify(gzip);

export const SPEC_VERSION = '1.0';
export const JSON_CONTENT_TYPE = 'application/json';
export const STRUCTURED_CONTENT_TYPE = 'application/cloudevents+json';

/** Header names. Lowercase: NATS headers are case-sensitive and AMQP keeps what it gets. */
export const H = {
  specversion: 'ce-specversion',
  id: 'ce-id',
  type: 'ce-type',
  source: 'ce-source',
  time: 'ce-time',
  eventversion: 'ce-eventversion',
  correlationid: 'ce-correlationid',
  causationid: 'ce-causationid',
  partitionkey: 'ce-partitionkey',
  metadata: 'ce-metadata',
  contentType: 'content-type',
  contentEncoding: 'content-encoding',
  /** Set by responders that failed instead of replying. */
  replyError: 'ec-reply-error',
  replyErrorDetail: 'ec-reply-error-detail',
  dlReason: 'ec-dead-letter-reason',
  dlDetail: 'ec-dead-letter-detail',
  dlGroup: 'ec-dead-letter-group',
  dlSubject: 'ec-dead-letter-subject',
  dlDeliveryCount: 'ec-dead-letter-delivery-count',
  dlTime: 'ec-dead-letter-time',
} as const;

export interface AttributeMapping {
  /** Field of the design's BaseEvent / our Envelope. */
  envelope: string;
  /** CloudEvents 1.0 attribute (context attribute or extension). */
  cloudEvents: string;
  kind: 'required' | 'optional' | 'extension';
  /** Header in binary mode (NATS binding; AMQP reuses it). */
  binaryHeader: string;
  /** Member of the JSON object in structured mode. */
  structuredMember: string;
  notes: string;
}

/** The mapping as data, so the README table is generated rather than retyped. */
export const CLOUDEVENTS_MAPPING: readonly AttributeMapping[] = [
  { envelope: '-', cloudEvents: 'specversion', kind: 'required', binaryHeader: H.specversion, structuredMember: 'specversion', notes: "always '1.0'" },
  { envelope: 'id', cloudEvents: 'id', kind: 'required', binaryHeader: H.id, structuredMember: 'id', notes: 'also Nats-Msg-Id (broker dedupe) and the consumer dedupe key' },
  { envelope: 'type', cloudEvents: 'type', kind: 'required', binaryHeader: H.type, structuredMember: 'type', notes: "e.g. 'user.created'" },
  { envelope: 'source', cloudEvents: 'source', kind: 'required', binaryHeader: H.source, structuredMember: 'source', notes: 'the producing service' },
  { envelope: 'timestamp', cloudEvents: 'time', kind: 'optional', binaryHeader: H.time, structuredMember: 'time', notes: 'RFC 3339; required by this runtime' },
  { envelope: 'version', cloudEvents: 'eventversion', kind: 'extension', binaryHeader: H.eventversion, structuredMember: 'eventversion', notes: 'payload schema semver; required by this runtime' },
  { envelope: 'correlationId', cloudEvents: 'correlationid', kind: 'extension', binaryHeader: H.correlationid, structuredMember: 'correlationid', notes: 'carried from request to reply and by ctx.publish' },
  { envelope: 'causationId', cloudEvents: 'causationid', kind: 'extension', binaryHeader: H.causationid, structuredMember: 'causationid', notes: 'id of the event that caused this one' },
  { envelope: 'metadata', cloudEvents: 'metadata', kind: 'extension', binaryHeader: H.metadata, structuredMember: 'metadata', notes: 'JSON-encoded object (extension values must be strings)' },
  { envelope: '(orderingKey option)', cloudEvents: 'partitionkey', kind: 'extension', binaryHeader: H.partitionkey, structuredMember: 'partitionkey', notes: 'CloudEvents Partitioning extension; consumers serialise per key' },
  { envelope: 'data', cloudEvents: 'data', kind: 'optional', binaryHeader: '(body)', structuredMember: 'data', notes: 'JSON' },
  { envelope: '-', cloudEvents: 'datacontenttype', kind: 'optional', binaryHeader: H.contentType, structuredMember: 'datacontenttype', notes: "'application/json'; structured mode sends 'application/cloudevents+json'" },
  { envelope: '-', cloudEvents: '-', kind: 'optional', binaryHeader: H.contentEncoding, structuredMember: '-', notes: "'gzip' when the body was compressed (above compression.thresholdBytes)" },
];

export interface EncodeOptions {
  mode: 'binary' | 'structured';
  /** Gzip bodies of at least this many bytes; undefined disables compression. */
  compressAbove: number | undefined;
}

export interface EncodedEvent {
  headers: HeaderRecord;
  body: Uint8Array;
}

/**
 * A publish option the outbox relay sets (a symbol: no caller can set it by accident): the
 * payload's JSON bytes as stored, exactly `JSON.stringify(data)` of the value it validated,
 * so binary mode sends them instead of encoding the value again.
 */
export const STORED_DATA_JSON = Symbol('event-contracts.storedDataJson');

export interface EnvelopeFields {
  id: string;
  type: string;
  source: string;
  time: string;
  version: string;
  data: unknown;
  /** `data` as JSON bytes already (see STORED_DATA_JSON); binary mode sends them as the body. */
  dataJson?: Uint8Array | undefined;
  metadata: Record<string, unknown> | undefined;
  correlationId: string | undefined;
  causationId: string | undefined;
  partitionKey: string | undefined;
  contentType: string | undefined;
}

function utf8(s: string): Uint8Array {
  return Buffer.from(s, 'utf8');
}

/** Synchronous part of encoding; compression is applied by `compress` only when needed. */
export function encodeFields(f: EnvelopeFields, mode: 'binary' | 'structured'): EncodedEvent {
  if (mode === 'binary') {
    // Literal keys (not [H.x]): computed keys made this object the costliest part of publish.
    const headers: HeaderRecord = {
      'ce-specversion': SPEC_VERSION,
      'ce-id': f.id,
      'ce-type': f.type,
      'ce-source': f.source,
      'ce-time': f.time,
      'ce-eventversion': f.version,
      'content-type': f.contentType ?? JSON_CONTENT_TYPE,
    };
    if (f.correlationId !== undefined) headers[H.correlationid] = f.correlationId;
    if (f.causationId !== undefined) headers[H.causationid] = f.causationId;
    if (f.partitionKey !== undefined) headers[H.partitionkey] = f.partitionKey;
    if (f.metadata !== undefined && Object.keys(f.metadata).length > 0) headers[H.metadata] = JSON.stringify(f.metadata);
    return { headers, body: f.dataJson ?? utf8(JSON.stringify(f.data ?? null)) };
  }
  const doc: Record<string, unknown> = {
    specversion: SPEC_VERSION,
    id: f.id,
    type: f.type,
    source: f.source,
    time: f.time,
    eventversion: f.version,
    datacontenttype: f.contentType ?? JSON_CONTENT_TYPE,
  };
  if (f.correlationId !== undefined) doc['correlationid'] = f.correlationId;
  if (f.causationId !== undefined) doc['causationid'] = f.causationId;
  if (f.partitionKey !== undefined) doc['partitionkey'] = f.partitionKey;
  if (f.metadata !== undefined && Object.keys(f.metadata).length > 0) doc['metadata'] = JSON.stringify(f.metadata);
  doc['data'] = f.data ?? null;
  return { headers: { [H.contentType]: STRUCTURED_CONTENT_TYPE }, body: utf8(JSON.stringify(doc)) };
}

export async function compress(e: EncodedEvent, threshold: number | undefined): Promise<EncodedEvent> {
  if (threshold === undefined || e.body.byteLength < threshold) return e;
  const body = await gzipAsync(e.body);
  e.headers[H.contentEncoding] = 'gzip';
  return { headers: e.headers, body };
}

function isJsonContentType(ct: string): boolean {
  const base = (ct.split(';')[0] ?? '').trim().toLowerCase();
  return base === JSON_CONTENT_TYPE || base.endsWith('+json');
}

/**
 * Synchronous on purpose: consumers decode in arrival order so that per-key ordering is
 * decided before anything awaits. maxOutputLength bounds a decompression bomb.
 */
function inflate(headers: HeaderReader, body: Uint8Array, maxBytes: number): Uint8Array {
  const enc = headers.get(H.contentEncoding);
  if (enc === undefined || enc === '' || enc === 'identity') return body;
  if (enc !== 'gzip') throw new DecodeError('unsupported-content-type', `unsupported content-encoding '${enc}'`);
  try {
    return gunzipSync(body, { maxOutputLength: maxBytes });
  } catch (err) {
    throw new DecodeError('undecodable', `gzip body could not be inflated: ${(err as Error).message}`);
  }
}

function parseJson(body: Uint8Array, what: string): unknown {
  try {
    return JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'));
  } catch (err) {
    throw new DecodeError('undecodable', `${what} is not valid JSON: ${(err as Error).message}`);
  }
}

function required(value: unknown, name: string): string {
  if (typeof value !== 'string' || value === '') throw new DecodeError('missing-attributes', `CloudEvents attribute '${name}' is missing`);
  return value;
}

function optional(value: unknown, name: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new DecodeError('missing-attributes', `CloudEvents attribute '${name}' must be a string`);
  return value;
}

let lastTimeText = '';
let lastTimeMs = 0;

function parseTime(value: unknown): Date {
  const s = required(value, 'time');
  // Events published together share their time text (publishers format it once per ms):
  // parse a text once, and give every envelope its own Date (a Date is mutable).
  if (s === lastTimeText) return new Date(lastTimeMs);
  const d = new Date(s);
  const ms = d.getTime();
  if (Number.isNaN(ms)) throw new DecodeError('missing-attributes', `CloudEvents attribute 'time' is not a timestamp: ${JSON.stringify(s).slice(0, 64)}`);
  lastTimeText = s;
  lastTimeMs = ms;
  return d;
}

function parseMetadata(value: unknown): Record<string, unknown> {
  if (value === undefined || value === null) return EMPTY;
  if (typeof value !== 'string') throw new DecodeError('undecodable', `'metadata' must be a JSON string`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new DecodeError('undecodable', `'metadata' is not valid JSON`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new DecodeError('undecodable', `'metadata' must be a JSON object`);
  return parsed as Record<string, unknown>;
}

const EMPTY: Record<string, unknown> = Object.freeze({}) as Record<string, unknown>;

export interface DecodedEnvelope extends Envelope<unknown> {
  readonly partitionKey?: string;
}

/**
 * Decode any inbound message. Throws DecodeError (with the dead-letter reason) and nothing
 * else: callers rely on that to dead-letter whatever the wire throws at them.
 */
export function decodeMessageSync(msg: InboundMessage, maxDecodedBytes: number): DecodedEnvelope {
  try {
    return decodeUnsafe(msg, maxDecodedBytes);
  } catch (err) {
    if (err instanceof DecodeError) throw err;
    throw new DecodeError('undecodable', `message could not be decoded: ${(err as Error)?.message ?? String(err)}`);
  }
}

function decodeUnsafe(msg: InboundMessage, maxDecodedBytes: number): DecodedEnvelope {
  const h = msg.headers;
  const contentType = h.get(H.contentType);
  // The common case, 'application/json' exactly, skips both media type checks.
  if (contentType !== JSON_CONTENT_TYPE && contentType !== undefined && contentType.split(';')[0]?.trim().toLowerCase() === STRUCTURED_CONTENT_TYPE) {
    const doc = parseJson(inflate(h, msg.body, maxDecodedBytes), 'structured CloudEvent');
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new DecodeError('undecodable', 'structured CloudEvent must be a JSON object');
    const o = doc as Record<string, unknown>;
    if (o['specversion'] !== SPEC_VERSION) throw new DecodeError('missing-attributes', `unsupported CloudEvents specversion ${JSON.stringify(o['specversion'])}`);
    const dct = optional(o['datacontenttype'], 'datacontenttype');
    if (dct !== undefined && !isJsonContentType(dct)) throw new DecodeError('unsupported-content-type', `unsupported datacontenttype '${dct}'`);
    const partitionKey = optional(o['partitionkey'], 'partitionkey');
    const correlationId = optional(o['correlationid'], 'correlationid');
    const causationId = optional(o['causationid'], 'causationid');
    return {
      id: required(o['id'], 'id'),
      type: required(o['type'], 'type'),
      source: required(o['source'], 'source'),
      timestamp: parseTime(o['time']),
      version: required(o['eventversion'], 'eventversion'),
      data: o['data'] ?? null,
      metadata: parseMetadata(o['metadata']),
      subject: msg.subject,
      ...(correlationId !== undefined ? { correlationId } : {}),
      ...(causationId !== undefined ? { causationId } : {}),
      ...(partitionKey !== undefined ? { partitionKey } : {}),
    };
  }
  if (contentType !== JSON_CONTENT_TYPE && contentType !== undefined && contentType !== '' && !isJsonContentType(contentType)) {
    throw new DecodeError('unsupported-content-type', `unsupported content-type '${contentType}'`);
  }
  const spec = h.get(H.specversion);
  if (spec === undefined) throw new DecodeError('missing-attributes', `header '${H.specversion}' is missing: not a CloudEvent`);
  if (spec !== SPEC_VERSION) throw new DecodeError('missing-attributes', `unsupported CloudEvents specversion '${spec}'`);
  const id = required(h.get(H.id), 'id');
  const type = required(h.get(H.type), 'type');
  const source = required(h.get(H.source), 'source');
  const timestamp = parseTime(h.get(H.time));
  const version = required(h.get(H.eventversion), 'eventversion');
  const metadata = parseMetadata(h.get(H.metadata));
  const data = parseJson(inflate(h, msg.body, maxDecodedBytes), 'event data');
  const env: { -readonly [K in keyof DecodedEnvelope]: DecodedEnvelope[K] } = { id, type, source, timestamp, version, data, metadata, subject: msg.subject };
  const correlationId = h.get(H.correlationid);
  if (correlationId !== undefined) env.correlationId = correlationId;
  const causationId = h.get(H.causationid);
  if (causationId !== undefined) env.causationId = causationId;
  const partitionKey = h.get(H.partitionkey);
  if (partitionKey !== undefined) env.partitionKey = partitionKey;
  return env;
}

export async function decodeMessage(msg: InboundMessage, maxDecodedBytes: number): Promise<DecodedEnvelope> {
  return decodeMessageSync(msg, maxDecodedBytes);
}

/** HeaderReader over a plain record, for in-memory messages and tests. */
export function recordHeaders(r: Readonly<HeaderRecord>): HeaderReader {
  return {
    get: (name) => (Object.prototype.hasOwnProperty.call(r, name) ? r[name] : undefined),
    keys: () => Object.keys(r),
  };
}
