/**
 * Declarations: which exchange a subject is published to, which queues (and bindings) a
 * consumer group reads, the delay queues of retries and the parking queues of dead letters,
 * each asserted once per connection; and provisionAmqp, which applies a whole plan.
 */
import amqp, { type Channel, type ChannelModel, type Options } from 'amqplib';
import { subjectMatches } from '../address.js';
import type { ConsumeSpec } from '../types.js';
import { watch, type AmqpConnection } from './connection.js';
import { REPLY, replyCodeOf } from './errors.js';
import { bindingKey, RETRY_QUEUE_HEADER } from './headers.js';
import type {
  AmqpExchangeSpec,
  AmqpProvisionPlan,
  AmqpProvisionResult,
  AmqpQueueSpec,
  AmqpSubjectBinding,
  AmqpTopology,
  AmqpTransportOptions,
} from './types.js';

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

export function exchangeOptions(e: AmqpExchangeSpec): Options.AssertExchange {
  return { durable: e.durable ?? true, autoDelete: e.autoDelete ?? false };
}

export function queueOptions(q: AmqpQueueSpec): Options.AssertQueue {
  return { durable: q.durable ?? true, exclusive: q.exclusive ?? false, autoDelete: q.autoDelete ?? false };
}

/** One queue a consumer reads, how to declare it and what to bind it to. */
export interface QueuePlan {
  queue: string;
  options: Options.AssertQueue;
  binds: Array<{ exchange: AmqpExchangeSpec; key: string }>;
  /** A dead-letter parking queue: what it holds was all sent to this subject. */
  parkedSubject?: string;
}

export class Topology {
  readonly exchange: AmqpExchangeSpec;
  readonly deadLetterExchange: AmqpExchangeSpec;
  readonly rpcExchange: AmqpExchangeSpec;
  readonly retryExchange: AmqpExchangeSpec;
  readonly prefix: string;
  private readonly dlPatterns: string[];
  private readonly overrides: Array<[string, AmqpSubjectBinding]>;
  private readonly routeCache = new Map<string, AmqpExchangeSpec>();
  /** Exchanges asserted on the current connection. */
  private ready = new Set<string>();
  private readonly asserting = new Map<string, Promise<void>>();
  /** Delay / parking queues declared on the current connection, and when. */
  private readonly declaredAt = new Map<string, number>();
  private readonly names = { exchanges: new Set<string>(), queues: new Set<string>() };

  constructor(
    private readonly link: AmqpConnection,
    private readonly o: AmqpTransportOptions,
  ) {
    const name = o.exchange ?? 'events';
    this.exchange = { name, type: 'topic', durable: true };
    this.deadLetterExchange = { name: o.deadLetterExchange ?? `${name}.dlx`, type: 'topic', durable: true };
    this.rpcExchange = { name: o.rpcExchange ?? `${name}.rpc`, type: 'topic', durable: true };
    this.retryExchange = { name: o.retryExchange ?? `${name}.retry`, type: 'headers', durable: true };
    this.prefix = o.queuePrefix ?? '';
    this.dlPatterns = o.deadLetterSubjects ?? ['deadletter.>'];
    this.overrides = Object.entries(o.bindings ?? {});
  }

  /** Forget what was declared: the next connection declares it again. */
  reset(): void {
    this.ready = new Set();
    this.asserting.clear();
    this.declaredAt.clear();
  }

  /** Exchanges and queues this transport declared (delay queues included). */
  topology(): AmqpTopology {
    return { exchanges: [...this.names.exchanges], queues: [...this.names.queues] };
  }

  noteQueue(name: string): void {
    this.names.queues.add(name);
  }

  noteExchange(name: string): void {
    this.names.exchanges.add(name);
  }

  isReady(exchange: string): boolean {
    return this.ready.has(exchange);
  }

  /**
   * Asserts an exchange once per connection, on a throwaway channel (a 406 must not kill the
   * publish channel). A user without configure permission (403) may still use an exchange
   * an operator declared: then a passive check is enough.
   */
  async ensureExchange(e: AmqpExchangeSpec): Promise<void> {
    if (this.ready.has(e.name)) return;
    let p = this.asserting.get(e.name);
    if (!p) {
      const ready = this.ready;
      p = this.link
        .withChannel((ch) => ch.assertExchange(e.name, e.type ?? 'topic', exchangeOptions(e)))
        .catch(async (err: unknown) => {
          if (replyCodeOf(err) !== REPLY.ACCESS_REFUSED) throw err;
          await this.link.withChannel((ch) => ch.checkExchange(e.name)).catch(() => Promise.reject(err));
        })
        .then(() => {
          ready.add(e.name);
          this.names.exchanges.add(e.name);
        })
        .finally(() => this.asserting.delete(e.name));
      this.asserting.set(e.name, p);
    }
    await p;
  }

  /** Declares a queue used for republishing (delay / parking), again once it may be near its x-expires. */
  async ensureQueue(name: string, options: Options.AssertQueue, refreshMs: number, bind?: (ch: Channel) => Promise<unknown>): Promise<void> {
    const at = this.declaredAt.get(name);
    if (at !== undefined && Date.now() - at < refreshMs) return;
    await this.link.withChannel(async (ch) => {
      await ch.assertQueue(name, options);
      if (bind) await bind(ch);
    });
    this.declaredAt.set(name, Date.now());
    this.names.queues.add(name);
  }

  /**
   * The delay queue of `queue` for `bucketMs` (0: expires at once), declared with its TTL and
   * its way back, and bound to the retry exchange by its name.
   */
  async delayQueue(queue: string, bucketMs: number): Promise<string> {
    const name = `${queue}.retry.${bucketMs}`;
    const idle = this.o.delayQueueIdleMs ?? 600_000;
    await this.ensureExchange(this.retryExchange);
    // x-expires deletes an idle delay queue (a removed group's); it counts from the last
    // declaration, so it is redeclared well before a message in it could outlive the queue.
    // A TTL of 0 dead-letters a message on arrival (the queue never has a consumer).
    await this.ensureQueue(
      name,
      { durable: true, arguments: { 'x-message-ttl': bucketMs, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': queue, 'x-expires': bucketMs + idle } },
      Math.min(60_000, idle / 2),
      (ch) => ch.bindQueue(name, this.retryExchange.name, '', { 'x-match': 'all', [RETRY_QUEUE_HEADER]: name }),
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
  plans(spec: ConsumeSpec): QueuePlan[] {
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
      for (const s of dead) if (!/[*>]/.test(s)) plans.push({ queue: this.deadLetterQueue(s), options: { durable: true }, binds: [], parkedSubject: s });
    }
    return plans;
  }
}

// ---------------------------------------------------------------------------------------
// Provisioning: exchanges, queues and bindings from a plain description, idempotently.
// ---------------------------------------------------------------------------------------

/** Does `check` find the entity? A 404 closes the channel, so every check gets its own. */
async function exists(c: ChannelModel, check: (ch: Channel) => Promise<unknown>): Promise<boolean> {
  const ch = watch(await c.createChannel());
  try {
    await check(ch);
    return true;
  } catch (err) {
    if (replyCodeOf(err) === REPLY.NOT_FOUND) return false;
    throw err;
  } finally {
    await ch.close().catch(() => undefined);
  }
}

/** Anything that can hand out its connection (an AmqpTransport). */
export interface HasConnection {
  connection(): Promise<ChannelModel>;
}

/**
 * Declare exchanges, queues and bindings. Safe to run at every start-up: what exists as
 * described is 'unchanged'; what exists differently makes the broker refuse (406), which is
 * reported as an error naming the entity rather than changed behind the owner's back.
 */
export async function provisionAmqp(target: ChannelModel | HasConnection | string, plan: AmqpProvisionPlan): Promise<AmqpProvisionResult> {
  let c: ChannelModel;
  let own = false;
  if (typeof target === 'string') {
    c = await amqp.connect(target);
    c.on('error', () => undefined);
    own = true;
  } else if ('connection' in target && typeof target.connection === 'function') c = await target.connection();
  else c = target as ChannelModel;
  const result: AmqpProvisionResult = { exchanges: [], queues: [], bindings: [] };
  const ch = watch(await c.createChannel());
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
