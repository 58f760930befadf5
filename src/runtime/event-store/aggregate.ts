/**
 * Aggregates over the event store: an entity's state is the fold of its stream's events.
 * `loadAggregate` folds (from a snapshot when one fits), `appendToAggregate` runs the
 * load → decide → append-at-the-version-we-read loop and retries it when another writer
 * got there first. The store checks the version; this module only makes the loop easy.
 */
import { backoffDelay, sleep } from '../backoff.js';
import { EventContractsError } from '../errors.js';
import type { EventDescriptor } from '../types.js';
import type { Snapshot, SnapshotStore } from './snapshot.js';
import type { EventStore, NewEvent, StoredEvent } from './types.js';

/**
 * A fold over a stream. `E` is the union of events the reducer understands; the store hands
 * over whatever the stream holds, so `apply` must cope with (ignore or reject) others.
 */
export interface Reducer<S, E extends StoredEvent = StoredEvent> {
  /**
   * Names the shape of `S`, e.g. 'account-state@3'. Change it whenever `S` or `apply` change
   * in a way an old state would not survive: snapshots taken under another name are ignored.
   */
  readonly schemaVersion: string;
  /** The state before the first event. Copied for each load, so `apply` may mutate its input. */
  readonly initial: S;
  apply(state: S, event: E): S;
}

/** The stored form of the events one descriptor, or a union of descriptors, describes. */
export type StoredEventOf<D> = D extends EventDescriptor<infer T> ? StoredEvent<T> : never;

/** A reducer built from one handler per event descriptor; see `defineReducer`. */
export interface DescriptorReducer<S, E extends StoredEvent> extends Reducer<S, E> {
  /** Adds the handler of one event type at one major version; its payload is typed by the descriptor. */
  on<T>(descriptor: EventDescriptor<T>, handler: (state: S, data: T, event: StoredEvent<T>) => S): DescriptorReducer<S, E | StoredEvent<T>>;
}

/** The stream holds an event of a type the reducer handles, at a major version it has no handler for. */
export class UnhandledEventVersionError extends EventContractsError {
  constructor(
    readonly streamId: string,
    readonly streamVersion: number,
    readonly eventType: string,
    readonly eventVersion: string,
    readonly handled: readonly string[],
  ) {
    super(`${streamId}@${streamVersion}: ${eventType}@${eventVersion} has no handler (the reducer handles ${handled.join(', ')}); add one, or an upcaster to a handled version`);
  }
}

/** The stream's versions are not 1, 2, 3…: folding past a gap would give a wrong state. */
export class StreamSequenceError extends EventContractsError {
  constructor(
    readonly streamId: string,
    readonly expected: number,
    readonly got: number,
  ) {
    super(`${streamId}: expected stream version ${expected}, read ${got}`);
  }
}

const majorOf = (version: string): string => version.split('.', 1)[0] ?? version;

/**
 * A typed reducer from one handler per descriptor:
 *
 *     const account = defineReducer({ schemaVersion: 'account@1', initial: { balance: 0 } })
 *       .on(TransactionCreatedV1Event, (s, data) => ({ balance: s.balance + data.amount }));
 *
 * Events are matched on type and major version (upcasting brings older majors up first). An
 * event of a type no handler names is ignored: a stream may carry events that do not change
 * this state. An event of a handled type at an unhandled major is an error, not ignored: it
 * means an upcaster or a handler is missing, and skipping it would give a wrong state.
 */
export function defineReducer<S>(base: { schemaVersion: string; initial: S }): DescriptorReducer<S, never> {
  return build<S, never>(base, new Map());
}

type AnyHandler<S> = (state: S, data: unknown, event: StoredEvent) => S;

function build<S, E extends StoredEvent>(base: { schemaVersion: string; initial: S }, handlers: ReadonlyMap<string, AnyHandler<S>>): DescriptorReducer<S, E> {
  const types = new Set([...handlers.keys()].map((key) => key.slice(0, key.lastIndexOf('@'))));
  return {
    schemaVersion: base.schemaVersion,
    initial: base.initial,
    apply(state, event) {
      const handler = handlers.get(`${event.type}@${majorOf(event.version)}`);
      if (handler) return handler(state, event.data, event);
      if (!types.has(event.type)) return state;
      throw new UnhandledEventVersionError(event.streamId, event.streamVersion, event.type, event.version, [...handlers.keys()]);
    },
    on<T>(descriptor: EventDescriptor<T>, handler: (state: S, data: T, event: StoredEvent<T>) => S) {
      const key = `${descriptor.type}@${majorOf(descriptor.version)}`;
      if (handlers.has(key)) throw new RangeError(`the reducer already handles ${key}`);
      const next = new Map(handlers);
      next.set(key, handler as AnyHandler<S>);
      return build<S, E | StoredEvent<T>>(base, next);
    },
  };
}

// ---------------------------------------------------------------------------------------
// Loading
// ---------------------------------------------------------------------------------------

export interface SnapshotPolicy {
  readonly store: SnapshotStore;
  /** Take a snapshot after a load that folded at least this many events past the last one. */
  readonly every: number;
  /**
   * A snapshot that could not be read or written. The load still succeeds from the events
   * (a snapshot is a cache). Default: the error is thrown, so a broken snapshot table is seen.
   */
  readonly onError?: (error: unknown, streamId: string) => void;
}

export interface LoadOptions {
  readonly snapshots?: SnapshotPolicy;
}

export interface LoadedAggregate<S> {
  readonly streamId: string;
  readonly state: S;
  /** The stream's version the state reflects: 0 for a stream with no events. Append with it as the expected version. */
  readonly version: number;
  /** The version of the snapshot the fold started from, when one was used. */
  readonly fromSnapshot?: number;
  /** Events folded by this load (after the snapshot, if any). */
  readonly eventsFolded: number;
  /** True when this load stored a new snapshot. */
  readonly snapshotTaken: boolean;
}

/**
 * Folds `streamId`'s events with `reducer`. With `snapshots`, starts from the stream's
 * snapshot when it was taken under the reducer's `schemaVersion` and its version is still
 * in the stream (a stream that was deleted and rewritten shorter invalidates it); otherwise
 * folds from the first event. Afterwards, stores a snapshot when the fold went `every` or
 * more events past the one it started from.
 */
export async function loadAggregate<S, E extends StoredEvent>(
  store: EventStore,
  streamId: string,
  reducer: Reducer<S, E>,
  options: LoadOptions = {},
): Promise<LoadedAggregate<S>> {
  const policy = options.snapshots;
  if (policy && !(Number.isSafeInteger(policy.every) && policy.every >= 1)) throw new RangeError(`snapshots.every must be a positive integer, got ${policy.every}`);
  const snapshot = policy ? await readSnapshot(policy, streamId, reducer.schemaVersion) : undefined;
  const fromSnapshot = snapshot ? await foldFrom(store, streamId, reducer, snapshot) : undefined;
  const folded = fromSnapshot ?? (await foldFrom(store, streamId, reducer, undefined));
  const base = folded.from?.version ?? 0;
  let snapshotTaken = false;
  if (policy && folded.version - base >= policy.every) {
    try {
      await policy.store.save({ streamId, version: folded.version, schemaVersion: reducer.schemaVersion, state: folded.state });
      snapshotTaken = true;
    } catch (error) {
      if (!policy.onError) throw error;
      policy.onError(error, streamId);
    }
  }
  return {
    streamId,
    state: folded.state,
    version: folded.version,
    ...(folded.from ? { fromSnapshot: folded.from.version } : {}),
    eventsFolded: folded.version - base,
    snapshotTaken,
  };
}

async function readSnapshot(policy: SnapshotPolicy, streamId: string, schemaVersion: string): Promise<Snapshot | undefined> {
  let snapshot: Snapshot | undefined;
  try {
    snapshot = await policy.store.load(streamId);
  } catch (error) {
    if (!policy.onError) throw error;
    policy.onError(error, streamId);
    return undefined;
  }
  if (!snapshot || snapshot.schemaVersion !== schemaVersion || !Number.isSafeInteger(snapshot.version) || snapshot.version < 1) return undefined;
  return snapshot;
}

/**
 * Folds from the snapshot (or from the initial state). From a snapshot, the read starts AT
 * its version, not after it: the event there must exist, which catches a snapshot that is
 * ahead of its stream; undefined then, and the caller folds from the start.
 */
interface Folded<S> {
  state: S;
  version: number;
  from?: Snapshot;
}

async function foldFrom<S, E extends StoredEvent>(store: EventStore, streamId: string, reducer: Reducer<S, E>, from: undefined): Promise<Folded<S>>;
async function foldFrom<S, E extends StoredEvent>(store: EventStore, streamId: string, reducer: Reducer<S, E>, from: Snapshot): Promise<Folded<S> | undefined>;
async function foldFrom<S, E extends StoredEvent>(
  store: EventStore,
  streamId: string,
  reducer: Reducer<S, E>,
  from: Snapshot | undefined,
): Promise<Folded<S> | undefined> {
  let state = from ? (from.state as S) : structuredClone(reducer.initial);
  let version = from ? from.version - 1 : 0;
  for await (const event of store.read(streamId, { from: from ? from.version : 1 })) {
    if (event.streamVersion !== version + 1) {
      if (from && version === from.version - 1) return undefined;
      throw new StreamSequenceError(streamId, version + 1, event.streamVersion);
    }
    version = event.streamVersion;
    // The snapshot already holds the event at its own version.
    if (from && version === from.version) continue;
    state = reducer.apply(state, event as E);
  }
  if (from && version < from.version) return undefined;
  return { state, version, ...(from ? { from } : {}) };
}

// ---------------------------------------------------------------------------------------
// Writing: optimistic concurrency
// ---------------------------------------------------------------------------------------

/**
 * True for the store's "the stream moved on since you read it" error. Matched by name as
 * well as class, so a copy of the runtime loaded twice (a bundled SDK beside the app's)
 * still counts.
 */
export function isWrongExpectedVersion(error: unknown): boolean {
  return error instanceof Error && error.name === 'WrongExpectedVersionError';
}

/** Still conflicting after the last attempt: the stream is written faster than this writer can decide. */
export class ConcurrencyRetriesExhaustedError extends EventContractsError {
  constructor(
    readonly attempts: number,
    cause: unknown,
  ) {
    super(`the stream changed under each of ${attempts} attempts`, { cause });
  }
}

export interface RetryOptions {
  /** Tries in all, the first included. Default 5. */
  readonly attempts?: number;
  /** Pause before try n+1, given n failed. Default: 10 ms doubling to 500 ms, half of it random (so racing writers spread out). */
  readonly delayMs?: (failed: number) => number;
}

const CONFLICT_BACKOFF = { initialMs: 10, maxMs: 500, factor: 2, jitter: 0.5 };

/**
 * Runs `attempt` again, up to `attempts` times in all, while it fails with
 * WrongExpectedVersionError; any other error is thrown at once. Each try must re-read what
 * it decides on (that is the point: the state it read is stale).
 */
export async function withOptimisticRetry<T>(attempt: (n: number) => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const attempts = options.attempts ?? 5;
  if (!Number.isSafeInteger(attempts) || attempts < 1) throw new RangeError(`attempts must be a positive integer, got ${attempts}`);
  for (let n = 1; ; n++) {
    try {
      return await attempt(n);
    } catch (error) {
      if (!isWrongExpectedVersion(error)) throw error;
      if (n >= attempts) throw new ConcurrencyRetriesExhaustedError(attempts, error);
      await sleep(options.delayMs ? options.delayMs(n) : backoffDelay(CONFLICT_BACKOFF, n));
    }
  }
}

export interface AppendToAggregateResult<S> {
  /** The aggregate as loaded by the successful try (before the new events). */
  readonly loaded: LoadedAggregate<S>;
  /** The stream's version after the append (unchanged when `decide` returned no events). */
  readonly version: number;
  readonly appended: number;
  /** Tries it took, 1 without conflict. */
  readonly attempts: number;
}

/**
 * Load → decide → append at the version loaded; on WrongExpectedVersionError, all three
 * again (bounded). `decide` returns the new events (none: nothing is written) or throws to
 * refuse the command; it may run several times, so it must not have side effects.
 */
export async function appendToAggregate<S, E extends StoredEvent>(
  store: EventStore,
  streamId: string,
  reducer: Reducer<S, E>,
  decide: (state: S, version: number) => readonly NewEvent[] | Promise<readonly NewEvent[]>,
  options: LoadOptions & RetryOptions = {},
): Promise<AppendToAggregateResult<S>> {
  return withOptimisticRetry(async (attempt) => {
    const loaded = await loadAggregate(store, streamId, reducer, options);
    const events = await decide(loaded.state, loaded.version);
    if (events.length === 0) return { loaded, version: loaded.version, appended: 0, attempts: attempt };
    const result = await store.append(streamId, events, { expectedVersion: loaded.version === 0 ? 'no-stream' : loaded.version });
    return { loaded, version: result.version, appended: events.length, attempts: attempt };
  }, options);
}
