/**
 * CloudEvents AMQP protocol binding (binary content mode) for AMQP 0-9-1, both ways, and
 * the broker's record of the transport's retries.
 *
 * The bus speaks lowercase `ce-*` headers (the NATS binding); on AMQP a CloudEvents
 * attribute travels as the application property `cloudEvents:<name>` and `datacontenttype`
 * as the message's `content-type` property (CloudEvents AMQP binding 1.0, §3.1.1 and
 * §3.1.3.1). Reading maps them back, so the bus's decoder sees exactly the header names
 * it sees over NATS and nothing broker-specific leaks into the envelope.
 *
 * Headers the transport and the broker keep for themselves are hidden from the bus (they
 * must not end up in a dead letter's copy of the "original headers", nor be read as ours
 * when a producer wrote them): `x-ec-*` and `ec-amqp-*`, RabbitMQ's dead-lettering trail
 * (`x-death`, `x-first-death-*`, `x-last-death-*`) and its sender-selected routing (`CC`,
 * `BCC`).
 *
 * Pure: amqplib is imported for its types only.
 */
import type { ConsumeMessage, MessageProperties, Options } from 'amqplib';
import type { HeaderReader, HeaderRecord } from '../types.js';

/** Prefix of CloudEvents attributes among AMQP application properties. */
export const AMQP_CE_PREFIX = 'cloudEvents:';
/** The binding also allows `cloudEvents_` for JMS 2.0 compatibility; accepted on read. */
const AMQP_CE_PREFIX_JMS = 'cloudEvents_';

/**
 * Names the delay queue a retry is for; the retry exchange (type headers) routes on it. Not
 * `x-` prefixed: RabbitMQ's headers exchange ignores `x-` headers when matching.
 */
export const RETRY_QUEUE_HEADER = 'ec-amqp-retry';

export function hidden(name: string): boolean {
  return (
    name.startsWith('x-ec-') ||
    name.startsWith('ec-amqp-') ||
    name === 'x-death' ||
    name.startsWith('x-first-death-') ||
    name.startsWith('x-last-death-') ||
    name === 'CC' ||
    name === 'BCC'
  );
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

/**
 * An AMQP field value as the string the bus expects; undefined for what has no string form
 * (a table, an array, void). amqplib decodes timestamps and decimals as `{ '!': type, value }`.
 */
function text(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  if (Buffer.isBuffer(v)) return v.toString('utf8');
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
    const typed = v as { '!'?: unknown; value?: unknown };
    // AMQP 0-9-1 timestamps are seconds since the epoch (the CloudEvents AMQP binding maps `time` to one).
    if (typed['!'] === 'timestamp' && typeof typed.value === 'number') {
      const d = new Date(typed.value * 1000);
      return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
    }
    if (typed['!'] === 'decimal') {
      const { places, digits } = (typed.value ?? {}) as { places?: unknown; digits?: unknown };
      if (typeof places === 'number' && typeof digits === 'number' && places >= 0 && places <= 255) {
        const s = String(digits).padStart(places + 1, '0');
        return places === 0 ? s : `${s.slice(0, s.length - places)}.${s.slice(s.length - places)}`;
      }
    }
  }
  return undefined;
}

function kind(v: unknown): string {
  if (v === null || v === undefined) return 'void';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'a table';
  return typeof v;
}

/**
 * Inbound headers with the NATS-binding names the bus's decoder reads. A header whose value
 * has no string form is left out and described in `problem`: a consumer hands such a
 * message to the bus as malformed instead of guessing.
 */
export class AmqpHeaders implements HeaderReader {
  private readonly map = new Map<string, string>();
  /** Why the headers cannot be read as the bus's string headers, when they cannot. */
  readonly problem: string | undefined;

  constructor(p: MessageProperties) {
    let problem: string | undefined;
    if (p.contentType !== undefined && p.contentType !== null) this.map.set('content-type', String(p.contentType));
    if (p.contentEncoding !== undefined && p.contentEncoding !== null) this.map.set('content-encoding', String(p.contentEncoding));
    const h = p.headers as Record<string, unknown> | undefined;
    if (h) {
      for (const k in h) {
        let name: string;
        if (k.startsWith(AMQP_CE_PREFIX)) name = 'ce-' + k.slice(AMQP_CE_PREFIX.length);
        else if (k.startsWith(AMQP_CE_PREFIX_JMS)) name = 'ce-' + k.slice(AMQP_CE_PREFIX_JMS.length);
        else if (hidden(k)) continue;
        else name = k;
        const v = text(h[k]);
        if (v === undefined) problem ??= `header '${k.slice(0, 200)}' holds ${kind(h[k])}, not a value`;
        // The first spelling wins if a message carries both prefixes for one attribute.
        else if (!this.map.has(name)) this.map.set(name, v);
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

  /** The headers as a record, e.g. to copy them into a dead letter. */
  record(): HeaderRecord {
    return Object.fromEntries(this.map);
  }
}

/** No headers at all: what the bus sees of a malformed delivery. */
export const NO_HEADERS: HeaderReader = { get: () => undefined, keys: () => [] };

/** NATS subject pattern → AMQP topic binding key: `*` stays `*`, a trailing `>` becomes `#`. */
export function bindingKey(pattern: string): string {
  return pattern
    .split('.')
    .map((t) => (t === '>' ? '#' : t))
    .join('.');
}

// ---------------------------------------------------------------------------------------
// The retry trail.
// ---------------------------------------------------------------------------------------

/** What RabbitMQ recorded about a message's trips through a group queue's delay queues. */
export interface RetryTrail {
  /** Trips through the delay queues so far (the attempt number is this plus one). */
  retries: number;
  /** The routing key the last retry was published with: the original subject. */
  subject: string;
}

/**
 * The broker's record of the retries of a message delivered from `queue`, or undefined
 * when the message did not come back through this transport's retry path.
 *
 * Why a producer cannot forge it. RabbitMQ (3.10 here, checked: a client-set `x-death`
 * entry naming the delay queue comes out with its count incremented and its
 * `routing-keys` kept) takes whatever `x-death` a message carries into a queue and adds
 * to it. So the trail is trusted only for a delivery that
 * - came from the default exchange with the group queue's name as routing key, which is
 *   what the delay queue's dead-lettering (`x-dead-letter-exchange: ''`,
 *   `x-dead-letter-routing-key: <queue>`) does, and an events-exchange publish never
 *   shows (the delivery's exchange is the one the producer published to); and
 * - whose latest `x-death` entry says it expired in one of this queue's delay queues after
 *   being published to the retry exchange.
 * And the transport itself strips `x-death` (and `CC`/`BCC`) from every message that did
 * not arrive this way before it republishes it as a retry, so a producer's forged trail
 * never enters a delay queue; only the broker's entries, over copies the transport made,
 * are ever counted. The attempt count and the subject are then the broker's.
 *
 * What remains: a client allowed to write to the default exchange (`amq.default`) or to
 * the retry exchange can put a message with a made-up trail straight into the group
 * queue or a delay queue. Deny producers write access to both (RabbitMQ permissions, as
 * issue 13 provisions); the transport's own user needs them.
 */
export function retryTrail(m: ConsumeMessage, queue: string, retryExchange: string): RetryTrail | undefined {
  if (m.fields.exchange !== '' || m.fields.routingKey !== queue) return undefined;
  const deaths = (m.properties.headers as Record<string, unknown> | undefined)?.['x-death'];
  if (!Array.isArray(deaths) || deaths.length === 0) return undefined;
  const prefix = `${queue}.retry.`;
  let retries = 0;
  let subject: string | undefined;
  for (let i = 0; i < deaths.length; i++) {
    const d = deaths[i] as Record<string, unknown> | null;
    const ours =
      typeof d === 'object' && d !== null && d['reason'] === 'expired' && d['exchange'] === retryExchange && typeof d['queue'] === 'string' && d['queue'].startsWith(prefix);
    if (!ours) {
      // The latest entry (RabbitMQ keeps the most recent first) must be ours.
      if (i === 0) return undefined;
      continue;
    }
    const count = d['count'];
    if (typeof count === 'number' && Number.isSafeInteger(count) && count > 0) retries += count;
    const keys = d['routing-keys'];
    if (subject === undefined && Array.isArray(keys) && typeof keys[0] === 'string') subject = keys[0];
  }
  return subject === undefined || retries === 0 ? undefined : { retries, subject };
}

/**
 * Properties of a delivery republished as a retry into `delayQueue`. The broker's trail is
 * kept only when `trusted` (the delivery came back through the retry path, see
 * retryTrail); everything else a producer could have set to steer the copy is dropped.
 */
export function retryProperties(p: MessageProperties, delayQueue: string, trusted: boolean): Options.Publish {
  const headers: Record<string, unknown> = {};
  const h = p.headers as Record<string, unknown> | undefined;
  if (h) {
    for (const k in h) {
      if (hidden(k) && !(trusted && k === 'x-death')) continue;
      headers[k] = h[k];
    }
  }
  headers[RETRY_QUEUE_HEADER] = delayQueue;
  const out: Options.Publish = { persistent: true, headers };
  if (p.contentType != null) out.contentType = p.contentType as string;
  if (p.contentEncoding != null) out.contentEncoding = p.contentEncoding as string;
  if (p.messageId != null) out.messageId = p.messageId as string;
  if (p.correlationId != null) out.correlationId = p.correlationId as string;
  if (p.timestamp != null) out.timestamp = p.timestamp as number;
  if (p.type != null) out.type = p.type as string;
  if (p.appId != null) out.appId = p.appId as string;
  return out;
}
