/**
 * The catch-up-then-live loop of the backends with a single total order (memory,
 * PostgreSQL): fetch a page after the cursor, deliver it in order, and when a fetch comes
 * back short the subscription is live: wait for a wake (or the poll interval) and fetch
 * again. One loop does both phases, so nothing is missed or repeated at the switch.
 */
import type { BackendRecord, BackendRecordHandler } from './backend.js';
import type { EventSubscription } from './types.js';
import type { Waker } from './waker.js';

export interface PollingSource {
  /** Up to `max` records after `after` (undefined: from the start), in checkpoint order. */
  fetch(after: string | undefined, max: number): Promise<BackendRecord[]>;
  readonly waker: Waker;
  /** Poll fallback when no wake comes. */
  readonly pollMs: number;
  readonly pageSize: number;
  /** Called once when the loop ends (to release a LISTEN connection, say). */
  release?(): Promise<void>;
  /** A failed fetch (lost connection): the loop waits and tries again; reported here. */
  onFetchError?(error: unknown): void;
}

export function pollingSubscription(source: PollingSource, handler: BackendRecordHandler, from: string | undefined): EventSubscription {
  let stopped = false;
  let resolveCaughtUp!: () => void;
  let rejectCaughtUp!: (e: unknown) => void;
  const caughtUp = new Promise<void>((res, rej) => {
    resolveCaughtUp = res;
    rejectCaughtUp = rej;
  });
  caughtUp.catch(() => {}); // a caller that never awaits it must not see an unhandled rejection
  let isCaughtUp = false;
  const loop = (async () => {
    let cursor = from;
    try {
      while (!stopped) {
        const seen = source.waker.current;
        let page: BackendRecord[];
        try {
          page = await source.fetch(cursor, source.pageSize);
        } catch (err) {
          if (stopped) break;
          source.onFetchError?.(err);
          await source.waker.wait(source.waker.current, source.pollMs);
          continue;
        }
        for (const r of page) {
          if (stopped) break;
          await handler(r);
          cursor = r.checkpoint;
        }
        if (page.length < source.pageSize) {
          if (!isCaughtUp) {
            isCaughtUp = true;
            resolveCaughtUp();
          }
          if (!stopped) await source.waker.wait(seen, source.pollMs);
        }
      }
    } catch (err) {
      // The handler failed: the subscription ends here, at the last event it handled.
      stopped = true;
      if (!isCaughtUp) rejectCaughtUp(err);
      else process.emitWarning(`event store subscription stopped: the handler failed: ${err instanceof Error ? err.message : String(err)}`, 'EventStoreSubscription');
    } finally {
      await source.release?.().catch(() => {});
    }
  })();
  return {
    caughtUp,
    stop: async () => {
      stopped = true;
      source.waker.wake();
      await loop;
      if (!isCaughtUp) rejectCaughtUp(new Error('the subscription was stopped before it caught up'));
    },
  };
}
