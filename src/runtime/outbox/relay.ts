/**
 * The relay: publishes committed outbox rows in position order through an EventBus, with
 * each row's event id as the publish id, then marks them published.
 *
 * One relay leads at a time: it holds a session-level advisory lock (pg_try_advisory_lock)
 * on a connection it keeps while leading; the others try again every poll interval. So
 * relays never publish the same rows concurrently, and the order holds across a change of
 * leader: a new lead starts from the lowest row the table says is unpublished. FOR UPDATE
 * SKIP LOCKED would let relays publish in parallel, but in no order, which is why it is not
 * used. The leader publishes a batch, queues its mark (one UPDATE of the progress row, on
 * another connection: every row up to the batch's last position is out) and publishes the
 * next batch while the previous one is being marked. If it dies between publishing and
 * marking, its session ends, the lock is freed, and the next leader, starting from the
 * progress row, publishes those rows again with the same ids: the broker (JetStream's
 * Nats-Msg-Id window) and the consumers' dedupe drop the repeats.
 *
 * A publish that fails for a reason retrying can cure (broker down, timeout, permission not
 * yet granted) leaves its row unpublished; no later row of the batch is started, progress
 * stops before that row, and the relay retries from it with backoff (rows after it that were
 * already in flight go out again, as after a crash). A row that can never be published
 * (unknown type, invalid payload, too large) is marked failed with its reason, in the same
 * statement that moves progress past it, and the relay goes on.
 */
import { backoffDelay } from '../backoff.js';
import { createEventBus } from '../bus.js';
import { AddressParameterError, EventIdCollisionError, EventTooLargeError, EventValidationError, HeaderValidationError } from '../errors.js';
import type { BackoffOptions, EventBus, EventDescriptor, PublishReceipt, Transport } from '../types.js';
import { eventKey, type Outbox } from './outbox.js';
import { LOCK, OutboxConfigError } from './names.js';
import { COL, decodeRow, RELAY_COLUMNS, type OutboxFailureReason, type RawOutboxRow } from './row.js';
import type { ConnectionPool, PooledConnection, TextArrayQuery } from './sql-client.js';
import { CommitListener, Sleeper } from './wake.js';
import { CommitHorizon } from './horizon.js';

export interface OutboxRelayOptions {
  /** A pg Pool. The relay keeps one connection for LISTEN and one while it leads, and marks on a third: max ≥ 3. */
  pool: ConnectionPool;
  /** The outbox whose rows to publish (its table and descriptors). */
  outbox: Outbox;
  /** Publish through this bus (its middleware, compression, signing apply). Its source should be the outbox's. */
  bus?: EventBus;
  /** Or through this transport, with a bus the relay makes (source: the outbox's). The caller closes it. */
  transport?: Transport;
  /** Rows read per query; progress is stored once per batch. Default 500. */
  batchSize?: number;
  /** Poll when no notification came. Default 1000 ms. */
  pollIntervalMs?: number;
  /**
   * Publishes awaiting their acks, across batches (the next batch starts as the last one's
   * acks come back). Default 256. With 1, order holds even when the broker fails mid-batch;
   * with more, rows in flight when it fails may be stored out of order when retried (each
   * exactly once, by id).
   */
  maxInFlight?: number;
  /** Delays between retries after a failed publish or a database error. Default 100 ms doubling to 5 s. */
  backoff?: Partial<BackoffOptions>;
  /** LISTEN for commits. Default true; false polls only. */
  listen?: boolean;
  onNotice?: (notice: OutboxRelayNotice) => void;
  /** Called after a batch's publishes are acked and before its progress is stored (fault tests, tracing). */
  beforeMark?: (eventIds: readonly string[]) => void | Promise<void>;
}

export type OutboxRelayNotice =
  | { kind: 'published'; count: number; eventIds: readonly string[]; lastPosition: string; lagMs: number; duplicates: number }
  | { kind: 'failed-row'; eventId: string; position: string; reason: OutboxFailureReason; detail: string }
  | { kind: 'retry'; eventId?: string; attempt: number; delayMs: number; error: unknown }
  | { kind: 'database-error'; attempt: number; delayMs: number; error: unknown }
  | { kind: 'listen'; listening: boolean; error?: unknown };

export interface OutboxRelayStats {
  readonly running: boolean;
  /** Batches this relay ran while leading (empty ones included). */
  readonly batches: number;
  /** Transactions in their commit that the next horizon waits for (see horizon.ts). */
  readonly waitingOnCommits: number;
  /** Publishing waits for stored progress to catch up: progress UPDATEs are slow (a lock, a busy server). */
  readonly heldBack: boolean;
  /** Rows this relay published and marked. */
  readonly published: number;
  /** Of which the broker already held (a batch republished after a crash between publish and mark). */
  readonly duplicates: number;
  /** Rows this relay marked failed. */
  readonly failed: number;
  readonly retries: number;
  /** Age (commit to now) of the oldest unpublished row when the last batch began; 0 when none waited. */
  readonly lagMs: number;
  readonly lastPosition: string | undefined;
  readonly listening: boolean;
  readonly lastError: unknown;
}

export interface OutboxRelay {
  start(): Promise<void>;
  /** Finishes the batch under way, then stops. */
  stop(): Promise<void>;
  stats(): OutboxRelayStats;
}

const DEFAULTS = { batchSize: 500, pollIntervalMs: 1000, maxInFlight: 256 };
const RETRY_BACKOFF: BackoffOptions = { initialMs: 100, maxMs: 5_000, factor: 2, jitter: 0.2 };

/** Errors a retry cannot cure: the row is marked failed with this reason. */
function permanentReason(err: unknown): OutboxFailureReason | undefined {
  if (err instanceof EventValidationError) return 'validation-failed';
  if (err instanceof HeaderValidationError) return 'headers-invalid';
  if (err instanceof AddressParameterError) return 'address-invalid';
  if (err instanceof EventTooLargeError) return 'too-large';
  if (err instanceof EventIdCollisionError) return 'id-collision';
  return undefined;
}

type Outcome = { kind: 'standby' } | { kind: 'done'; rows: number; transient?: { eventId: string; error: unknown } };

const MAX_ERROR_TEXT = 2000;

/** Column text as PostgreSQL sends it: decodeRow parses only what a publish needs. */
const TEXT = { getTypeParser: () => (value: string) => value };

/** What a batch's publishes did, up to the first row not done (see donePrefix()). */
interface BatchResult {
  /** Published rows of the done prefix, in position order. */
  published: Array<{ eventId: string; position: string }>;
  /** Rows of the done prefix that can never be published. */
  failed: Array<{ id: string; eventId: string; position: string; reason: OutboxFailureReason; detail: string }>;
  /** Position of the prefix's last row: every row up to it is out or failed. */
  through: string | undefined;
  duplicates: number;
  /** Some rows were not done (a failed publish, stop()). */
  short: boolean;
}

class Relay implements OutboxRelay {
  private readonly bus: EventBus;
  private readonly descriptors: Map<string, EventDescriptor<unknown>>;
  private readonly types: Set<string>;
  private readonly o: OutboxRelayOptions & typeof DEFAULTS;
  private readonly backoff: BackoffOptions;
  private readonly sleeper = new Sleeper();
  private listener: CommitListener | undefined;
  private loop: Promise<void> | undefined;
  private stopping = false;
  private lockKey: number | undefined;
  private horizon: CommitHorizon | undefined;
  /** The connection holding the relay lock while this relay leads. */
  private lease: PooledConnection | undefined;
  /** Position of the last row this lead has handled (published, failed, or skipped). */
  private cursor = '0';
  private readonly progressSql: string;
  /**
   * The next batch, read while this one is published: rows after `after` up to the horizon
   * the last read used. Reading takes PostgreSQL a few milliseconds per thousand rows, which
   * otherwise left the broker and the relay idle between batches.
   */
  private ahead: { after: string; rows: Promise<RawOutboxRow[]> } | undefined;
  /** The horizon of the last read. */
  private lastHorizon = '0';
  /** Position progress was last stored at by this lead (where a retry starts from). */
  private marked = '0';
  /** Publishes awaiting their acks, across batches: the next batch fills the window as the last one's acks come back. */
  private inFlight = 0;
  /** The feeder waiting for a free slot in that window. */
  private slotFree: (() => void) | undefined;
  /** The first failed publish a retry can cure, in this lead: nothing more starts until it is retried. */
  private fault: { eventId: string; error: unknown } | undefined;
  /** A batch of this lead stopped short (a failed publish, stop()): progress is not moved past it. */
  private gap = false;
  /**
   * After a failed publish, the retry sends one row at a time until one goes through: rows
   * after a row that keeps failing would otherwise go out again at every retry, and once the
   * broker's dedupe window has passed, be stored again.
   */
  private probing = false;
  /** Marks of published batches, chained in order; a failed one ends the lead. */
  private marks: Promise<void> = Promise.resolve();
  /**
   * The marks not yet stored, oldest first. Publishing runs at most this many batches ahead
   * of stored progress: a progress UPDATE that is slow (a lock, a busy server) holds the
   * relay back rather than letting it publish a backlog that a crash would send again.
   */
  private unstored: Array<Promise<void>> = [];
  /** Enough batches to fill the publish window twice over: the window, not this, is what normally holds the relay back. */
  private readonly maxUnstored: number;
  private heldBack = false;
  private markError: unknown;
  private readonly selectSql: string;
  private readonly markSql: string;
  private readonly failSql: string;
  private readonly swallow = (): void => undefined;
  private counters = { batches: 0, published: 0, duplicates: 0, failed: 0, retries: 0, lagMs: 0, lastPosition: undefined as string | undefined, listening: false, lastError: undefined as unknown };

  constructor(options: OutboxRelayOptions) {
    if (!options.pool) throw new OutboxConfigError('createOutboxRelay: pool is required');
    if (!options.outbox) throw new OutboxConfigError('createOutboxRelay: outbox is required');
    if ((options.bus === undefined) === (options.transport === undefined)) throw new OutboxConfigError('createOutboxRelay: pass either bus or transport');
    this.o = { ...DEFAULTS, ...stripUndefined(options) };
    for (const k of ['batchSize', 'pollIntervalMs', 'maxInFlight'] as const) {
      if (!Number.isInteger(this.o[k]) || this.o[k] < 1) throw new OutboxConfigError(`createOutboxRelay: ${k} must be a positive integer`);
    }
    this.backoff = { ...RETRY_BACKOFF, ...options.backoff };
    this.maxUnstored = Math.max(4, 2 * Math.ceil(this.o.maxInFlight / this.o.batchSize));
    this.bus = options.bus ?? createEventBus({ transport: options.transport!, source: options.outbox.source });
    this.descriptors = new Map(options.outbox.events.map((e) => [eventKey(e.type, e.version), e as EventDescriptor<unknown>]));
    this.types = new Set(options.outbox.events.map((e) => e.type));
    const t = options.outbox.location.qualified;
    const progress = options.outbox.location.progressTable;
    this.selectSql = `SELECT ${RELAY_COLUMNS}
      FROM ${t} AS o WHERE o.failed_at IS NULL AND o.position > $3::bigint AND o.position <= $2::bigint
      ORDER BY o.position LIMIT $1`;
    this.progressSql = `SELECT published_through::text AS p FROM ${progress}`;
    // GREATEST: a mark that lands late (its lead lost meanwhile) never moves progress back.
    const advance = `UPDATE ${progress} SET published_through = GREATEST(published_through, $1::bigint), updated_at = now()`;
    this.markSql = advance;
    // A data-modifying WITH runs whether or not the main statement reads it: the failed
    // rows and the progress past them are stored together or not at all. A row is marked only
    // where this lead saw it and progress has not passed it: the mark of a lead lost meanwhile
    // can land late, after the next leader handled the row or an operator re-drove it (which
    // gave it a new position).
    this.failSql = `WITH failed AS (UPDATE ${t} AS o SET failed_at = now(), error = f.error
        FROM unnest($2::bigint[], $3::bigint[], $4::text[]) AS f(id, position, error)
        WHERE o.id = f.id AND o.position = f.position AND o.position > (SELECT published_through FROM ${progress}))
      ${advance}`;
  }

  async start(): Promise<void> {
    if (this.loop) return;
    this.stopping = false;
    const l = this.o.outbox.location;
    // The table's oid names the relay lock (and the writers' commit lock, in the trigger).
    const r = await this.o.pool.query<{ oid: string }>('SELECT $1::regclass::oid::text AS oid', [l.qualified]);
    this.lockKey = Number(r.rows[0]!.oid) - 2147483648;
    this.horizon = new CommitHorizon(l, this.lockKey);
    // An idle pooled connection that dies with the server is reported on the pool; unheard,
    // node would end the process.
    this.o.pool.on('error', this.swallow);
    if (this.o.listen !== false) {
      this.listener = new CommitListener(this.o.pool, l.channel, () => this.sleeper.wake(), (s) => {
        this.counters.listening = s.listening;
        this.notify({ kind: 'listen', listening: s.listening, ...(s.error !== undefined ? { error: s.error } : {}) });
      });
      this.listener.start();
    }
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.sleeper.interrupt();
    await this.loop;
    await this.listener?.stop();
    this.listener = undefined;
    this.loop = undefined;
    this.o.pool.removeListener('error', this.swallow);
  }

  stats(): OutboxRelayStats {
    return { running: this.loop !== undefined && !this.stopping, waitingOnCommits: this.horizon?.waitingOn ?? 0, heldBack: this.heldBack, ...this.counters };
  }

  private notify(n: OutboxRelayNotice): void {
    try {
      this.o.onNotice?.(n);
    } catch {
      // An observer must never stop the relay.
    }
  }

  /** Waits, unless stop() was called (it may have come while a batch ran, before this wait began). */
  private pause(ms: number, wakeable: boolean): Promise<void> {
    return this.stopping ? Promise.resolve() : this.sleeper.sleep(ms, wakeable);
  }

  private async run(): Promise<void> {
    let attempt = 0;
    while (!this.stopping) {
      let outcome: Outcome;
      try {
        outcome = (await this.lead()) ? await this.batch() : { kind: 'standby' };
      } catch (error) {
        await this.resign(error);
        attempt++;
        const delayMs = backoffDelay(this.backoff, attempt);
        this.counters.lastError = error;
        this.notify({ kind: 'database-error', attempt, delayMs, error });
        await this.pause(delayMs, false);
        continue;
      }
      if (outcome.kind === 'standby') {
        // Another relay leads; it may fail, so ask again later.
        await this.pause(this.o.pollIntervalMs, false);
        continue;
      }
      if (outcome.transient) {
        attempt++;
        this.counters.retries++;
        this.counters.lastError = outcome.transient.error;
        const delayMs = backoffDelay(this.backoff, attempt);
        this.notify({ kind: 'retry', eventId: outcome.transient.eventId, attempt, delayMs, error: outcome.transient.error });
        await this.pause(delayMs, false);
        continue;
      }
      attempt = 0;
      if (outcome.rows < this.o.batchSize) await this.pause(this.o.pollIntervalMs, true);
    }
    await this.resign(undefined);
  }

  /**
   * Leads if it can: the relay lock, session-level, on a connection kept for as long as this
   * relay leads. Losing that connection loses the lock (PostgreSQL frees it with the
   * session), and the next query on it fails, which ends the lead (resign).
   */
  private async lead(): Promise<boolean> {
    if (this.lease) return true;
    const client = await this.o.pool.connect();
    client.on('error', this.swallow);
    try {
      const got = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1::int4, $2::int4) AS ok', [LOCK.RELAY, this.lockKey]);
      if (!got.rows[0]?.ok) {
        client.removeListener('error', this.swallow);
        client.release();
        return false;
      }
    } catch (err) {
      client.removeListener('error', this.swallow);
      client.release(err as Error);
      throw err;
    }
    // A new lead starts from the progress row: rows a lost lead published but could not mark
    // go out again, with the same ids.
    let progress: string;
    try {
      const p = (await client.query<{ p: string }>(this.progressSql)).rows[0]?.p;
      if (p === undefined) throw new OutboxConfigError(`outbox relay: ${this.o.outbox.location.progressTable} has no row; run migrateOutbox first`);
      progress = p;
    } catch (err) {
      await client.query('SELECT pg_advisory_unlock($1::int4, $2::int4)', [LOCK.RELAY, this.lockKey]).catch(() => undefined);
      client.removeListener('error', this.swallow);
      client.release(err instanceof OutboxConfigError ? undefined : (err as Error));
      throw err;
    }
    this.lease = client;
    this.cursor = progress;
    this.marked = progress;
    this.gap = false;
    this.fault = undefined;
    this.probing = false;
    return true;
  }

  /** Ends the lead: lets the marks in progress finish, frees the lock and the connection. */
  private async resign(error: unknown): Promise<void> {
    // A read under way on the lease ends before the connection goes back to the pool.
    await this.ahead?.rows.catch(() => undefined);
    this.ahead = undefined;
    await this.marks.catch(() => undefined);
    this.marks = Promise.resolve();
    this.unstored = [];
    this.markError = undefined;
    const lease = this.lease;
    this.lease = undefined;
    if (!lease) return;
    let broken = error !== undefined ? (error as Error) : undefined;
    if (!broken) await lease.query('SELECT pg_advisory_unlock($1::int4, $2::int4)', [LOCK.RELAY, this.lockKey]).catch((e: Error) => (broken = e));
    lease.removeListener('error', this.swallow);
    lease.release(broken);
  }

  /**
   * One batch: rows after the cursor up to the commit horizon, published in order. Returns
   * once they are all started: their acks and their mark (one UPDATE of the progress row, on
   * another connection, after the previous batch's) follow while the next batch is read and
   * published. Rejects on a database error.
   */
  private async batch(): Promise<Outcome> {
    if (this.markError !== undefined) throw this.markError;
    const lease = this.lease!;
    this.counters.batches++;
    const ahead = this.ahead;
    this.ahead = undefined;
    let rows: RawOutboxRow[];
    if (ahead !== undefined && ahead.after === this.cursor) rows = await ahead.rows;
    else {
      await ahead?.rows.catch(() => undefined);
      this.lastHorizon = await this.horizon!.advance(lease);
      rows = await this.read(lease, this.cursor);
    }
    if (rows.length > 0) this.cursor = rows[rows.length - 1]![COL.position];
    if (rows.length === this.o.batchSize) {
      const after = this.cursor;
      const next = this.read(lease, after);
      // Awaited by the next batch, or by resign(); a failure is thrown there.
      next.catch(() => undefined);
      this.ahead = { after, rows: next };
    }
    this.counters.lagMs = rows.length > 0 ? Math.max(0, Math.round(Number(rows[0]![COL.ageMs] ?? 0))) : 0;
    const { settled } = await this.feed(rows);
    this.marks = this.marks
      .then(async () => {
        const result = await settled;
        if (this.gap || this.markError !== undefined) return;
        if (result.through !== undefined) {
          await this.mark(result);
          this.marked = result.through;
        }
        if (result.short) this.gap = true;
      })
      .catch((err: unknown) => {
        this.markError ??= err;
      });
    this.unstored.push(this.marks);
    if (this.unstored.length > this.maxUnstored) {
      this.heldBack = true;
      await this.unstored.shift();
      this.heldBack = false;
    }
    if (this.fault === undefined && rows.length === this.o.batchSize && !this.stopping) return { kind: 'done', rows: rows.length };
    // Settle before waiting: every ack in, the marks stored. After a failed publish the next
    // batch starts from the first row not done.
    await this.marks;
    this.unstored = [];
    if (this.markError !== undefined) throw this.markError;
    const fault = this.fault;
    if (fault !== undefined || this.gap) {
      await this.ahead?.rows.catch(() => undefined);
      this.ahead = undefined;
      this.fault = undefined;
      this.gap = false;
      this.cursor = this.marked;
      if (fault !== undefined) this.probing = true;
    }
    return { kind: 'done', rows: rows.length, ...(fault ? { transient: fault } : {}) };
  }

  private async read(lease: PooledConnection, after: string): Promise<RawOutboxRow[]> {
    const query: TextArrayQuery = { text: this.selectSql, values: [this.o.batchSize, this.lastHorizon, after], rowMode: 'array', types: TEXT };
    return (await lease.query<RawOutboxRow>(query)).rows;
  }

  private async mark(job: BatchResult): Promise<void> {
    const { published, failed, duplicates } = job;
    if (published.length > 0) await this.o.beforeMark?.(published.map((p) => p.eventId));
    if (failed.length > 0) {
      await this.o.pool.query(this.failSql, [job.through, failed.map((f) => f.id), failed.map((f) => f.position), failed.map((f) => `${f.reason}: ${f.detail}`.slice(0, MAX_ERROR_TEXT))]);
    } else {
      await this.o.pool.query(this.markSql, [job.through]);
    }
    // Counted and told once stored: a batch whose mark was lost is published again.
    this.counters.lastPosition = job.through;
    if (published.length > 0) {
      this.counters.published += published.length;
      this.counters.duplicates += duplicates;
      this.notify({ kind: 'published', count: published.length, eventIds: published.map((p) => p.eventId), lastPosition: published[published.length - 1]!.position, lagMs: this.counters.lagMs, duplicates });
    }
    for (const f of failed) {
      this.counters.failed++;
      this.notify({ kind: 'failed-row', eventId: f.eventId, position: f.position, reason: f.reason, detail: f.detail });
    }
  }

  /**
   * Starts publishing `rows` in order, keeping at most maxInFlight awaiting acks (across
   * batches); resolves once all are started, with a promise of what they did (wrapped: an
   * async function returning a promise would wait for it). After the first failure a retry
   * could cure, no further row is started, in this batch or the next.
   */
  private async feed(rows: readonly RawOutboxRow[]): Promise<{ settled: Promise<BatchResult> }> {
    // What the mark needs of each row, kept apart so the rows themselves (body, JSON text)
    // are garbage once published rather than held until the batch's last ack.
    const done: BatchRows = { ids: [], positions: [], eventIds: [], state: new Uint8Array(rows.length), failures: [] };
    const { state, failures } = done;
    let pending = 1; // the feeding itself
    let settle!: () => void;
    const settled = new Promise<void>((resolve) => (settle = resolve));
    const finish = (): void => {
      if (--pending === 0) settle();
    };
    for (let i = 0; i < rows.length; i++) {
      while (this.inFlight >= (this.probing ? 1 : this.o.maxInFlight)) await new Promise<void>((resolve) => (this.slotFree = resolve));
      if (this.fault !== undefined || this.stopping) break;
      const row = rows[i]!;
      done.ids.push(row[COL.id]);
      done.positions.push(row[COL.position]);
      const eventId = row[COL.eventId];
      done.eventIds.push(eventId);
      const d = decodeRow(row, this.descriptors, this.types);
      if (!d.ok) {
        state[i] = FAILED;
        failures[i] = { eventId: d.eventId, reason: d.reason, detail: d.detail };
        continue;
      }
      this.inFlight++;
      pending++;
      let sent: Promise<PublishReceipt>;
      try {
        sent = this.bus.publish(d.descriptor, d.data, d.options);
      } catch (error) {
        // A bus of the caller's that throws rather than rejects.
        sent = Promise.reject(error);
      }
      sent.then(
        (receipt) => {
          state[i] = receipt?.duplicate === true ? SENT_BEFORE : SENT;
          this.probing = false;
          this.freeSlot();
          finish();
        },
        (error: unknown) => {
          const reason = permanentReason(error);
          if (reason) {
            state[i] = FAILED;
            failures[i] = { eventId, reason, detail: String((error as Error).message) };
          } else this.fault ??= { eventId, error };
          this.freeSlot();
          finish();
        },
      );
    }
    finish();
    return { settled: settled.then(() => donePrefix(done)) };
  }

  private freeSlot(): void {
    this.inFlight--;
    const waiting = this.slotFree;
    this.slotFree = undefined;
    waiting?.();
  }
}

/** A batch's rows as far as its mark is concerned (rows not started have no entries). */
interface BatchRows {
  ids: string[];
  positions: string[];
  eventIds: string[];
  state: Uint8Array;
  failures: Array<{ eventId: string; reason: OutboxFailureReason; detail: string } | undefined>;
}

/** Row states in a batch. */
const NOT_DONE = 0;
const SENT = 1;
/** Acked as a duplicate: the broker already held it (republished after a crash). */
const SENT_BEFORE = 2;
const FAILED = 3;

/**
 * What a batch's publishes did, up to the first row not done: progress moves past those
 * rows only; the rest are read again.
 */
function donePrefix(rows: BatchRows): BatchResult {
  const { state, failures } = rows;
  const result: BatchResult = { published: [], failed: [], through: undefined, duplicates: 0, short: false };
  let i = 0;
  for (; i < state.length && state[i] !== NOT_DONE; i++) {
    const position = rows.positions[i]!;
    result.through = position;
    if (state[i] === FAILED) result.failed.push({ id: rows.ids[i]!, position, ...failures[i]! });
    else {
      result.published.push({ eventId: rows.eventIds[i]!, position });
      if (state[i] === SENT_BEFORE) result.duplicates++;
    }
  }
  result.short = i < state.length;
  return result;
}

function stripUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

export function createOutboxRelay(options: OutboxRelayOptions): OutboxRelay {
  return new Relay(options);
}
