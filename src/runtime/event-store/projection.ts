/**
 * Projections into PostgreSQL: a runner subscribes to the store from its checkpoint and, for
 * each batch of events, runs the handler and stores the new checkpoint in ONE transaction.
 * Either both are committed or neither, so a crash anywhere replays exactly the events
 * whose effects were not committed: each event's effect lands once.
 *
 * Read models are versioned by generation: the handler writes to `tx.table('balances')`,
 * which is `"balances_g<generation>"`. `rebuild()` replays every event into a new generation
 * while the active one keeps serving and following the store, then makes the new one
 * active in one transaction. Readers ask `activeTable()` which table to read.
 *
 * A handler that throws on an event does not stop the projection: the event goes to the
 * dead-letter table (and `onDeadLetter`) with the reason, in the same transaction as the
 * checkpoint that moves past it. Errors that say the database or the connection failed
 * (SQLSTATE classes 08, 40, 53, 57) are not the event's fault: the transaction is rolled
 * back and the runner resumes from its checkpoint.
 *
 * Tables (names configurable, always quoted): checkpoints `event_projections`
 * (projection, generation, checkpoint, status building|active|retired, counts) and dead
 * letters `event_projection_dead_letters`.
 */
import type { Pool, PoolClient, QueryResult, QueryResultRow } from 'pg';
import { backoffDelay, sleep } from '../backoff.js';
import { EventContractsError } from '../errors.js';
import { quoteIdent } from './postgres/sql.js';
import { qualifiedName } from './snapshot.js';
import type { BadRecord, EventFilter, EventStore, EventSubscription, StoredEvent } from './types.js';

/** What a handler gets besides the event: the open transaction and where to write. */
export interface ProjectionTx {
  /** The read-model generation being written. */
  readonly generation: number;
  /** Runs in the transaction that will also store the checkpoint. Never COMMIT or ROLLBACK here. */
  query<R extends QueryResultRow = QueryResultRow>(text: string, values?: unknown[]): Promise<QueryResult<R>>;
  /** The generation's table for `base`, quoted (schema-qualified with `readModelSchema`): `"balances_g3"`. */
  table(base: string): string;
}

export type ProjectionHandler = (event: StoredEvent, tx: ProjectionTx) => void | Promise<void>;

export interface ProjectionDeadLetter {
  readonly projection: string;
  readonly generation: number;
  readonly checkpoint: string;
  readonly streamId?: string;
  readonly streamVersion?: number;
  readonly eventId?: string;
  readonly eventType?: string;
  readonly eventVersion?: string;
  /** 'handler-failed', or why the store could not read the record (BadRecord reasons). */
  readonly reason: 'handler-failed' | BadRecord['reason'];
  readonly detail: string;
}

export interface RebuildProgress {
  readonly generation: number;
  /** Events replayed into the new generation so far (dead letters included). */
  readonly done: number;
  /** Estimate: the events the active generation has seen. Absent on a first build. */
  readonly total?: number;
  readonly phase: 'replaying' | 'switched';
}

export interface ProjectionOptions {
  readonly store: EventStore;
  readonly pool: Pool;
  /** The projection's name: letters, digits, '_' and '-'; its checkpoint rows are keyed by it. */
  readonly name: string;
  readonly filter?: EventFilter;
  /**
   * Applies one event through `tx`. Only what it writes through `tx` is exactly-once: a batch
   * whose transaction rolls back (a crash, another handler failing in the same batch) is
   * applied again, so other side effects (calls, messages) may happen more than once.
   */
  readonly handle: ProjectionHandler;
  /** Creates a generation's read-model tables (first start, each rebuild), in the transaction that registers it. */
  readonly prepare?: (tx: ProjectionTx) => void | Promise<void>;
  /** Drops a generation's tables once a rebuild replaced it. Default: they are kept. */
  readonly retire?: (tx: ProjectionTx) => void | Promise<void>;
  /** Told of each dead letter after it was committed. */
  readonly onDeadLetter?: (deadLetter: ProjectionDeadLetter) => void;
  /** Told of each failure the runner recovers from by resuming at its checkpoint. */
  readonly onError?: (error: unknown) => void;
  /** Schema of the runner's checkpoint and dead-letter tables. Default: the search path. */
  readonly schema?: string;
  /** Schema of the read-model tables `tx.table()` names. Default: the search path. */
  readonly readModelSchema?: string;
  /** Default 'event_projections'. */
  readonly checkpointTable?: string;
  /** Default 'event_projection_dead_letters'. */
  readonly deadLetterTable?: string;
  /** Most events per transaction (live catch-up and rebuild). Default 200. */
  readonly batchSize?: number;
}

export interface ProjectionStatus {
  readonly name: string;
  readonly generations: ReadonlyArray<{
    readonly generation: number;
    readonly status: 'building' | 'active' | 'retired';
    readonly checkpoint: string | null;
    readonly events: number;
    readonly deadLetters: number;
  }>;
}

export interface ProjectionRunner {
  readonly name: string;
  /** Creates the runner's tables when missing (idempotent; safe from several processes at once). */
  migrate(): Promise<void>;
  /**
   * Follows the store into the active generation (creating generation 1 on the first start).
   * Resolves once caught up; rejects when the first attempt fails (store or database
   * unreachable). Later failures are reported to `onError` and retried from the checkpoint.
   */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Replays every event into a new generation, then switches to it. Resumes an interrupted rebuild. */
  rebuild(options?: { onProgress?: (progress: RebuildProgress) => void; fresh?: boolean }): Promise<{ generation: number; events: number; deadLetters: number }>;
  /** The active generation's table for `base`, quoted; undefined before the first start. */
  activeTable(base: string): Promise<string | undefined>;
  status(): Promise<ProjectionStatus>;
}

/** Another runner moved this projection's checkpoint: two runners of one projection would apply events twice. */
export class ProjectionFencedError extends EventContractsError {
  constructor(
    readonly projection: string,
    readonly generation: number,
    detail: string,
    /** True when a rebuild replaced the generation (the runner then moves to the new one). */
    readonly generationRetired = false,
  ) {
    super(`projection ${projection} (generation ${generation}): ${detail}`);
  }
}

/** `rebuild` while another rebuild of the same projection runs. */
export class RebuildInProgressError extends EventContractsError {
  constructor(readonly projection: string) {
    super(`a rebuild of projection ${projection} is already running`);
  }
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/;
const DETAIL_LIMIT = 2_000;
const DEFAULT_BATCH = 200;
/** Queued events beyond which the subscription waits: bounds memory while catching up. */
const QUEUE_HIGH_WATER = 1_000;
const RESTART_BACKOFF = { initialMs: 100, maxMs: 5_000, factor: 2, jitter: 0.2 };

/**
 * PostgreSQL text cannot hold U+0000, and an error message is not ours to trust: escape NUL,
 * and cut what is too long to be useful.
 */
function pgText(value: string, limit = DETAIL_LIMIT): string {
  const clean = value.replaceAll('\u0000', '\\u0000');
  return clean.length > limit ? clean.slice(0, limit) + '…' : clean;
}

function errorText(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  try {
    return `thrown ${typeof error}: ${String(error)}`;
  } catch {
    return `thrown ${typeof error}`;
  }
}

/** The database or the connection failed, not the handler's logic: retry the transaction rather than dead-letter the event. */
export function isInfrastructureError(error: unknown): boolean {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  if (typeof code === 'string' && /^(08|40|53|57)/.test(code)) return true;
  if (code === 'ECONNRESET' || code === 'ECONNREFUSED' || code === 'EPIPE' || code === 'ETIMEDOUT') return true;
  return error instanceof Error && /Connection terminated|Client has encountered a connection error|Client was closed/.test(error.message);
}

type Item = { kind: 'event'; event: StoredEvent } | { kind: 'bad'; bad: BadRecord };

/** Internal: a handler failed on the fast path; the batch is applied again with savepoints. */
class HandlerFailed extends Error {}

interface Row {
  generation: number;
  status: 'building' | 'active' | 'retired';
  checkpoint: string | null;
  events: string;
  dead_letters: string;
}

export function createProjectionRunner(options: ProjectionOptions): ProjectionRunner {
  const { store, pool, name, filter = {}, handle } = options;
  if (typeof name !== 'string' || !NAME.test(name)) throw new RangeError(`projection name must be letters, digits, '_' and '-' (at most 63), got ${JSON.stringify(name)}`);
  const batchSize = options.batchSize ?? DEFAULT_BATCH;
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
  const checkpoints = qualifiedName(options.checkpointTable ?? 'event_projections', options.schema);
  const deadLetters = qualifiedName(options.deadLetterTable ?? 'event_projection_dead_letters', options.schema);
  const activeIndex = quoteIdent(`${options.checkpointTable ?? 'event_projections'}_one_active`);
  const tableOf = (generation: number) => (base: string) => qualifiedName(`${base}_g${generation}`, options.readModelSchema);

  const txFor = (client: PoolClient, generation: number): ProjectionTx => ({
    generation,
    query: <R extends QueryResultRow>(text: string, values?: unknown[]) => client.query<R>(text, values),
    table: tableOf(generation),
  });

  async function inTransaction<T>(client: PoolClient, work: () => Promise<T>): Promise<T> {
    await client.query('BEGIN');
    try {
      const result = await work();
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  }

  async function withClient<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    const client = await pool.connect();
    let broken: Error | undefined;
    try {
      return await work(client);
    } catch (error) {
      if (isInfrastructureError(error)) broken = error as Error;
      throw error;
    } finally {
      client.release(broken);
    }
  }

  async function migrate(): Promise<void> {
    await withClient((client) =>
      inTransaction(client, async () => {
        await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`event-contracts:migrate:${checkpoints}`]);
        await client.query(
          `CREATE TABLE IF NOT EXISTS ${checkpoints} (
             "projection" text NOT NULL,
             "generation" integer NOT NULL CHECK ("generation" > 0),
             "status" text NOT NULL CHECK ("status" IN ('building', 'active', 'retired')),
             "checkpoint" text,
             "events" bigint NOT NULL DEFAULT 0,
             "dead_letters" bigint NOT NULL DEFAULT 0,
             "updated_at" timestamptz NOT NULL DEFAULT now(),
             PRIMARY KEY ("projection", "generation")
           )`,
        );
        // At most one active generation per projection: the switch cannot leave two.
        await client.query(`CREATE UNIQUE INDEX IF NOT EXISTS ${activeIndex} ON ${checkpoints} ("projection") WHERE "status" = 'active'`);
        await client.query(
          `CREATE TABLE IF NOT EXISTS ${deadLetters} (
             "id" bigserial PRIMARY KEY,
             "projection" text NOT NULL,
             "generation" integer NOT NULL,
             "checkpoint" text NOT NULL,
             "stream_id" text,
             "stream_version" bigint,
             "event_id" text,
             "event_type" text,
             "event_version" text,
             "reason" text NOT NULL,
             "detail" text NOT NULL,
             "event" text,
             "failed_at" timestamptz NOT NULL DEFAULT now()
           )`,
        );
      }),
    );
  }

  async function rows(client: PoolClient | Pool): Promise<Row[]> {
    const result = await client.query<Row>(
      `SELECT "generation", "status", "checkpoint", "events", "dead_letters" FROM ${checkpoints} WHERE "projection" = $1 ORDER BY "generation"`,
      [name],
    );
    return result.rows;
  }

  /** The active generation and its checkpoint; on the very first start, generation 1 is created and prepared. */
  async function activeGeneration(): Promise<{ generation: number; checkpoint: string | null }> {
    return withClient((client) =>
      inTransaction(client, async () => {
        await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`event-contracts:projection:${name}`]);
        const all = await rows(client);
        const active = all.find((r) => r.status === 'active');
        if (active) return { generation: active.generation, checkpoint: active.checkpoint };
        // None active: a first start (or only a first rebuild under way). Serve a new generation.
        const generation = Math.max(0, ...all.map((r) => r.generation)) + 1;
        await client.query(`INSERT INTO ${checkpoints} ("projection", "generation", "status") VALUES ($1, $2, 'active')`, [name, generation]);
        await options.prepare?.(txFor(client, generation));
        return { generation, checkpoint: null };
      }),
    );
  }

  /**
   * Applies items to `generation` in one transaction, if its row still says what this
   * runner last saw (its status and checkpoint): the row lock serialises this with a
   * rebuild's switch and with any second runner, which is fenced off instead of applying
   * the same events again.
   *
   * First without savepoints (one round trip per handler query, no more); when a handler
   * fails, the whole transaction is rolled back and the batch applied again with a
   * savepoint around each handler, so only the failing event's writes are undone.
   */
  async function applyBatch(
    client: PoolClient,
    generation: number,
    expect: { status: 'active' | 'building'; checkpoint: string | null },
    items: readonly Item[],
  ): Promise<{ checkpoint: string; deadLetters: ProjectionDeadLetter[] }> {
    try {
      return await applyBatchOnce(client, generation, expect, items, false);
    } catch (error) {
      // 25P02: a handler caught its own failed query and returned, leaving the transaction
      // aborted; with savepoints, that handler's event is the one dead-lettered.
      if (!(error instanceof HandlerFailed) && (error as { code?: unknown }).code !== '25P02') throw error;
      return applyBatchOnce(client, generation, expect, items, true);
    }
  }

  async function applyBatchOnce(
    client: PoolClient,
    generation: number,
    expect: { status: 'active' | 'building'; checkpoint: string | null },
    items: readonly Item[],
    careful: boolean,
  ): Promise<{ checkpoint: string; deadLetters: ProjectionDeadLetter[] }> {
    return inTransaction(client, async () => {
      const { rows: locked } = await client.query<{ status: string; checkpoint: string | null }>(
        `SELECT "status", "checkpoint" FROM ${checkpoints} WHERE "projection" = $1 AND "generation" = $2 FOR UPDATE`,
        [name, generation],
      );
      const row = locked[0];
      if (!row || row.status !== expect.status) {
        throw new ProjectionFencedError(name, generation, `the generation is ${row ? row.status : 'gone'}, not ${expect.status}`, row?.status === 'retired');
      }
      if (row.checkpoint !== expect.checkpoint) throw new ProjectionFencedError(name, generation, 'its checkpoint was moved by another runner');
      const tx = txFor(client, generation);
      const dead: ProjectionDeadLetter[] = [];
      for (const item of items) {
        const letter = item.kind === 'bad' ? badRecordLetter(generation, item.bad) : careful ? await runHandlerCarefully(client, tx, item.event) : await runHandler(tx, item.event);
        if (letter) {
          dead.push(letter);
          await insertDeadLetter(client, letter, item.kind === 'event' ? item.event : undefined);
        }
      }
      const last = items[items.length - 1]!;
      const checkpoint = last.kind === 'event' ? last.event.checkpoint : last.bad.checkpoint;
      await client.query(
        `UPDATE ${checkpoints} SET "checkpoint" = $3, "events" = "events" + $4, "dead_letters" = "dead_letters" + $5, "updated_at" = now()
         WHERE "projection" = $1 AND "generation" = $2`,
        [name, generation, checkpoint, items.length, dead.length],
      );
      return { checkpoint, deadLetters: dead };
    });
  }

  async function runHandler(tx: ProjectionTx, event: StoredEvent): Promise<undefined> {
    try {
      await handle(event, tx);
      return undefined;
    } catch (error) {
      if (isInfrastructureError(error)) throw error;
      throw new HandlerFailed();
    }
  }

  /** The handler inside a savepoint: its failure undoes only its own writes, and the event becomes a dead letter. */
  async function runHandlerCarefully(client: PoolClient, tx: ProjectionTx, event: StoredEvent): Promise<ProjectionDeadLetter | undefined> {
    await client.query('SAVEPOINT "event_contracts_handler"');
    try {
      await handle(event, tx);
      await client.query('RELEASE SAVEPOINT "event_contracts_handler"');
      return undefined;
    } catch (error) {
      if (isInfrastructureError(error)) throw error;
      await client.query('ROLLBACK TO SAVEPOINT "event_contracts_handler"');
      return {
        projection: name,
        generation: tx.generation,
        checkpoint: event.checkpoint,
        streamId: event.streamId,
        streamVersion: event.streamVersion,
        eventId: event.id,
        eventType: event.type,
        eventVersion: event.version,
        reason: 'handler-failed',
        detail: pgText(errorText(error)),
      };
    }
  }

  function badRecordLetter(generation: number, bad: BadRecord): ProjectionDeadLetter {
    return {
      projection: name,
      generation,
      checkpoint: bad.checkpoint,
      ...(bad.streamId !== undefined ? { streamId: bad.streamId } : {}),
      reason: bad.reason,
      detail: pgText(String(bad.detail)),
    };
  }

  async function insertDeadLetter(client: PoolClient, letter: ProjectionDeadLetter, event: StoredEvent | undefined): Promise<void> {
    let body: string | null = null;
    if (event) {
      try {
        body = pgText(JSON.stringify(event), 1_000_000);
      } catch (error) {
        body = pgText(`(the event has no JSON form: ${errorText(error)})`);
      }
    }
    await client.query(
      `INSERT INTO ${deadLetters} ("projection", "generation", "checkpoint", "stream_id", "stream_version", "event_id", "event_type", "event_version", "reason", "detail", "event")
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
      [
        name,
        letter.generation,
        pgText(letter.checkpoint),
        letter.streamId === undefined ? null : pgText(letter.streamId),
        letter.streamVersion ?? null,
        letter.eventId === undefined ? null : pgText(letter.eventId),
        letter.eventType === undefined ? null : pgText(letter.eventType),
        letter.eventVersion === undefined ? null : pgText(letter.eventVersion),
        letter.reason,
        letter.detail,
        body,
      ],
    );
  }

  const tellDeadLetters = (letters: readonly ProjectionDeadLetter[]): void => {
    for (const letter of letters) options.onDeadLetter?.(letter);
  };

  // -------------------------------------------------------------------------------------
  // Following the store
  // -------------------------------------------------------------------------------------

  /**
   * Applies what one subscription delivers to one generation: the subscription feeds a
   * queue, one loop drains it in batches of up to `batchSize` events per transaction.
   */
  class Follower {
    readonly #queue: Item[] = [];
    #stopping = false;
    #finishing = false;
    #wake: (() => void) | undefined;
    #drained: (() => void) | undefined;
    #subscription: EventSubscription | undefined;
    #applying = false;
    readonly #idleWaiters: Array<() => void> = [];
    /** Where the generation's committed effects end. */
    checkpoint: string | null;
    applied = 0;
    deadLetters = 0;

    constructor(
      readonly client: PoolClient,
      readonly generation: number,
      readonly status: 'active' | 'building',
      checkpoint: string | null,
      readonly onBatch?: () => void,
    ) {
      this.checkpoint = checkpoint;
    }

    /** Resolves when stopped or finished, rejects on the first failure; `onLive` once the catch-up was delivered. */
    async run(onLive: () => void): Promise<void> {
      const loop = this.#drain();
      // A failed batch stops the feeding at once; the error itself is thrown by `await loop`.
      loop.catch(() => this.#halt());
      try {
        this.#subscription = await store.subscribe(filter, (event) => this.#enqueue({ kind: 'event', event }), {
          ...(this.checkpoint !== null ? { from: this.checkpoint } : {}),
          onBadRecord: (bad) => this.#enqueue({ kind: 'bad', bad }),
        });
        await Promise.race([this.#subscription.caughtUp, loop]);
        // Delivered is not applied: live means the catch-up is committed too.
        await Promise.race([this.#idle(), loop]);
        if (!this.#stopping) onLive();
        await loop;
      } finally {
        this.#halt();
        await this.#subscription?.stop().catch(() => undefined);
        // The client is released by the caller only once no transaction runs on it.
        await loop.catch(() => undefined);
      }
    }

    async #enqueue(item: Item): Promise<void> {
      if (this.#stopping || this.#finishing) return;
      this.#queue.push(item);
      this.#wake?.();
      // Backpressure: the store awaits this before delivering the next record.
      if (this.#queue.length >= QUEUE_HIGH_WATER) await new Promise<void>((r) => (this.#drained = r));
    }

    async #drain(): Promise<void> {
      for (;;) {
        while (this.#queue.length === 0 && !this.#stopping && !this.#finishing) {
          await new Promise<void>((r) => (this.#wake = r));
          this.#wake = undefined;
        }
        if (this.#stopping || this.#queue.length === 0) return;
        const batch = this.#queue.splice(0, batchSize);
        this.#applying = true;
        const result = await applyBatch(this.client, this.generation, { status: this.status, checkpoint: this.checkpoint }, batch);
        this.#applying = false;
        this.checkpoint = result.checkpoint;
        this.applied += batch.length;
        this.deadLetters += result.deadLetters.length;
        tellDeadLetters(result.deadLetters);
        this.onBatch?.();
        if (this.#queue.length < QUEUE_HIGH_WATER && this.#drained) {
          const resume = this.#drained;
          this.#drained = undefined;
          resume();
        }
        if (this.#queue.length === 0) for (const wake of this.#idleWaiters.splice(0)) wake();
      }
    }

    /** Resolves once everything queued so far is committed. */
    #idle(): Promise<void> {
      if (this.#queue.length === 0 && !this.#applying) return Promise.resolve();
      return new Promise<void>((r) => this.#idleWaiters.push(r));
    }

    #halt(): void {
      this.#stopping = true;
      this.#wake?.();
      this.#drained?.();
    }

    /** Ends at once; what is queued but not committed is delivered again to the next follower. */
    stop(): void {
      this.#halt();
    }

    /** Ends after applying everything delivered so far. */
    async finish(): Promise<void> {
      await this.#subscription?.stop().catch(() => undefined);
      this.#finishing = true;
      this.#wake?.();
    }
  }

  let running: Follower | undefined;
  let stopRequested = false;
  let loopDone: Promise<void> | undefined;

  /** One attempt: the active generation from its checkpoint, until stopped or failed. */
  async function follow(onLive: () => void): Promise<void> {
    const { generation, checkpoint } = await activeGeneration();
    await withClient(async (client) => {
      const follower = new Follower(client, generation, 'active', checkpoint);
      running = follower;
      try {
        if (stopRequested) return;
        await follower.run(onLive);
      } finally {
        running = undefined;
      }
    });
  }

  async function start(): Promise<void> {
    if (loopDone) throw new Error(`projection ${name} is already started`);
    stopRequested = false;
    let live = false;
    let resolveStart!: () => void;
    let rejectStart!: (error: unknown) => void;
    const started = new Promise<void>((resolve, reject) => {
      resolveStart = resolve;
      rejectStart = reject;
    });
    const onLive = () => {
      live = true;
      resolveStart();
    };
    loopDone = (async () => {
      for (let failures = 0; !stopRequested; ) {
        try {
          await follow(() => {
            failures = 0;
            onLive();
          });
        } catch (error) {
          // Unreachable or misconfigured on the first attempt: tell the caller. Fenced (a
          // runner that just died may still commit its last batch) is worth another try.
          if (!live && !(error instanceof ProjectionFencedError)) return rejectStart(error);
          if (stopRequested) return;
          // A rebuild elsewhere retired this generation: resume in the new one, nothing to report.
          const switched = error instanceof ProjectionFencedError && error.generationRetired;
          if (!switched) options.onError?.(error);
          failures++;
          if (!switched) await sleep(backoffDelay(RESTART_BACKOFF, failures));
        }
      }
    })().finally(() => resolveStart());
    try {
      await started;
    } catch (error) {
      loopDone = undefined;
      throw error;
    }
  }

  async function stop(): Promise<void> {
    stopRequested = true;
    running?.stop();
    await loopDone;
    loopDone = undefined;
  }

  // -------------------------------------------------------------------------------------
  // Rebuilding
  // -------------------------------------------------------------------------------------

  type RebuildOptions = { onProgress?: (progress: RebuildProgress) => void; fresh?: boolean };

  async function rebuild(rebuildOptions: RebuildOptions = {}) {
    // A session lock, held for the whole rebuild: a second rebuild fails at once instead of fencing this one mid-way.
    const lockKey = `event-contracts:rebuild:${checkpoints}:${name}`;
    return withClient(async (client) => {
      const { rows: lock } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(hashtext($1)) AS ok', [lockKey]);
      if (!lock[0]?.ok) throw new RebuildInProgressError(name);
      try {
        return await rebuildWith(client, rebuildOptions);
      } finally {
        await client.query('SELECT pg_advisory_unlock(hashtext($1))', [lockKey]).catch(() => undefined);
      }
    });
  }

  async function rebuildWith(client: PoolClient, rebuildOptions: RebuildOptions) {
    const target = await inTransaction(client, async () => {
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`event-contracts:projection:${name}`]);
      const all = await rows(client);
      const building = all.find((r) => r.status === 'building');
      if (building && !rebuildOptions.fresh) return building;
      if (building) {
        await client.query(`UPDATE ${checkpoints} SET "status" = 'retired', "updated_at" = now() WHERE "projection" = $1 AND "generation" = $2`, [name, building.generation]);
        await options.retire?.(txFor(client, building.generation));
      }
      const generation = Math.max(0, ...all.map((r) => r.generation)) + 1;
      await client.query(`INSERT INTO ${checkpoints} ("projection", "generation", "status") VALUES ($1, $2, 'building')`, [name, generation]);
      await options.prepare?.(txFor(client, generation));
      return { generation, status: 'building', checkpoint: null, events: '0', dead_letters: '0' } satisfies Row;
    });
    const generation = target.generation;
    const active = (await rows(client)).find((r) => r.status === 'active');
    const total = active ? Number(active.events) : undefined;
    const already = { events: Number(target.events), deadLetters: Number(target.dead_letters) };
    const progress = (phase: RebuildProgress['phase'], done: number) =>
      rebuildOptions.onProgress?.({ generation, done, ...(total !== undefined ? { total } : {}), phase });

    // Catch up through a subscription (it hands unreadable records to onBadRecord instead of
    // throwing, as readAll would), and finish once the catch-up has been applied.
    const follower: Follower = new Follower(client, generation, 'building', target.checkpoint, () => progress('replaying', already.events + follower.applied));
    await follower.run(() => void follower.finish());
    const checkpoint = follower.checkpoint;

    const previous = await inTransaction(client, async () => {
      // Both rows locked in generation order; the live runner only ever locks the active one.
      const { rows: locked } = await client.query<{ generation: number; status: string; checkpoint: string | null }>(
        `SELECT "generation", "status", "checkpoint" FROM ${checkpoints} WHERE "projection" = $1 AND ("generation" = $2 OR "status" = 'active') ORDER BY "generation" FOR UPDATE`,
        [name, generation],
      );
      const mine = locked.find((r) => r.generation === generation);
      if (!mine || mine.status !== 'building' || mine.checkpoint !== checkpoint) throw new ProjectionFencedError(name, generation, 'the generation being rebuilt was changed by another process');
      const old = locked.find((r) => r.status === 'active');
      if (old) await client.query(`UPDATE ${checkpoints} SET "status" = 'retired', "updated_at" = now() WHERE "projection" = $1 AND "generation" = $2`, [name, old.generation]);
      await client.query(`UPDATE ${checkpoints} SET "status" = 'active', "updated_at" = now() WHERE "projection" = $1 AND "generation" = $2`, [name, generation]);
      return old?.generation;
    });
    const events = already.events + follower.applied;
    progress('switched', events);
    // A runner in this process moves to the new generation now; one elsewhere at its next event.
    running?.stop();
    if (previous !== undefined && options.retire) {
      const retire = options.retire;
      await inTransaction(client, () => Promise.resolve(retire(txFor(client, previous))));
    }
    return { generation, events, deadLetters: already.deadLetters + follower.deadLetters };
  }

  async function activeTable(base: string): Promise<string | undefined> {
    const active = (await rows(pool)).find((r) => r.status === 'active');
    return active && tableOf(active.generation)(base);
  }

  async function status(): Promise<ProjectionStatus> {
    return {
      name,
      generations: (await rows(pool)).map((r) => ({
        generation: r.generation,
        status: r.status,
        checkpoint: r.checkpoint,
        events: Number(r.events),
        deadLetters: Number(r.dead_letters),
      })),
    };
  }

  return { name, migrate, start, stop, rebuild, activeTable, status };
}
