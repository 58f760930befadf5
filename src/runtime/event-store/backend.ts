/**
 * The seam between the typed store (store.ts) and a backend (memory, PostgreSQL,
 * JetStream). A backend stores and returns envelopes as plain JSON-safe records in order;
 * it knows nothing of descriptors, validation or upcasting, and hands every record back as
 * it found it (decoded JSON or the reason it could not be decoded) for the typed layer to judge.
 */
import type { AppendResult, EventFilter, EventSubscription, ExpectedVersion, ReadOptions } from './types.js';

/** A stream id taken apart: `<domain>.<aggregate>.<entityId>`. */
export interface StreamAddress {
  readonly streamId: string;
  readonly domain: string;
  readonly aggregate: string;
  readonly entityId: string;
}

/** An envelope as a backend stores it. */
export interface EventRecord {
  readonly id: string;
  readonly type: string;
  readonly version: string;
  readonly source: string;
  /** ISO-8601. */
  readonly time: string;
  readonly data: unknown;
  readonly metadata: Readonly<Record<string, unknown>>;
  readonly correlationId?: string;
  readonly causationId?: string;
}

/** What a backend read back: the position and either the decoded record (not yet checked) or why it could not decode it. */
export interface BackendRecord {
  readonly streamId: string | undefined;
  readonly streamVersion: number;
  readonly checkpoint: string;
  /** Decoded JSON, unchecked: store.ts checks its shape. Absent when `corrupt` says why. */
  readonly record?: unknown;
  readonly corrupt?: string;
}

export interface BackendReadRange {
  readonly from?: number;
  readonly to?: number;
  readonly direction: 'forwards' | 'backwards';
  readonly limit?: number;
}

/** Delivered in checkpoint order, one at a time: the backend awaits each before the next. */
export type BackendRecordHandler = (record: BackendRecord) => Promise<void>;

export interface EventStoreBackend {
  readonly name: string;
  /** Called once by createEventStore with the aggregates the contract declares (a backend may provision for them). */
  prepare?(aggregates: ReadonlyArray<{ domain: string; aggregate: string }>): Promise<void>;
  /** Appends all records or none, after checking `expected` atomically with the write. */
  append(stream: StreamAddress, records: readonly EventRecord[], expected: ExpectedVersion): Promise<AppendResult>;
  read(stream: StreamAddress, range: BackendReadRange): AsyncIterable<BackendRecord>;
  version(stream: StreamAddress): Promise<number>;
  /**
   * Records after `from` in checkpoint order. Type filtering may be left to the caller
   * (store.ts filters again), aggregate filtering must be done here.
   */
  readAll(filter: EventFilter, options: { from?: string; limit?: number }): AsyncIterable<BackendRecord>;
  /** Catch-up from `from`, then live; no gap and no repeat at the switch. */
  subscribe(filter: EventFilter, handler: BackendRecordHandler, options: { from?: string }): Promise<EventSubscription>;
  close(): Promise<void>;
}

export type { ReadOptions };
