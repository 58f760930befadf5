/**
 * RabbitMQ (AMQP 0-9-1) transport over amqplib: the Transport the bus drives, made of a
 * connection (connection.ts), declarations (topology.ts), a confirming publisher
 * (publisher.ts), consumers (consumer.ts) and request/reply (rpc.ts).
 *
 * Topology (names with the defaults; every name is configurable):
 * - events on the durable topic exchange `events`, routing key = subject; per-subject
 *   overrides (AsyncAPI `amqp` channel/operation bindings) pick another exchange or queue;
 * - one durable queue per consumer group, named after the group, bound to the group's
 *   subject patterns (`*` stays `*`, a trailing `>` becomes `#`);
 * - retries: the message is republished to the headers exchange `events.retry` with its
 *   subject as routing key, routed to `<queue>.retry.<ms>`, a delay queue per delay bucket
 *   whose `x-message-ttl` dead-letters it back into the group's queue through the default
 *   exchange. RabbitMQ records each trip in the message's `x-death`, which is where the
 *   attempt count and the subject of a retried message come from (headers.ts, retryTrail).
 *   Every message of a bucket waits the same time, so expiry at the head never blocks a
 *   shorter delay behind a longer one, and the group's queue keeps flowing meanwhile;
 * - dead letters: the original body and headers plus the reason (deadLetterHeaders, as over
 *   NATS) are published to the topic exchange `events.dlx` with the dead-letter subject as
 *   routing key (`deadletter.<group>` by default). A reader group gets its own queue
 *   `<group>.deadletters` bound there; a dead letter nobody is bound for is parked in the
 *   durable queue named after the subject, which readers of that subject drain as well;
 * - request/reply: requests on the topic exchange `events.rpc`, answered through direct
 *   reply-to (rpc.ts).
 *
 * Publishes use a confirm channel, persistent messages and the mandatory flag (an event no
 * queue is bound for is an error, not a silent drop, unless `unroutable: 'drop'`). amqplib
 * does not reconnect, so this transport does: with backoff it reopens the connection and
 * channels, redeclares its consumers and responders, and retries publishes that were in
 * flight with the same message id; given several URLs (a cluster's nodes) it moves to the
 * next reachable one. The bus's middleware hears of each loss and reconnect (onNotice).
 * RabbitMQ does not deduplicate, so a retried publish can be stored twice: the bus's dedupe
 * store absorbs the copy. Whatever the broker's permissions refuse fails with
 * PermissionDeniedError, at once.
 */
import type { Channel, ChannelModel } from 'amqplib';
import { sleep } from '../backoff.js';
import { BusClosedError } from '../errors.js';
import type {
  ConsumeSpec,
  DeliveryHandler,
  InboundMessage,
  OutboundMessage,
  RequestHandler,
  ServeSpec,
  Transport,
  TransportNotice,
  TransportReceipt,
  TransportSubscription,
} from '../types.js';
import { AmqpConnection } from './connection.js';
import { AmqpConsumer, type ConsumerHost } from './consumer.js';
import { typedRefusal } from './errors.js';
import { toAmqpProperties } from './headers.js';
import { Publisher } from './publisher.js';
import { AmqpServer, responderQueue, RpcClient, type RpcHost } from './rpc.js';
import { Topology } from './topology.js';
import { DEFAULT_AMQP_URL, type AmqpExchangeSpec, type AmqpTopology, type AmqpTransportOptions, type AmqpTransportStats } from './types.js';

export class AmqpTransport implements Transport, ConsumerHost, RpcHost {
  readonly name = 'amqp';
  readonly link: AmqpConnection;
  readonly topo: Topology;
  readonly publisher: Publisher;
  private readonly counters = { consumerRestarts: 0, retryFallbacks: 0, handoffErrors: 0 };
  /** Live counters (read them; the transport updates them). */
  readonly stats: AmqpTransportStats;

  private readonly consumers = new Set<AmqpConsumer>();
  /** Stopped consumers whose channel is still open for the bus's last acks. */
  private readonly draining = new Set<AmqpConsumer>();
  private readonly servers = new Set<AmqpServer>();
  private rpc: RpcClient | undefined;

  private inflight = 0;
  private idle: (() => void) | undefined;
  private closing: Promise<void> | undefined;
  private readonly noticeListeners: Array<(n: TransportNotice) => void> = [];

  private constructor(private readonly o: AmqpTransportOptions) {
    this.link = new AmqpConnection(o);
    this.topo = new Topology(this.link, o);
    this.publisher = new Publisher(this.link, this.topo, () => this.isClosed);
    const link = this.link;
    const publisher = this.publisher;
    const counters = this.counters;
    this.stats = {
      get publishRetries() {
        return publisher.retries;
      },
      get reconnects() {
        return link.reconnects;
      },
      get consumerRestarts() {
        return counters.consumerRestarts;
      },
      set consumerRestarts(n: number) {
        counters.consumerRestarts = n;
      },
      get retryFallbacks() {
        return counters.retryFallbacks;
      },
      set retryFallbacks(n: number) {
        counters.retryFallbacks = n;
      },
      get handoffErrors() {
        return counters.handoffErrors;
      },
      set handoffErrors(n: number) {
        counters.handoffErrors = n;
      },
    } as AmqpTransportStats;
    this.link.onLost((reconnect) => {
      this.publisher.lost();
      this.topo.reset();
      this.rpc?.lost();
      this.rpc = undefined;
      if (!reconnect) return;
      // Consumers and responders come back by themselves once there is a connection again.
      void this.link
        .connection()
        .then(() => {
          for (const s of this.consumers) s.restart();
          for (const s of this.servers) s.restart();
        })
        .catch(() => undefined);
    });
    this.link.onChange((c) => this.notice({ kind: 'connection', transport: 'amqp', state: c.state, server: c.server }));
  }

  /** The connection lost (the transport reconnects with backoff) and reopened, with the server (`host:port`). */
  onNotice(listener: (notice: TransportNotice) => void): void {
    this.noticeListeners.push(listener);
  }

  private notice(n: TransportNotice): void {
    for (const fn of this.noticeListeners) {
      try {
        fn(n);
      } catch {
        // An observer must never break the transport.
      }
    }
  }

  /** Connects (failing fast if the broker cannot be reached) and returns the transport. */
  static async connect(options: AmqpTransportOptions = {}): Promise<AmqpTransport> {
    const t = new AmqpTransport(options);
    await t.link.open();
    return t;
  }

  get exchange(): AmqpExchangeSpec {
    return this.topo.exchange;
  }

  get deadLetterExchange(): AmqpExchangeSpec {
    return this.topo.deadLetterExchange;
  }

  get rpcExchange(): AmqpExchangeSpec {
    return this.topo.rpcExchange;
  }

  get retryExchange(): AmqpExchangeSpec {
    return this.topo.retryExchange;
  }

  maxMessageBytes(): number {
    return this.o.maxMessageBytes ?? 16 * 1024 * 1024;
  }

  /** Exchanges and queues this transport declared (delay queues included). */
  topology(): AmqpTopology {
    return this.topo.topology();
  }

  get isClosed(): boolean {
    return this.link.isClosed;
  }

  /** The open connection, or the next one. */
  connection(): Promise<ChannelModel> {
    return this.link.connection();
  }

  /** Runs declarations on a short-lived channel of the current connection. */
  withChannel<T>(fn: (ch: Channel) => Promise<T>): Promise<T> {
    return this.link.withChannel(fn);
  }

  private assertOpen(): void {
    if (this.isClosed || this.closing) throw new BusClosedError();
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
    await this.track(this.publisher.publish(this.topo.exchangeFor(m.subject), m.subject, m.body, props, this.o.publishDeadlineMs ?? 60_000));
    // RabbitMQ stores every copy: there is no broker-side duplicate detection to report.
    return { duplicate: false };
  }

  async publishTransient(m: OutboundMessage): Promise<void> {
    this.assertOpen();
    this.checkSize(m);
    await this.publisher.publishTransient(this.topo.exchangeFor(m.subject), m.subject, m.body, toAmqpProperties(m.headers, m.id, false));
  }

  async consume(spec: ConsumeSpec, onDelivery: DeliveryHandler): Promise<TransportSubscription> {
    this.assertOpen();
    const c = new AmqpConsumer(this, spec, this.topo.plans(spec), onDelivery);
    try {
      await c.start();
    } catch (err) {
      throw typedRefusal(err, 'subscribe', spec.subjects.join(', '));
    }
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

  async request(m: OutboundMessage, timeoutMs: number): Promise<InboundMessage> {
    this.assertOpen();
    this.checkSize(m);
    const rpc = (this.rpc ??= new RpcClient(this));
    return rpc.request(m, timeoutMs);
  }

  async serve(spec: ServeSpec, handler: RequestHandler): Promise<TransportSubscription> {
    this.assertOpen();
    const queue = spec.group ? responderQueue(this.topo.prefix, spec.group, spec.subject) : '';
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
      this.link.quiescing = true;
      await this.publisher.close();
      this.rpc?.lost();
      await this.link.close();
    })();
    return this.closing;
  }
}

/**
 * Connects a transport: `connectAmqp('amqp://guest:guest@127.0.0.1:5672')`, or a cluster's
 * nodes as a list, or with options (exchange, per-subject bindings, ...). Shorthand for
 * AmqpTransport.connect.
 */
export function connectAmqp(url: string | readonly string[] = DEFAULT_AMQP_URL, options: Omit<AmqpTransportOptions, 'url'> = {}): Promise<AmqpTransport> {
  return AmqpTransport.connect({ ...options, url });
}
