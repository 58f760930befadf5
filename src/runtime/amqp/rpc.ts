/**
 * Request/reply: requests on the topic exchange `<exchange>.rpc`, answered through RabbitMQ
 * direct reply-to (`amq.rabbitmq.reply-to`) with `correlation-id`; an unroutable request
 * (mandatory flag, basic.return) is a NoResponderError, one the permissions refuse (the
 * broker closes the requester's channel with 403) a PermissionDeniedError.
 */
import { createHash } from 'node:crypto';
import type { Channel, ConsumeMessage, MessageProperties } from 'amqplib';
import { backoffDelay, RECONNECT_BACKOFF, sleep } from '../backoff.js';
import { NoResponderError, PermissionDeniedError, RequestTimeoutError } from '../errors.js';
import type { HeaderRecord, InboundMessage, OutboundMessage, RequestHandler, ServeSpec } from '../types.js';
import { closeReasonOf, watch, type AmqpConnection } from './connection.js';
import { REPLY, replyCodeOf, typedRefusal } from './errors.js';
import { AmqpHeaders, bindingKey, toAmqpProperties } from './headers.js';
import { buf } from './publisher.js';
import type { Topology } from './topology.js';

/** What request/reply uses of its transport. */
export interface RpcHost {
  readonly link: AmqpConnection;
  readonly topo: Topology;
  readonly isClosed: boolean;
}

/** The responder queue of a group for a subject: short, stable, one per (group, subject). */
export function responderQueue(prefix: string, group: string, subject: string): string {
  return `${prefix}${group}.rpc.${createHash('sha256').update(subject).digest('hex').slice(0, 10)}`;
}

/** A responder: a queue per (group, subject) on the rpc exchange, shared by the group's instances. */
export class AmqpServer {
  private ch: Channel | undefined;
  private tag: string | undefined;
  private stopped = false;
  private restarting = false;
  private readonly running = new Set<Promise<void>>();

  constructor(
    private readonly t: RpcHost,
    private readonly spec: ServeSpec,
    private readonly queue: string,
    private readonly handler: RequestHandler,
  ) {}

  async start(): Promise<void> {
    const c = await this.t.link.connection();
    const ch = watch(await c.createChannel());
    ch.on('close', () => {
      if (this.ch !== ch) return;
      this.ch = undefined;
      this.restart();
    });
    try {
      const ex = this.t.topo.rpcExchange;
      // Passively where this account may not declare exchanges (see Topology.ensureExchange).
      await this.t.topo.ensureExchange(ex);
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
      throw typedRefusal(err, 'respond', this.spec.subject);
    }
  }

  restart(): void {
    if (this.stopped || this.restarting || this.ch || this.t.isClosed) return;
    this.restarting = true;
    void (async () => {
      for (let attempt = 1; !this.stopped && !this.t.isClosed && !this.ch; attempt++) {
        try {
          await this.start();
        } catch {
          await sleep(backoffDelay(RECONNECT_BACKOFF, attempt));
        }
      }
      this.restarting = false;
    })();
  }

  /** amqplib's consume callback: must not throw. */
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
    let p: Promise<void>;
    try {
      const req: InboundMessage = { subject: m.fields.routingKey, headers: new AmqpHeaders(m.properties), body: m.content };
      p = this.handler(req)
        .catch((e: unknown) => ({ headers: { 'ec-reply-error': 'handler-failed', 'ec-reply-error-detail': String(e).slice(0, 512) } as HeaderRecord, body: new Uint8Array(0) }))
        .then((r) => {
          if (replyTo) {
            const props = toAmqpProperties(r.headers, `reply:${String(m.properties.messageId ?? '')}`, false);
            props.correlationId = m.properties.correlationId as string;
            ch.publish('', replyTo, buf(r.body), props);
          }
          ch.ack(m);
        });
    } catch {
      // A request that cannot even be read gets no reply; the requester times out.
      p = Promise.resolve().then(() => ch.ack(m));
    }
    const tracked: Promise<void> = p.catch(() => undefined).finally(() => this.running.delete(tracked));
    this.running.add(tracked);
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
  subject: string;
  resolve: (m: InboundMessage) => void;
  reject: (e: unknown) => void;
}

/** Requester side: one channel consuming direct reply-to; replies matched by correlation id. */
export class RpcClient {
  private ch: Promise<Channel> | undefined;
  /** The channel `ch` resolved to: only its close concerns the requests now pending. */
  private open: Channel | undefined;
  private readonly pending = new Map<string, PendingRequest>();
  private seq = 0;
  private readonly tag = Math.random().toString(36).slice(2, 10);

  constructor(private readonly t: RpcHost) {}

  private channel(): Promise<Channel> {
    return (this.ch ??= (async () => {
      // Declared apart: a refused or conflicting declaration must not close this channel.
      await this.t.topo.ensureExchange(this.t.topo.rpcExchange);
      const c = await this.t.link.connection();
      const ch = watch(await c.createChannel());
      this.open = ch;
      ch.on('close', () => this.closed(ch));
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
      return ch;
    })().catch((err: unknown) => {
      this.ch = undefined;
      throw err;
    }));
  }

  async request(m: OutboundMessage, timeoutMs: number): Promise<InboundMessage> {
    let ch: Channel;
    try {
      ch = await this.channel();
    } catch (err) {
      throw typedRefusal(err, 'request', m.subject);
    }
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
        subject: m.subject,
        resolve: (r) => (done(), resolve(r)),
        reject: (e) => (done(), reject(e)),
      });
      const props = toAmqpProperties(m.headers, m.id, false);
      props.mandatory = true;
      props.replyTo = 'amq.rabbitmq.reply-to';
      props.correlationId = corr;
      // A request nobody took in time is dropped by the broker rather than answered late.
      props.expiration = String(Math.max(1, Math.ceil(timeoutMs)));
      try {
        ch.publish(this.t.topo.rpcExchange.name, m.subject, buf(m.body), props);
      } catch (err) {
        done();
        reject(err);
      }
    });
  }

  /**
   * The channel closed: replies to direct reply-to cannot arrive any more. Closed by the
   * broker with 403, it was a request the permissions refuse: every request on the channel
   * went to the one rpc exchange, so each is told so for its own subject.
   */
  private closed(ch: Channel): void {
    if (this.open !== ch) return;
    this.open = undefined;
    const reason = closeReasonOf(ch);
    this.ch = undefined;
    if (replyCodeOf(reason) === REPLY.ACCESS_REFUSED) {
      const pending = [...this.pending.values()];
      this.pending.clear();
      for (const p of pending) p.reject(new PermissionDeniedError('request', p.subject, 'amqp', reason?.message ?? 'ACCESS_REFUSED'));
      return;
    }
    this.lost();
  }

  /** The connection or channel is gone: replies to direct reply-to cannot arrive any more. */
  lost(): void {
    this.ch = undefined;
    this.open = undefined;
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const p of pending) p.reject(new Error('connection to RabbitMQ lost before the reply arrived'));
  }
}
