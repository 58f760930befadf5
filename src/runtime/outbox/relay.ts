/**
 * The relay: publishes committed outbox rows in position order through an EventBus, with
 * each row's event id as the publish id, then marks them published.
 *
 * One relay leads at a time: it holds a session-level advisory lock (pg_try_advisory_lock)
 * on a connection it keeps while leading; the others try again every poll interval. So
 * relays never publish the same rows concurrently, and the order holds across a change of
 * leader: a new lead starts from the lowest row the table says is unpublished. FOR UPDATE
 * SKIP LOCKED would let relays publish in parallel, but in no order, which is why it is not
 * used. The leader publishes a batch, queues its mark (one UPDATE, on another connection)
 * and publishes the next batch while the previous one is being marked. If it dies between
 * publishing and marking, its session ends, the lock is freed, and the next leader publishes
 * those rows again with the same ids: the broker (JetStream's Nats-Msg-Id window) and the
 * consumers' dedupe drop the repeats.
 *
 * A publish that fails for a reason retrying can cure (broker down, timeout, permission not
 * yet granted) leaves its row unpublished; no later row of the batch is started, and the
 * relay retries from that row with backoff. A row that can never be published (unknown
 * type, invalid payload, too large) is marked failed with its reason and the relay goes on.
 */
import { backoffDelay } from '../backoff.js';
import { createEventBus } from '../bus.js';
import { AddressParameterError, EventIdCollisionError, EventTooLargeError, EventValidationError, HeaderValidationError } from '../errors.js';
import type { BackoffOptions, EventBus, EventDescriptor, Transport } from '../types.js';
import { eventKey, type Outbox } from './outbox.js';
import { LOCK, OutboxConfigError } from './names.js';
import { decodeRow, type OutboxFailureReason, type OutboxRow } from './row.js';
import type { ConnectionPool, PooledConnection } from './sql-client.js';
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
  /** Rows per batch (one transaction). Default 500. */
  batchSize?: number;
  /** Poll when no notification came. Default 1000 ms. */
  pollIntervalMs?: number;
  /**
   * Publishes awaiting their acks within a batch. Default 256. With 1, order holds even when
   * the broker fails mid-batch; with more, rows in flight when it fails may be stored out of
   * order when retried (each exactly once, by id).
   */
  maxInFlight?: number;
  /** Delays between retries after a failed publish or a database error. Default 100 ms doubling to 5 s. */
  backoff?: Partial<BackoffOptions>;
  /** LISTEN for commits. Default true; false polls only. */
  listen?: boolean;
  onNotice?: (notice: OutboxRelayNotice) => void;
  /** Called after a batch's publishes and before they are marked published (fault tests, tracing). */
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
  /** Marks of published batches, chained in order; a failed one ends the lead. */
  private marks: Promise<void> = Promise.resolve();
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
    this.bus = options.bus ?? createEventBus({ transport: options.transport!, source: options.outbox.source });
    this.descriptors = new Map(options.outbox.events.map((e) => [eventKey(e.type, e.version), e as EventDescriptor<unknown>]));
    this.types = new Set(options.outbox.events.map((e) => e.type));
    const t = options.outbox.location.qualified;
    // Ordered by the column (o.position), not by the text alias of the same name.
    this.selectSql = `SELECT id::text AS id, position::text AS position, event_id, type, version, subject, params, headers, metadata,
        correlation_id, causation_id, partition_key, occurred_at, body,
        (extract(epoch FROM clock_timestamp() - committed_at) * 1000)::float8 AS age_ms
      FROM ${t} AS o WHERE published_at IS NULL AND failed_at IS NULL AND o.position > $3::bigint AND o.position <= $2::bigint
      ORDER BY o.position LIMIT $1`;
    this.markSql = `UPDATE ${t} SET published_at = now() WHERE id = ANY($1::bigint[])`;
    this.failSql = `UPDATE ${t} AS o SET failed_at = now(), error = f.error FROM unnest($1::bigint[], $2::text[]) AS f(id, error) WHERE o.id = f.id`;
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
    return { running: this.loop !== undefined && !this.stopping, waitingOnCommits: this.horizon?.waitingOn ?? 0, ...this.counters };
  }

  private notify(n: OutboxRelayNotice): void {
    try {
      this.o.onNotice?.(n);
    } catch {
      // An observer must never stop the relay.
    }
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
        await this.sleeper.sleep(delayMs, false);
        continue;
      }
      if (outcome.kind === 'standby') {
        // Another relay leads; it may fail, so ask again later.
        await this.sleeper.sleep(this.o.pollIntervalMs, false);
        continue;
      }
      if (outcome.transient) {
        attempt++;
        this.counters.retries++;
        this.counters.lastError = outcome.transient.error;
        const delayMs = backoffDelay(this.backoff, attempt);
        this.notify({ kind: 'retry', eventId: outcome.transient.eventId, attempt, delayMs, error: outcome.transient.error });
        await this.sleeper.sleep(delayMs, false);
        continue;
      }
      attempt = 0;
      if (outcome.rows < this.o.batchSize) await this.sleeper.sleep(this.o.pollIntervalMs, true);
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
    this.lease = client;
    // A new lead starts from what the table says is unpublished: rows a lost lead published
    // but could not mark go out again, with the same ids.
    this.cursor = '0';
    return true;
  }

  /** Ends the lead: lets the marks in progress finish, frees the lock and the connection. */
  private async resign(error: unknown): Promise<void> {
    await this.marks.catch(() => undefined);
    this.marks = Promise.resolve();
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
   * One batch: rows after the cursor up to the commit horizon, published in order; their
   * marks are queued (one UPDATE each, in order, on another connection) so the next batch is
   * published while the previous one is being marked. Rejects on a database error.
   */
  private async batch(): Promise<Outcome> {
    if (this.markError !== undefined) throw this.markError;
    const lease = this.lease!;
    this.counters.batches++;
    const horizon = await this.horizon!.advance(lease);
    const rows = (await lease.query<OutboxRow & { age_ms: number | null }>(this.selectSql, [this.o.batchSize, horizon, this.cursor])).rows;
    this.counters.lagMs = rows.length > 0 ? Math.max(0, Math.round(rows[0]!.age_ms ?? 0)) : 0;
    const { published, failed, transient, duplicates } = await this.publish(rows);
    const job = { published, failed, duplicates };
    this.marks = this.marks.then(() => this.mark(job)).catch((err: unknown) => {
      this.markError ??= err;
    });
    if (transient || rows.length < this.o.batchSize) {
      // Settle before waiting: the marks land, and after a failed publish the next batch
      // starts again from the table (the failed row and any after it).
      await this.marks;
      if (this.markError !== undefined) throw this.markError;
      if (transient) this.cursor = '0';
      else if (rows.length > 0) this.cursor = rows[rows.length - 1]!.position;
    } else this.cursor = rows[rows.length - 1]!.position;
    return { kind: 'done', rows: rows.length, ...(transient ? { transient } : {}) };
  }

  private async mark(job: { published: Array<{ row: string; eventId: string; position: string }>; failed: Array<{ row: OutboxRow; eventId: string; reason: OutboxFailureReason; detail: string }>; duplicates: number }): Promise<void> {
    const { published, failed, duplicates } = job;
    if (published.length > 0) {
      await this.o.beforeMark?.(published.map((p) => p.eventId));
      await this.o.pool.query(this.markSql, [published.map((p) => p.row)]);
      // Counted and told once stored: a batch whose marks were lost is published again.
      const last = published[published.length - 1]!;
      this.counters.published += published.length;
      this.counters.duplicates += duplicates;
      this.counters.lastPosition = last.position;
      this.notify({ kind: 'published', count: published.length, eventIds: published.map((p) => p.eventId), lastPosition: last.position, lagMs: this.counters.lagMs, duplicates });
    }
    if (failed.length > 0) {
      await this.o.pool.query(this.failSql, [failed.map((f) => f.row.id), failed.map((f) => `${f.reason}: ${f.detail}`.slice(0, MAX_ERROR_TEXT))]);
      for (const f of failed) {
        this.counters.failed++;
        this.notify({ kind: 'failed-row', eventId: f.eventId, position: f.row.position, reason: f.reason, detail: f.detail });
      }
    }
  }

  /**
   * Publishes `rows` in order with up to maxInFlight awaiting acks. After the first failure
   * a retry could cure, no further row is started (the batch ends; rows already in flight
   * finish and count if stored).
   */
  private async publish(rows: readonly OutboxRow[]) {
    const published: Array<{ row: string; eventId: string; position: string }> = [];
    const failed: Array<{ row: OutboxRow; eventId: string; reason: OutboxFailureReason; detail: string }> = [];
    let transient: { eventId: string; error: unknown } | undefined;
    let duplicates = 0;
    const done: Array<boolean> = new Array(rows.length).fill(false);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (transient === undefined && next < rows.length && !this.stopping) {
        const i = next++;
        const row = rows[i]!;
        const d = decodeRow(row, this.descriptors, this.types);
        if (!d.ok) {
          failed.push({ row, eventId: d.eventId, reason: d.reason, detail: d.detail });
          continue;
        }
        try {
          const receipt = await this.bus.publish(d.descriptor, d.data, d.options);
          if (receipt.duplicate) duplicates++;
          done[i] = true;
        } catch (error) {
          const reason = permanentReason(error);
          if (reason) failed.push({ row, eventId: d.eventId, reason, detail: (error as Error).message });
          else transient ??= { eventId: d.eventId, error };
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.o.maxInFlight, rows.length) }, worker));
    // Told in position order, whichever publish failed first.
    failed.sort((a, b) => Number(a.row.position) - Number(b.row.position));
    rows.forEach((row, i) => {
      if (done[i]) published.push({ row: row.id, eventId: row.event_id as string, position: row.position });
    });
    return { published, failed, transient, duplicates };
  }
}

function stripUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

export function createOutboxRelay(options: OutboxRelayOptions): OutboxRelay {
  return new Relay(options);
}
