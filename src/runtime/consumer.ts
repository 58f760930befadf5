/**
 * One subscribe() call: a durable consumer plus the scheduler in front of its handlers
 * (concurrency, per-key order, dedupe, retries with backoff, dead letters).
 *
 * The promise every consumer keeps: whatever arrives, it is handled once or dead-lettered
 * with its reason, and the consumer goes on. Everything between receipt and the handler
 * (the transport's framing, decoding, limits, version resolution, validation, the ordering
 * key, the dedupe store) runs inside one catch per message.
 */
import { addressOf } from './address.js';
import { backoffDelay, DEFAULT_BACKOFF } from './backoff.js';
import { decodeMessageSync, type DecodedEnvelope } from './codec.js';
import { DecodeError, EventValidationError } from './errors.js';
import { readContractHeaders } from './headers.js';
import { withinDepth, type InboundLimits } from './limits.js';
import { MemoryDedupeStore } from './dedupe.js';
import type { HandleFn } from './onion.js';
import type {
  BackoffOptions,
  DeadLetterReason,
  DedupeStore,
  Delivery,
  Envelope,
  EventDescriptor,
  EventHandler,
  HandlerContext,
  HeaderReader,
  RuntimeNotice,
  SubscribeSpec,
  Subscription,
  Transport,
  TransportSubscription,
} from './types.js';
import { VersionResolver } from './versions.js';

/** What a consumer needs from its bus. */
export interface ConsumerHost {
  readonly wire: Transport;
  readonly limits: InboundLimits;
  readonly handleMiddleware: HandleFn | undefined;
  notify(n: RuntimeNotice): void;
  handlerContext(group: string, env: Envelope, deliveryCount: () => number, headers: HeaderReader, params: () => Record<string, string>): HandlerContext;
  /** Runs `fn` with `env` as the event being handled (ids flow into what the handler publishes). */
  runHandling<T>(env: Envelope, fn: () => Promise<T>, headers?: HeaderReader): Promise<T>;
  forget(sub: Subscription): void;
}

/** Calls a settle function; a synchronous throw becomes a rejection. */
function settle(fn: () => Promise<void>): Promise<void> {
  try {
    return fn();
  } catch (err) {
    return Promise.reject(err);
  }
}

export function errorText(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return String(err);
}

/** Thrown inside onDelivery's checks; carries the dead-letter reason. */
class Rejected {
  constructor(
    readonly reason: DeadLetterReason,
    readonly detail: string,
  ) {}
}

interface Route {
  handler: EventHandler;
  versions: VersionResolver<unknown>;
}

interface Job {
  d: Delivery;
  env: DecodedEnvelope;
  route: Route;
  key: string | undefined;
}

export class Consumer implements Subscription {
  readonly group: string;
  private readonly routes = new Map<string, Route>();
  private readonly concurrency: number;
  private readonly maxInFlight: number;
  private readonly maxDeliver: number;
  private readonly backoff: BackoffOptions;
  private readonly claimTtlMs: number;
  private readonly deadLetterSubject: string;
  private readonly keyOf: ((e: Envelope) => string | undefined) | undefined;
  private readonly ready: Job[] = [];
  /** Keys with a job running; the array holds the jobs waiting behind it, in arrival order. */
  private readonly keyed = new Map<string, Job[]>();
  private running = 0;
  private readonly settling = new Set<Promise<void>>();
  private ts: TransportSubscription | undefined;
  private stopped = false;
  private closed: Promise<void> | undefined;
  private readonly memDedupe: MemoryDedupeStore | undefined;
  private idle: (() => void) | undefined;
  /** Deliveries whose handler is running: told the broker they are in progress, so a long handler is not redelivered meanwhile. */
  private readonly working = new Set<Delivery>();
  private heartbeat: NodeJS.Timeout | undefined;

  constructor(
    private readonly bus: ConsumerHost,
    private readonly spec: SubscribeSpec,
    private readonly dedupe: DedupeStore | null,
  ) {
    this.group = spec.group;
    if (!/^[A-Za-z0-9_-]+$/.test(spec.group)) throw new Error(`consumer group '${spec.group}' must match [A-Za-z0-9_-]+ (it names a durable consumer)`);
    for (const h of spec.handlers) {
      if (this.routes.has(h.type)) throw new Error(`two handlers for '${h.type}' in group ${spec.group}`);
      this.routes.set(h.type, { handler: h, versions: new VersionResolver(h.type, h.accepts as EventDescriptor<unknown>[]) });
    }
    this.concurrency = Math.max(1, spec.concurrency ?? 1);
    this.maxInFlight = Math.max(this.concurrency, spec.maxInFlight ?? Math.max(4 * this.concurrency, 64));
    // A core (ephemeral) subscription never redelivers: its first failure is its last.
    this.maxDeliver = spec.ephemeral ? 1 : Math.max(1, spec.maxDeliver ?? 5);
    this.backoff = { ...DEFAULT_BACKOFF, ...spec.backoff };
    this.claimTtlMs = spec.claimTtlMs ?? 60_000;
    this.deadLetterSubject = spec.deadLetter?.subject ?? `deadletter.${spec.group}`;
    this.keyOf = spec.orderingKey;
    this.memDedupe = dedupe instanceof MemoryDedupeStore ? dedupe : undefined;
  }

  subjects(): string[] {
    if (this.spec.subjects && this.spec.subjects.length > 0) return [...new Set(this.spec.subjects)];
    const out = new Set<string>();
    for (const r of this.routes.values()) for (const d of r.handler.accepts) out.add(addressOf(d).pattern);
    return [...out];
  }

  async start(): Promise<void> {
    const consumeSpec = {
      group: this.group,
      subjects: this.subjects(),
      maxInFlight: this.maxInFlight,
      ...(this.spec.ackWaitMs !== undefined ? { ackWaitMs: this.spec.ackWaitMs } : {}),
      ...(this.spec.ephemeral ? { ephemeral: true } : {}),
    };
    this.ts = await this.bus.wire.consume(consumeSpec, (d) => this.onDelivery(d));
    // One timer per consumer, not per message: every third of the ack wait, running handlers'
    // deliveries are marked in progress (JetStream +WPI; a no-op where the broker has none).
    const ackWaitMs = this.spec.ackWaitMs ?? 30_000;
    this.heartbeat = setInterval(() => {
      for (const d of this.working) {
        try {
          d.working?.();
        } catch {
          // The connection is gone: the broker redelivers after its ack wait, as it would anyway.
        }
      }
    }, Math.max(50, Math.floor(ackWaitMs / 3)));
    this.heartbeat.unref();
  }

  /**
   * Runs synchronously in arrival order, so per-key order is fixed before anything awaits.
   * Never throws: a throw here would reach the transport's receive loop and take the rest of
   * its batch with it.
   */
  private onDelivery(d: Delivery): void {
    if (this.stopped) {
      this.track(settle(() => d.retry(0)));
      return;
    }
    const seen: { env?: DecodedEnvelope } = {};
    try {
      if (d.malformed) throw new Rejected(d.malformed.reason, d.malformed.detail);
      this.accept(d, seen);
    } catch (err) {
      const r = err instanceof Rejected ? err : err instanceof DecodeError ? new Rejected(err.reason, err.message) : new Rejected('undecodable', `message could not be read: ${errorText(err)}`);
      this.track(this.deadLetter(d, r.reason, r.detail, seen.env));
    }
  }

  /** Decodes and checks a delivery, then queues its job (or settles it here). */
  private accept(d: Delivery, seen: { env?: DecodedEnvelope }): void {
    const limits = this.bus.limits;
    if (d.body.byteLength > limits.maxDecodedBytes) throw new Rejected('too-large', `body is ${d.body.byteLength} bytes, the limit is ${limits.maxDecodedBytes}`);
    const env = decodeMessageSync(d, limits.maxDecodedBytes);
    seen.env = env;
    const route = this.routes.get(env.type);
    if (!route) {
      if (this.spec.unhandled === 'ack') {
        this.track(settle(() => d.ack()));
        return;
      }
      throw new Rejected('unknown-type', `no handler for event type '${env.type}' in group ${this.group} (event ${env.id})`);
    }
    const m = route.versions.resolve(env.version);
    if (!m.ok) throw new Rejected('unknown-version', `${m.detail} (event ${env.id})`);
    if (!withinDepth(env.data, limits.maxDepth)) throw new Rejected('too-large', `event ${env.id} nests deeper than ${limits.maxDepth} levels`);
    const v = m.descriptor.validate(env.data);
    if (!v.ok) throw new Rejected('validation-failed', new EventValidationError(env.id, env.type, env.version, v.errors).message);
    const hc = m.descriptor.headers;
    if (hc) {
      const problem = readContractHeaders(hc, d.headers, env.id);
      if (problem !== undefined) throw new Rejected('headers-invalid', `${env.type}@${env.version} (${env.id}) headers are invalid: ${problem}`);
    }
    (env as { data: unknown }).data = v.value;
    let key: string | undefined;
    try {
      key = this.keyOf ? this.keyOf(env) : env.partitionKey;
    } catch (err) {
      throw new Rejected('handler-failed', `orderingKey() threw: ${errorText(err)}`);
    }
    const job: Job = { d, env, route, key };
    if (key !== undefined) {
      const waiting = this.keyed.get(key);
      if (waiting) {
        waiting.push(job);
        return;
      }
      this.keyed.set(key, []);
    }
    this.ready.push(job);
    this.pump();
  }

  private pump(): void {
    while (this.running < this.concurrency && this.ready.length > 0) {
      const job = this.ready.shift()!;
      this.running++;
      this.run(job);
    }
  }

  /**
   * Runs a job in a slot; when it is done, the next job queued behind its key takes the same
   * slot (per-key order). Promise callbacks rather than an async loop around runJob: one
   * promise less per event.
   */
  private run(job: Job): void {
    const done = (): void => this.finished(job);
    (this.stopped ? this.returnToBroker(job) : this.runJob(job)).then(done, done);
  }

  private finished(job: Job): void {
    const next = job.key !== undefined ? this.nextForKey(job.key) : undefined;
    if (next) {
      this.run(next);
      return;
    }
    this.running--;
    if (this.running === 0 && this.ready.length === 0) this.idle?.();
    this.pump();
  }

  private nextForKey(key: string): Job | undefined {
    const waiting = this.keyed.get(key);
    const next = waiting?.shift();
    if (!next) this.keyed.delete(key);
    return next;
  }

  private async returnToBroker(job: Job): Promise<void> {
    await job.d.retry(0).catch(() => undefined);
  }

  private async runJob(job: Job): Promise<void> {
    const { d, env, route } = job;
    const dedupeKey = `${this.group}/${env.id}`;
    const store = this.dedupe;
    try {
      if (store) {
        const claim = this.memDedupe ? this.memDedupe.claimSync(dedupeKey, this.claimTtlMs) : await store.claim(dedupeKey, this.claimTtlMs);
        if (claim === 'done') {
          this.bus.notify({ kind: 'duplicate', group: this.group, id: env.id, type: env.type });
          await d.ack();
          return;
        }
        if (claim === 'busy') {
          // Someone else is handling it right now: not a failure, so no dead letter, but a
          // wait that grows with the deliveries (a claim can be held for its whole TTL).
          await d.retry(backoffDelay(this.backoff, d.deliveryCount));
          return;
        }
      }
    } catch (err) {
      // The store is unreachable: retry later rather than risk handling twice.
      const delayMs = backoffDelay(this.backoff, d.deliveryCount);
      await d.retry(delayMs).catch(() => undefined);
      this.bus.notify({ kind: 'retry', group: this.group, id: env.id, type: env.type, deliveryCount: d.deliveryCount, delayMs, error: err });
      return;
    }
    const ctx = this.bus.handlerContext(this.group, env, () => d.deliveryCount, d.headers, () => this.params(route, env.subject));
    const onion = this.bus.handleMiddleware;
    let error: unknown;
    let failed = false;
    this.working.add(d);
    try {
      await this.bus.runHandling(
        env,
        () => (onion ? onion({ envelope: env, group: this.group, deliveryCount: d.deliveryCount, headers: d.headers }, () => route.handler.handle(env, ctx)) : route.handler.handle(env, ctx)),
        d.headers,
      );
    } catch (err) {
      failed = true;
      error = err;
    } finally {
      this.working.delete(d);
    }
    // The message is settled whatever the dedupe store does: a store that cannot record the
    // outcome must not leave it unsettled (it would hold its in-flight slot until the broker
    // gave up on it, and the claim would make its redelivery wait for the claim's TTL).
    if (store) {
      try {
        if (!failed) {
          if (this.memDedupe) this.memDedupe.completeSync(dedupeKey);
          else await store.complete(dedupeKey);
        } else await store.release(dedupeKey);
      } catch (err) {
        this.bus.notify({ kind: 'dedupe-failed', group: this.group, id: env.id, type: env.type, operation: failed ? 'release' : 'complete', error: err });
      }
    }
    try {
      if (!failed) {
        await d.ack();
        return;
      }
      if (d.deliveryCount >= this.maxDeliver) {
        await this.deadLetter(d, 'handler-failed', `event ${env.id} failed ${d.deliveryCount} deliveries; last error: ${errorText(error)}`, env);
      } else {
        const delayMs = backoffDelay(this.backoff, d.deliveryCount);
        this.bus.notify({ kind: 'retry', group: this.group, id: env.id, type: env.type, deliveryCount: d.deliveryCount, delayMs, error });
        await d.retry(delayMs);
      }
    } catch {
      // Settling failed (connection lost): the broker redelivers after its ack wait.
    }
  }

  private params(route: Route, subject: string): Record<string, string> {
    for (const d of route.handler.accepts) {
      const p = addressOf(d).extract(subject);
      if (p) return p;
    }
    return {};
  }

  /**
   * Dead-letters a delivery; when that publish fails, the message is left with the broker
   * for a redelivery no sooner than the backoff for its delivery count, and a notice says
   * so (a missing dead-letter stream is then visible, not a silent loop).
   */
  private async deadLetter(d: Delivery, reason: DeadLetterReason, detail: string, env: DecodedEnvelope | undefined): Promise<void> {
    const ids = env ? { id: env.id, type: env.type } : {};
    try {
      await d.deadLetter({ subject: this.deadLetterSubject, reason, detail, group: this.group });
      this.bus.notify({ kind: 'dead-letter', group: this.group, reason, detail, ...ids });
    } catch (error) {
      let count = 1;
      try {
        count = d.deliveryCount;
      } catch {
        // A delivery count the transport cannot read: back off as for a first failure.
      }
      const delayMs = backoffDelay(this.backoff, count);
      this.bus.notify({ kind: 'dead-letter-failed', group: this.group, reason, deliveryCount: count, delayMs, error, ...ids });
      await d.retry(delayMs).catch(() => undefined);
    }
  }

  private track(p: Promise<void>): void {
    const t = p.catch(() => undefined).finally(() => this.settling.delete(t));
    this.settling.add(t);
  }

  close(): Promise<void> {
    if (!this.closed) {
      this.closed = (async () => {
        this.stopped = true;
        await this.ts?.stop();
        // Jobs not started go back to the broker now instead of after the ack wait.
        const pending = this.ready.splice(0);
        for (const w of this.keyed.values()) pending.push(...w.splice(0));
        await Promise.all(pending.map((j) => this.returnToBroker(j)));
        if (this.running > 0) await new Promise<void>((resolve) => (this.idle = resolve));
        await Promise.all(this.settling);
        if (this.heartbeat) clearInterval(this.heartbeat);
        this.bus.forget(this);
      })();
    }
    return this.closed;
  }
}
