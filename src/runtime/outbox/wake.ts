/**
 * Waking the relay. A `Sleeper` is the relay's one place to wait: woken early by a
 * notification (a commit that added rows) or interrupted by stop(). A `CommitListener`
 * holds a LISTEN connection and reconnects when it drops; while it is down the relay
 * still polls, so a lost LISTEN costs latency, never events.
 */
import { backoffDelay, RECONNECT_BACKOFF } from '../backoff.js';
import type { ConnectionPool, PooledConnection } from './sql-client.js';

export class Sleeper {
  private pending = false;
  private current: { resolve: () => void; wakeable: boolean } | undefined;

  /** A commit happened: end a wakeable sleep now, or skip the next one. */
  wake(): void {
    if (this.current?.wakeable) this.current.resolve();
    else this.pending = true;
  }

  /** End any sleep (stop). */
  interrupt(): void {
    this.current?.resolve();
  }

  sleep(ms: number, wakeable: boolean): Promise<void> {
    if (wakeable && this.pending) {
      this.pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.current = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.current = { resolve: done, wakeable };
    });
  }
}

export interface ListenState {
  listening: boolean;
  error?: unknown;
}

export class CommitListener {
  private stopped = false;
  private closeCurrent: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private readonly pause = new Sleeper();

  constructor(
    private readonly pool: ConnectionPool,
    private readonly channel: string,
    private readonly onCommit: () => void,
    private readonly onState: (s: ListenState) => void,
  ) {}

  start(): void {
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.closeCurrent?.();
    this.pause.interrupt();
    await this.loop;
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stopped) {
      let client: PooledConnection | undefined;
      let error: unknown;
      try {
        client = await this.pool.connect();
        const c = client;
        const closed = new Promise<void>((resolve) => {
          const onError = (err: Error) => {
            error = err;
            resolve();
          };
          c.on('error', onError);
          c.on('end', () => resolve());
          this.closeCurrent = resolve;
        });
        c.on('notification', (n) => {
          if (n.channel === this.channel) this.onCommit();
        });
        if (this.stopped) break;
        await c.query(`LISTEN ${this.channel}`);
        failures = 0;
        this.onState({ listening: true });
        // Whatever committed while nobody listened is picked up by one pass now.
        this.onCommit();
        await closed;
      } catch (err) {
        error = err;
      } finally {
        this.closeCurrent = undefined;
        // Destroyed, not returned: a pooled connection must not keep listening for another user.
        client?.release(true);
      }
      if (this.stopped) break;
      this.onState({ listening: false, error });
      failures++;
      await this.pause.sleep(backoffDelay(RECONNECT_BACKOFF, failures), false);
    }
  }
}
