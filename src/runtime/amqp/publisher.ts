/**
 * Publishing with publisher confirms on one shared confirm channel: persistent messages,
 * the mandatory flag (basic.return before the confirm means unroutable), a deadline per
 * publish, and retries with the same message id after a connection or channel loss.
 *
 * A publish the broker's permissions refuse (403 ACCESS_REFUSED) closes the channel it was
 * sent on, and with it every publish still unconfirmed there. Which of them was refused
 * cannot be told from the close (only its text names the exchange), so each of them is sent
 * again on a channel of its own: the refused one fails there with PermissionDeniedError, the
 * others are stored. A subject refused once keeps using its own channel until a publish to
 * it succeeds, so it does not keep closing the shared one.
 */
import type { Channel, ConfirmChannel, MessageProperties, Options } from 'amqplib';
import { backoff, sleep } from '../backoff.js';
import { PermissionDeniedError, type BrokerOperation } from '../errors.js';
import { closeReasonOf, watch, type AmqpConnection } from './connection.js';
import { PublishTimeoutError, REPLY, replyCodeOf, UnroutableError } from './errors.js';
import type { Topology } from './topology.js';
import type { AmqpExchangeSpec } from './types.js';

/** amqplib sends Buffers only; a plain Uint8Array (an empty error reply, a caller's bytes) is wrapped, not copied. */
export function buf(u: Uint8Array): Buffer {
  return Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}

export class Publisher {
  private pub: ConfirmChannel | undefined;
  private pubOpening: Promise<ConfirmChannel> | undefined;
  /** Basic.returns not yet matched with their confirm, per publish channel. */
  private readonly returns = new WeakMap<Channel, Map<string, number>>();
  private drain: Promise<void> | undefined;
  /** `exchange\0routing key` refused with 403 lately: published on a channel of their own. */
  private readonly refused = new Set<string>();
  retries = 0;

  constructor(
    private readonly link: AmqpConnection,
    private readonly topo: Topology,
    private readonly isClosed: () => boolean,
  ) {}

  /** The connection is gone, and the channel with it. */
  lost(): void {
    this.pub = undefined;
  }

  private async openChannel(): Promise<ConfirmChannel> {
    const c = await this.link.connection();
    const ch = watch(await c.createConfirmChannel());
    const returned = new Map<string, number>();
    this.returns.set(ch, returned);
    ch.on('return', (m: { fields: { routingKey: string }; properties: MessageProperties }) => {
      const k = `${m.fields.routingKey}\0${String(m.properties.messageId)}`;
      returned.set(k, (returned.get(k) ?? 0) + 1);
    });
    return ch;
  }

  channel(): Promise<ConfirmChannel> {
    if (this.pub) return Promise.resolve(this.pub);
    return (this.pubOpening ??= (async () => {
      const ch = await this.openChannel();
      ch.on('close', () => {
        if (this.pub === ch) this.pub = undefined;
      });
      this.pub = ch;
      return ch;
    })().finally(() => (this.pubOpening = undefined)));
  }

  /** The shared channel if it is open now (transient publishes use it without waiting). */
  get current(): ConfirmChannel | undefined {
    return this.pub;
  }

  /** Waits while the socket buffer is full. */
  async writable(): Promise<void> {
    if (this.drain) await this.drain;
  }

  /** One publish on `ch`, resolved by its confirm, rejected if none comes by `until`. */
  private sendConfirmed(ch: ConfirmChannel, exchange: string, key: string, body: Uint8Array, props: Options.Publish, until: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      // A blocked connection (resource alarm) or a stalled broker never confirms; the
      // deadline bounds the wait. The message may still be stored later: a caller retrying
      // with the same id makes a copy the consumer's dedupe absorbs.
      const timer = setTimeout(() => reject(new PublishTimeoutError(key)), Math.max(1, until - Date.now()));
      let ok: boolean;
      try {
        ok = ch.publish(exchange, key, buf(body), props, (err: unknown) => {
          clearTimeout(timer);
          if (err) return reject(err instanceof Error ? err : new Error(String(err)));
          if (props.mandatory) {
            // basic.return always precedes the confirm of the same message.
            const m = this.returns.get(ch);
            const k = `${key}\0${String(props.messageId)}`;
            const n = m?.get(k);
            if (m && n) {
              if (n === 1) m.delete(k);
              else m.set(k, n - 1);
              return reject(new UnroutableError(exchange, key));
            }
          }
          resolve();
        });
      } catch (err) {
        clearTimeout(timer);
        reject(err);
        return;
      }
      if (!ok && !this.drain) {
        // The socket buffer is full: later publishes wait for it to drain.
        this.drain = new Promise<void>((r) => {
          const done = () => {
            ch.off('drain', done);
            ch.off('close', done);
            this.drain = undefined;
            r();
          };
          ch.on('drain', done);
          ch.on('close', done);
        });
      }
    });
  }

  /**
   * Publish awaiting the confirm; retried with the same message id after a connection or
   * channel loss until `deadlineMs` passes. An unroutable message is not retried; a refused
   * one (403) fails with PermissionDeniedError naming `operation` and the routing key.
   */
  async publish(exchange: AmqpExchangeSpec | '', key: string, body: Uint8Array, props: Options.Publish, deadlineMs: number, operation: BrokerOperation = 'publish'): Promise<void> {
    const until = Date.now() + deadlineMs;
    const exchangeName = exchange === '' ? '' : exchange.name;
    const route = `${exchangeName}\0${key}`;
    let channelErrors = 0;
    for (let attempt = 1; ; attempt++) {
      const conn = this.link.current;
      let ch: ConfirmChannel | undefined;
      let own = false;
      try {
        if (this.drain) await this.drain;
        if (exchange !== '' && !this.topo.isReady(exchange.name)) await this.withDeadline(this.topo.ensureExchange(exchange), until);
        own = this.refused.has(route);
        ch = own ? await this.withDeadline(this.openChannel(), until) : (this.pub ?? (await this.withDeadline(this.channel(), until)));
        await this.sendConfirmed(ch, exchangeName, key, body, props, until);
        if (own) this.refused.delete(route);
        return;
      } catch (err) {
        if (err instanceof UnroutableError || err instanceof PublishTimeoutError || this.isClosed() || Date.now() >= until) throw err;
        // The reply code: on the error of a refused declaration, else on the channel's close.
        const code = replyCodeOf(err) ?? replyCodeOf(closeReasonOf(ch));
        if (code === REPLY.ACCESS_REFUSED) {
          const detail = (replyCodeOf(err) !== undefined ? (err as Error) : closeReasonOf(ch))?.message ?? String(err);
          // Refused on a channel of its own (or while declaring): it was this publish.
          if (own || replyCodeOf(err) !== undefined) throw new PermissionDeniedError(operation, key, 'amqp', detail);
          if (this.refused.size >= 1000) this.refused.clear();
          this.refused.add(route);
          continue; // at once, on its own channel
        }
        if (this.link.current && this.link.current === conn) {
          // The connection lives: the channel was closed by the broker (a 404 or 406 is our
          // fault: a few attempts, not a minute of them) or by amqplib after such a close.
          if (code !== undefined && ++channelErrors >= 3) throw err;
          if (code === undefined && ++channelErrors >= 10) throw err;
        }
        this.retries++;
        await sleep(backoff(25, 2000, attempt));
      } finally {
        if (own && ch) void ch.close().catch(() => undefined);
      }
    }
  }

  private withDeadline<T>(p: Promise<T>, until: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const t = setTimeout(() => reject(new PublishTimeoutError('(connection)')), Math.max(0, until - Date.now()));
      p.then(
        (v) => (clearTimeout(t), resolve(v)),
        (e: unknown) => (clearTimeout(t), reject(e)),
      );
    });
  }

  /**
   * A transient (non-persistent) publish. It still waits for the broker's confirm: without
   * one, a publish the broker's permissions refuse resolved as sent (the refusal only closes
   * the channel), and that close took the durable publishes sharing the channel with it.
   * Not retried past a short deadline: a transient event is worth little late.
   */
  async publishTransient(exchange: AmqpExchangeSpec, key: string, body: Uint8Array, props: Options.Publish): Promise<void> {
    await this.publish(exchange, key, body, { ...props, mandatory: false }, 5000);
  }

  async close(): Promise<void> {
    const pub = this.pub;
    this.pub = undefined;
    if (pub) await pub.close().catch(() => undefined);
  }
}

