/**
 * One AMQP connection, reopened with backoff after any loss until closed. amqplib does not
 * reconnect by itself; everything else in the transport asks `connection()` for the current
 * one and subscribes to `onLost` to drop what belonged to the old one.
 */
import amqp, { type Channel, type ChannelModel } from 'amqplib';
import { backoffDelay, RECONNECT_BACKOFF, sleep } from '../backoff.js';
import { BusClosedError } from '../errors.js';
import { DEFAULT_AMQP_URL, type AmqpTransportOptions } from './types.js';
import { amqpSocketOptions, classifyAmqpConnectError, redactedUrl } from './security.js';

/**
 * The reason the broker gave for closing a channel, kept per channel: amqplib emits it as
 * the channel's 'error' (with `.code`, the reply code) and then fails the channel's
 * unconfirmed publishes with a plain 'channel closed', which carries none.
 */
const closeReasons = new WeakMap<Channel, Error>();

/** Starts recording a channel's close reason; also keeps amqplib's 'error' event from throwing. */
export function watch<C extends Channel>(ch: C): C {
  ch.on('error', (err: Error) => void closeReasons.set(ch, err));
  return ch;
}

/** The error the broker closed `ch` with, if it did (see watch). */
export function closeReasonOf(ch: Channel | undefined): Error | undefined {
  return ch ? closeReasons.get(ch) : undefined;
}

export class AmqpConnection {
  private conn: ChannelModel | undefined;
  private connecting: Promise<ChannelModel> | undefined;
  private readonly lostListeners: Array<(reconnect: boolean) => void> = [];
  private closed = false;
  /** Set while the owner shuts down: a loss is not followed by a reconnect. */
  quiescing = false;
  reconnects = 0;

  constructor(private readonly o: AmqpTransportOptions) {}

  get isClosed(): boolean {
    return this.closed;
  }

  /** The current connection, if there is one right now. */
  get current(): ChannelModel | undefined {
    return this.conn;
  }

  /** Called when the connection is lost, with whether a new one is being opened. */
  onLost(fn: (reconnect: boolean) => void): void {
    this.lostListeners.push(fn);
  }

  /** Connects once, failing fast if the broker cannot be reached. */
  async open(): Promise<ChannelModel> {
    const url = this.o.url ?? DEFAULT_AMQP_URL;
    const heartbeat = this.o.heartbeatSeconds ?? 10;
    const socket = {
      ...(this.o.security ? amqpSocketOptions(this.o.security) : {}),
      ...(this.o.connectionName ? { clientProperties: { connection_name: this.o.connectionName } } : {}),
    };
    let c: ChannelModel;
    try {
      c =
        typeof url === 'string'
          ? await amqp.connect(url.includes('heartbeat=') ? url : `${url}${url.includes('?') ? '&' : '?'}heartbeat=${heartbeat}`, socket)
          : await amqp.connect({ heartbeat, ...url }, socket);
    } catch (err) {
      const plaintext = typeof url === 'string' ? url.startsWith('amqp:') : url.protocol !== 'amqps';
      throw classifyAmqpConnectError(err, typeof url === 'string' ? redactedUrl(url) : `${url.hostname ?? 'localhost'}:${url.port ?? ''}`, this.o.security, plaintext);
    }
    c.on('error', () => undefined); // 'close' follows; it is the one we act on
    c.on('close', () => this.lost(c));
    if (this.closed) {
      await c.close().catch(() => undefined);
      throw new BusClosedError();
    }
    this.conn = c;
    return c;
  }

  /** The open connection, or the next one (reconnecting with backoff until closed). */
  connection(): Promise<ChannelModel> {
    if (this.conn) return Promise.resolve(this.conn);
    if (this.closed) return Promise.reject(new BusClosedError());
    return (this.connecting ??= this.redial().finally(() => (this.connecting = undefined)));
  }

  private async redial(): Promise<ChannelModel> {
    // Jittered, so instances cut off together do not all knock at once.
    const policy = { ...RECONNECT_BACKOFF, ...this.o.reconnect, jitter: 0.5 };
    for (let attempt = 1; ; attempt++) {
      if (this.closed) throw new BusClosedError();
      try {
        const c = await this.open();
        this.reconnects++;
        return c;
      } catch (err) {
        if (err instanceof BusClosedError) throw err;
        await sleep(backoffDelay(policy, attempt));
      }
    }
  }

  private lost(c: ChannelModel): void {
    if (this.conn !== c) return;
    this.conn = undefined;
    const reconnect = !this.closed && !this.quiescing;
    for (const fn of this.lostListeners) fn(reconnect);
  }

  /** Runs `fn` on a short-lived channel of the current connection. */
  async withChannel<T>(fn: (ch: Channel) => Promise<T>): Promise<T> {
    const c = await this.connection();
    const ch = watch(await c.createChannel());
    try {
      return await fn(ch);
    } finally {
      await ch.close().catch(() => undefined);
    }
  }

  /** Disconnects for good. */
  async close(): Promise<void> {
    this.closed = true;
    const c = this.conn;
    this.conn = undefined;
    if (c) await c.close().catch(() => undefined);
  }
}
