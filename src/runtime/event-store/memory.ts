/**
 * An event store backend in memory: one process, no durability. For tests and for code
 * written over the EventStore interface (aggregates, projections) before a real backend is
 * chosen. Records are kept as JSON text, as a database would keep them, so a reader never
 * shares objects with the writer, and `writeRaw` can store a damaged record for tests.
 */
import type { BackendReadRange, BackendRecord, BackendRecordHandler, EventRecord, EventStoreBackend, StreamAddress } from './backend.js';
import { InvalidCheckpointError, WrongExpectedVersionError } from './errors.js';
import { expectationHolds, inRange } from './options.js';
import { pollingSubscription } from './polling-subscription.js';
import { aggregateMatcher, categoryOf } from './stream-id.js';
import type { AppendResult, EventFilter, EventSubscription, ExpectedVersion } from './types.js';
import { Waker } from './waker.js';

interface Row {
  readonly streamId: string;
  readonly category: { domain: string; aggregate: string } | undefined;
  readonly version: number;
  readonly text: string;
}

export class MemoryEventStoreBackend implements EventStoreBackend {
  readonly name = 'memory';
  /** Position p (1-based) is rows[p - 1]. */
  private readonly rows: Row[] = [];
  private readonly streams = new Map<string, number[]>();
  private readonly waker = new Waker();
  private readonly subscriptions = new Set<EventSubscription>();

  async append(stream: StreamAddress, records: readonly EventRecord[], expected: ExpectedVersion): Promise<AppendResult> {
    const positions = this.streams.get(stream.streamId) ?? [];
    const current = positions.length;
    if (!expectationHolds(expected, current)) throw new WrongExpectedVersionError(stream.streamId, expected, current);
    for (const [i, r] of records.entries()) {
      this.rows.push({ streamId: stream.streamId, category: stream, version: current + i + 1, text: JSON.stringify(r) });
      positions.push(this.rows.length);
    }
    this.streams.set(stream.streamId, positions);
    if (records.length > 0) this.waker.wake();
    return { version: positions.length, checkpoint: records.length > 0 ? String(this.rows.length) : '' };
  }

  /** Stores `text` as the next record of `streamId`, unchecked: how tests put a damaged record into the store. */
  writeRaw(streamId: string, text: string): void {
    const positions = this.streams.get(streamId) ?? [];
    this.rows.push({ streamId, category: categoryOf(streamId), version: positions.length + 1, text });
    positions.push(this.rows.length);
    this.streams.set(streamId, positions);
    this.waker.wake();
  }

  async *read(stream: StreamAddress, range: BackendReadRange): AsyncIterable<BackendRecord> {
    const positions = this.streams.get(stream.streamId) ?? [];
    const order = range.direction === 'forwards' ? positions : [...positions].reverse();
    let left = range.limit ?? Infinity;
    for (const p of order) {
      const row = this.rows[p - 1]!;
      if (!inRange(range, row.version)) continue;
      if (left-- <= 0) return;
      yield this.record(p);
    }
  }

  async version(stream: StreamAddress): Promise<number> {
    return this.streams.get(stream.streamId)?.length ?? 0;
  }

  async *readAll(filter: EventFilter, options: { from?: string }): AsyncIterable<BackendRecord> {
    const matches = aggregateMatcher(filter.aggregates);
    for (let p = this.position(options.from) + 1; p <= this.rows.length; p++) {
      const row = this.rows[p - 1]!;
      if (matches && (row.category === undefined || !matches(row.category.domain, row.category.aggregate))) continue;
      yield this.record(p);
    }
  }

  async subscribe(filter: EventFilter, handler: BackendRecordHandler, options: { from?: string }): Promise<EventSubscription> {
    this.position(options.from); // refuse a foreign checkpoint now, not in the loop
    const matches = aggregateMatcher(filter.aggregates);
    const sub = pollingSubscription(
      {
        waker: this.waker,
        pollMs: 1000,
        pageSize: 500,
        fetch: async (after, max) => {
          const out: BackendRecord[] = [];
          let p = this.position(after) + 1;
          for (; p <= this.rows.length && out.length < max; p++) {
            const row = this.rows[p - 1]!;
            if (matches && (row.category === undefined || !matches(row.category.domain, row.category.aggregate))) continue;
            out.push(this.record(p));
          }
          // Filtered-out rows still move the cursor: report the last scanned position through an empty page.
          return out;
        },
      },
      handler,
      options.from,
    );
    const tracked: EventSubscription = {
      caughtUp: sub.caughtUp,
      stop: async () => {
        this.subscriptions.delete(tracked);
        await sub.stop();
      },
    };
    this.subscriptions.add(tracked);
    return tracked;
  }

  /** Stops this backend's subscriptions; the records stay (a store over this backend may be closed and another opened). */
  async close(): Promise<void> {
    await Promise.allSettled([...this.subscriptions].map((sub) => sub.stop()));
  }

  private position(checkpoint: string | undefined): number {
    if (checkpoint === undefined || checkpoint === '') return 0;
    if (!/^[0-9]{1,15}$/.test(checkpoint)) throw new InvalidCheckpointError(checkpoint, this.name);
    return Number(checkpoint);
  }

  private record(p: number): BackendRecord {
    const row = this.rows[p - 1]!;
    let record: unknown;
    try {
      record = JSON.parse(row.text);
    } catch (err) {
      return { streamId: row.streamId, streamVersion: row.version, checkpoint: String(p), corrupt: `not JSON: ${(err as Error).message}` };
    }
    return { streamId: row.streamId, streamVersion: row.version, checkpoint: String(p), record };
  }
}
