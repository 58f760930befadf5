/**
 * RabbitMQ (AMQP 0-9-1) transport over amqplib.
 *
 * Topology (names with the defaults; every name is configurable):
 * - events on the durable topic exchange `events`, routing key = subject; per-subject
 *   overrides (AsyncAPI `amqp` channel/operation bindings) pick another exchange or queue;
 * - one durable queue per consumer group, named after the group, bound to the group's
 *   subject patterns (`*` stays `*`, a trailing `>` becomes `#`);
 * - retries: the message is republished, with its attempt number in `x-ec-attempt`, to
 *   `<queue>.retry.<ms>`, a delay queue per delay bucket whose `x-message-ttl` dead-letters
 *   it back into the group's queue through the default exchange. Every message of a bucket
 *   waits the same time, so expiry at the head never blocks a shorter delay behind a longer
 *   one, and the group's queue keeps flowing meanwhile;
 * - dead letters: the original body and headers plus the reason (deadLetterHeaders, as over
 *   NATS) are published to the topic exchange `events.dlx` with the dead-letter subject as
 *   routing key (`deadletter.<group>` by default). A reader group gets its own queue
 *   `<group>.deadletters` bound there; a dead letter nobody is bound for is parked in the
 *   durable queue named after the subject, which readers of that subject drain as well;
 * - request/reply: requests on the topic exchange `events.rpc`, answered through RabbitMQ
 *   direct reply-to (`amq.rabbitmq.reply-to`) with `correlation-id`; an unroutable request
 *   (mandatory flag, basic.return) is a NoResponderError.
 *
 * Publishes use a confirm channel, persistent messages and the mandatory flag (an event no
 * queue is bound for is an error, not a silent drop, unless `unroutable: 'drop'`). amqplib does not reconnect, so this
 * transport does: with backoff it reopens the connection and channels, redeclares its
 * consumers and responders, and retries publishes that were in flight with the same message
 * id. RabbitMQ does not deduplicate, so a retried publish can be stored twice: the bus's
 * dedupe store absorbs the copy.
 */
import { createHash } from 'node:crypto';
import amqp, { type Channel, type ChannelModel, type ConfirmChannel, type ConsumeMessage, type MessageProperties, type Options } from 'amqplib';
import { subjectMatches } from './address.js';
import { AmqpHeaders, X_ATTEMPT, X_SUBJECT, attemptOf, bindingKey, subjectOf, toAmqpProperties } from './amqp-headers.js';
import { BusClosedError, NoResponderError, RequestTimeoutError } from './errors.js';
import { deadLetterHeaders } from './dead-letter.js';
import type {
  ConsumeSpec,
  DeadLetterInfo,
  Delivery,
  DeliveryHandler,
  HeaderRecord,
  InboundMessage,
  OutboundMessage,
  RequestHandler,
  ServeSpec,
  Transport,
  TransportReceipt,
  TransportSubscription,
} from './types.js';

export const DEFAULT_AMQP_URL = 'amqp://guest:guest@127.0.0.1:5672';

export interface AmqpExchangeSpec {
  name: string;
  /** Default 'topic'. Routing keys are subjects whatever the type. */
  type?: 'topic' | 'direct' | 'fanout' | 'headers';
  /** Default true. */
  durable?: boolean;
  /** Default false. */
  autoDelete?: boolean;
}

export interface AmqpQueueSpec {
  name: string;
  /** Default true. */
  durable?: boolean;
  exclusive?: boolean;
  autoDelete?: boolean;
}

/** What an AsyncAPI `amqp` channel or operation binding says about one subject pattern. */
export interface AmqpSubjectBinding {
  /** Publish to (and bind group queues on) this exchange instead of the default one. */
  exchange?: AmqpExchangeSpec;
  /** Consumer groups reading this subject use this queue instead of one named after the group. */
  queue?: AmqpQueueSpec;
}

export interface AmqpTransportOptions {
  /** Default amqp://guest:guest@127.0.0.1:5672. */
  url?: string | Options.Connect;
  /** The events exchange (topic, durable). Default 'events'. */
  exchange?: string;
  /** Dead letters go here, routing key = dead-letter subject. Default `<exchange>.dlx`. */
  deadLetterExchange?: string;
  /** Requests go here, routing key = subject. Default `<exchange>.rpc`. */
  rpcExchange?: string;
  /**
   * Subject patterns that carry dead letters: consuming one reads the dead-letter exchange
   * (and drains its parking queue) instead of the events exchange. Default ['deadletter.>'],
   * matching the bus's default dead-letter subject `deadletter.<group>`.
   */
  deadLetterSubjects?: string[];
  /** Per subject pattern (NATS syntax, e.g. 'transaction.*.completed.v1') overrides. */
  bindings?: Readonly<Record<string, AmqpSubjectBinding>>;
  /** Prepended to every queue this transport names (not to queues named by `bindings`). */
  queuePrefix?: string;
  /**
   * Largest message (headers + body) the bus may send. RabbitMQ does not announce its
   * `max_message_size` to clients; 3.x defaults to 128 MiB, 4.x to 16 MiB. Default 16 MiB.
   */
  maxMessageBytes?: number;
  /** Give up retrying a durable publish after this long. Default 60 000 ms. */
  publishDeadlineMs?: number;
  /** Reconnect backoff. Default 100 ms doubling to 5 000 ms. */
  reconnect?: { initialMs?: number; maxMs?: number };
  /** Shown by RabbitMQ tools for this transport's connection (client property `connection_name`). */
  connectionName?: string;
  /** AMQP heartbeat; detects a dead peer behind a half-open socket. Default 10 s. */
  heartbeatSeconds?: number;
  /**
   * An event no queue is bound for: 'error' (default) rejects the publish with
   * UnroutableError, since RabbitMQ would drop it and publish() promises a stored message;
   * 'drop' lets RabbitMQ discard it (events nobody has subscribed to are fine to lose).
   */
  unroutable?: 'error' | 'drop';
  /** Idle delay queues delete themselves after their TTL plus this. Default 10 minutes. */
  delayQueueIdleMs?: number;
}

export interface AmqpTransportStats {
  /** Durable publishes that needed more than one attempt. */
  publishRetries: number;
  /** Connections re-established after a loss. */
  reconnects: number;
  /** Consumer channels reopened (after a connection loss, a channel error or a cancel). */
  consumerRestarts: number;
  /** Deliveries returned with basic.nack(requeue) because republishing a retry failed. */
  retryFallbacks: number;
}

/** Names this transport declared, so tests and tools can delete what they created. */
export interface AmqpTopology {
  exchanges: string[];
  queues: string[];
}

/** An event (or dead letter) that no queue is bound for; RabbitMQ would have dropped it. */
export class UnroutableError extends Error {
  constructor(
    readonly exchange: string,
    readonly routingKey: string,
  ) {
    super(`no queue is bound for '${routingKey}' on exchange '${exchange || '(default)'}' (provision the consumer groups first)`);
    this.name = 'UnroutableError';
  }
}

/** No publisher confirm before the publish deadline. */
export class PublishTimeoutError extends Error {
  constructor(readonly routingKey: string) {
    super(`RabbitMQ did not confirm the publish to '${routingKey}' before the deadline`);
    this.name = 'PublishTimeoutError';
  }
}

const MAX_DELAY_MS = 24 * 3_600_000;

/**
 * Delay bucket for a retry: the smallest of 10 ms · 2^(k/4) not below `ms` (steps of ~19 %),
 * so jittered delays share a few dozen queues per group instead of one per millisecond
 * value, and a retry never comes back sooner than asked. 0 means "no delay".
 */
export function delayBucket(ms: number): number {
  if (!(ms > 0)) return 0;
  const k = Math.max(0, Math.ceil(4 * Math.log2(ms / 10) - 1e-9));
  return Math.min(MAX_DELAY_MS, Math.ceil(10 * 2 ** (k / 4)));
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref?.());
}

/** amqplib sends Buffers only; a plain Uint8Array (an empty error reply, a caller's bytes) is wrapped, not copied. */
function buf(u: Uint8Array): Buffer {
  return Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}

function short(s: string): string {
  return createHash('sha256').update(s).digest('hex').slice(0, 10);
}

function exchangeOptions(e: AmqpExchangeSpec): Options.AssertExchange {
  return { durable: e.durable ?? true, autoDelete: e.autoDelete ?? false };
}

function queueOptions(q: AmqpQueueSpec): Options.AssertQueue {
  return { durable: q.durable ?? true, exclusive: q.exclusive ?? false, autoDelete: q.autoDelete ?? false };
}

/** Properties kept when a delivery is republished (retry, parking); the trail is dropped. */
function republishProperties(p: MessageProperties, extra: Record<string, unknown>): Options.Publish {
  const headers: Record<string, unknown> = {};
  const h = p.headers as Record<string, unknown> | undefined;
  if (h) {
    for (const k in h) {
      if (k === 'x-death' || k.startsWith('x-first-death-') || k.startsWith('x-last-death-')) continue;
      headers[k] = h[k];
    }
  }
  Object.assign(headers, extra);
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

function isChannelClosed(err: unknown): boolean {
  const m = (err as Error)?.message ?? '';
  return m.includes('Channel closed') || m.includes('channel closed') || m.includes('Channel ended') || m.includes('Connection closed');
}

interface QueuePlan {
  queue: string;
  options: Options.AssertQueue;
  binds: Array<{ exchange: AmqpExchangeSpec; key: string }>;
}

export class AmqpTransport implements Transport {
  readonly name = 'amqp';
  readonly stats: AmqpTransportStats = { publishRetries: 0, reconnects: 0, consumerRestarts: 0, retryFallbacks: 0 };
  readonly exchange: AmqpExchangeSpec;
  readonly deadLetterExchange: AmqpExchangeSpec;
  readonly rpcExchange: AmqpExchangeSpec;
  private readonly prefix: string;
  private readonly dlPatterns: string[];
  private readonly overrides: Array<[string, AmqpSubjectBinding]>;
  private readonly routeCache = new Map<string, AmqpExchangeSpec>();

  private conn: ChannelModel | undefined;
  private connecting: Promise<ChannelModel> | undefined;
  private pub: ConfirmChannel | undefined;
  private pubOpening: Promise<ConfirmChannel> | undefined;
  /** Basic.returns not yet matched with their confirm, per publish channel. */
  private readonly returns = new WeakMap<Channel, Map<string, number>>();
  private drain: Promise<void> | undefined;
  /** Exchanges asserted on the current connection. */
  private ready = new Set<string>();
  private readonly asserting = new Map<string, Promise<void>>();
  /** Delay / parking queues declared on the current connection, and when. */
  private readonly declaredAt = new Map<string, number>();
  private readonly topo = { exchanges: new Set<string>(), queues: new Set<string>() };

  private readonly consumers = new Set<AmqpConsumer>();
  /** Stopped consumers whose channel is still open for the bus's last acks. */
  private readonly draining = new Set<AmqpConsumer>();
  private readonly servers = new Set<AmqpServer>();
  private rpc: RpcClient | undefined;

  private inflight = 0;
  private idle: (() => void) | undefined;
  private closing: Promise<void> | undefined;
  private closed = false;

  private constructor(private readonly o: AmqpTransportOptions) {
    const name = o.exchange ?? 'events';
    this.exchange = { name, type: 'topic', durable: true };
    this.deadLetterExchange = { name: o.deadLetterExchange ?? `${name}.dlx`, type: 'topic', durable: true };
    this.rpcExchange = { name: o.rpcExchange ?? `${name}.rpc`, type: 'topic', durable: true };
    this.prefix = o.queuePrefix ?? '';
    this.dlPatterns = o.deadLetterSubjects ?? ['deadletter.>'];
    this.overrides = Object.entries(o.bindings ?? {});
  }

  /** Connects (failing fast if the broker cannot be reached) and returns the transport. */
  static async connect(options: AmqpTransportOptions = {}): Promise<AmqpTransport> {
    const t = new AmqpTransport(options);
    await t.open();
    return t;
  }

  maxMessageBytes(): number {
    return this.o.maxMessageBytes ?? 16 * 1024 * 1024;
  }

  /** Exchanges and queues this transport declared (delay queues included). */
  topology(): AmqpTopology {
    return { exchanges: [...this.topo.exchanges], queues: [...this.topo.queues] };
  }

  get isClosed(): boolean {
    return this.closed;
  }

  // ---------------------------------------------------------------------------------------
  // Connection and reconnection.
  // ---------------------------------------------------------------------------------------

  private async open(): Promise<ChannelModel> {
    const url = this.o.url ?? DEFAULT_AMQP_URL;
    const heartbeat = this.o.heartbeatSeconds ?? 10;
    const socket = this.o.connectionName ? { clientProperties: { connection_name: this.o.connectionName } } : {};
    const c = typeof url === 'string'
      ? await amqp.connect(url.includes('heartbeat=') ? url : `${url}${url.includes('?') ? '&' : '?'}heartbeat=${heartbeat}`, socket)
      : await amqp.connect({ heartbeat, ...url }, socket);
    c.on('error', () => undefined); // 'close' follows; it is the one we act on
    c.on('close', () => this.lost(c));
    if (this.closed) {
      await c.close().catch(() => undefined);
      throw new BusClosedError();
    }
    this.conn = c;
    return c;
  }

  /** The open connection, or the next one (reconnecting with backoff until closed). */
  connection(): Promise<ChannelModel> {
    if (this.conn) return Promise.resolve(this.conn);
    if (this.closed) return Promise.reject(new BusClosedError());
    return (this.connecting ??= this.redial().finally(() => (this.connecting = undefined)));
  }

  private async redial(): Promise<ChannelModel> {
    const initial = this.o.reconnect?.initialMs ?? 100;
    const max = this.o.reconnect?.maxMs ?? 5000;
    for (let attempt = 0; ; attempt++) {
      if (this.closed) throw new BusClosedError();
      try {
        const c = await this.open();
        this.stats.reconnects++;
        return c;
      } catch (err) {
        if (err instanceof BusClosedError) throw err;
        const base = Math.min(max, initial * 2 ** Math.min(attempt, 10));
        await sleep(base / 2 + Math.random() * (base / 2));
      }
    }
  }

  private lost(c: ChannelModel): void {
    if (this.conn !== c) return;
    this.conn = undefined;
    this.pub = undefined;
    this.ready = new Set();
    this.asserting.clear();
    this.declaredAt.clear();
    this.rpc?.lost();
    this.rpc = undefined;
    if (this.closed || this.closing) return;
    // Consumers and responders come back by themselves once there is a connection again.
    void this.connection()
      .then(() => {
        for (const s of this.consumers) s.restart();
        for (const s of this.servers) s.restart();
      })
      .catch(() => undefined);
  }

  // ---------------------------------------------------------------------------------------
  // Declarations.
  // ---------------------------------------------------------------------------------------

  /** Asserts an exchange once per connection, on a throwaway channel (a 406 must not kill the publish channel). */
  async ensureExchange(e: AmqpExchangeSpec): Promise<void> {
    if (this.ready.has(e.name)) return;
    let p = this.asserting.get(e.name);
    if (!p) {
      const ready = this.ready;
      p = this.withChannel((ch) => ch.assertExchange(e.name, e.type ?? 'topic', exchangeOptions(e)))
        .then(() => {
          ready.add(e.name);
          this.topo.exchanges.add(e.name);
        })
        .finally(() => this.asserting.delete(e.name));
      this.asserting.set(e.name, p);
    }
    await p;
  }

  /** Runs declarations on a short-lived channel of the current connection. */
  async withChannel<T>(fn: (ch: Channel) => Promise<T>): Promise<T> {
    const c = await this.connection();
    const ch = await c.createChannel();
    ch.on('error', () => undefined);
    try {
      return await fn(ch);
    } finally {
      await ch.close().catch(() => undefined);
    }
  }

  /** Declares a queue used for republishing (delay / parking), again once it may be near its x-expires. */
  private async ensureQueue(name: string, options: Options.AssertQueue, refreshMs: number): Promise<void> {
    const at = this.declaredAt.get(name);
    if (at !== undefined && Date.now() - at < refreshMs) return;
    await this.withChannel((ch) => ch.assertQueue(name, options));
    this.declaredAt.set(name, Date.now());
    this.topo.queues.add(name);
  }

  noteQueue(name: string): void {
    this.topo.queues.add(name);
  }

  noteExchange(name: string): void {
    this.topo.exchanges.add(name);
  }

  /** The delay queue of `queue` for `bucketMs`, declared with its TTL and way back. */
  async delayQueue(queue: string, bucketMs: number): Promise<string> {
    const name = `${queue}.retry.${bucketMs}`;
    const idle = this.o.delayQueueIdleMs ?? 600_000;
    // x-expires deletes an idle delay queue (a removed group's); it counts from the last
    // declaration, so it is redeclared well before a message in it could outlive the queue.
    await this.ensureQueue(
      name,
      { durable: true, arguments: { 'x-message-ttl': bucketMs, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': queue, 'x-expires': bucketMs + idle } },
      Math.min(60_000, idle / 2),
    );
    return name;
  }

  isDeadLetterSubject(subject: string): boolean {
    return this.dlPatterns.some((p) => p === subject || subjectMatches(p, subject));
  }

  deadLetterQueue(subject: string): string {
    return `${this.prefix}${subject}`;
  }

  private binding(subject: string): AmqpSubjectBinding | undefined {
    for (const [pattern, b] of this.overrides) if (pattern === subject) return b;
    for (const [pattern, b] of this.overrides) if (subjectMatches(pattern, subject)) return b;
    return undefined;
  }

  /** Exchange an event on `subject` is published to. */
  exchangeFor(subject: string): AmqpExchangeSpec {
    if (this.overrides.length === 0) return this.exchange;
    let e = this.routeCache.get(subject);
    if (!e) {
      e = this.binding(subject)?.exchange ?? this.exchange;
      if (this.routeCache.size > 10_000) this.routeCache.clear();
      this.routeCache.set(subject, e);
    }
    return e;
  }

  /** Queues (and their bindings) a consumer group reads. */
  private plans(spec: ConsumeSpec): QueuePlan[] {
    const plans: QueuePlan[] = [];
    const events = spec.subjects.filter((s) => !this.isDeadLetterSubject(s));
    const dead = spec.subjects.filter((s) => this.isDeadLetterSubject(s));
    if (events.length > 0) {
      let queue: AmqpQueueSpec | undefined;
      for (const s of events) {
        const q = this.binding(s)?.queue;
        if (q && queue && q.name !== queue.name) throw new Error(`group ${spec.group} reads subjects bound to two queues (${queue.name}, ${q.name})`);
        queue ??= q;
      }
      const binds = events.map((s) => ({ exchange: this.binding(s)?.exchange ?? this.exchange, key: bindingKey(s) }));
      if (spec.ephemeral) {
        // Core-NATS-like: nothing kept while nobody listens; instances of the group share it.
        plans.push({ queue: `${this.prefix}${spec.group}.ephemeral`, options: { durable: false, autoDelete: true }, binds });
      } else {
        plans.push({ queue: queue?.name ?? `${this.prefix}${spec.group}`, options: queue ? queueOptions(queue) : { durable: true }, binds });
      }
    }
    if (dead.length > 0) {
      plans.push({ queue: `${this.prefix}${spec.group}.deadletters`, options: { durable: true }, binds: dead.map((s) => ({ exchange: this.deadLetterExchange, key: bindingKey(s) })) });
      // Dead letters nobody was bound for wait in the subject's parking queue.
      for (const s of dead) if (!/[*>]/.test(s)) plans.push({ queue: this.deadLetterQueue(s), options: { durable: true }, binds: [] });
    }
    return plans;
  }

  // ---------------------------------------------------------------------------------------
  // Publishing.
  // ---------------------------------------------------------------------------------------

  private pubChannel(): Promise<ConfirmChannel> {
    if (this.pub) return Promise.resolve(this.pub);
    return (this.pubOpening ??= (async () => {
      const c = await this.connection();
      const ch = await c.createConfirmChannel();
      const returned = new Map<string, number>();
      this.returns.set(ch, returned);
      ch.on('error', () => undefined);
      ch.on('return', (m: { fields: { routingKey: string }; properties: MessageProperties }) => {
        const k = `${m.fields.routingKey}\0${String(m.properties.messageId)}`;
        returned.set(k, (returned.get(k) ?? 0) + 1);
      });
      ch.on('close', () => {
        if (this.pub === ch) this.pub = undefined;
      });
      this.pub = ch;
      return ch;
    })().finally(() => (this.pubOpening = undefined)));
  }

  /** One publish on `ch`, resolved by its confirm, rejected if none comes by `until`. */
  private sendConfirmed(ch: ConfirmChannel, exchange: string, key: string, body: Uint8Array, props: Options.Publish, until: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      // A blocked connection (resource alarm) or a stalled broker never confirms; the
      // deadline bounds the wait. The message may still be stored later: a caller retrying
      // with the same id makes a copy the consumer's dedupe absorbs.
      const timer = setTimeout(() => reject(new PublishTimeoutError(key)), Math.max(1, until - Date.now()));
      let ok: boolean;
      try {
        ok = ch.publish(exchange, key, buf(body), props, (err: unknown) => {
          clearTimeout(timer);
          if (err) return reject(err instanceof Error ? err : new Error(String(err)));
          if (props.mandatory) {
            // basic.return always precedes the confirm of the same message.
            const m = this.returns.get(ch);
            const k = `${key}\0${String(props.messageId)}`;
            const n = m?.get(k);
            if (m && n) {
              if (n === 1) m.delete(k);
              else m.set(k, n - 1);
              return reject(new UnroutableError(exchange, key));
            }
          }
          resolve();
        });
      } catch (err) {
        clearTimeout(timer);
        reject(err);
        return;
      }
      if (!ok && !this.drain) {
        // The socket buffer is full: later publishes wait for it to drain.
        this.drain = new Promise<void>((r) => {
          const done = () => {
            ch.off('drain', done);
            ch.off('close', done);
            this.drain = undefined;
            r();
          };
          ch.on('drain', done);
          ch.on('close', done);
        });
      }
    });
  }

  /**
   * Publish awaiting the confirm; retried with the same message id after a connection or
   * channel loss until `deadlineMs` passes. An unroutable message is not retried.
   */
  async publishConfirmed(exchange: AmqpExchangeSpec | '', key: string, body: Uint8Array, props: Options.Publish, deadlineMs: number): Promise<void> {
    const until = Date.now() + deadlineMs;
    let channelErrors = 0;
    for (let attempt = 0; ; attempt++) {
      const conn = this.conn;
      try {
        if (this.drain) await this.drain;
        const ch = this.pub ?? (await this.withDeadline(this.pubChannel(), until));
        if (exchange !== '' && !this.ready.has(exchange.name)) await this.withDeadline(this.ensureExchange(exchange), until);
        await this.sendConfirmed(ch, exchange === '' ? '' : exchange.name, key, body, props, until);
        return;
      } catch (err) {
        if (err instanceof UnroutableError || err instanceof PublishTimeoutError || this.closed || Date.now() >= until) throw err;
        // A channel closed by the broker while the connection lives is our fault (a 404 or
        // 406): a few attempts, not a minute of them.
        if (this.conn && this.conn === conn && !isChannelClosed(err) && ++channelErrors >= 3) throw err;
        if (this.conn && this.conn === conn && isChannelClosed(err) && ++channelErrors >= 10) throw err;
        this.stats.publishRetries++;
        await sleep(Math.min(2000, 25 * 2 ** Math.min(attempt, 7)));
      }
    }
  }

  private withDeadline<T>(p: Promise<T>, until: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const t = setTimeout(() => reject(new PublishTimeoutError('(connection)')), Math.max(0, until - Date.now()));
      p.then(
        (v) => (clearTimeout(t), resolve(v)),
        (e: unknown) => (clearTimeout(t), reject(e)),
      );
    });
  }

  private assertOpen(): void {
    if (this.closed || this.closing) throw new BusClosedError();
  }

  private checkSize(m: OutboundMessage): void {
    let n = m.body.byteLength;
    for (const k in m.headers) n += k.length + (m.headers[k] as string).length + 4;
    if (n > this.maxMessageBytes()) throw new Error(`maximum message size exceeded (${n} > ${this.maxMessageBytes()})`);
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.inflight++;
    return p.finally(() => {
      if (--this.inflight === 0) this.idle?.();
    });
  }

  async publish(m: OutboundMessage): Promise<TransportReceipt> {
    this.assertOpen();
    this.checkSize(m);
    const props = toAmqpProperties(m.headers, m.id, true);
    props.mandatory = this.o.unroutable !== 'drop';
    await this.track(this.publishConfirmed(this.exchangeFor(m.subject), m.subject, m.body, props, this.o.publishDeadlineMs ?? 60_000));
    // RabbitMQ stores every copy: there is no broker-side duplicate detection to report.
    return { duplicate: false };
  }

  async publishTransient(m: OutboundMessage): Promise<void> {
    this.assertOpen();
    this.checkSize(m);
    const e = this.exchangeFor(m.subject);
    if (!this.ready.has(e.name)) await this.ensureExchange(e);
    const ch = this.pub ?? (await this.pubChannel());
    if (this.drain) await this.drain;
    ch.publish(e.name, m.subject, buf(m.body), toAmqpProperties(m.headers, m.id, false));
  }

  /** Publishes a dead letter; parks it in the subject's queue when no reader is bound. */
  async publishDeadLetter(info: DeadLetterInfo, original: HeaderRecord, subject: string, body: Uint8Array, deliveryCount: number, id: string): Promise<void> {
    const props = toAmqpProperties(deadLetterHeaders(original, subject, info, deliveryCount), id, true);
    props.mandatory = true;
    // Short deadline: if it cannot be stored we would rather leave the message for redelivery.
    try {
      await this.publishConfirmed(this.deadLetterExchange, info.subject, body, props, 5000);
    } catch (err) {
      if (!(err instanceof UnroutableError)) throw err;
      const parking = this.deadLetterQueue(info.subject);
      await this.ensureQueue(parking, { durable: true }, Number.POSITIVE_INFINITY);
      await this.publishConfirmed('', parking, body, props, 5000);
    }
  }

  // ---------------------------------------------------------------------------------------
  // Consuming.
  // ---------------------------------------------------------------------------------------

  async consume(spec: ConsumeSpec, onDelivery: DeliveryHandler): Promise<TransportSubscription> {
    this.assertOpen();
    const c = new AmqpConsumer(this, spec, this.plans(spec), onDelivery);
    await c.start();
    this.consumers.add(c);
    return {
      stop: async () => {
        if (!this.consumers.delete(c)) return;
        await c.stop();
        this.draining.add(c);
        void c.drained.then(() => this.draining.delete(c));
      },
    };
  }

  // ---------------------------------------------------------------------------------------
  // Request/reply.
  // ---------------------------------------------------------------------------------------

  async request(m: OutboundMessage, timeoutMs: number): Promise<InboundMessage> {
    this.assertOpen();
    this.checkSize(m);
    const rpc = (this.rpc ??= new RpcClient(this));
    return rpc.request(m, timeoutMs);
  }

  async serve(spec: ServeSpec, handler: RequestHandler): Promise<TransportSubscription> {
    this.assertOpen();
    const queue = spec.group ? `${this.prefix}${spec.group}.rpc.${short(spec.subject)}` : '';
    const s = new AmqpServer(this, spec, queue, handler);
    await s.start();
    this.servers.add(s);
    return {
      stop: async () => {
        this.servers.delete(s);
        await s.stop();
      },
    };
  }

  // ---------------------------------------------------------------------------------------
  // Shutdown.
  // ---------------------------------------------------------------------------------------

  /** Stops consumers and responders, waits for publishes in flight, then disconnects. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      for (const c of this.consumers) this.draining.add(c);
      await Promise.allSettled([...this.consumers].map((c) => c.stop()));
      await Promise.allSettled([...this.servers].map((s) => s.stop()));
      this.consumers.clear();
      this.servers.clear();
      if (this.inflight > 0) await new Promise<void>((r) => (this.idle = r));
      // Deliveries the caller never settled must not hold the close forever: the broker
      // requeues them when the connection goes.
      await Promise.race([Promise.all([...this.draining].map((c) => c.drained)), sleep(5000)]);
      const pub = this.pub;
      this.pub = undefined;
      if (pub) await pub.close().catch(() => undefined);
      this.closed = true;
      this.rpc?.lost();
      const c = this.conn;
      this.conn = undefined;
      if (c) await c.close().catch(() => undefined);
    })();
    return this.closing;
  }
}

/** One consume() call: a channel with prefetch = maxInFlight, reopened after any loss. */
class AmqpConsumer {
  private ch: Channel | undefined;
  /** Consumer tag → queue it reads. */
  private readonly queues = new Map<string, string>();
  private stopped = false;
  private restarting = false;
  private unsettled = 0;
  private failures = 0;
  private readonly noAck: boolean;

  constructor(
    readonly t: AmqpTransport,
    readonly spec: ConsumeSpec,
    private readonly plans: QueuePlan[],
    private readonly onDelivery: DeliveryHandler,
  ) {
    this.noAck = spec.ephemeral === true;
  }

  get group(): string {
    return this.spec.group;
  }

  async start(): Promise<void> {
    const c = await this.t.connection();
    const ch = await c.createChannel();
    ch.on('error', () => undefined);
    ch.on('close', () => this.closedChannel(ch));
    try {
      // The in-flight budget is split between the queues (usually one).
      const share = Math.max(1, Math.floor(this.spec.maxInFlight / this.plans.length));
      await ch.prefetch(share);
      for (const p of this.plans) {
        await ch.assertQueue(p.queue, p.options);
        this.t.noteQueue(p.queue);
        for (const b of p.binds) {
          await ch.assertExchange(b.exchange.name, b.exchange.type ?? 'topic', exchangeOptions(b.exchange));
          this.t.noteExchange(b.exchange.name);
          await ch.bindQueue(p.queue, b.exchange.name, b.key);
        }
      }
      this.queues.clear();
      this.ch = ch;
      for (const p of this.plans) {
        const { consumerTag } = await ch.consume(p.queue, (m) => this.received(ch, m), { noAck: this.noAck });
        this.queues.set(consumerTag, p.queue);
      }
    } catch (err) {
      if (this.ch === ch) this.ch = undefined;
      await ch.close().catch(() => undefined);
      throw err;
    }
    this.failures = 0;
  }

  private received(ch: Channel, m: ConsumeMessage | null): void {
    if (m === null) {
      // Cancelled by the broker (queue deleted, node shutting down): start over.
      if (this.ch === ch) {
        this.ch = undefined;
        void ch.close().catch(() => undefined);
        this.restart();
      }
      return;
    }
    if (this.stopped && !this.noAck) {
      // Between our basic.cancel and its cancel-ok: hand it straight back.
      try {
        ch.nack(m, false, true);
      } catch {
        // channel gone: the broker requeues it anyway
      }
      return;
    }
    this.unsettled++;
    this.onDelivery(new AmqpDelivery(this, ch, m, this.queues.get(m.fields.consumerTag) ?? ''));
  }

  private closedChannel(ch: Channel): void {
    if (this.ch !== ch) return;
    this.ch = undefined;
    // A connection loss is handled by the transport (restart() once reconnected); a channel
    // closed by the broker on a live connection is reopened here.
    this.restart();
  }

  /** Reopen after a loss, with backoff; gives up only when stopped or the transport closes. */
  restart(): void {
    if (this.stopped || this.restarting || this.ch || this.t.isClosed) return;
    this.restarting = true;
    void (async () => {
      while (!this.stopped && !this.t.isClosed && !this.ch) {
        try {
          await this.start();
          this.t.stats.consumerRestarts++;
          break;
        } catch {
          this.failures++;
          await sleep(Math.min(5000, 100 * 2 ** Math.min(this.failures, 6)));
        }
      }
      this.restarting = false;
    })();
  }

  /** Called once per delivery when it is settled; a stopped consumer's channel closes with its last one. */
  settled(ch: Channel): void {
    this.unsettled--;
    if (this.stopped && this.unsettled <= 0) this.closeChannel(ch);
  }

  /** Settles on `ch` if it is still the live channel; a dead one's deliveries were requeued by the broker. */
  live(ch: Channel): boolean {
    return this.ch === ch;
  }

  private closing: Promise<void> | undefined;
  private drainedResolve: (() => void) | undefined;
  /** Resolves once a stopped consumer's channel is closed: close-ok means the broker has processed every ack sent before it. */
  readonly drained = new Promise<void>((r) => (this.drainedResolve = r));

  private closeChannel(ch: Channel): void {
    if (this.ch === ch) this.ch = undefined;
    // amqplib queues frames per channel and the connection's close on channel 0 can overtake
    // them: closing the channel (and waiting for close-ok) before the connection is what
    // makes the last acks stick instead of the broker redelivering those messages.
    this.closing ??= ch.close().catch(() => undefined).finally(() => this.drainedResolve?.());
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const ch = this.ch;
    if (!ch) {
      this.drainedResolve?.();
      return;
    }
    await Promise.all([...this.queues.keys()].map((tag) => ch.cancel(tag).catch(() => undefined)));
    // The channel stays open while the bus still settles what it holds (acks need it).
    if (this.unsettled <= 0 || this.noAck) this.closeChannel(ch);
  }
}

/** One delivery; a class because one is made per message. */
class AmqpDelivery implements Delivery {
  readonly subject: string;
  readonly headers: AmqpHeaders;
  readonly body: Uint8Array;
  readonly deliveryCount: number;
  private done = false;

  constructor(
    private readonly c: AmqpConsumer,
    private readonly ch: Channel,
    private readonly m: ConsumeMessage,
    private readonly queue: string,
  ) {
    this.subject = subjectOf(m.properties, m.fields.routingKey);
    this.headers = new AmqpHeaders(m.properties);
    this.body = m.content;
    // Classic queues count nothing: the attempt travels in a header, and a broker
    // redelivery (connection lost, requeue) adds one.
    this.deliveryCount = attemptOf(m.properties) + (m.fields.redelivered ? 1 : 0);
  }

  private settle(op: 'ack' | 'requeue' | 'none'): void {
    if (this.done) return;
    this.done = true;
    this.finish(op);
  }

  private finish(op: 'ack' | 'requeue' | 'none'): void {
    if (op !== 'none' && !this.c.spec.ephemeral && this.c.live(this.ch)) {
      try {
        if (op === 'ack') this.ch.ack(this.m);
        else this.ch.nack(this.m, false, true);
      } catch {
        // The channel died meanwhile: the broker has requeued the message.
      }
    }
    this.c.settled(this.ch);
  }

  async ack(): Promise<void> {
    this.settle('ack');
  }

  async retry(delayMs: number): Promise<void> {
    if (this.done) return;
    // Marked now: nothing else may settle it while we republish.
    this.done = true;
    if (this.c.spec.ephemeral) return this.finish('none');
    const t = this.c.t;
    // Its channel died: the broker has put it back already, a copy would be a duplicate.
    if (!this.c.live(this.ch)) return this.finish('none');
    try {
      const bucket = delayBucket(delayMs);
      const target = bucket === 0 ? this.queue : await t.delayQueue(this.queue, bucket);
      const props = republishProperties(this.m.properties, { [X_ATTEMPT]: this.deliveryCount + 1, [X_SUBJECT]: this.subject });
      await t.publishConfirmed('', target, this.m.content, props, 5000);
      this.finish('ack');
    } catch {
      // Not republished: hand it back as is rather than hold it until the channel dies.
      t.stats.retryFallbacks++;
      this.finish('requeue');
    }
  }

  async deadLetter(info: DeadLetterInfo): Promise<void> {
    if (this.done) return;
    // The broker has requeued it with its dead channel; it is dead-lettered on redelivery.
    if (!this.c.live(this.ch)) throw new Error('the delivery channel was lost; the broker redelivers the message');
    const id = `dl:${this.queue}:${this.headers.get('ce-id') ?? String(this.m.properties.messageId ?? this.m.fields.deliveryTag)}`;
    // Rejects (leaving the message unsettled, so the bus retries it) when it cannot be stored.
    await this.c.t.publishDeadLetter(info, this.headers.record(), this.subject, this.m.content, this.deliveryCount, id);
    this.settle('ack');
  }
}

/** A responder: a queue per (group, subject) on the rpc exchange, shared by the group's instances. */
class AmqpServer {
  private ch: Channel | undefined;
  private tag: string | undefined;
  private stopped = false;
  private restarting = false;
  private readonly running = new Set<Promise<void>>();

  constructor(
    private readonly t: AmqpTransport,
    private readonly spec: ServeSpec,
    private readonly queue: string,
    private readonly handler: RequestHandler,
  ) {}

  async start(): Promise<void> {
    const c = await this.t.connection();
    const ch = await c.createChannel();
    ch.on('error', () => undefined);
    ch.on('close', () => {
      if (this.ch !== ch) return;
      this.ch = undefined;
      this.restart();
    });
    try {
      const ex = this.t.rpcExchange;
      await ch.assertExchange(ex.name, 'topic', exchangeOptions(ex));
      this.t.noteExchange(ex.name);
      // Not durable, deleted with its last responder: a request nobody serves must come back
      // unroutable (NoResponderError), not wait in a queue.
      const q = await ch.assertQueue(this.queue, this.queue ? { durable: false, autoDelete: true } : { exclusive: true, autoDelete: true });
      await ch.bindQueue(q.queue, ex.name, bindingKey(this.spec.subject));
      await ch.prefetch(64);
      this.ch = ch;
      const { consumerTag } = await ch.consume(q.queue, (m) => this.received(ch, m));
      this.tag = consumerTag;
    } catch (err) {
      if (this.ch === ch) this.ch = undefined;
      await ch.close().catch(() => undefined);
      throw err;
    }
  }

  restart(): void {
    if (this.stopped || this.restarting || this.ch || this.t.isClosed) return;
    this.restarting = true;
    void (async () => {
      for (let i = 0; !this.stopped && !this.t.isClosed && !this.ch; i++) {
        try {
          await this.start();
        } catch {
          await sleep(Math.min(5000, 100 * 2 ** Math.min(i, 6)));
        }
      }
      this.restarting = false;
    })();
  }

  private received(ch: Channel, m: ConsumeMessage | null): void {
    if (m === null) {
      if (this.ch === ch) {
        this.ch = undefined;
        void ch.close().catch(() => undefined);
        this.restart();
      }
      return;
    }
    const replyTo = m.properties.replyTo as string | undefined;
    const req: InboundMessage = { subject: m.fields.routingKey, headers: new AmqpHeaders(m.properties), body: m.content };
    const p = this.handler(req)
      .catch((e: unknown) => ({ headers: { 'ec-reply-error': 'handler-failed', 'ec-reply-error-detail': String(e).slice(0, 512) } as HeaderRecord, body: new Uint8Array(0) }))
      .then((r) => {
        if (replyTo) {
          const props = toAmqpProperties(r.headers, `reply:${String(m.properties.messageId ?? '')}`, false);
          props.correlationId = m.properties.correlationId as string;
          ch.publish('', replyTo, buf(r.body), props);
        }
        ch.ack(m);
      })
      .catch(() => undefined)
      .finally(() => this.running.delete(p));
    this.running.add(p);
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const ch = this.ch;
    if (!ch) return;
    if (this.tag) await ch.cancel(this.tag).catch(() => undefined);
    // Requests already received still get their reply.
    await Promise.all(this.running);
    this.ch = undefined;
    await ch.close().catch(() => undefined);
  }
}

interface PendingRequest {
  resolve: (m: InboundMessage) => void;
  reject: (e: unknown) => void;
  timer: NodeJS.Timeout;
}

/** Requester side: one channel consuming direct reply-to; replies matched by correlation id. */
class RpcClient {
  private ch: Promise<Channel> | undefined;
  private readonly pending = new Map<string, PendingRequest>();
  private seq = 0;
  private readonly tag = Math.random().toString(36).slice(2, 10);

  constructor(private readonly t: AmqpTransport) {}

  private channel(): Promise<Channel> {
    return (this.ch ??= (async () => {
      const c = await this.t.connection();
      const ch = await c.createChannel();
      ch.on('error', () => undefined);
      ch.on('close', () => this.lost());
      ch.on('return', (m: { properties: MessageProperties; fields: { routingKey: string } }) => {
        const p = this.pending.get(String(m.properties.correlationId));
        p?.reject(new NoResponderError(m.fields.routingKey));
      });
      // Direct reply-to: consume the pseudo-queue (no ack) on the channel that publishes.
      await ch.consume(
        'amq.rabbitmq.reply-to',
        (m) => {
          if (!m) return;
          const p = this.pending.get(String(m.properties.correlationId));
          p?.resolve({ subject: m.fields.routingKey, headers: new AmqpHeaders(m.properties), body: m.content });
        },
        { noAck: true },
      );
      const ex = this.t.rpcExchange;
      await ch.assertExchange(ex.name, 'topic', exchangeOptions(ex));
      this.t.noteExchange(ex.name);
      return ch;
    })().catch((err: unknown) => {
      this.ch = undefined;
      throw err;
    }));
  }

  async request(m: OutboundMessage, timeoutMs: number): Promise<InboundMessage> {
    const ch = await this.channel();
    const corr = `${this.tag}.${++this.seq}`;
    return new Promise<InboundMessage>((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        this.pending.delete(corr);
      };
      const timer = setTimeout(() => {
        done();
        reject(new RequestTimeoutError(m.subject, timeoutMs));
      }, timeoutMs);
      this.pending.set(corr, {
        resolve: (r) => (done(), resolve(r)),
        reject: (e) => (done(), reject(e)),
        timer,
      });
      const props = toAmqpProperties(m.headers, m.id, false);
      props.mandatory = true;
      props.replyTo = 'amq.rabbitmq.reply-to';
      props.correlationId = corr;
      // A request nobody took in time is dropped by the broker rather than answered late.
      props.expiration = String(Math.max(1, Math.ceil(timeoutMs)));
      try {
        ch.publish(this.t.rpcExchange.name, m.subject, buf(m.body), props);
      } catch (err) {
        done();
        reject(err);
      }
    });
  }

  /** The connection or channel is gone: replies to direct reply-to cannot arrive any more. */
  lost(): void {
    this.ch = undefined;
    for (const [, p] of this.pending) p.reject(new Error('connection to RabbitMQ lost before the reply arrived'));
    this.pending.clear();
  }
}

// ---------------------------------------------------------------------------------------
// Provisioning: exchanges, queues and bindings from a plain description, idempotently.
// ---------------------------------------------------------------------------------------

export interface AmqpProvisionQueue extends AmqpQueueSpec {
  /** Queue arguments (x-*), compared by the broker on redeclaration. */
  arguments?: Record<string, unknown>;
}

export interface AmqpProvisionBinding {
  queue: string;
  exchange: string;
  /** Subject pattern in NATS syntax; bound as the AMQP topic key. */
  pattern: string;
}

export interface AmqpProvisionPlan {
  exchanges?: Array<AmqpExchangeSpec & { vhost?: string }>;
  queues?: AmqpProvisionQueue[];
  bindings?: AmqpProvisionBinding[];
}

/** AMQP 0-9-1 cannot list bindings (that needs the management API): a binding is 'ensured'. */
export type AmqpProvisionAction = 'created' | 'unchanged' | 'ensured';

export interface AmqpProvisionResult {
  exchanges: Array<{ name: string; action: AmqpProvisionAction }>;
  queues: Array<{ name: string; action: AmqpProvisionAction }>;
  bindings: Array<{ queue: string; exchange: string; key: string; action: AmqpProvisionAction }>;
}

/** Does `check` find the entity? A 404 closes the channel, so every check gets its own. */
async function exists(c: ChannelModel, check: (ch: Channel) => Promise<unknown>): Promise<boolean> {
  const ch = await c.createChannel();
  ch.on('error', () => undefined);
  try {
    await check(ch);
    return true;
  } catch (err) {
    if ((err as { code?: number }).code === 404) return false;
    throw err;
  } finally {
    await ch.close().catch(() => undefined);
  }
}

/**
 * Declare exchanges, queues and bindings. Safe to run at every start-up: what exists as
 * described is 'unchanged'; what exists differently makes the broker refuse (406), which is
 * reported as an error naming the entity rather than changed behind the owner's back.
 */
export async function provisionAmqp(target: ChannelModel | AmqpTransport | string, plan: AmqpProvisionPlan): Promise<AmqpProvisionResult> {
  let c: ChannelModel;
  let own = false;
  if (target instanceof AmqpTransport) c = await target.connection();
  else if (typeof target === 'string') {
    c = await amqp.connect(target);
    c.on('error', () => undefined);
    own = true;
  } else c = target;
  const result: AmqpProvisionResult = { exchanges: [], queues: [], bindings: [] };
  const ch = await c.createChannel();
  ch.on('error', () => undefined);
  const declare = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      throw new Error(`${what}: ${(err as Error).message}`, { cause: err });
    }
  };
  try {
    for (const e of plan.exchanges ?? []) {
      const had = await exists(c, (x) => x.checkExchange(e.name));
      await declare(`exchange ${e.name}`, () => ch.assertExchange(e.name, e.type ?? 'topic', exchangeOptions(e)));
      result.exchanges.push({ name: e.name, action: had ? 'unchanged' : 'created' });
    }
    for (const q of plan.queues ?? []) {
      const had = await exists(c, (x) => x.checkQueue(q.name));
      await declare(`queue ${q.name}`, () => ch.assertQueue(q.name, { ...queueOptions(q), ...(q.arguments ? { arguments: q.arguments } : {}) }));
      result.queues.push({ name: q.name, action: had ? 'unchanged' : 'created' });
    }
    for (const b of plan.bindings ?? []) {
      const key = bindingKey(b.pattern);
      await declare(`binding ${b.queue} ← ${b.exchange} '${key}'`, () => ch.bindQueue(b.queue, b.exchange, key));
      result.bindings.push({ queue: b.queue, exchange: b.exchange, key, action: 'ensured' });
    }
    return result;
  } finally {
    await ch.close().catch(() => undefined);
    if (own) await c.close().catch(() => undefined);
  }
}

/**
 * Connects a transport: `connectAmqp('amqp://guest:guest@127.0.0.1:5672')`, or with options
 * (exchange, per-subject bindings, ...). Shorthand for AmqpTransport.connect.
 */
export function connectAmqp(url: string = DEFAULT_AMQP_URL, options: Omit<AmqpTransportOptions, 'url'> = {}): Promise<AmqpTransport> {
  return AmqpTransport.connect({ ...options, url });
}
