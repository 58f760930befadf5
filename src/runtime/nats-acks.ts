/**
 * JetStream publishes with one reply subscription for all their acks, as nats.go's
 * PublishAsync does. js.publish() goes through nc.request(), which for every publish, even
 * a successful one, starts a timer and builds an Error with a stack trace when it cancels
 * the request: about a fifth of the CPU a publish took on this machine. Here a publish is
 * one nc.publish() with a reply subject, a map entry, and one shared sweep for timeouts.
 *
 * Failures keep the shapes the transport's retry logic knows: nats.js TimeoutError when no
 * ack came in time or the connection dropped (the caller retries with the same msg id, and
 * the stream drops a copy it already stored), JetStreamApiError when the server refused.
 */
import { createInbox, errors, type Msg, type MsgHdrs, type NatsConnection, type Status, type Subscription } from '@nats-io/transport-node';
import { JetStreamApiCodes, JetStreamApiError, JetStreamError, type PubAck } from '@nats-io/jetstream';

interface Pending {
  subject: string;
  resolve(ack: PubAck): void;
  reject(err: unknown): void;
  deadline: number;
}

/**
 * No stream answered (none stores the subject, or JetStream is not up yet after a restart),
 * or JetStream said it is not enabled. Named as nats.js names it, which the transport
 * retries until its publish deadline, as it did with js.publish().
 */
export class JetStreamUnavailableError extends JetStreamError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'JetStreamNotEnabled';
  }
}

const decoder = new TextDecoder();

export class JetStreamAcks {
  private readonly prefix: string;
  private readonly pending = new Map<string, Pending>();
  private next = 0;
  private readonly sub: Subscription;
  private sweeper: NodeJS.Timeout | undefined;
  /** Callers of drain() waiting for the last ack. */
  private drained: Array<() => void> = [];
  /** Set once closing, or when the reply subscription failed: every publish rejects with it. */
  private failure: Error | undefined;
  private readonly status: AsyncIterable<Status> & { stop?(): void };

  constructor(
    private readonly nc: NatsConnection,
    private readonly timeoutMs: number,
  ) {
    const inboxPrefix = (nc as unknown as { options?: { inboxPrefix?: string } }).options?.inboxPrefix;
    this.prefix = `${createInbox(inboxPrefix)}.`;
    this.sub = nc.subscribe(`${this.prefix}*`, {
      callback: (err, msg) => {
        if (!err) this.onAck(msg);
        else {
          // The reply subscription is gone (a permissions error, say): say so, not time out.
          this.failure = err;
          this.failAll(() => err);
        }
      },
    });
    this.status = nc.status();
    void this.watch();
  }

  publish(subject: string, body: Uint8Array, headers: MsgHdrs): Promise<PubAck> {
    if (this.failure) return Promise.reject(this.failure);
    const token = (this.next++).toString(36);
    return new Promise<PubAck>((resolve, reject) => {
      // Deadlines grow with insertion order (one timeout for all), which the sweep relies on;
      // a monotonic clock keeps that true when the wall clock is set back.
      this.pending.set(token, { subject, resolve, reject, deadline: performance.now() + this.timeoutMs });
      this.sweeper ??= setInterval(this.sweep, Math.min(250, this.timeoutMs));
      try {
        this.nc.publish(subject, body, { headers, reply: this.prefix + token });
      } catch (err) {
        this.settle(token)?.reject(err);
      }
    });
  }

  /**
   * Takes no more publishes, then resolves once those awaiting their ack have it or timed
   * out (so within the ack timeout).
   */
  drain(): Promise<void> {
    // From here on nothing is added to `pending`, so it only empties.
    this.failure ??= new errors.ClosedConnectionError();
    if (this.pending.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.drained.push(resolve));
  }

  close(): void {
    this.failure ??= new errors.ClosedConnectionError();
    this.failAll(() => new errors.ClosedConnectionError());
    this.sub.unsubscribe();
    this.status.stop?.();
  }

  private onAck(msg: Msg): void {
    const p = this.settle(msg.subject.slice(this.prefix.length));
    // An ack after its timeout: the retry, under the same msg id, gets an ack of its own.
    if (!p) return;
    if (msg.data.length === 0 && msg.headers?.code === 503) {
      p.reject(new JetStreamUnavailableError(`no JetStream stream answered a publish to '${p.subject}'`));
      return;
    }
    let r: (PubAck & { error?: undefined }) | { error: ConstructorParameters<typeof JetStreamApiError>[0] };
    try {
      r = JSON.parse(decoder.decode(msg.data)) as typeof r;
    } catch (err) {
      p.reject(new JetStreamError(`unreadable publish ack: ${(err as Error).message}`));
      return;
    }
    if (r.error?.err_code === JetStreamApiCodes.JetStreamNotEnabledForAccount) {
      p.reject(new JetStreamUnavailableError(`JetStream is not enabled: ${r.error.description}`, { cause: new JetStreamApiError(r.error) }));
    } else if (r.error) p.reject(new JetStreamApiError(r.error));
    else if (!r.stream) p.reject(new JetStreamError('invalid ack response'));
    else p.resolve({ ...r, duplicate: r.duplicate ?? false });
  }

  private settle(token: string): Pending | undefined {
    const p = this.pending.get(token);
    if (!p) return undefined;
    this.pending.delete(token);
    if (this.pending.size === 0) {
      clearInterval(this.sweeper);
      this.sweeper = undefined;
      const drained = this.drained;
      this.drained = [];
      for (const resolve of drained) resolve();
    }
    return p;
  }

  private readonly sweep = (): void => {
    const now = performance.now();
    for (const [token, p] of this.pending) {
      if (p.deadline > now) break;
      this.settle(token);
      p.reject(new errors.TimeoutError());
    }
  };

  /** A dropped connection loses the acks in flight: fail them now rather than at their timeout. */
  private async watch(): Promise<void> {
    for await (const s of this.status) {
      if (s.type === 'disconnect') this.failAll(() => new errors.TimeoutError());
    }
    // The connection closed for good (or close() stopped watching).
    this.failAll(() => new errors.ClosedConnectionError());
  }

  private failAll(error: () => Error): void {
    for (const token of [...this.pending.keys()]) this.settle(token)?.reject(error());
  }
}
