/**
 * Consuming: one channel per consume() call with prefetch = maxInFlight, reopened after any
 * loss; each message becomes a Delivery the bus settles. Retries travel through per-bucket
 * delay queues, dead letters to the dead-letter exchange (or a parking queue).
 *
 * Nothing about one message can take the channel down: the delivery is built without
 * throwing (headers it cannot read make it `malformed`), and a hand-off that throws is
 * caught and the message retried with backoff. amqplib closes a channel whose consume
 * callback throws, the broker hands the message out again, and that was a restart loop.
 * Restarts themselves back off while a channel makes no progress (acks nothing).
 */
import { randomUUID } from 'node:crypto';
import type { Channel, ConsumeMessage } from 'amqplib';
import { backoffDelay, DEFAULT_BACKOFF, RECONNECT_BACKOFF, sleep } from '../backoff.js';
import { deadLetterHeaders, fitDeadLetter } from '../dead-letter.js';
import type { ConsumeSpec, DeadLetterInfo, DeadLetterReason, Delivery, DeliveryHandler, HeaderReader, HeaderRecord } from '../types.js';
import { watch, type AmqpConnection } from './connection.js';
import { UnroutableError } from './errors.js';
import { AmqpHeaders, NO_HEADERS, retryProperties, retryTrail, toAmqpProperties } from './headers.js';
import type { Publisher } from './publisher.js';
import { delayBucket, type QueuePlan, type Topology } from './topology.js';
import type { AmqpTransportStats } from './types.js';

/** What a consumer uses of its transport. */
export interface ConsumerHost {
  readonly link: AmqpConnection;
  readonly topo: Topology;
  readonly publisher: Publisher;
  readonly stats: AmqpTransportStats;
  readonly isClosed: boolean;
  maxMessageBytes(): number;
}

/** Body plus headers as name and value text: what a message costs against max_message_size, near enough. */
function approximateSize(headers: HeaderRecord, body: Uint8Array): number {
  let n = body.byteLength;
  for (const k in headers) n += k.length + (headers[k] as string).length + 8;
  return n;
}

/** Publishes a dead letter; parks it in the subject's queue when no reader is bound. */
export async function publishDeadLetter(t: ConsumerHost, info: DeadLetterInfo, original: HeaderRecord, subject: string, body: Uint8Array, deliveryCount: number, id: string): Promise<void> {
  // A copy that would exceed the broker's limit (the reason headers make it larger than the
  // original) goes without its body: it could never be stored otherwise.
  const fitted = fitDeadLetter(deadLetterHeaders(original, subject, info, deliveryCount), body, t.maxMessageBytes(), approximateSize);
  body = fitted.body;
  const props = toAmqpProperties(fitted.headers, id, true);
  props.mandatory = true;
  // Short deadline: if it cannot be stored we would rather leave the message for redelivery.
  try {
    await t.publisher.publish(t.topo.deadLetterExchange, info.subject, body, props, 5000);
  } catch (err) {
    if (!(err instanceof UnroutableError)) throw err;
    const parking = t.topo.deadLetterQueue(info.subject);
    await t.topo.ensureQueue(parking, { durable: true }, Number.POSITIVE_INFINITY);
    await t.publisher.publish('', parking, body, props, 5000);
  }
}

export class AmqpConsumer {
  private ch: Channel | undefined;
  /** Consumer tag → the plan of the queue it reads. */
  private readonly queues = new Map<string, QueuePlan>();
  private stopped = false;
  private restarting = false;
  private unsettled = 0;
  /** Restarts since a channel last made progress (acked a delivery); sets the restart backoff. */
  private churn = 0;
  private readonly noAck: boolean;

  constructor(
    readonly t: ConsumerHost,
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
    const c = await this.t.link.connection();
    const ch = watch(await c.createChannel());
    ch.on('close', () => this.closedChannel(ch));
    try {
      // The in-flight budget is split between the queues (usually one).
      const share = Math.max(1, Math.floor(this.spec.maxInFlight / this.plans.length));
      await ch.prefetch(share);
      for (const p of this.plans) {
        await ch.assertQueue(p.queue, p.options);
        this.t.topo.noteQueue(p.queue);
        for (const b of p.binds) {
          // On a channel of its own, and passively where this account may not declare
          // exchanges (least-privilege permissions): a refusal must not close this channel.
          await this.t.topo.ensureExchange(b.exchange);
          await ch.bindQueue(p.queue, b.exchange.name, b.key);
        }
      }
      this.queues.clear();
      this.ch = ch;
      for (const p of this.plans) {
        // Our own tag, known before the first delivery (which can come before consume() resolves).
        const consumerTag = `ec.${this.spec.group.slice(0, 100)}.${randomUUID()}`;
        this.queues.set(consumerTag, p);
        await ch.consume(p.queue, (m) => this.received(ch, m), { noAck: this.noAck, consumerTag });
      }
    } catch (err) {
      if (this.ch === ch) this.ch = undefined;
      await ch.close().catch(() => undefined);
      throw err;
    }
  }

  /** amqplib's consume callback: must not throw (amqplib would close the channel). */
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
    let d: AmqpDelivery | undefined;
    try {
      d = new AmqpDelivery(this, ch, m, this.queues.get(m.fields.consumerTag));
      this.onDelivery(d);
    } catch (err) {
      this.t.stats.handoffErrors++;
      if (!d) {
        // Not even a delivery could be made of it (a bug of ours): back to the broker, after a while.
        setTimeout(() => this.requeue(ch, m), backoffDelay(DEFAULT_BACKOFF, 1)).unref?.();
        return;
      }
      // The bus threw before it settled: try again later, counted like any retry.
      if (!d.settledAlready) void d.retry(backoffDelay(DEFAULT_BACKOFF, d.deliveryCount)).catch(() => undefined);
    }
  }

  /** Hands a message back to the broker on its channel, if that channel still lives. */
  requeue(ch: Channel, m: ConsumeMessage): void {
    if (this.live(ch)) {
      try {
        ch.nack(m, false, true);
      } catch {
        // The channel died meanwhile: the broker has requeued the message.
      }
    }
    this.settled(ch);
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
      for (let failures = 0; !this.stopped && !this.t.isClosed && !this.ch; failures++) {
        // The first restart after progress is immediate; a channel that keeps dying without
        // acking anything (or a start that keeps failing) waits longer each time.
        const n = this.churn + failures;
        if (n > 0) await sleep(backoffDelay(RECONNECT_BACKOFF, n));
        if (this.stopped || this.t.isClosed || this.ch) break;
        try {
          await this.start();
          this.churn++;
          this.t.stats.consumerRestarts++;
          break;
        } catch {
          // next round, later
        }
      }
      this.restarting = false;
    })();
  }

  /** A delivery was acked on the live channel: the consumer is making progress. */
  progressed(): void {
    this.churn = 0;
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
    this.closing ??= ch
      .close()
      .catch(() => undefined)
      .finally(() => this.drainedResolve?.());
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

/** One delivery; a class because one is made per message. Its constructor never throws. */
class AmqpDelivery implements Delivery {
  readonly subject: string;
  readonly headers: HeaderReader;
  readonly body: Uint8Array;
  readonly deliveryCount: number;
  readonly malformed?: { readonly reason: DeadLetterReason; readonly detail: string };
  private readonly queue: string;
  /** What could be read of the headers (a malformed delivery's dead letter keeps these). */
  private readonly readable: AmqpHeaders | undefined;
  /** The broker's retry trail was read and trusted (it came back through our retry path). */
  private readonly trusted: boolean;
  private done = false;

  constructor(
    private readonly c: AmqpConsumer,
    private readonly ch: Channel,
    private readonly m: ConsumeMessage,
    plan: QueuePlan | undefined,
  ) {
    this.queue = plan?.queue ?? '';
    this.body = m.content;
    // Attempt and subject come from the broker, never from a header a producer can set
    // (see retryTrail). Classic queues count no deliveries; a broker redelivery (connection
    // lost, requeue) adds one.
    let trail;
    try {
      trail = retryTrail(m, this.queue, c.t.topo.retryExchange.name);
    } catch {
      trail = undefined;
    }
    this.trusted = trail !== undefined;
    this.subject = trail?.subject ?? plan?.parkedSubject ?? m.fields.routingKey;
    this.deliveryCount = 1 + (trail?.retries ?? 0) + (m.fields.redelivered ? 1 : 0);
    let headers: AmqpHeaders | undefined;
    let problem: string | undefined;
    try {
      headers = new AmqpHeaders(m.properties);
      problem = headers.problem;
    } catch (err) {
      problem = `headers could not be read: ${String(err).slice(0, 300)}`;
    }
    this.readable = headers;
    if (problem !== undefined || !headers) {
      this.headers = NO_HEADERS;
      this.malformed = { reason: 'headers-invalid', detail: problem ?? 'headers could not be read' };
    } else this.headers = headers;
  }

  get settledAlready(): boolean {
    return this.done;
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
        if (op === 'ack') this.c.progressed();
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
      // Through a delay queue even without a delay (bucket 0 expires on arrival): that is
      // what makes the broker record the attempt and the subject.
      const target = await t.topo.delayQueue(this.queue, delayBucket(delayMs));
      await t.publisher.publish(t.topo.retryExchange, this.subject, this.m.content, retryProperties(this.m.properties, target, this.trusted), 5000);
      this.finish('ack');
    } catch {
      // Not republished: hand it back as it is, but not before the delay asked for (an
      // immediate requeue would loop as fast as the broker redelivers).
      t.stats.retryFallbacks++;
      setTimeout(() => this.finish('requeue'), Math.max(delayMs, RECONNECT_BACKOFF.initialMs)).unref?.();
    }
  }

  async deadLetter(info: DeadLetterInfo): Promise<void> {
    if (this.done) return;
    // The broker has requeued it with its dead channel; it is dead-lettered on redelivery.
    if (!this.c.live(this.ch)) throw new Error('the delivery channel was lost; the broker redelivers the message');
    const original = this.readable?.record() ?? {};
    const id = `dl:${this.queue}:${this.readable?.get('ce-id') ?? String(this.m.properties.messageId ?? this.m.fields.deliveryTag)}`;
    // Rejects (leaving the message unsettled, so the bus retries it) when it cannot be stored.
    await publishDeadLetter(this.c.t, info, original, this.subject, this.m.content, this.deliveryCount, id);
    this.settle('ack');
  }
}
