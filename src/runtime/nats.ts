/**
 * NATS transport: core NATS for transient publishes, ephemeral queue subscriptions and
 * request/reply; JetStream for durable publishes (awaiting the ack, `Nats-Msg-Id` = event
 * id, retried with the same id across connection loss) and durable pull consumers with
 * explicit acks, nak-with-delay retries and dead-letter republishing.
 *
 * Written for nats-server 2.9: one filter subject per consumer (no multi-filter), so a
 * group reading several subjects gets one durable consumer per subject (see durableName).
 */
import { createHash } from 'node:crypto';
import { connect, MsgHdrsImpl, nanos, errors, type Msg, type MsgHdrs, type NatsConnection, type NodeConnectionOptions, type Subscription as NatsSub } from '@nats-io/transport-node';
import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  JetStreamApiError,
  RetentionPolicy,
  StorageType,
  jetstream,
  jetstreamManager,
  type Consumer,
  type ConsumerConfig,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  type PubAck,
  type StreamConfig,
} from '@nats-io/jetstream';
import { NoResponderError, RequestTimeoutError } from './errors.js';
import { JetStreamAcks } from './nats-acks.js';
import { deadLetterHeaders } from './dead-letter.js';
import type {
  ConsumeSpec,
  DeadLetterInfo,
  Delivery,
  DeliveryHandler,
  HeaderReader,
  HeaderRecord,
  InboundMessage,
  OutboundMessage,
  RequestHandler,
  ServeSpec,
  Transport,
  TransportReceipt,
  TransportSubscription,
} from './types.js';

export interface NatsTransportOptions {
  /** An open connection to reuse; the transport then does not close it. */
  connection?: NatsConnection;
  /** Otherwise connect with these options (reconnects forever and `noAsyncTraces` by default). */
  connect?: NodeConnectionOptions;
  /** Per-attempt JetStream publish ack timeout. Default 5000 ms. */
  publishTimeoutMs?: number;
  /** Give up retrying a durable publish after this long. Default 60 000 ms. */
  publishDeadlineMs?: number;
  /** Create missing durable consumers on consume(). Default true. */
  createConsumers?: boolean;
  /** max_ack_pending of consumers this transport creates. Default 20 000. */
  maxAckPending?: number;
  /** Pull request expiry; bounds how long a lost pull goes unnoticed. Default 2000 ms. */
  pullExpiresMs?: number;
}

export interface NatsTransportStats {
  /** Durable publishes that needed more than one attempt. */
  publishRetries: number;
  /** Pull loop errors recovered from (connection loss, server restart). */
  consumeErrors: number;
}

/**
 * Durable consumer name for `subject` of a group filtering `subjects`. A group with one
 * subject uses the group name as is, so a provisioned consumer is simply named after it.
 */
export function durableName(group: string, subjects: readonly string[], subject: string): string {
  if (subjects.length <= 1) return group;
  return `${group}-${createHash('sha256').update(subject).digest('hex').slice(0, 10)}`;
}

/**
 * Reads NATS headers without MsgHdrs.get(), which copies and filters the key list on every
 * call (ten lookups per event made that the largest cost of consuming).
 */
class NatsHeaders implements HeaderReader {
  private readonly map: Map<string, string[]> | undefined;
  constructor(private readonly h: MsgHdrs | undefined) {
    this.map = h instanceof MsgHdrsImpl ? h.headers : undefined;
  }
  get(name: string): string | undefined {
    if (this.map) return this.map.get(name)?.[0];
    const h = this.h;
    if (!h || !h.has(name)) return undefined;
    return h.get(name);
  }
  keys(): Iterable<string> {
    return this.h ? this.h.keys() : [];
  }
}

const utf8Decoder = new TextDecoder();

/** The fields of nats.js's MsgImpl that hold the undecoded message (not public API). */
interface RawMsgFields {
  _headers?: unknown;
  _msg?: { hdr?: unknown };
  _rdata?: unknown;
}

/**
 * Headers of an inbound message, parsed straight from its bytes. MsgHdrsImpl.decode()
 * canonicalises every name, rescans all names per header and builds an array per value:
 * with the ten headers of an event that was the largest cost of consuming. This parser
 * gives the same first values and names; anything it does not expect (a status line other
 * than plain NATS/1.0, names or values MsgHdrs would refuse, a nats.js whose internals
 * differ) goes through MsgHdrs as before, with the same outcome (including its errors).
 */
function readHeaders(msg: Msg): HeaderReader {
  const raw = msg as unknown as RawMsgFields;
  const hdr = raw._msg?.hdr;
  if (raw._headers === undefined && typeof hdr === 'number' && raw._rdata instanceof Uint8Array) {
    if (hdr < 0) return NO_HEADERS;
    const map = parseHeaderBlock(utf8Decoder.decode(raw._rdata.subarray(0, hdr)));
    if (map) return new MapHeaders(map);
  }
  return new NatsHeaders(msg.headers);
}

/** Parses "NATS/1.0\r\nk: v\r\n..." as MsgHdrsImpl.decode() does; undefined = let it decide. */
export function parseHeaderBlock(s: string): Map<string, string> | undefined {
  // One pass with indexOf rather than split(): no array of lines per message.
  let pos = s.indexOf('\r\n');
  if ((pos < 0 ? s : s.slice(0, pos)) !== 'NATS/1.0') return undefined;
  const map = new Map<string, string>();
  const n = s.length;
  while (pos >= 0 && pos < n) {
    const start = pos + 2;
    // The line ends at the first CR, which must start a CRLF. A CR or LF on its own makes
    // MsgHdrs refuse the value (or it is in a line it skips): decline, and let it decide.
    let end = s.indexOf('\r', start);
    if (end < 0) end = n;
    else if (end + 1 < n && s.charCodeAt(end + 1) !== 10) return undefined;
    const lf = s.indexOf('\n', start);
    if (lf >= 0 && lf < end) return undefined;
    pos = end;
    if (end === start) continue;
    const idx = s.indexOf(':', start);
    if (idx < 0 || idx >= end) continue; // MsgHdrs skips lines without ':' too
    for (let j = start; j < idx; j++) {
      const c = s.charCodeAt(j);
      if (c < 33 || c > 126) return undefined; // MsgHdrs throws on it
    }
    // "name: value" with nothing to trim (the usual case) needs one slice, not slice + trim.
    const first = s.charCodeAt(idx + 2);
    const last = s.charCodeAt(end - 1);
    const v =
      s.charCodeAt(idx + 1) === 32 && idx + 2 < end && first > 32 && first < 127 && last > 32 && last < 127 ? s.slice(idx + 2, end) : s.slice(idx + 1, end).trim();
    const k = s.slice(start, idx);
    if (!map.has(k)) map.set(k, v); // readers see the first value, as with MsgHdrs.get()
  }
  return map;
}

class MapHeaders implements HeaderReader {
  constructor(private readonly map: Map<string, string>) {}
  get(name: string): string | undefined {
    return this.map.get(name);
  }
  keys(): Iterable<string> {
    return this.map.keys();
  }
}

const NO_HEADERS: HeaderReader = new NatsHeaders(undefined);

const HEADER_NAME = /^[!-9;-~]+$/;
const HEADER_VALUE_BAD = /[\r\n]/;
/** Names that passed HEADER_NAME: an event carries the same handful of names every time. */
const checkedNames = new Set<string>();
const MSG_ID = 'Nats-Msg-Id';

/**
 * MsgHdrs whose encode() writes the block in one pass. nats.js's own encode (a template
 * string per header, then TextEncoder) was the largest cost of publishing an event after
 * JSON.stringify: about 1 µs of the 2 it took to build and encode ten headers. The bytes are
 * the same; status lines (which we never send) go through nats.js as before.
 */
class OutboundHeaders extends MsgHdrsImpl {
  override encode(): Uint8Array {
    if (this._code !== 0 || this.headers.size === 0) return super.encode();
    let s = 'NATS/1.0';
    for (const [k, values] of this.headers) for (let i = 0; i < values.length; i++) s += '\r\n' + k + ': ' + values[i];
    return Buffer.from(s + '\r\n\r\n', 'utf8');
  }
}

/**
 * Builds MsgHdrs straight from the record (MsgHdrs.set() re-scans all keys per call). We
 * still refuse what would corrupt the wire: names outside printable ASCII or with ':',
 * values with CR/LF (user-supplied ids and middleware headers pass through here).
 * With `msgId`, Nats-Msg-Id goes in last, where js.publish({ msgID }) would have put it via
 * the same slow set(), so the bytes on the wire are unchanged.
 */
export function toNatsHeaders(r: HeaderRecord, msgId?: string): MsgHdrsImpl {
  const h = new OutboundHeaders();
  const map = h.headers;
  for (const k in r) {
    if (!checkedNames.has(k)) {
      if (!HEADER_NAME.test(k)) throw new Error(`invalid header name ${JSON.stringify(k)}`);
      if (checkedNames.size < 1000) checkedNames.add(k);
    }
    const v = r[k] as string;
    if (HEADER_VALUE_BAD.test(v)) throw new Error(`header ${k} must not contain CR or LF`);
    map.set(k, [typeof v === 'string' ? v : `${v as unknown}`]);
  }
  if (msgId !== undefined) {
    // What MsgHdrs.set() did for us: refuse CR/LF (same error) and trim.
    const v = MsgHdrsImpl.validHeaderValue(msgId);
    map.delete(MSG_ID);
    map.set(MSG_ID, [v]);
  }
  return h;
}

function toRecord(h: MsgHdrs | undefined): HeaderRecord {
  const out: HeaderRecord = {};
  if (h) for (const k of h.keys()) out[k] = h.values(k)[0] ?? '';
  return out;
}

function toReceipt(ack: PubAck): TransportReceipt {
  return { stream: ack.stream, sequence: ack.seq, duplicate: ack.duplicate };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Errors worth retrying with the same msg id: the broker may or may not have stored it. */
function isTransient(err: unknown): boolean {
  if (err instanceof JetStreamApiError) return false; // the server answered: not a connectivity issue
  if (err instanceof errors.TimeoutError) return true;
  if (err instanceof errors.RequestError) return true;
  if (err instanceof errors.ConnectionError) return true;
  if ((err as Error)?.name === 'JetStreamNotEnabled') return true; // JetStream still recovering after a restart
  return false;
}

export class NatsTransport implements Transport {
  readonly name = 'nats';
  readonly stats: NatsTransportStats = { publishRetries: 0, consumeErrors: 0 };
  readonly js: JetStreamClient;
  private jsmP: Promise<JetStreamManager> | undefined;
  private readonly subs = new Set<TransportSubscription>();
  private readonly publishAcks: JetStreamAcks;
  private closed = false;
  private closing: Promise<void> | undefined;

  private constructor(
    readonly nc: NatsConnection,
    private readonly ownsConnection: boolean,
    private readonly o: NatsTransportOptions,
  ) {
    this.js = jetstream(nc, { timeout: o.publishTimeoutMs ?? 5000 });
    this.publishAcks = new JetStreamAcks(nc, o.publishTimeoutMs ?? 5000);
  }

  static async connect(options: NatsTransportOptions = {}): Promise<NatsTransport> {
    if (options.connection) return new NatsTransport(options.connection, false, options);
    // noAsyncTraces: nats.js otherwise builds two Error objects with stack traces for every
    // request (each JetStream publish), in case it fails: 40 % of the CPU of publishing here.
    // Those traces would lead into this transport, not to the code that published;
    // `connect: { noAsyncTraces: false }` brings them back.
    const nc = await connect({ maxReconnectAttempts: -1, reconnectTimeWait: 250, noAsyncTraces: true, ...options.connect });
    return new NatsTransport(nc, true, options);
  }

  jsm(): Promise<JetStreamManager> {
    return (this.jsmP ??= jetstreamManager(this.nc));
  }

  maxMessageBytes(): number | undefined {
    return this.nc.info?.max_payload;
  }

  publish(m: OutboundMessage): Promise<TransportReceipt> {
    let h: MsgHdrs;
    try {
      h = toNatsHeaders(m.headers, m.id);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.publishDurable(m.subject, h, m.body, this.o.publishDeadlineMs ?? 60_000);
  }

  /**
   * First attempt without an async frame of our own (the common case); retries, with the
   * same Nats-Msg-Id already in `h`, only after a failure.
   */
  private publishDurable(subject: string, h: MsgHdrs, body: Uint8Array, deadlineMs: number): Promise<TransportReceipt> {
    const until = Date.now() + deadlineMs;
    return this.publishAcks.publish(subject, body, h).then(toReceipt, (err: unknown) => this.retryPublish(subject, body, h, until, err));
  }

  private async retryPublish(subject: string, body: Uint8Array, h: MsgHdrs, until: number, err: unknown): Promise<TransportReceipt> {
    for (let attempt = 0; ; attempt++) {
      if (this.closed || this.nc.isClosed() || !isTransient(err) || Date.now() >= until) throw err;
      this.stats.publishRetries++;
      // Same msg id on every attempt: if the first one was stored, the stream drops the copy.
      await sleep(Math.min(2000, 50 * 2 ** Math.min(attempt, 6)));
      if (this.closed) throw err;
      try {
        return toReceipt(await this.publishAcks.publish(subject, body, h));
      } catch (e) {
        err = e;
      }
    }
  }

  async publishTransient(m: OutboundMessage): Promise<void> {
    this.nc.publish(m.subject, m.body, { headers: toNatsHeaders(m.headers) });
  }

  async consume(spec: ConsumeSpec, onDelivery: DeliveryHandler): Promise<TransportSubscription> {
    const sub = spec.ephemeral ? this.consumeCore(spec, onDelivery) : await this.consumeDurable(spec, onDelivery);
    this.subs.add(sub);
    return {
      stop: async () => {
        this.subs.delete(sub);
        await sub.stop();
      },
    };
  }

  private consumeCore(spec: ConsumeSpec, onDelivery: DeliveryHandler): TransportSubscription {
    const subs: NatsSub[] = spec.subjects.map((subject) =>
      this.nc.subscribe(subject, {
        queue: spec.group,
        callback: (err, msg) => {
          if (err) return;
          let settled = false;
          const d: Delivery = {
            subject: msg.subject,
            headers: readHeaders(msg),
            body: msg.data,
            deliveryCount: 1,
            ack: async () => void (settled = true),
            // Core NATS keeps nothing: a failed message can only be dead-lettered.
            retry: async () => void (settled = true),
            deadLetter: async (info) => {
              if (settled) return;
              settled = true;
              await this.publishDeadLetter(info, msg.subject, toRecord(msg.headers), msg.data, 1, `dl:core:${spec.group}:${msg.headers?.get('ce-id') ?? Math.random()}`);
            },
          };
          onDelivery(d);
        },
      }),
    );
    return {
      stop: async () => {
        for (const s of subs) s.unsubscribe();
      },
    };
  }

  private async publishDeadLetter(info: DeadLetterInfo, subject: string, original: HeaderRecord, body: Uint8Array, deliveryCount: number, id: string): Promise<void> {
    const h = toNatsHeaders(deadLetterHeaders(original, subject, info, deliveryCount), id);
    // Short deadline: if no stream stores the dead-letter subject we would rather nak and retry.
    await this.publishDurable(info.subject, h, body, 5000);
  }

  private async consumeDurable(spec: ConsumeSpec, onDelivery: DeliveryHandler): Promise<TransportSubscription> {
    const jsm = await this.jsm();
    const loops: PullLoop[] = [];
    // The in-flight budget is split between the group's consumers (one per subject).
    const share = Math.max(1, Math.floor(spec.maxInFlight / spec.subjects.length));
    for (const subject of spec.subjects) {
      const stream = await jsm.streams.find(subject).catch((err: unknown) => {
        throw new Error(`no JetStream stream stores '${subject}' (provision it first): ${(err as Error).message}`);
      });
      const name = durableName(spec.group, spec.subjects, subject);
      await this.ensureConsumer(jsm, stream, name, subject, spec);
      loops.push(new PullLoop(this, stream, name, share, onDelivery, spec.group, this.o.pullExpiresMs ?? 2000));
    }
    for (const l of loops) l.start();
    return { stop: async () => void (await Promise.all(loops.map((l) => l.stop()))) };
  }

  private async ensureConsumer(jsm: JetStreamManager, stream: string, name: string, subject: string, spec: ConsumeSpec): Promise<void> {
    try {
      const info = await jsm.consumers.info(stream, name);
      const filter = info.config.filter_subject ?? '';
      if (filter !== subject) {
        throw new Error(`durable consumer ${stream}/${name} filters '${filter}', but group ${spec.group} reads '${subject}'`);
      }
      return;
    } catch (err) {
      if (!(err instanceof JetStreamApiError) || err.code !== 10014 /* consumer not found */) throw err;
    }
    if (this.o.createConsumers === false) throw new Error(`durable consumer ${stream}/${name} does not exist (provision it first)`);
    // Retries are counted by the bus: the server must never stop redelivering on its own,
    // or a message whose dead-letter publish failed would be lost.
    await jsm.consumers.add(stream, {
      durable_name: name,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      filter_subject: subject,
      max_deliver: -1,
      ack_wait: nanos(spec.ackWaitMs ?? 30_000),
      max_ack_pending: this.o.maxAckPending ?? 20_000,
    });
  }

  async request(m: OutboundMessage, timeoutMs: number): Promise<InboundMessage> {
    try {
      const r = await this.nc.request(m.subject, m.body, { timeout: timeoutMs, headers: toNatsHeaders(m.headers) });
      return { subject: r.subject, headers: readHeaders(r), body: r.data };
    } catch (err) {
      if (err instanceof errors.RequestError && err.isNoResponders()) throw new NoResponderError(m.subject);
      if (err instanceof errors.TimeoutError) throw new RequestTimeoutError(m.subject, timeoutMs);
      throw err;
    }
  }

  async serve(spec: ServeSpec, handler: RequestHandler): Promise<TransportSubscription> {
    const s = this.nc.subscribe(spec.subject, {
      ...(spec.group ? { queue: spec.group } : {}),
      callback: (err, msg) => {
        if (err || !msg.reply) return;
        handler({ subject: msg.subject, headers: readHeaders(msg), body: msg.data }).then(
          (r) => msg.respond(r.body, { headers: toNatsHeaders(r.headers) }),
          (e: unknown) => msg.respond(new Uint8Array(0), { headers: toNatsHeaders({ 'ec-reply-error': 'handler-failed', 'ec-reply-error-detail': String(e).slice(0, 512) }) }),
        );
      },
    });
    const sub: TransportSubscription = {
      stop: async () => {
        this.subs.delete(sub);
        // Drain: requests already received still get their reply.
        await s.drain().catch(() => undefined);
      },
    };
    this.subs.add(sub);
    return sub;
  }

  /** Stops consumers, waits for outstanding publishes' acks, then closes if we own it. */
  close(): Promise<void> {
    return (this.closing ??= this.shutDown());
  }

  private async shutDown(): Promise<void> {
    // Consumers stop first: handlers still running may publish dead letters.
    await Promise.allSettled([...this.subs].map((s) => s.stop()));
    this.flushAcks();
    this.closed = true;
    // Takes no more publishes (retries included); bounded by the ack timeout.
    await this.publishAcks.drain();
    this.publishAcks.close();
    if (this.ownsConnection && !this.nc.isClosed()) await this.nc.drain().catch(() => this.nc.close());
  }

  private acks: JsMsg[] = [];
  private ackTimer: NodeJS.Immediate | undefined;

  /**
   * Acks of handled messages, sent together once per event-loop turn. Sent one by one, each
   * ack became its own socket write (nats.js flushes on the next microtask, and handlers
   * finish in different microtasks): those writes were the largest cost of consuming. The
   * ack still goes out only after the handler finished, at most one loop turn later.
   */
  queueAck(m: JsMsg): void {
    this.acks.push(m);
    this.ackTimer ??= setImmediate(this.flushAcks);
  }

  /** Sends queued acks now (also before stopping and closing, so none is left behind). */
  readonly flushAcks = (): void => {
    if (this.ackTimer) clearImmediate(this.ackTimer);
    this.ackTimer = undefined;
    const batch = this.acks;
    if (batch.length === 0) return;
    this.acks = [];
    const protocol = (this.nc as unknown as { protocol?: { sendCommand?: (cmd: string) => void } }).protocol;
    if (batch.length > 1 && typeof protocol?.sendCommand === 'function' && !this.nc.isClosed()) {
      // One command for the batch, with the bytes JsMsg.ack() sends for each message: each
      // ack() is a publish() of its own (a template string, an encode, a buffer copy), and
      // those were the largest cost of consuming after decoding.
      let cmd = '';
      for (const m of batch) {
        const msg = m as unknown as { didAck?: boolean; reply?: string };
        if (msg.didAck === true || !msg.reply) continue;
        msg.didAck = true;
        cmd += `PUB ${msg.reply} 4\r\n+ACK\r\n`;
      }
      try {
        if (cmd !== '') protocol.sendCommand(cmd);
      } catch {
        // Connection gone: the server redelivers after the ack wait, as with a lost ack.
      }
      return;
    }
    for (const m of batch) {
      try {
        m.ack();
      } catch {
        // Connection gone: the server redelivers after the ack wait, as with a lost ack.
      }
    }
  };

  /** Used by PullLoop. */
  deadLetterFor(m: JsMsg, info: DeadLetterInfo, stream: string, durable: string): Promise<void> {
    return this.publishDeadLetter(info, m.subject, toRecord(m.headers), m.data, m.info.deliveryCount, `dl:${stream}:${durable}:${m.seq}`);
  }

  get isClosed(): boolean {
    return this.closed || this.nc.isClosed();
  }
}

/**
 * One pull loop per durable consumer: fetches only as many messages as the in-flight
 * budget allows, so a slow handler never makes the client hoard messages whose ack wait
 * runs out in a local buffer.
 */
class PullLoop {
  private held = 0;
  /** Messages asked for in open pull requests and not received yet. */
  private outstanding = 0;
  private stopped = false;
  private wake: (() => void) | undefined;
  private done: Promise<void> | undefined;
  private finished = false;
  private pauseMs = 0;
  private readonly lowWater: number;

  constructor(
    private readonly t: NatsTransport,
    private readonly stream: string,
    private readonly durable: string,
    private readonly budget: number,
    private readonly onDelivery: DeliveryHandler,
    private readonly group: string,
    private readonly expiresMs: number,
  ) {
    // Pull again once a quarter of the budget is free: big enough batches to amortise the round
    // trip, small enough that a second pull overlaps the first (no idle gap between them).
    this.lowWater = Math.max(1, Math.floor(budget / 4));
  }

  start(): void {
    this.done = this.run();
  }

  private free(): number {
    return this.budget - this.held - this.outstanding;
  }

  private poke(): void {
    const w = this.wake;
    if (w && (this.stopped || this.free() >= this.lowWater)) {
      this.wake = undefined;
      w();
    }
  }

  private released = (): void => {
    this.held--;
    if (this.wake) this.poke();
  };

  private async run(): Promise<void> {
    const open = new Set<Promise<void>>();
    while (!this.stopped && !this.t.isClosed) {
      if (this.pauseMs > 0) {
        const ms = this.pauseMs;
        this.pauseMs = 0;
        await sleep(ms);
        continue;
      }
      if (this.free() < this.lowWater) {
        await new Promise<void>((r) => (this.wake = r));
        continue;
      }
      const n = this.free();
      this.outstanding += n;
      const p: Promise<void> = this.pull(n).finally(() => open.delete(p));
      open.add(p);
      // Let the pull request go out before deciding on the next one.
      await new Promise<void>((r) => setImmediate(r));
    }
    // Open pulls are left to expire rather than abandoned (see stop()).
    await Promise.all(open);
    this.finished = true;
  }

  private errorsInARow = 0;
  private consumer: Promise<Consumer> | undefined;

  private async pull(n: number): Promise<void> {
    let received = 0;
    try {
      // consumers.get() is an info round trip: once, and again only after an error.
      const c = await (this.consumer ??= this.t.js.consumers.get(this.stream, this.durable));
      // Callback mode: messages reach the bus synchronously in socket order, so several
      // overlapping pulls still hand out messages in stream order (per-key ordering).
      const msgs = await c.fetch({
        max_messages: n,
        expires: this.expiresMs,
        callback: (m: JsMsg) => {
          received++;
          this.outstanding--;
          if (this.stopped) {
            // Hand it back, delayed until our pulls have expired (otherwise the server
            // redelivers it straight into one of them).
            m.nak(this.expiresMs + 100);
            return;
          }
          this.held++;
          this.onDelivery(this.wrap(m));
        },
      } as Parameters<typeof c.fetch>[0]);
      const ended = await msgs.closed();
      if (ended instanceof Error) throw ended;
      this.errorsInARow = 0;
    } catch {
      this.consumer = undefined;
      if (!this.stopped && !this.t.isClosed) {
        this.t.stats.consumeErrors++;
        this.errorsInARow++;
        this.pauseMs = Math.min(2000, 100 * this.errorsInARow);
      }
    } finally {
      this.outstanding -= n - received;
      this.poke();
    }
  }

  private wrap(m: JsMsg): Delivery {
    return new NatsDelivery(m, this);
  }

  ack(m: JsMsg): void {
    this.t.queueAck(m);
  }

  /** Called by NatsDelivery once it is settled. */
  settled(): void {
    this.released();
  }

  /** Delay for an immediate nak: past our open pulls while stopping (see stop()). */
  nakDelay(delayMs: number): number {
    return this.stopped && !this.finished ? Math.max(delayMs, this.expiresMs + 100) : delayMs;
  }

  deadLetter(m: JsMsg, info: DeadLetterInfo): Promise<void> {
    return this.t.deadLetterFor(m, info, this.stream, this.durable);
  }

  /**
   * Stops pulling. The open pull request is left to expire (at most pullExpiresMs) rather
   * than abandoned: NATS 2.9 cannot cancel it, and messages the server pushed into an
   * abandoned pull would sit unacknowledged until their ack wait ran out.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    const w = this.wake;
    this.wake = undefined;
    w?.();
    await this.done;
    this.t.flushAcks();
  }

  toString(): string {
    return `${this.stream}/${this.durable} (${this.group})`;
  }
}

const RESOLVED: Promise<void> = Promise.resolve();

/** One pulled message. A class, not closures: this object is made for every message. */
class NatsDelivery implements Delivery {
  readonly subject: string;
  readonly headers: HeaderReader;
  readonly body: Uint8Array;
  private done = false;

  constructor(
    private readonly m: JsMsg,
    private readonly loop: PullLoop,
  ) {
    this.subject = m.subject;
    this.headers = readHeaders((m as unknown as { msg: Msg }).msg ?? (m as unknown as Msg));
    this.body = m.data;
  }

  /** Lazy: parsing the ack subject costs, and only retries and contexts need it. */
  get deliveryCount(): number {
    return this.m.info.deliveryCount;
  }

  private settle(): boolean {
    if (this.done) return false;
    this.done = true;
    this.loop.settled();
    return true;
  }

  ack(): Promise<void> {
    if (this.settle()) this.loop.ack(this.m);
    return RESOLVED;
  }

  retry(delayMs: number): Promise<void> {
    // While our pull request may still be open on the server, an immediate nak would come
    // straight back to this stopping instance; nakDelay() pushes it past the pull's expiry.
    const d = this.loop.nakDelay(delayMs);
    if (this.settle()) this.m.nak(d > 0 ? d : undefined);
    return RESOLVED;
  }

  async deadLetter(info: DeadLetterInfo): Promise<void> {
    if (this.done) return;
    await this.loop.deadLetter(this.m, info);
    if (this.settle()) this.m.term(`${info.reason}: ${info.detail}`.slice(0, 256));
  }

  working(): void {
    if (!this.done) this.m.working();
  }
}

// ---------------------------------------------------------------------------------------
// Provisioning: streams and durable consumers from a plain description, idempotently.
// ---------------------------------------------------------------------------------------

export interface NatsStreamSpec {
  name: string;
  subjects: string[];
  retention?: 'limits' | 'interest' | 'workqueue';
  storage?: 'file' | 'memory';
  replicas?: number;
  maxAgeMs?: number;
  maxBytes?: number;
  maxMsgs?: number;
  maxMsgSize?: number;
  /** Nats-Msg-Id dedupe window. Default 2 minutes. */
  duplicateWindowMs?: number;
  discard?: 'old' | 'new';
  description?: string;
}

export interface NatsConsumerSpec {
  stream: string;
  /** Durable name; for a group use durableName(group, subjects, subject). */
  name: string;
  filterSubject: string;
  ackWaitMs?: number;
  maxAckPending?: number;
  deliverPolicy?: 'all' | 'new' | 'last';
  description?: string;
}

export interface NatsProvisionPlan {
  streams?: NatsStreamSpec[];
  consumers?: NatsConsumerSpec[];
}

export type ProvisionAction = 'created' | 'updated' | 'unchanged';

export interface NatsProvisionResult {
  streams: Array<{ name: string; action: ProvisionAction }>;
  consumers: Array<{ stream: string; name: string; action: ProvisionAction }>;
}

function streamConfig(s: NatsStreamSpec): Partial<StreamConfig> & { name: string } {
  const c: Partial<StreamConfig> & { name: string } = {
    name: s.name,
    subjects: [...s.subjects],
    retention: s.retention === 'interest' ? RetentionPolicy.Interest : s.retention === 'workqueue' ? RetentionPolicy.Workqueue : RetentionPolicy.Limits,
    storage: s.storage === 'memory' ? StorageType.Memory : StorageType.File,
    num_replicas: s.replicas ?? 1,
    max_age: nanos(s.maxAgeMs ?? 0),
    max_bytes: s.maxBytes ?? -1,
    max_msgs: s.maxMsgs ?? -1,
    max_msg_size: s.maxMsgSize ?? -1,
    // The server refuses a dedupe window longer than max age.
    duplicate_window: nanos(s.duplicateWindowMs ?? (s.maxAgeMs ? Math.min(120_000, s.maxAgeMs) : 120_000)),
    discard: s.discard === 'new' ? DiscardPolicy.New : DiscardPolicy.Old,
  };
  if (s.description !== undefined) c.description = s.description;
  return c;
}

function consumerConfig(c: NatsConsumerSpec): Partial<ConsumerConfig> & { durable_name: string } {
  const out: Partial<ConsumerConfig> & { durable_name: string } = {
    durable_name: c.name,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: c.deliverPolicy === 'new' ? DeliverPolicy.New : c.deliverPolicy === 'last' ? DeliverPolicy.Last : DeliverPolicy.All,
    filter_subject: c.filterSubject,
    max_deliver: -1,
    ack_wait: nanos(c.ackWaitMs ?? 30_000),
    max_ack_pending: c.maxAckPending ?? 20_000,
  };
  if (c.description !== undefined) out.description = c.description;
  return out;
}

/** The keys we set differ from what the server holds. */
function differs(want: Record<string, unknown>, have: Record<string, unknown>): boolean {
  for (const [k, v] of Object.entries(want)) {
    const h = have[k];
    if (Array.isArray(v)) {
      if (!Array.isArray(h) || [...v].sort().join('\u0000') !== [...h].sort().join('\u0000')) return true;
    } else if ((h ?? undefined) !== v && !(v === '' && h === undefined)) return true;
  }
  return false;
}

/**
 * Create or update streams, then durable consumers. Safe to run at every start-up: things
 * already as described are left alone ('unchanged').
 */
export async function provisionNats(target: NatsConnection | NatsTransport | { servers: string | string[] }, plan: NatsProvisionPlan): Promise<NatsProvisionResult> {
  let nc: NatsConnection;
  let own = false;
  if (target instanceof NatsTransport) nc = target.nc;
  else if ('servers' in target && !('publish' in target)) {
    nc = await connect({ servers: target.servers });
    own = true;
  } else nc = target as NatsConnection;
  try {
    const jsm = await jetstreamManager(nc);
    const result: NatsProvisionResult = { streams: [], consumers: [] };
    for (const s of plan.streams ?? []) {
      const want = streamConfig(s);
      let action: ProvisionAction;
      try {
        const info = await jsm.streams.info(s.name);
        if (differs(want as Record<string, unknown>, info.config as unknown as Record<string, unknown>)) {
          await jsm.streams.update(s.name, { ...info.config, ...want });
          action = 'updated';
        } else action = 'unchanged';
      } catch (err) {
        if (!(err instanceof JetStreamApiError) || err.code !== 10059 /* stream not found */) throw err;
        await jsm.streams.add(want);
        action = 'created';
      }
      result.streams.push({ name: s.name, action });
    }
    for (const c of plan.consumers ?? []) {
      const want = consumerConfig(c);
      let action: ProvisionAction;
      try {
        const info = await jsm.consumers.info(c.stream, c.name);
        if (differs(want as Record<string, unknown>, info.config as unknown as Record<string, unknown>)) {
          await jsm.consumers.update(c.stream, c.name, want);
          action = 'updated';
        } else action = 'unchanged';
      } catch (err) {
        if (!(err instanceof JetStreamApiError) || err.code !== 10014 /* consumer not found */) throw err;
        await jsm.consumers.add(c.stream, want);
        action = 'created';
      }
      result.consumers.push({ stream: c.stream, name: c.name, action });
    }
    return result;
  } finally {
    if (own) await nc.close();
  }
}

/** Connects and returns a transport; shorthand for NatsTransport.connect. */
export function connectNats(options: NatsTransportOptions = {}): Promise<NatsTransport> {
  return NatsTransport.connect(options);
}
