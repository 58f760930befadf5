/**
 * Publishing. Durable (JetStream) publishes with one reply subscription for all their acks,
 * as nats.go's PublishAsync does: js.publish() goes through nc.request(), which for every
 * publish, even a successful one, starts a timer and builds an Error with a stack trace when
 * it cancels the request (about a fifth of the CPU a publish took here). Here a publish is
 * one nc.publish() with a reply subject, a map entry, and one shared sweep for timeouts; a
 * missing ack or a dropped connection is retried with the same Nats-Msg-Id until a deadline.
 *
 * Core (transient) publishes to a subject not published to before resolve once the server
 * has read them (one PING per event-loop turn for all of them), so a publish that the
 * server's permissions refuse rejects with PermissionDeniedError instead of vanishing.
 *
 * Failures keep the shapes the retry logic knows: nats.js TimeoutError when no ack came in
 * time or the connection dropped, JetStreamApiError when the server refused,
 * JetStreamUnavailableError when no stream answered, PermissionDeniedError when the
 * server's permissions refused (never retried).
 */
import { createInbox, errors, type Msg, type MsgHdrs, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { JetStreamApiCodes, JetStreamApiError, JetStreamError, type PubAck } from '@nats-io/jetstream';
import { backoffDelay, RECONNECT_BACKOFF, sleep } from '../backoff.js';
import type { TransportReceipt } from '../types.js';
import { fromViolation, isTransient, permissionDenied, type ConnectionEvents, type PermissionViolation } from './connection.js';
import { inboxPrefixOf } from './internals.js';

interface Pending {
  subject: string;
  resolve(ack: PubAck): void;
  reject(err: unknown): void;
  deadline: number;
}

/**
 * No stream answered (none stores the subject, or JetStream is not up yet after a restart),
 * or JetStream said it is not enabled. Named as nats.js names it; retried until the publish
 * deadline, as with js.publish().
 */
export class JetStreamUnavailableError extends JetStreamError {
  /** True when the server answered "no responders": no stream stores the subject (or JetStream is down). */
  readonly noStream: boolean;
  constructor(message: string, options?: ErrorOptions & { noStream?: boolean }) {
    super(message, options);
    this.name = 'JetStreamNotEnabled';
    this.noStream = options?.noStream ?? false;
  }
}

const decoder = new TextDecoder();

/** JetStream publish acks on one reply subscription. */
export class JetStreamAcks {
  private readonly prefix: string;
  private readonly pending = new Map<string, Pending>();
  private next = 0;
  private readonly sub: Subscription;
  private sweeper: NodeJS.Timeout | undefined;
  /** Callers of drain() waiting for the last ack. */
  private drained: Array<() => void> = [];
  /** Set once closing, or when the reply subscription failed: every publish rejects with it. */
  private failure: Error | undefined;
  private readonly unlisten: Array<() => void>;

  constructor(
    private readonly nc: NatsConnection,
    private readonly timeoutMs: number,
    events: ConnectionEvents,
  ) {
    this.prefix = `${createInbox(inboxPrefixOf(nc))}.`;
    this.sub = nc.subscribe(`${this.prefix}*`, {
      callback: (err, msg) => {
        if (!err) this.onAck(msg);
        else {
          // The reply subscription is gone (a permissions error, say): say so, not time out.
          const e = permissionDenied(err, 'subscribe', `${this.prefix}*`) ?? err;
          this.failure = e;
          this.failAll(() => e);
        }
      },
    });
    this.unlisten = [
      // A dropped connection loses the acks in flight: fail them now rather than at their timeout.
      events.onDisconnect(() => this.failAll(() => new errors.TimeoutError())),
      events.onPermission((v) => this.onViolation(v)),
      events.onClosed(() => this.failAll(() => new errors.ClosedConnectionError())),
    ];
  }

  publish(subject: string, body: Uint8Array, headers: MsgHdrs): Promise<PubAck> {
    if (this.failure) return Promise.reject(this.failure);
    const token = (this.next++).toString(36);
    return new Promise<PubAck>((resolve, reject) => {
      // Deadlines grow with insertion order (one timeout for all), which the sweep relies on;
      // a monotonic clock keeps that true when the wall clock is set back.
      this.pending.set(token, { subject, resolve, reject, deadline: performance.now() + this.timeoutMs });
      this.sweeper ??= setInterval(this.sweep, Math.min(250, this.timeoutMs));
      try {
        this.nc.publish(subject, body, { headers, reply: this.prefix + token });
      } catch (err) {
        this.settle(token)?.reject(err);
      }
    });
  }

  /**
   * Takes no more publishes, then resolves once those awaiting their ack have it or timed
   * out (so within the ack timeout).
   */
  drain(): Promise<void> {
    // From here on nothing is added to `pending`, so it only empties.
    this.failure ??= new errors.ClosedConnectionError();
    if (this.pending.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.drained.push(resolve));
  }

  close(): void {
    this.failure ??= new errors.ClosedConnectionError();
    this.failAll(() => new errors.ClosedConnectionError());
    for (const u of this.unlisten) u();
    this.sub.unsubscribe();
  }

  /** nats-server refused a publish (every pending one to that subject) or our reply subscription. */
  private onViolation(v: PermissionViolation): void {
    if (v.operation === 'subscription') {
      if (v.subject !== `${this.prefix}*`) return;
      const e = fromViolation(v, 'subscribe', v.subject);
      this.failure = e;
      this.failAll(() => e);
      return;
    }
    for (const [token, p] of [...this.pending]) {
      if (p.subject === v.subject) this.settle(token)?.reject(fromViolation(v, 'publish', p.subject));
    }
  }

  private onAck(msg: Msg): void {
    const p = this.settle(msg.subject.slice(this.prefix.length));
    // An ack after its timeout: the retry, under the same msg id, gets an ack of its own.
    if (!p) return;
    let status: number | undefined;
    try {
      status = msg.data.length === 0 ? msg.headers?.code : undefined;
    } catch (err) {
      // A header block nats.js refuses (thrown here it would close the connection's reader).
      p.reject(new JetStreamError(`unreadable publish ack: ${(err as Error).message}`));
      return;
    }
    if (status === 503) {
      p.reject(new JetStreamUnavailableError(`no JetStream stream answered a publish to '${p.subject}'`, { noStream: true }));
      return;
    }
    let r: (PubAck & { error?: undefined }) | { error: ConstructorParameters<typeof JetStreamApiError>[0] };
    try {
      r = JSON.parse(decoder.decode(msg.data)) as typeof r;
    } catch (err) {
      p.reject(new JetStreamError(`unreadable publish ack: ${(err as Error).message}`));
      return;
    }
    if (r.error?.err_code === JetStreamApiCodes.JetStreamNotEnabledForAccount) {
      p.reject(new JetStreamUnavailableError(`JetStream is not enabled: ${r.error.description}`, { cause: new JetStreamApiError(r.error) }));
    } else if (r.error) p.reject(new JetStreamApiError(r.error));
    else if (!r.stream) p.reject(new JetStreamError('invalid ack response'));
    else p.resolve({ ...r, duplicate: r.duplicate ?? false });
  }

  private settle(token: string): Pending | undefined {
    const p = this.pending.get(token);
    if (!p) return undefined;
    this.pending.delete(token);
    if (this.pending.size === 0) {
      clearInterval(this.sweeper);
      this.sweeper = undefined;
      const drained = this.drained;
      this.drained = [];
      for (const resolve of drained) resolve();
    }
    return p;
  }

  private readonly sweep = (): void => {
    const now = performance.now();
    for (const [token, p] of this.pending) {
      if (p.deadline > now) break;
      this.settle(token);
      p.reject(new errors.TimeoutError());
    }
  };

  private failAll(error: () => Error): void {
    for (const token of [...this.pending.keys()]) this.settle(token)?.reject(error());
  }
}

export interface PublishRetryHost {
  /** The transport is closing: no more attempts. */
  isClosed(): boolean;
  /** Counts attempts after the first. */
  retried(): void;
}

function toReceipt(ack: PubAck): TransportReceipt {
  return { stream: ack.stream, sequence: ack.seq, duplicate: ack.duplicate };
}

/** Durable publishes: the first attempt, then retries with the same headers (same Nats-Msg-Id). */
export class DurablePublisher {
  constructor(
    private readonly acks: JetStreamAcks,
    private readonly host: PublishRetryHost,
  ) {}

  /**
   * First attempt without an async frame of our own (the common case); retries, with the
   * same Nats-Msg-Id already in `h`, only after a transient failure, until `deadlineMs`.
   * `retryNoStream: false` fails at once when no stream stores the subject (dead letters:
   * the bus retries those with its own backoff and reports them).
   */
  publish(subject: string, h: MsgHdrs, body: Uint8Array, deadlineMs: number, retryNoStream = true): Promise<TransportReceipt> {
    const until = Date.now() + deadlineMs;
    return this.acks.publish(subject, body, h).then(toReceipt, (err: unknown) => this.retry(subject, body, h, until, err, retryNoStream));
  }

  private async retry(subject: string, body: Uint8Array, h: MsgHdrs, until: number, err: unknown, retryNoStream: boolean): Promise<TransportReceipt> {
    for (let attempt = 1; ; attempt++) {
      if (this.host.isClosed() || !isTransient(err) || Date.now() >= until) throw err;
      if (!retryNoStream && err instanceof JetStreamUnavailableError && err.noStream) throw err;
      this.host.retried();
      // Same msg id on every attempt: if the first one was stored, the stream drops the copy.
      await sleep(backoffDelay(PUBLISH_RETRY_BACKOFF, attempt));
      if (this.host.isClosed()) throw err;
      try {
        return toReceipt(await this.acks.publish(subject, body, h));
      } catch (e) {
        err = e;
      }
    }
  }
}

/** Publish retries: quick at first (a lost ack), no longer than 2 s apart (a broker restart). */
const PUBLISH_RETRY_BACKOFF = { ...RECONNECT_BACKOFF, initialMs: 50, maxMs: 2000 };

interface CorePending {
  subject: string;
  resolve(): void;
  reject(err: unknown): void;
}

/** Longest wait for the server to read a turn's core publishes before resolving them anyway (handed to the connection). */
const CORE_CONFIRM_MS = 1000;
/** How long a refused subject is refused without asking the server again (permissions can be reloaded). */
const REFUSED_FOR_MS = 5000;
/** Subjects remembered as accepted; past this the memory starts over. */
const CONFIRMED_LIMIT = 10_000;
const RESOLVED: Promise<void> = Promise.resolve();

/**
 * Core publishes. The first publish to a subject resolves once the server has read it: one
 * flush (PING/PONG) per event-loop turn covers every such publish of the turn, and the
 * server answers a publish its permissions refuse with an -ERR before that PONG, so it
 * rejects with PermissionDeniedError. Later publishes to a subject the server accepted
 * resolve at once, as core NATS publishes do (handed to the connection; waiting for the
 * server each time cost three quarters of the throughput of awaited publishes); a subject
 * the server refused is refused at once for a few seconds, then asked about again. A
 * reconnect forgets both. A flush that does not come back within a second resolves its
 * turn anyway: the messages were handed to the connection, which is all core NATS promises.
 */
export class CorePublisher {
  private turn: CorePending[] | undefined;
  private readonly open = new Set<CorePending[]>();
  private readonly confirmed = new Set<string>();
  private readonly refused = new Map<string, { v: PermissionViolation; until: number }>();
  private readonly unlisten: Array<() => void>;

  constructor(
    private readonly nc: NatsConnection,
    events: ConnectionEvents,
  ) {
    this.unlisten = [
      events.onPermission((v) => {
        if (v.operation !== 'publish') return;
        this.confirmed.delete(v.subject);
        if (this.refused.size >= 1000) this.refused.clear();
        this.refused.set(v.subject, { v, until: performance.now() + REFUSED_FOR_MS });
        for (const turn of this.open) {
          for (let i = 0; i < turn.length; i++) {
            const p = turn[i]!;
            if (p.subject !== v.subject) continue;
            turn.splice(i--, 1);
            p.reject(fromViolation(v, 'publish', p.subject));
          }
        }
      }),
      events.onDisconnect(() => {
        this.confirmed.clear();
        this.refused.clear();
      }),
    ];
  }

  publish(subject: string, body: Uint8Array, headers: MsgHdrs): Promise<void> {
    if (this.refused.size > 0) {
      const r = this.refused.get(subject);
      if (r) {
        if (r.until > performance.now()) return Promise.reject(fromViolation(r.v, 'publish', subject));
        this.refused.delete(subject);
      }
    }
    this.nc.publish(subject, body, { headers });
    if (this.confirmed.has(subject)) return RESOLVED;
    return new Promise<void>((resolve, reject) => {
      let turn = this.turn;
      if (!turn) {
        turn = this.turn = [];
        this.open.add(turn);
        setImmediate(() => this.confirm(turn!));
      }
      turn.push({ subject, resolve, reject });
    });
  }

  close(): void {
    for (const u of this.unlisten) u();
  }

  private confirm(turn: CorePending[]): void {
    this.turn = undefined;
    let timer: NodeJS.Timeout | undefined;
    const done = (): void => {
      clearTimeout(timer);
      if (!this.open.delete(turn)) return;
      if (this.confirmed.size + turn.length > CONFIRMED_LIMIT) this.confirmed.clear();
      for (const p of turn) {
        this.confirmed.add(p.subject);
        p.resolve();
      }
    };
    timer = setTimeout(done, CORE_CONFIRM_MS);
    // A closed connection rejects the flush: the messages were handed over before it closed.
    // The -ERR of a refused publish reaches our status listener a few microtasks after the
    // PONG resolves the flush: done() waits a macrotask for it.
    const later = (): void => void setImmediate(done);
    this.nc.flush().then(later, later);
  }
}
