/**
 * One AMQP connection, reopened with backoff after any loss until closed. amqplib does not
 * reconnect by itself, and takes one URL: with several (the nodes of a cluster) this tries
 * them in order, and after a loss starts from the node after the one lost, so a dead node
 * is tried last. Everything else in the transport asks `connection()` for the current one
 * and subscribes to `onLost` to drop what belonged to the old one; `onChange` reports the
 * loss and the reconnect with the server, for the transport's notices.
 */
import amqp, { type Channel, type ChannelModel, type Options } from 'amqplib';
import { backoffDelay, RECONNECT_BACKOFF, sleep } from '../backoff.js';
import { AuthenticationError, BusClosedError, TlsHandshakeError } from '../errors.js';
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

type AmqpUrl = string | Options.Connect;

/** `host:port` of a URL, never its credentials: what notices name the server by. */
export function serverOf(url: AmqpUrl): string {
  if (typeof url !== 'string') return `${url.hostname ?? 'localhost'}:${url.port ?? (url.protocol === 'amqps' ? 5671 : 5672)}`;
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || (u.protocol === 'amqps:' ? 5671 : 5672)}`;
  } catch {
    return '(unparsable URL)';
  }
}

/** A change of the connection, with the server lost or reached (`host:port`). */
export interface ConnectionChange {
  state: 'disconnected' | 'reconnected';
  server: string;
}

export class AmqpConnection {
  private conn: ChannelModel | undefined;
  private connecting: Promise<ChannelModel> | undefined;
  private readonly lostListeners: Array<(reconnect: boolean) => void> = [];
  private readonly changeListeners: Array<(change: ConnectionChange) => void> = [];
  private closed = false;
  /** The servers to try, in order (one unless the url option lists several). */
  private readonly urls: readonly AmqpUrl[];
  /** Index in `urls` of the current connection's server, or of the last one connected to. */
  private at = 0;
  /** Set while the owner shuts down: a loss is not followed by a reconnect. */
  quiescing = false;
  reconnects = 0;

  constructor(private readonly o: AmqpTransportOptions) {
    const url = o.url ?? DEFAULT_AMQP_URL;
    this.urls = isUrlList(url) ? [...url] : [url];
    if (this.urls.length === 0) throw new Error('AMQP url: an empty list names no server to connect to');
  }

  /** `host:port` of the server connected to right now, if any. */
  get server(): string | undefined {
    return this.conn ? serverOf(this.urls[this.at]!) : undefined;
  }

  /** Called when the connection is lost (and will be reopened) and when it is reopened, with the server. */
  onChange(fn: (change: ConnectionChange) => void): void {
    this.changeListeners.push(fn);
  }

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

  /**
   * Connects, trying each URL once from the first, failing fast if none can be reached: with
   * the error of the first server whose refusal says something (credentials, TLS), else of
   * the last one tried.
   */
  open(): Promise<ChannelModel> {
    return this.openFrom(0);
  }

  private async openFrom(start: number): Promise<ChannelModel> {
    let failure: unknown;
    for (let k = 0; k < this.urls.length; k++) {
      const i = (start + k) % this.urls.length;
      let c: ChannelModel;
      try {
        c = await this.openOne(this.urls[i]!);
      } catch (err) {
        if (failure === undefined || !saysWhy(failure)) failure = err;
        continue;
      }
      c.on('error', () => undefined); // 'close' follows; it is the one we act on
      c.on('close', () => this.lost(c));
      if (this.closed) {
        await c.close().catch(() => undefined);
        throw new BusClosedError();
      }
      this.at = i;
      this.conn = c;
      return c;
    }
    throw failure;
  }

  private async openOne(url: AmqpUrl): Promise<ChannelModel> {
    const heartbeat = this.o.heartbeatSeconds ?? 10;
    const socket = {
      ...(this.o.security ? amqpSocketOptions(this.o.security) : {}),
      ...(this.o.connectionName ? { clientProperties: { connection_name: this.o.connectionName } } : {}),
    };
    try {
      return typeof url === 'string'
        ? await amqp.connect(url.includes('heartbeat=') ? url : `${url}${url.includes('?') ? '&' : '?'}heartbeat=${heartbeat}`, socket)
        : await amqp.connect({ heartbeat, ...url }, socket);
    } catch (err) {
      const plaintext = typeof url === 'string' ? url.startsWith('amqp:') : url.protocol !== 'amqps';
      throw classifyAmqpConnectError(err, typeof url === 'string' ? redactedUrl(url) : `${url.hostname ?? 'localhost'}:${url.port ?? ''}`, this.o.security, plaintext);
    }
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
    // Each attempt goes round the list once, the server lost last.
    const start = (this.at + 1) % this.urls.length;
    for (let attempt = 1; ; attempt++) {
      if (this.closed) throw new BusClosedError();
      try {
        const c = await this.openFrom(start);
        this.reconnects++;
        this.changed({ state: 'reconnected', server: serverOf(this.urls[this.at]!) });
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
    if (reconnect) this.changed({ state: 'disconnected', server: serverOf(this.urls[this.at]!) });
    for (const fn of this.lostListeners) fn(reconnect);
  }

  private changed(change: ConnectionChange): void {
    for (const fn of this.changeListeners) fn(change);
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

function isUrlList(url: AmqpUrl | ReadonlyArray<AmqpUrl>): url is ReadonlyArray<AmqpUrl> {
  return Array.isArray(url);
}

/** A refusal that tells the operator something (credentials, TLS), worth more than a refused connection. */
function saysWhy(err: unknown): boolean {
  return err instanceof AuthenticationError || err instanceof TlsHandshakeError;
}
