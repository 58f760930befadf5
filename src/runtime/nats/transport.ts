/**
 * NATS transport: core NATS for transient publishes, ephemeral queue subscriptions and
 * request/reply; JetStream for durable publishes (awaiting the ack, `Nats-Msg-Id` = event
 * id, retried with the same id across connection loss) and durable pull consumers with
 * explicit acks, nak-with-delay retries and dead-letter republishing.
 *
 * This file puts the parts together: connection.ts (connecting, the status watcher),
 * publisher.ts, consumer.ts, request-reply.ts; provisioning is in provision.ts.
 * Written for nats-server 2.9: one filter subject per consumer (see names.ts durableName).
 */
import type { NatsConnection, NodeConnectionOptions } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { deadLetterHeaders, fitDeadLetter } from '../dead-letter.js';
import { EventIdCollisionError } from '../errors.js';
import type {
  ConsumeSpec,
  DeadLetterInfo,
  DeliveryHandler,
  HeaderRecord,
  InboundMessage,
  OutboundMessage,
  RequestHandler,
  ServeSpec,
  Transport,
  TransportNotice,
  TransportReceipt,
  TransportSubscription,
} from '../types.js';
import { ConnectionEvents, connectNatsClient, permissionDenied, serverList } from './connection.js';
import { AckBatcher, consumeCore, consumeDurable, type ConsumerHost } from './consumer.js';
import { toNatsHeaders } from './headers.js';
import { CorePublisher, DurablePublisher, JetStreamAcks } from './publisher.js';
import { request, serve } from './request-reply.js';
import { classifyNatsConnectError, natsSecurityOptions, type NatsSecurityOptions } from './security.js';

export interface NatsTransportOptions {
  /** An open connection to reuse; the transport then does not close it. */
  connection?: NatsConnection;
  /**
   * Otherwise connect with these options (reconnects forever and `noAsyncTraces` by
   * default). `servers` lists a cluster's servers (an array, or one string of
   * comma-separated URLs): the first reachable one is used, and after a loss the client
   * moves to any other, the servers the cluster announces included.
   */
  connect?: NodeConnectionOptions;
  /** Per-attempt JetStream publish ack timeout. Default 5000 ms. */
  publishTimeoutMs?: number;
  /** Give up retrying a durable publish after this long. Default 60 000 ms. */
  publishDeadlineMs?: number;
  /**
   * Give up retrying a dead-letter publish after this long (the message then stays with the
   * broker and the bus retries it with its backoff). A dead-letter subject that no stream
   * stores fails at once. Default 5000 ms.
   */
  deadLetterDeadlineMs?: number;
  /** Create missing durable consumers on consume(). Default true. */
  createConsumers?: boolean;
  /** max_ack_pending of consumers this transport creates. Default 20 000. */
  maxAckPending?: number;
  /** Pull request expiry; bounds how long a lost pull goes unnoticed. At least 1000 ms (nats.js refuses less). Default 2000 ms. */
  pullExpiresMs?: number;
  /**
   * TLS, credentials (user/password, token, nkey seed, .creds) and the reply inbox prefix,
   * secrets read from files or environment variables when connecting. A failed handshake is
   * a TlsHandshakeError, refused credentials an AuthenticationError.
   */
  security?: NatsSecurityOptions;
}

export interface NatsTransportStats {
  /** Durable publishes that needed more than one attempt. */
  publishRetries: number;
  /** Pull loop errors recovered from (connection loss, server restart, a refused pull). */
  consumeErrors: number;
  /** Messages whose hand-off to the bus threw; they went back to the broker with a delay. */
  deliveryErrors: number;
  /** Dead-letter publishes that failed (the message stayed with the broker). */
  deadLetterFailures: number;
}

export class NatsTransport implements Transport, ConsumerHost {
  readonly name = 'nats';
  readonly stats: NatsTransportStats = { publishRetries: 0, consumeErrors: 0, deliveryErrors: 0, deadLetterFailures: 0 };
  readonly js: JetStreamClient;
  /** The connection's status stream, watched once (disconnects, permission violations). */
  readonly events: ConnectionEvents;
  /** Acks of a loop turn, sent together. */
  readonly acks: AckBatcher;
  private jsmP: Promise<JetStreamManager> | undefined;
  private readonly subs = new Set<TransportSubscription>();
  private readonly publishAcks: JetStreamAcks;
  private readonly durable: DurablePublisher;
  private readonly core: CorePublisher;
  private closed = false;
  private closing: Promise<void> | undefined;
  private readonly noticeListeners: Array<(n: TransportNotice) => void> = [];

  private constructor(
    readonly nc: NatsConnection,
    private readonly ownsConnection: boolean,
    readonly options: NatsTransportOptions,
  ) {
    this.js = jetstream(nc, { timeout: options.publishTimeoutMs ?? 5000 });
    this.events = new ConnectionEvents(nc);
    this.acks = new AckBatcher(nc);
    this.publishAcks = new JetStreamAcks(nc, options.publishTimeoutMs ?? 5000, this.events);
    this.durable = new DurablePublisher(this.publishAcks, {
      isClosed: () => this.isClosed,
      retried: () => void this.stats.publishRetries++,
    });
    this.core = new CorePublisher(nc, this.events);
    this.events.onChange((c) => this.notice({ kind: 'connection', transport: 'nats', state: c.state, server: c.server }));
  }

  /** Connection losses and reconnects (with the server), and consumers the server stopped serving. */
  onNotice(listener: (notice: TransportNotice) => void): void {
    this.noticeListeners.push(listener);
  }

  /** Used by the connection watcher and the consumers: tells every listener; a listener's throw is its own. */
  notice(n: TransportNotice): void {
    for (const fn of this.noticeListeners) {
      try {
        fn(n);
      } catch {
        // An observer must never break the transport.
      }
    }
  }

  static async connect(options: NatsTransportOptions = {}): Promise<NatsTransport> {
    // nats.js refuses such a pull inside every fetch: the consumer would receive nothing.
    if (options.pullExpiresMs !== undefined && !(options.pullExpiresMs >= 1000)) {
      throw new RangeError(`pullExpiresMs must be at least 1000 (nats.js refuses shorter pull requests), got ${options.pullExpiresMs}`);
    }
    if (options.connection) return new NatsTransport(options.connection, false, options);
    // The caller's own connect options win, as they do for the transport's defaults.
    const connectOptions = { ...(options.security ? natsSecurityOptions(options.security) : {}), ...options.connect };
    const servers = serverList(connectOptions.servers);
    try {
      return new NatsTransport(await connectNatsClient(connectOptions), true, options);
    } catch (err) {
      throw classifyNatsConnectError(err, servers?.join(', ') ?? '127.0.0.1:4222', options.security);
    }
  }

  /** The JetStream manager; a failed attempt (JetStream not up yet, say) is not kept. */
  jsm(): Promise<JetStreamManager> {
    return (this.jsmP ??= jetstreamManager(this.nc).catch((err: unknown) => {
      this.jsmP = undefined;
      throw err;
    }));
  }

  maxMessageBytes(): number | undefined {
    return this.nc.info?.max_payload;
  }

  /** What max_payload counts: the body plus the header block ("NATS/1.0\r\n", "k: v\r\n" each, closing CRLF). */
  messageBytes(m: OutboundMessage): number {
    let n = m.body.byteLength + 12;
    for (const k in m.headers) n += k.length + (m.headers[k] as string).length + 4;
    return n;
  }

  publish(m: OutboundMessage): Promise<TransportReceipt> {
    let h;
    try {
      h = toNatsHeaders(m.headers, m.id);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.durable.publish(m.subject, h, m.body, this.options.publishDeadlineMs ?? 60_000).then((r) => (r.duplicate ? this.checkDuplicate(m, r) : r));
  }

  /**
   * JetStream drops a publish whose Nats-Msg-Id the stream saw within its dedupe window. On
   * the same subject that is a retry, as intended; on another subject it is a different event
   * reusing an id (two majors of a dual publish sharing the payload's eventId), which would
   * otherwise vanish: that is refused loudly. One lookup, on the rare duplicate path only.
   */
  private async checkDuplicate(m: OutboundMessage, r: TransportReceipt): Promise<TransportReceipt> {
    if (r.stream === undefined || r.sequence === undefined) return r;
    let stored: string | undefined;
    try {
      stored = (await (await this.jsm()).streams.getMessage(r.stream, { seq: r.sequence }))?.subject;
    } catch {
      return r; // the original is gone (limits) or unreadable: nothing to compare with
    }
    if (stored !== undefined && stored !== m.subject) throw new EventIdCollisionError(m.id, m.subject, stored);
    return r;
  }

  publishTransient(m: OutboundMessage): Promise<void> {
    try {
      return this.core.publish(m.subject, m.body, toNatsHeaders(m.headers));
    } catch (err) {
      return Promise.reject(permissionDenied(err, 'publish', m.subject) ?? err);
    }
  }

  async consume(spec: ConsumeSpec, onDelivery: DeliveryHandler): Promise<TransportSubscription> {
    const sub = spec.ephemeral ? await consumeCore(this, spec, onDelivery) : await consumeDurable(this, spec, onDelivery);
    this.subs.add(sub);
    return {
      stop: async () => {
        this.subs.delete(sub);
        await sub.stop();
      },
    };
  }

  /** Used by consumers: the original bytes with the dead-letter headers, under our own msg id. */
  async publishDeadLetter(info: DeadLetterInfo, subject: string, original: HeaderRecord, body: Uint8Array, deliveryCount: number, id: string, extra?: HeaderRecord): Promise<void> {
    try {
      const full = deadLetterHeaders(original, subject, info, deliveryCount);
      if (extra) Object.assign(full, extra);
      // Nats-Msg-Id (the dead letter's own id) is added on the wire: counted here as well.
      const fitted = fitDeadLetter(full, body, this.maxMessageBytes(), (h, b) => this.messageBytes({ subject: info.subject, headers: h, body: b, id }) + id.length + 17);
      // Fails at once when no stream stores the dead-letter subject: the bus then returns the
      // message to the broker with its backoff and reports it, rather than this looping.
      await this.durable.publish(info.subject, toNatsHeaders(fitted.headers, id), fitted.body, this.options.deadLetterDeadlineMs ?? 5000, false);
    } catch (err) {
      this.stats.deadLetterFailures++;
      const denied = permissionDenied(err, 'publish', info.subject);
      if (denied) throw denied;
      if ((err as { noStream?: boolean }).noStream) {
        throw new Error(`no JetStream stream stores the dead-letter subject '${info.subject}' (provision it: natsProvisioning has a stream per consumer group)`, { cause: err });
      }
      throw err;
    }
  }

  async request(m: OutboundMessage, timeoutMs: number): Promise<InboundMessage> {
    return request(this.nc, m, timeoutMs);
  }

  async serve(spec: ServeSpec, handler: RequestHandler): Promise<TransportSubscription> {
    const s = await serve(this.nc, spec, handler);
    const sub: TransportSubscription = {
      stop: async () => {
        this.subs.delete(sub);
        await s.stop();
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
    this.acks.flush();
    this.closed = true;
    // Takes no more publishes (retries included); bounded by the ack timeout.
    await this.publishAcks.drain();
    this.publishAcks.close();
    this.core.close();
    this.events.stop();
    if (this.ownsConnection && !this.nc.isClosed()) await this.nc.drain().catch(() => this.nc.close());
  }

  get isClosed(): boolean {
    return this.closed || this.nc.isClosed();
  }
}

/** Connects and returns a transport; shorthand for NatsTransport.connect. */
export function connectNats(options: NatsTransportOptions = {}): Promise<NatsTransport> {
  return NatsTransport.connect(options);
}
