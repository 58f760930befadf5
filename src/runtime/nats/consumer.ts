/**
 * Consuming: durable JetStream pull consumers (one pull loop per durable consumer), core
 * queue subscriptions, and the deliveries they hand to the bus.
 *
 * Nothing a producer sends can stop a consumer: whatever throws between receipt and
 * hand-off (a header block nats.js refuses, delivery info, the hand-off itself) is caught
 * per message; a message whose framing cannot be read is handed over as `malformed` (empty
 * headers, raw body), which the bus dead-letters; the rest of the batch goes on and the loop
 * keeps pulling. The attempt count is JetStream's delivery count (from the ack subject the
 * server wrote), the subject the one the message was published to; no header is trusted
 * for either.
 */
import { randomUUID } from 'node:crypto';
import { nanos, type Msg, type NatsConnection, type Subscription as NatsSub } from '@nats-io/transport-node';
import { AckPolicy, DeliverPolicy, JetStreamApiError, type Consumer, type JetStreamClient, type JetStreamManager, type JsMsg } from '@nats-io/jetstream';
import { backoff, backoffDelay, RECONNECT_BACKOFF, sleep } from '../backoff.js';
import type { ConsumeSpec, DeadLetterInfo, DeadLetterReason, Delivery, DeliveryHandler, HeaderReader, HeaderRecord, TransportNotice, TransportSubscription } from '../types.js';
import { fromViolation, isTransient, permissionDenied, serverCaughtUp, type ConnectionEvents, type PermissionViolation } from './connection.js';
import { NO_HEADERS, readHeaders, refusedHeaderRecord, toRecord } from './headers.js';
import { fetchEach, innerMsg, sendAcks } from './internals.js';
import { durableName } from './names.js';

/** What consumers need from the transport. */
export interface ConsumerHost {
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  jsm(): Promise<JetStreamManager>;
  readonly isClosed: boolean;
  readonly events: ConnectionEvents;
  readonly acks: AckBatcher;
  readonly stats: { consumeErrors: number; deliveryErrors: number };
  readonly options: { createConsumers?: boolean; maxAckPending?: number; pullExpiresMs?: number };
  /** Reports to the bus's middleware (a consumer the server stopped serving). */
  notice(n: TransportNotice): void;
  /** Publishes a dead letter; `extra` headers are added after the dead-letter headers. */
  publishDeadLetter(info: DeadLetterInfo, subject: string, original: HeaderRecord, body: Uint8Array, deliveryCount: number, id: string, extra?: HeaderRecord): Promise<void>;
}

/**
 * Acks of handled messages, sent together once per event-loop turn. Sent one by one, each
 * ack became its own socket write (nats.js flushes on the next microtask, and handlers
 * finish in different microtasks): those writes were the largest cost of consuming. The ack
 * still goes out only after the handler finished, at most one loop turn later.
 */
export class AckBatcher {
  private acks: JsMsg[] = [];
  private timer: NodeJS.Immediate | undefined;
  constructor(private readonly nc: NatsConnection) {}

  queue(m: JsMsg): void {
    this.acks.push(m);
    this.timer ??= setImmediate(this.flush);
  }

  /** Sends queued acks now (also before stopping and closing, so none is left behind). */
  readonly flush = (): void => {
    if (this.timer) clearImmediate(this.timer);
    this.timer = undefined;
    const batch = this.acks;
    if (batch.length === 0) return;
    this.acks = [];
    sendAcks(this.nc, batch);
  };
}

/** A header block nats.js refused: why, for the dead letter. */
function refusal(err: unknown): { reason: DeadLetterReason; detail: string } {
  return { reason: 'headers-invalid', detail: `the NATS header block could not be read: ${err instanceof Error ? err.message : String(err)}` };
}

/** Reads headers, or says why it cannot (never throws). */
function headersOf(msg: Msg): { headers: HeaderReader; malformed?: { reason: DeadLetterReason; detail: string } } {
  try {
    return { headers: readHeaders(msg) };
  } catch (err) {
    return { headers: NO_HEADERS, malformed: refusal(err) };
  }
}

export async function consumeDurable(host: ConsumerHost, spec: ConsumeSpec, onDelivery: DeliveryHandler): Promise<TransportSubscription> {
  const jsm = await host.jsm().catch((err: unknown) => {
    throw permissionDenied(err, 'subscribe', spec.subjects.join(', ')) ?? err;
  });
  const loops: PullLoop[] = [];
  // The in-flight budget is split between the group's consumers (one per subject).
  const share = Math.max(1, Math.floor(spec.maxInFlight / spec.subjects.length));
  const stopAll = async (): Promise<void> => void (await Promise.all(loops.map((l) => l.stop())));
  try {
    for (const subject of spec.subjects) {
      const stream = await jsm.streams.find(subject).catch((err: unknown) => {
        throw permissionDenied(err, 'subscribe', subject) ?? new Error(`no JetStream stream stores '${subject}' (provision it first): ${(err as Error).message}`);
      });
      const name = durableName(spec.group, spec.subjects, subject);
      try {
        await ensureConsumer(host, jsm, stream, name, subject, spec);
      } catch (err) {
        throw permissionDenied(err, 'subscribe', subject) ?? err;
      }
      loops.push(new PullLoop(host, stream, name, subject, share, onDelivery, spec.group, host.options.pullExpiresMs ?? 2000));
    }
    for (const l of loops) l.start();
    // A pull request that nats-server's permissions refuse is reported only on the status
    // stream, before the PONG of a flush sent after it: fail the start rather than pull forever.
    await Promise.all(loops.map((l) => l.firstPull));
    await serverCaughtUp(host.nc);
    const refused = loops.find((l) => l.refused);
    if (refused) throw fromViolation(refused.refused!, 'subscribe', refused.subject);
  } catch (err) {
    await stopAll();
    throw err;
  }
  return { stop: stopAll };
}

async function ensureConsumer(host: ConsumerHost, jsm: JetStreamManager, stream: string, name: string, subject: string, spec: ConsumeSpec): Promise<void> {
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
  if (host.options.createConsumers === false) throw new Error(`durable consumer ${stream}/${name} does not exist (provision it first)`);
  // Retries are counted by the bus: the server must never stop redelivering on its own,
  // or a message whose dead-letter publish failed would be lost.
  await jsm.consumers.add(stream, {
    durable_name: name,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    filter_subject: subject,
    max_deliver: -1,
    ack_wait: nanos(spec.ackWaitMs ?? 30_000),
    max_ack_pending: host.options.maxAckPending ?? 20_000,
  });
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
  private errorsInARow = 0;
  /** A refusal was reported since the last pull that worked: one notice per outage, not per retry. */
  private refusalReported = false;
  private consumer: Promise<Consumer> | undefined;
  /** Set when nats-server refused our pull requests (permissions). */
  refused: PermissionViolation | undefined;
  private readonly unlisten: () => void;
  /** Resolves once the first pull request was sent (or failed). */
  readonly firstPull: Promise<void>;
  private firstPullSent!: () => void;
  private readonly pullSubject: string;

  constructor(
    readonly host: ConsumerHost,
    readonly stream: string,
    readonly durable: string,
    readonly subject: string,
    private readonly budget: number,
    private readonly onDelivery: DeliveryHandler,
    private readonly group: string,
    private readonly expiresMs: number,
  ) {
    // Pull again once a quarter of the budget is free: big enough batches to amortise the round
    // trip, small enough that a second pull overlaps the first (no idle gap between them).
    this.lowWater = Math.max(1, Math.floor(budget / 4));
    this.firstPull = new Promise((r) => (this.firstPullSent = r));
    this.pullSubject = `.CONSUMER.MSG.NEXT.${stream}.${durable}`;
    this.unlisten = host.events.onPermission((v) => {
      // Counted as a consume error by the pull it ends (see pull()).
      if (v.operation === 'publish' && v.subject.endsWith(this.pullSubject)) this.refused = v;
    });
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

  private async run(): Promise<void> {
    const open = new Set<Promise<void>>();
    while (!this.stopped && !this.host.isClosed) {
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
    this.firstPullSent();
    // Open pulls are left to expire rather than abandoned (see stop()).
    await Promise.all(open);
    this.finished = true;
  }

  private async pull(n: number): Promise<void> {
    let received = 0;
    const refusedBefore = this.refused;
    try {
      // consumers.get() is an info round trip: once, and again only after an error.
      const c = await (this.consumer ??= this.host.js.consumers.get(this.stream, this.durable));
      const msgs = await fetchEach(
        c,
        { max_messages: n, expires: this.expiresMs },
        (m) => {
          received++;
          this.outstanding--;
          this.receive(m);
        },
        this.firstPullSent,
      );
      const ended = await msgs.closed();
      if (ended instanceof Error) throw ended;
      if (this.refused !== refusedBefore) throw this.refused;
      this.errorsInARow = 0;
      this.refusalReported = false;
    } catch (err) {
      this.consumer = undefined;
      if (!this.stopped && !this.host.isClosed) {
        this.host.stats.consumeErrors++;
        this.errorsInARow++;
        this.pauseMs = backoff(100, 2000, this.errorsInARow);
        this.reportRefusal(err);
      }
    } finally {
      this.firstPullSent();
      this.outstanding -= n - received;
      this.poke();
    }
  }

  /**
   * The server answered the pull with a refusal (the consumer or its stream deleted,
   * permissions, a JetStream error): the loop keeps trying with backoff, but nothing will
   * arrive until someone fixes it, so the bus's middleware hears of it. A lost connection
   * is not reported here: the transport's connection notices say that once.
   */
  private reportRefusal(err: unknown): void {
    if (this.refusalReported || !isRefusal(err) || this.host.nc.isClosed()) return;
    this.refusalReported = true;
    const why = err instanceof Error ? err.message : ((err as PermissionViolation | undefined)?.message ?? String(err));
    this.host.notice({
      kind: 'consumer-error',
      transport: 'nats',
      group: this.group,
      detail: `pull consumer ${this.stream}/${this.durable} for '${this.subject}' refused: ${why}; retrying with backoff`,
      error: err,
    });
  }

  /** One message from the server. Never throws: a throw here would end the fetch and lose the rest of its batch. */
  private receive(m: JsMsg): void {
    if (this.stopped) {
      // Hand it back, delayed until our pulls have expired (otherwise the server
      // redelivers it straight into one of them).
      try {
        m.nak(this.expiresMs + 100);
      } catch {
        // Connection gone: redelivered after the ack wait.
      }
      return;
    }
    this.held++;
    let d: NatsDelivery | undefined;
    try {
      d = new NatsDelivery(m, this);
      this.onDelivery(d);
    } catch {
      // Not something a producer can cause (the delivery reads nothing it cannot survive);
      // a bug in the hand-off. Back to the server with backoff, never lost, never hot-looping.
      this.host.stats.deliveryErrors++;
      if (d) void d.retry(backoffDelay(RECONNECT_BACKOFF, d.deliveryCount)).catch(() => undefined);
      else {
        this.released();
        try {
          m.nak(RECONNECT_BACKOFF.maxMs);
        } catch {
          // Connection gone: redelivered after the ack wait.
        }
      }
    }
  }

  private released(): void {
    this.held--;
    if (this.wake) this.poke();
  }

  ack(m: JsMsg): void {
    this.host.acks.queue(m);
  }

  /** Called by NatsDelivery once it is settled. */
  settled(): void {
    this.released();
  }

  /** Delay for an immediate nak: past our open pulls while stopping (see stop()). */
  nakDelay(delayMs: number): number {
    return this.stopped && !this.finished ? Math.max(delayMs, this.expiresMs + 100) : delayMs;
  }

  deadLetter(d: NatsDelivery, m: JsMsg, info: DeadLetterInfo): Promise<void> {
    // The id is ours, not the producer's (their Nats-Msg-Id is kept as data): stream, consumer
    // and sequence make retries of this dead letter idempotent; the stream's timestamp of the
    // message makes it one no producer can guess in advance.
    const id = `dl:${this.stream}:${this.durable}:${m.seq}:${m.info.timestampNanos}`;
    if (d.malformed) {
      const { headers, note } = refusedHeaderRecord(innerMsg(m));
      return this.host.publishDeadLetter({ ...info, detail: `${info.detail}; ${note}` }, m.subject, {}, m.data, d.deliveryCount, id, headers);
    }
    return this.host.publishDeadLetter(info, m.subject, toRecord(m.headers), m.data, d.deliveryCount, id);
  }

  /**
   * Stops pulling. The open pull request is left to expire (at most pullExpiresMs) rather
   * than abandoned: NATS 2.9 cannot cancel it, and messages the server pushed into an
   * abandoned pull would sit unacknowledged until their ack wait ran out.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    this.unlisten();
    const w = this.wake;
    this.wake = undefined;
    w?.();
    await this.done;
    this.host.acks.flush();
  }

  toString(): string {
    return `${this.stream}/${this.durable} (${this.group})`;
  }
}

/**
 * Whether a failed pull is the server refusing rather than the way to it failing: not a
 * connectivity error, and not missed idle heartbeats (the connection dropped, or the
 * consumer's leader moved to another node of a cluster; either heals by itself).
 */
function isRefusal(err: unknown): boolean {
  return !isTransient(err) && !/heartbeats missed/i.test((err as Error | undefined)?.message ?? '');
}

const RESOLVED: Promise<void> = Promise.resolve();

/** One pulled message. A class, not closures: this object is made for every message. */
class NatsDelivery implements Delivery {
  readonly subject: string;
  readonly headers: HeaderReader;
  readonly body: Uint8Array;
  readonly malformed?: { reason: DeadLetterReason; detail: string };
  private done = false;
  private count = 0;

  constructor(
    private readonly m: JsMsg,
    private readonly loop: PullLoop,
  ) {
    this.subject = m.subject;
    const h = headersOf(innerMsg(m));
    this.headers = h.headers;
    if (h.malformed) this.malformed = h.malformed;
    this.body = m.data;
  }

  /**
   * JetStream's delivery count, from the ack subject the server wrote (never a header).
   * Lazy: parsing the ack subject costs, and only retries and contexts need it.
   */
  get deliveryCount(): number {
    if (this.count === 0) {
      try {
        this.count = this.m.info.deliveryCount || 1;
      } catch {
        this.count = 1; // not a JetStream ack subject: cannot happen with a pull consumer
      }
    }
    return this.count;
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
    await this.loop.deadLetter(this, this.m, info);
    // term() without a reason: on nats-server 2.9.10 `+TERM <reason>` leaves the message
    // pending and it is redelivered every ack wait, while a bare `+TERM` settles it. The
    // reason travels in the dead letter's headers.
    if (this.settle()) this.m.term();
  }

  working(): void {
    if (!this.done) this.m.working();
  }
}

/** Core NATS queue subscriptions: no ack, no redelivery; a failed message can only be dead-lettered. */
export async function consumeCore(host: ConsumerHost, spec: ConsumeSpec, onDelivery: DeliveryHandler): Promise<TransportSubscription> {
  let refused: unknown;
  const subs: NatsSub[] = spec.subjects.map((subject) =>
    host.nc.subscribe(subject, {
      queue: spec.group,
      callback: (err, msg) => {
        if (err) {
          refused ??= permissionDenied(err, 'subscribe', subject) ?? err;
          return;
        }
        try {
          onDelivery(coreDelivery(host, spec.group, msg));
        } catch {
          host.stats.deliveryErrors++;
        }
      },
    }),
  );
  const stop = async (): Promise<void> => {
    for (const s of subs) s.unsubscribe();
  };
  // A subscription that nats-server's permissions refuse is reported before the PONG of a flush.
  await serverCaughtUp(host.nc);
  if (refused) {
    await stop();
    throw refused;
  }
  return { stop };
}

function coreDelivery(host: ConsumerHost, group: string, msg: Msg): Delivery {
  let settled = false;
  const h = headersOf(msg);
  return {
    subject: msg.subject,
    headers: h.headers,
    body: msg.data,
    deliveryCount: 1,
    ...(h.malformed ? { malformed: h.malformed } : {}),
    ack: async () => void (settled = true),
    // Core NATS keeps nothing: a failed message can only be dead-lettered.
    retry: async () => void (settled = true),
    deadLetter: async (info) => {
      if (settled) return;
      settled = true;
      // A random id: core NATS never redelivers, and a producer's ce-id must not decide
      // whether the dead-letter stream drops this copy as a duplicate.
      const id = `dl:core:${group}:${randomUUID()}`;
      if (h.malformed) {
        const { headers, note } = refusedHeaderRecord(msg);
        await host.publishDeadLetter({ ...info, detail: `${info.detail}; ${note}` }, msg.subject, {}, msg.data, 1, id, headers);
      } else {
        await host.publishDeadLetter(info, msg.subject, toRecord(msg.headers), msg.data, 1, id);
      }
    },
  };
}
