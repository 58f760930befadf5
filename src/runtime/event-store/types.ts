/**
 * The event store's public types: an ordered, append-only history per entity with
 * optimistic concurrency, typed by the generated event descriptors. Two backends implement
 * `EventStoreBackend` (JetStream, PostgreSQL) and pass one conformance suite; everything
 * else (typing, validation, upcasting, aggregates, projections) is written once over it.
 */
import type { Envelope, EventDescriptor } from '../types.js';

/**
 * What `append` expects the stream's version to be: its number of events before the
 * append, exactly; 'no-stream' (the stream must not exist, same as 0); or 'any'.
 */
export type ExpectedVersion = number | 'no-stream' | 'any';

/** One event to append. The store fills the envelope the same way the bus does. */
export interface NewEvent<T = unknown> {
  readonly event: EventDescriptor<T>;
  readonly data: T;
  /** Default: the payload's event id field, else a random UUID. */
  readonly id?: string;
  readonly correlationId?: string;
  readonly causationId?: string;
  readonly metadata?: Record<string, unknown>;
  readonly timestamp?: Date;
}

/** An event as stored: the envelope plus where it sits. */
export interface StoredEvent<T = unknown> extends Envelope<T> {
  /** `<domain>.<aggregate>.<entity id>`, e.g. 'payments.account.acc_…'. */
  readonly streamId: string;
  /** 1 for a stream's first event, then +1 per event: the version after this event. */
  readonly streamVersion: number;
  /**
   * Opaque, resume-after-this-event token for `readAll` and `subscribe` (a global position
   * on PostgreSQL, stream sequences on JetStream). Stored by projections with their read model.
   */
  readonly checkpoint: string;
  /** The schema version the event was stored at, when upcasting changed `version` on read. */
  readonly storedVersion?: string;
}

export interface AppendResult {
  /** The stream's version after the append. */
  readonly version: number;
  /** Checkpoint of the last event appended. */
  readonly checkpoint: string;
}

export interface ReadOptions {
  /** First stream version to read (inclusive). Default 1 forwards, the last one backwards. */
  readonly from?: number;
  /** Last stream version to read (inclusive). */
  readonly to?: number;
  readonly direction?: 'forwards' | 'backwards';
  /** At most this many events. */
  readonly limit?: number;
}

/** Which events `readAll` and `subscribe` see. Empty means every event in the store. */
export interface EventFilter {
  /** Aggregate types ('account', in every domain) or `<domain>.<type>` ('payments.account', in one domain). */
  readonly aggregates?: readonly string[];
  /** Event types ('transaction.created'). */
  readonly types?: readonly string[];
}

export interface SubscribeOptions {
  /** Resume after this checkpoint; absent: from the beginning. */
  readonly from?: string;
  /** Called for a stored record that cannot be read (corrupt, unknown type, no upcaster): it is skipped, never stops the subscription. */
  readonly onBadRecord?: (bad: BadRecord) => void | Promise<void>;
}

export interface BadRecord {
  readonly streamId?: string;
  readonly checkpoint: string;
  readonly reason: 'corrupt' | 'unknown-type' | 'unknown-version' | 'no-upcaster' | 'validation-failed';
  readonly detail: string;
}

/** A live subscription: catch-up first, then live, with no gap and no repeat at the switch. */
export interface EventSubscription {
  /** Resolves when the catch-up part has been delivered (the subscription is now live). */
  readonly caughtUp: Promise<void>;
  stop(): Promise<void>;
}

export type EventHandler = (event: StoredEvent) => void | Promise<void>;

/** Upcasters per `type@major`: each turns that major's payload into the next major's. */
export type Upcasters = Readonly<Record<string, (data: unknown, event: StoredEvent) => unknown>>;

/** The typed store users call. */
export interface EventStore {
  append(streamId: string, events: readonly NewEvent[], options?: { expectedVersion?: ExpectedVersion }): Promise<AppendResult>;
  read(streamId: string, options?: ReadOptions): AsyncIterable<StoredEvent>;
  /** Current version of a stream; 0 when it has no events. */
  version(streamId: string): Promise<number>;
  readAll(filter?: EventFilter, options?: { from?: string; limit?: number }): AsyncIterable<StoredEvent>;
  subscribe(filter: EventFilter, handler: EventHandler, options?: SubscribeOptions): Promise<EventSubscription>;
  close(): Promise<void>;
}
