/**
 * KafkaTransport: the broker-neutral runtime over Apache Kafka, with @platformatic/kafka
 * (pure JavaScript). Subjects stay the addressing scheme: the topology (plan.ts) says which
 * topic carries which subjects, the concrete subject travels in the record's `ec-subject`
 * header and the record key is the event's ordering key (CloudEvents `partitionkey`), else
 * its subject, so per-key order is Kafka's per-partition order.
 *
 * Publishes go through one idempotent acks=all producer (producer.ts). Consumers are group
 * members committing only settled records, in order (consumer.ts). Request/reply uses a
 * reply topic per instance (rpc.ts). Kafka keeps every copy of a republished id: the bus's
 * dedupe store is what makes a duplicate handled once (brokerDedupe is false).
 *
 * Reconnects are the client's: every client retries its requests and picks another broker
 * of the bootstrap list or of the cluster's metadata when one goes away; the transport
 * reports the connection changes through onNotice.
 */
import { randomUUID } from 'node:crypto';
import { Admin, Consumer, ConfigResourceTypes, type BaseOptions } from '@platformatic/kafka';
import { guardConnectionPool } from './internals.js';
import { BusClosedError, TlsHandshakeError } from '../errors.js';
import { tlsAdvice } from '../security/secrets.js';
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
import { KafkaGroupConsumer, type RawConsumer } from './consumer.js';
import { outboundBytes, toKafkaHeaders } from './headers.js';
import { bootstrapList, DEFAULT_INTERNAL_PREFIX, TopicRouter } from './names.js';

export { bootstrapList };
import { KafkaPublisher } from './producer.js';
import { KafkaRequester, KafkaResponder, type RpcHost } from './rpc.js';
import { classifyKafkaConnectError, kafkaConnectionOptions, kafkaPermissionDenied, probeKafkaLogin, probeKafkaTls } from './security.js';
import type { KafkaTransportOptions, KafkaTransportStats } from './types.js';

// A consumer whose group coordinator left the cluster must fail its commit, not the process.
guardConnectionPool();

/** Kafka's default `message.max.bytes` (1 MiB plus the batch header it allows for). */
const KAFKA_DEFAULT_MAX_MESSAGE = 1_048_588;


/** The ordering key of a message: its `partitionkey`, else its subject. */
export function recordKey(m: OutboundMessage): string {
  return m.headers['ce-partitionkey'] ?? m.subject;
}

interface EventfulClient {
  on(event: string, listener: (...args: unknown[]) => void): unknown;
}

/** Kafka's `fetch.max.bytes` for the transport's consumers (see KafkaTransportOptions.fetchMaxBytes). */
const DEFAULT_FETCH_MAX_BYTES = 1024 * 1024;

export class KafkaTransport implements Transport, RpcHost {
  readonly name = 'kafka';
  readonly router: TopicRouter;
  readonly internalPrefix: string;
  readonly instanceId = randomUUID();
  readonly publisher: KafkaPublisher;
  readonly stats: KafkaTransportStats = { skipped: 0, retries: 0, commitFailures: 0, handoffErrors: 0 };
  readonly authenticated: boolean;
  private readonly base: BaseOptions;
  private readonly admin: Admin;
  private limit: number | undefined;
  private replication = 1;
  private readonly consumers = new Set<KafkaGroupConsumer>();
  private readonly draining = new Set<KafkaGroupConsumer>();
  private readonly responders = new Set<KafkaResponder>();
  private requester: KafkaRequester | undefined;
  private readonly listeners: Array<(n: TransportNotice) => void> = [];
  /** Brokers with a connection lost and not yet back (`host:port`). */
  private readonly lost = new Set<string>();
  /** Lost brokers already reported as 'reconnecting'. */
  private readonly retrying = new Set<string>();
  /** Topics known to exist (created by us or found). */
  private readonly known = new Set<string>();
  private closing: Promise<void> | undefined;
  private inflight = 0;
  private idle: (() => void) | undefined;

  private constructor(private readonly o: KafkaTransportOptions) {
    this.router = new TopicRouter(o.topology);
    this.internalPrefix = o.internalTopicPrefix ?? DEFAULT_INTERNAL_PREFIX;
    this.authenticated = o.security?.sasl !== undefined || o.security?.tls?.cert !== undefined;
    this.base = {
      clientId: o.clientId ?? 'event-contracts',
      bootstrapBrokers: bootstrapList(o.bootstrap),
      ...kafkaConnectionOptions(o.security),
      // Enough to ride out a broker's failover (a new leader is elected within seconds).
      retries: 10,
      retryDelay: 500,
      connectTimeout: 5000,
    };
    this.admin = new Admin(this.base);
    this.watch(this.admin);
    this.publisher = KafkaPublisher.create({ ...this.base, timeout: 10_000 }, o.publishTimeoutMs ?? 30_000, () => this.recovered(undefined, 'a publish was acknowledged'));
    this.watch(this.publisher.producer);
  }

  /** Connects (failing fast if no broker can be reached), reads the size limit and returns the transport. */
  static async connect(options: KafkaTransportOptions): Promise<KafkaTransport> {
    const brokers = bootstrapList(options.bootstrap);
    // A broker that refuses this connection's TLS (or wants TLS it does not have) is known at
    // once, not after a minute of the client's retries ending in "Connection closed".
    const refused = await probeKafkaTls(brokers[0]!, options.security?.tls);
    if (refused) throw new TlsHandshakeError('kafka', brokers[0]!, refused, tlsAdvice(refused));
    if (options.security?.sasl) await probeKafkaLogin(brokers, options.security);
    const t = new KafkaTransport(options);
    try {
      await t.open();
    } catch (err) {
      await t.close().catch(() => undefined);
      throw classifyKafkaConnectError(err, bootstrapList(options.bootstrap).join(','), options.security);
    }
    return t;
  }

  private async open(): Promise<void> {
    const md = await this.admin.metadata({ topics: [] });
    this.replication = this.o.internalReplicationFactor ?? Math.min(3, md.brokers.size);
    if (this.o.maxMessageBytes !== undefined) {
      this.limit = this.o.maxMessageBytes;
      return;
    }
    // The broker's limit, and each routed topic's own (a topic may lower or raise it).
    let limit = KAFKA_DEFAULT_MAX_MESSAGE;
    const resources = [{ resourceType: ConfigResourceTypes.BROKER, resourceName: String(md.brokers.keys().next().value ?? 1), configurationKeys: ['message.max.bytes'] }];
    const broker = await this.admin.describeConfigs({ resources }).catch(() => []);
    for (const r of broker) for (const c of r.configs) if (c.name === 'message.max.bytes' && c.value) limit = Number(c.value);
    const topics = this.router.topics.map((t) => ({ resourceType: ConfigResourceTypes.TOPIC, resourceName: t.name, configurationKeys: ['max.message.bytes'] }));
    if (topics.length > 0) {
      const described = await this.admin.describeConfigs({ resources: topics }).catch(() => []);
      for (const r of described) for (const c of r.configs) if (c.name === 'max.message.bytes' && c.value && Number(c.value) > 0) limit = Math.min(limit, Number(c.value));
    }
    this.limit = limit;
  }

  maxMessageBytes(): number {
    return this.limit ?? this.o.maxMessageBytes ?? KAFKA_DEFAULT_MAX_MESSAGE;
  }

  /** A record's size as the broker counts it: key, value, headers as this transport writes them, framing. */
  messageBytes(m: OutboundMessage): number {
    return outboundBytes(m.headers, m.subject, m.body, recordKey(m));
  }

  get isClosed(): boolean {
    return this.closing !== undefined;
  }

  onNotice(listener: (notice: TransportNotice) => void): void {
    this.listeners.push(listener);
  }

  notify(n: TransportNotice): void {
    for (const l of this.listeners) {
      try {
        l(n);
      } catch {
        // a listener's failure is its own
      }
    }
  }

  /** Reports a client's broker connections: lost, retried, back. */
  private watch(client: EventfulClient): void {
    const server = (p: unknown): string | undefined => {
      const b = (p as { broker?: { host?: string; port?: number } } | undefined)?.broker;
      return b?.host !== undefined ? `${b.host}:${b.port}` : undefined;
    };
    client.on('client:broker:disconnect', (p: unknown) => {
      const s = server(p);
      if (this.isClosed || s === undefined || this.lost.has(s)) return;
      this.lost.add(s);
      this.notify({ kind: 'connection', transport: 'kafka', state: 'disconnected', server: s });
    });
    client.on('client:broker:failed', (p: unknown) => {
      const s = server(p);
      // Once per lost broker, not per attempt: every client of the transport retries every
      // few hundred milliseconds while a broker is down (hundreds of notices a minute).
      if (this.isClosed || s === undefined || this.retrying.has(s)) return;
      this.retrying.add(s);
      this.notify({ kind: 'connection', transport: 'kafka', state: 'reconnecting', server: s, detail: 'connecting failed; the client retries, on another broker when there is one' });
    });
    client.on('client:broker:connect', (p: unknown) => {
      const s = server(p);
      if (s !== undefined) this.retrying.delete(s);
      if (s !== undefined) this.recovered(s, 'connected');
    });
  }

  /**
   * The cluster serves us again after a loss: a connection was made, or a publish was
   * acknowledged or a record fetched (a client already connected to the broker that took
   * over makes no new connection). Reported once per loss.
   */
  recovered(server: string | undefined, how: string): void {
    if (this.lost.size === 0 || this.isClosed) return;
    this.lost.clear();
    this.retrying.clear();
    this.notify({ kind: 'connection', transport: 'kafka', state: 'reconnected', ...(server !== undefined ? { server } : {}), detail: how });
  }

  newConsumer(groupId: string): RawConsumer {
    const c = new Consumer<Buffer, Buffer, Buffer, Buffer>({
      ...this.base,
      groupId,
      sessionTimeout: this.o.sessionTimeoutMs ?? 10_000,
      heartbeatInterval: this.o.heartbeatIntervalMs ?? 500,
      rebalanceTimeout: Math.max(15_000, this.o.sessionTimeoutMs ?? 10_000),
      maxBytes: this.o.fetchMaxBytes ?? DEFAULT_FETCH_MAX_BYTES,
    });
    this.watch(c);
    return c;
  }

  async ensureTopics(names: readonly string[], partitions: number): Promise<void> {
    const missing = names.filter((n) => !this.known.has(n));
    if (missing.length === 0) return;
    const existing = new Set(await this.admin.listTopics());
    const create = missing.filter((n) => !existing.has(n));
    if (create.length > 0) {
      try {
        await this.admin.createTopics({ topics: create, partitions, replicas: this.replication });
      } catch (err) {
        // Created meanwhile by another instance of the group: fine.
        if (!/TOPIC_ALREADY_EXISTS|already exists/i.test(JSON.stringify((err as { errors?: unknown }).errors ?? '') + String(err))) throw err;
      }
    }
    for (const n of missing) this.known.add(n);
  }

  async deleteOwn(topic: string, group: string): Promise<void> {
    await this.admin.deleteGroups({ groups: [group] }).catch(() => undefined);
    await this.admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
  }

  private assertOpen(): void {
    if (this.closing) throw new BusClosedError();
  }

  private checkSize(m: OutboundMessage): void {
    const n = this.messageBytes(m);
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
    const topic = this.router.route(m.subject);
    this.checkSize(m);
    try {
      await this.track(this.publisher.send({ topic, key: recordKey(m), headers: toKafkaHeaders(m.headers, m.subject), value: m.body }));
    } catch (err) {
      throw kafkaPermissionDenied(err, 'publish', m.subject) ?? err;
    }
    // Kafka stores every copy of an id: there is no broker-side duplicate detection to report.
    return { stream: topic, duplicate: false };
  }

  /** Kafka has no fire-and-forget that is worth having: a transient publish is a durable one. */
  async publishTransient(m: OutboundMessage): Promise<void> {
    await this.publish(m);
  }

  async consume(spec: ConsumeSpec, onDelivery: DeliveryHandler): Promise<TransportSubscription> {
    this.assertOpen();
    const c = new KafkaGroupConsumer(this, spec, onDelivery);
    try {
      await c.start();
    } catch (err) {
      throw kafkaPermissionDenied(err, 'subscribe', spec.subjects.join(', ')) ?? err;
    }
    this.consumers.add(c);
    return {
      stop: async () => {
        if (!this.consumers.delete(c)) return;
        this.draining.add(c);
        void c.drained.then(() => this.draining.delete(c));
        await c.stop();
      },
    };
  }

  async request(m: OutboundMessage, timeoutMs: number): Promise<InboundMessage> {
    this.assertOpen();
    this.checkSize(m);
    const r = (this.requester ??= new KafkaRequester(this));
    try {
      return await r.request(m, timeoutMs);
    } catch (err) {
      throw kafkaPermissionDenied(err, 'request', m.subject) ?? err;
    }
  }

  async serve(spec: ServeSpec, handler: RequestHandler): Promise<TransportSubscription> {
    this.assertOpen();
    const s = new KafkaResponder(this, spec, handler);
    try {
      await s.start();
    } catch (err) {
      throw kafkaPermissionDenied(err, 'respond', spec.subject) ?? err;
    }
    this.responders.add(s);
    return {
      stop: async () => {
        this.responders.delete(s);
        await s.stop();
      },
    };
  }

  /** Stops consumers and responders, waits for their last commits and the publishes in flight, then disconnects. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      for (const c of this.consumers) this.draining.add(c);
      await Promise.allSettled([...this.consumers].map((c) => c.stop()));
      await Promise.allSettled([...this.responders].map((s) => s.stop()));
      this.consumers.clear();
      this.responders.clear();
      if (this.inflight > 0) await new Promise<void>((r) => (this.idle = r));
      // Deliveries the caller never settled must not hold the close forever: they were not
      // committed, so the group reads them again.
      const draining = [...this.draining];
      await Promise.race([Promise.all(draining.map((c) => c.drained)), new Promise((r) => setTimeout(r, 5000).unref?.())]);
      await Promise.allSettled(draining.map((c) => c.finish()));
      await this.requester?.close().catch(() => undefined);
      await this.publisher.close();
      await this.admin.close().catch(() => undefined);
    })();
    return this.closing;
  }
}

/** Connects a transport: `connectKafka('127.0.0.1:9092', { topology })`. Shorthand for KafkaTransport.connect. */
export function connectKafka(bootstrap: string | readonly string[], options: Omit<KafkaTransportOptions, 'bootstrap'>): Promise<KafkaTransport> {
  return KafkaTransport.connect({ ...options, bootstrap });
}
