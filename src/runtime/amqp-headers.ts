/**
 * CloudEvents AMQP protocol binding (binary content mode) for AMQP 0-9-1, both ways.
 *
 * The bus speaks lowercase `ce-*` headers (the NATS binding); on AMQP a CloudEvents
 * attribute travels as the application property `cloudEvents:<name>` and `datacontenttype`
 * as the message's `content-type` property (CloudEvents AMQP binding 1.0, §3.1.1 and
 * §3.1.3.1). Reading maps them back, so the bus's decoder sees exactly the header names
 * it sees over NATS and nothing broker-specific leaks into the envelope.
 *
 * Headers the transport keeps for itself (`x-ec-*`) and the broker's own dead-lettering
 * trail (`x-death`, `x-first-death-*`, `x-last-death-*`) are hidden from the bus: they
 * must not end up in a dead letter's copy of the "original headers".
 */
import type { MessageProperties, Options } from 'amqplib';
import type { HeaderReader, HeaderRecord } from './types.js';

/** Prefix of CloudEvents attributes among AMQP application properties. */
export const AMQP_CE_PREFIX = 'cloudEvents:';
/** The binding also allows `cloudEvents_` for JMS 2.0 compatibility; accepted on read. */
const AMQP_CE_PREFIX_JMS = 'cloudEvents_';

/** Transport-internal headers: the attempt counter and the original subject across retries. */
export const X_ATTEMPT = 'x-ec-attempt';
export const X_SUBJECT = 'x-ec-subject';

function hidden(name: string): boolean {
  return name.startsWith('x-ec-') || name === 'x-death' || name.startsWith('x-first-death-') || name.startsWith('x-last-death-');
}

/**
 * AMQP properties for an outbound message. `ce-x` → `cloudEvents:x`, `content-type` and
 * `content-encoding` → the AMQP properties of the same name, anything else (ec-*, a
 * middleware's `traceparent`) → an application property under its own name.
 */
export function toAmqpProperties(h: Readonly<HeaderRecord>, messageId: string, persistent: boolean): Options.Publish {
  const headers: Record<string, string> = {};
  const props: Options.Publish = { messageId, persistent, headers };
  for (const k in h) {
    const v = h[k] as string;
    if (k === 'content-type') props.contentType = v;
    else if (k === 'content-encoding') props.contentEncoding = v;
    else if (k.charCodeAt(0) === 99 /* c */ && k.startsWith('ce-')) headers[AMQP_CE_PREFIX + k.slice(3)] = v;
    else if (hidden(k)) throw new Error(`header ${k} is reserved for the AMQP transport`);
    else headers[k] = v;
  }
  return props;
}

/** An AMQP field value as the string the bus expects, or undefined for tables and arrays. */
function text(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  if (Buffer.isBuffer(v)) return v.toString('utf8');
  return undefined;
}

/** Inbound headers with the NATS-binding names the bus's decoder reads. */
export class AmqpHeaders implements HeaderReader {
  private readonly map = new Map<string, string>();

  constructor(p: MessageProperties) {
    if (p.contentType !== undefined && p.contentType !== null) this.map.set('content-type', String(p.contentType));
    if (p.contentEncoding !== undefined && p.contentEncoding !== null) this.map.set('content-encoding', String(p.contentEncoding));
    const h = p.headers as Record<string, unknown> | undefined;
    if (!h) return;
    for (const k in h) {
      let name: string;
      if (k.startsWith(AMQP_CE_PREFIX)) name = 'ce-' + k.slice(AMQP_CE_PREFIX.length);
      else if (k.startsWith(AMQP_CE_PREFIX_JMS)) name = 'ce-' + k.slice(AMQP_CE_PREFIX_JMS.length);
      else if (hidden(k)) continue;
      else name = k;
      const v = text(h[k]);
      // The first spelling wins if a message carries both prefixes for one attribute.
      if (v !== undefined && !this.map.has(name)) this.map.set(name, v);
    }
  }

  get(name: string): string | undefined {
    return this.map.get(name);
  }

  keys(): Iterable<string> {
    return this.map.keys();
  }

  /** The headers as a record, e.g. to copy them into a dead letter. */
  record(): HeaderRecord {
    return Object.fromEntries(this.map);
  }
}

/** Attempt number carried by the message (1 when it never went through a retry). */
export function attemptOf(p: MessageProperties): number {
  const v = (p.headers as Record<string, unknown> | undefined)?.[X_ATTEMPT];
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : NaN;
  return Number.isInteger(n) && n >= 1 ? n : 1;
}

/** The subject the message was published on, surviving the detour through a retry queue. */
export function subjectOf(p: MessageProperties, routingKey: string): string {
  const v = (p.headers as Record<string, unknown> | undefined)?.[X_SUBJECT];
  return typeof v === 'string' ? v : routingKey;
}

/** NATS subject pattern → AMQP topic binding key: `*` stays `*`, a trailing `>` becomes `#`. */
export function bindingKey(pattern: string): string {
  return pattern
    .split('.')
    .map((t) => (t === '>' ? '#' : t))
    .join('.');
}
