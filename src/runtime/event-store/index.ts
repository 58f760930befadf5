/**
 * Entry point `event-contracts/runtime/event-store`. Loads no database or broker client:
 * the PostgreSQL and JetStream backends import theirs when they connect.
 */
export type * from './types.js';
export type { EventStoreBackend, EventRecord, BackendRecord, BackendReadRange, BackendRecordHandler, StreamAddress } from './backend.js';
export { createEventStore } from './store.js';
export type { EventStoreOptions } from './store.js';
export { MemoryEventStoreBackend } from './memory.js';
export { parseStreamId } from './stream-id.js';
export {
  WrongExpectedVersionError,
  UnknownEventTypeError,
  WrongAggregateError,
  MissingUpcasterError,
  CorruptRecordError,
  InvalidStreamIdError,
  InvalidCheckpointError,
  InvalidOptionError,
  EventStoreClosedError,
} from './errors.js';
export { PostgresEventStoreBackend } from './postgres/backend.js';
export type { PostgresEventStoreOptions } from './postgres/backend.js';
export { JetStreamEventStoreBackend } from './jetstream/backend.js';
export type { JetStreamEventStoreOptions } from './jetstream/backend.js';
export { defineReducer, loadAggregate, appendToAggregate, withOptimisticRetry, isWrongExpectedVersion, UnhandledEventVersionError, StreamSequenceError, ConcurrencyRetriesExhaustedError } from './aggregate.js';
export type { Reducer, DescriptorReducer, StoredEventOf, SnapshotPolicy, LoadOptions, LoadedAggregate, RetryOptions, AppendToAggregateResult } from './aggregate.js';
export { MemorySnapshotStore, createPgSnapshotStore, SnapshotEncodingError } from './snapshot.js';
export type { Snapshot, SnapshotStore, PgSnapshotStore, PgSnapshotStoreOptions } from './snapshot.js';
export { createProjectionRunner, isInfrastructureError, ProjectionFencedError, RebuildInProgressError } from './projection.js';
export type { ProjectionRunner, ProjectionOptions, ProjectionTx, ProjectionHandler, ProjectionDeadLetter, ProjectionStatus, RebuildProgress } from './projection.js';
