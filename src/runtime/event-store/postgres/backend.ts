/**
 * The PostgreSQL backend: one append-only table per schema, a global position (identity
 * column) as the checkpoint, appends through one function call (one round trip, one
 * transaction), live subscriptions woken by LISTEN/NOTIFY with a poll as fallback.
 * `pg` is imported when the backend connects, never by the entry point.
 */
import type { Client, Pool, PoolConfig, QueryArrayConfig } from 'pg';
import type { BackendReadRange, BackendRecord, BackendRecordHandler, EventRecord, EventStoreBackend, StreamAddress } from '../backend.js';
import { InvalidCheckpointError, WrongExpectedVersionError } from '../errors.js';
import { pollingSubscription } from '../polling-subscription.js';
import type { AppendResult, EventFilter, EventSubscription, ExpectedVersion } from '../types.js';
import { Waker } from '../waker.js';
import { COLUMNS, migrations, quoteIdent, schemaConstants } from './sql.js';

export interface PostgresEventStoreOptions {
  /** Connection settings for a pool the backend owns (and ends on close). */
  readonly connection?: PoolConfig;
  /** A pool the caller owns instead (not ended on close). LISTEN takes one client of its own from `connection` or the pool's options. */
  readonly pool?: Pool;
  /** Schema holding the store's tables. Default 'event_store'. Any text: it is quoted, never pasted. */
  readonly schema?: string;
  /** Run the migrations on connect. Default true. */
  readonly migrate?: boolean;
  /** Poll interval of live subscriptions when no NOTIFY arrives. Default 1000 ms. */
  readonly pollMs?: number;
  /** Rows fetched per query on reads and subscriptions. Default 1000. */
  readonly pageSize?: number;
}

const CHECKPOINT = /^[0-9]{1,18}$/;

export class PostgresEventStoreBackend implements EventStoreBackend {
  readonly name = 'postgres';
  private readonly s: string;
  private readonly waker = new Waker();
  private listener: Promise<Client | undefined> | undefined;
  private subscribers = 0;
  private readonly subscriptions = new Set<EventSubscription>();
  private closed = false;
  private readonly q: Record<'append' | 'version' | 'readFwd' | 'readBack' | 'all' | 'allAgg', string>;

  private constructor(
    private readonly newClient: (config: PoolConfig) => Client,
    private readonly pool: Pool,
    private readonly ownsPool: boolean,
    private readonly connection: PoolConfig,
    readonly schema: string,
    private readonly pollMs: number,
    private readonly pageSize: number,
  ) {
    const s = (this.s = quoteIdent(schema));
    const t = `${s}.events`;
    this.q = {
      append: `SELECT appended, stream_version, last_position FROM ${s}.append_events($1, $2, $3, $4, $5::jsonb)`,
      version: `SELECT coalesce(max(version), 0) AS v FROM ${t} WHERE stream_id = $1`,
      readFwd: `SELECT ${COLUMNS} FROM ${t} WHERE stream_id = $1 AND version >= $2 AND version <= $3 ORDER BY version LIMIT $4`,
      readBack: `SELECT ${COLUMNS} FROM ${t} WHERE stream_id = $1 AND version <= $2 AND version >= $3 ORDER BY version DESC LIMIT $4`,
      all: `SELECT ${COLUMNS} FROM ${t} WHERE position > $1 AND ($3::text[] IS NULL OR type = ANY($3)) ORDER BY position LIMIT $2`,
      allAgg: `SELECT ${COLUMNS} FROM ${t} WHERE position > $1 AND ($3::text[] IS NULL OR type = ANY($3)) AND (aggregate = ANY($4) OR domain || '.' || aggregate = ANY($4)) ORDER BY position LIMIT $2`,
    };
  }

  static async connect(options: PostgresEventStoreOptions = {}): Promise<PostgresEventStoreBackend> {
    // Loaded here, not at the top: the entry point must not need `pg` unless this backend is used.
    const pg = (await import('pg')).default;
    const connection = options.connection ?? (options.pool as unknown as { options?: PoolConfig } | undefined)?.options ?? {};
    const pool = options.pool ?? new pg.Pool({ max: 10, ...connection });
    const backend = new PostgresEventStoreBackend((c) => new pg.Client(c), pool, options.pool === undefined, connection, options.schema ?? 'event_store', options.pollMs ?? 1000, options.pageSize ?? 1000);
    if (options.migrate !== false) {
      try {
        await backend.migrate();
      } catch (err) {
        await backend.close();
        throw err;
      }
    }
    return backend;
  }

  /** Creates the schema, the version table and every missing migration, in one transaction. Idempotent; safe to run from several processes at once. */
  async migrate(): Promise<{ applied: number[] }> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      // Two processes migrating at once: the second waits, then sees the first's versions.
      await client.query('SELECT pg_advisory_xact_lock($1::bigint)', [schemaConstants(this.schema).lockKey]);
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${this.s}`);
      await client.query(`CREATE TABLE IF NOT EXISTS ${this.s}.schema_version (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`);
      const { rows } = await client.query<{ v: number }>(`SELECT coalesce(max(version), 0) AS v FROM ${this.s}.schema_version`);
      const current = rows[0]?.v ?? 0;
      const applied: number[] = [];
      for (const m of migrations(this.schema)) {
        if (m.version <= current) continue;
        await client.query(m.sql);
        await client.query(`INSERT INTO ${this.s}.schema_version (version) VALUES ($1)`, [m.version]);
        applied.push(m.version);
      }
      await client.query('COMMIT');
      return { applied };
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      client.release();
    }
  }

  async append(stream: StreamAddress, records: readonly EventRecord[], expected: ExpectedVersion): Promise<AppendResult> {
    const exp = expected === 'any' ? null : expected === 'no-stream' ? 0 : expected;
    let row: { appended: boolean; stream_version: number; last_position: string | null } | undefined;
    try {
      const r = await this.pool.query({ name: `es-append-${this.s}`, text: this.q.append, values: [stream.streamId, stream.domain, stream.aggregate, exp, JSON.stringify(records)] });
      row = r.rows[0];
    } catch (err) {
      // A writer that bypassed append_events (and its lock) took the version first.
      if ((err as { code?: string }).code === '23505') throw new WrongExpectedVersionError(stream.streamId, expected, await this.version(stream));
      throw err;
    }
    if (!row) throw new Error('append_events returned no row');
    if (!row.appended) throw new WrongExpectedVersionError(stream.streamId, expected, row.stream_version);
    if (records.length > 0) this.waker.wake();
    return { version: row.stream_version, checkpoint: row.last_position ?? '' };
  }

  async *read(stream: StreamAddress, range: BackendReadRange): AsyncIterable<BackendRecord> {
    const forwards = range.direction === 'forwards';
    let next = range.from ?? (forwards ? 1 : 2 ** 31 - 1);
    const end = range.to ?? (forwards ? 2 ** 31 - 1 : 1);
    let left = range.limit ?? Infinity;
    while (left > 0) {
      const max = Math.min(this.pageSize, left);
      const rows = await this.rows(forwards ? 'readFwd' : 'readBack', [stream.streamId, next, end, max]);
      for (const r of rows) yield this.toRecord(r);
      left -= rows.length;
      if (rows.length < max) return;
      const lastVersion = rows[rows.length - 1]![2] as number;
      next = forwards ? lastVersion + 1 : lastVersion - 1;
    }
  }

  async version(stream: StreamAddress): Promise<number> {
    const r = await this.pool.query<{ v: number }>({ name: `es-version-${this.s}`, text: this.q.version, values: [stream.streamId] });
    return r.rows[0]?.v ?? 0;
  }

  async *readAll(filter: EventFilter, options: { from?: string }): AsyncIterable<BackendRecord> {
    let after = this.position(options.from);
    for (;;) {
      const page = await this.page(filter, after, this.pageSize);
      for (const r of page) yield r;
      if (page.length < this.pageSize) return;
      after = page[page.length - 1]!.checkpoint;
    }
  }

  async subscribe(filter: EventFilter, handler: BackendRecordHandler, options: { from?: string }): Promise<EventSubscription> {
    const from = this.position(options.from);
    this.subscribers++;
    await this.listen();
    const sub = pollingSubscription(
      {
        waker: this.waker,
        pollMs: this.pollMs,
        pageSize: this.pageSize,
        fetch: (after, max) => this.page(filter, after ?? '0', max),
        release: async () => {
          if (--this.subscribers === 0) await this.unlisten();
        },
      },
      handler,
      from === '0' ? undefined : from,
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

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Subscriptions first: their loops would otherwise poll an ended pool.
    await Promise.allSettled([...this.subscriptions].map((sub) => sub.stop()));
    await this.unlisten();
    if (this.ownsPool) await this.pool.end();
  }

  private async page(filter: EventFilter, after: string, max: number): Promise<BackendRecord[]> {
    const types = filter.types && filter.types.length > 0 ? [...filter.types] : null;
    const aggregates = filter.aggregates && filter.aggregates.length > 0 ? [...filter.aggregates] : undefined;
    const rows = aggregates ? await this.rows('allAgg', [after, max, types, aggregates]) : await this.rows('all', [after, max, types]);
    return rows.map((r) => this.toRecord(r));
  }

  private async rows(query: keyof PostgresEventStoreBackend['q'], values: unknown[]): Promise<unknown[][]> {
    const config: QueryArrayConfig = { name: `es-${query}-${this.s}`, text: this.q[query], values, rowMode: 'array' };
    return (await this.pool.query(config)).rows;
  }

  private toRecord(r: unknown[]): BackendRecord {
    const [position, streamId, version, id, type, typeVersion, source, timeMs, correlationId, causationId, data, metadata] = r;
    // int8 arrives as text; NULL (an infinite time) becomes an invalid date, which decode reports.
    const time = new Date(timeMs === null ? NaN : Number(timeMs));
    return {
      streamId: streamId as string,
      streamVersion: version as number,
      checkpoint: position as string,
      record: { id, type, version: typeVersion, source, time, data, metadata, correlationId, causationId },
    };
  }

  private position(checkpoint: string | undefined): string {
    if (checkpoint === undefined || checkpoint === '') return '0';
    if (!CHECKPOINT.test(checkpoint)) throw new InvalidCheckpointError(checkpoint, this.name);
    return checkpoint;
  }

  /** One LISTEN connection per backend, shared by its subscriptions; without it they still poll. */
  private listen(): Promise<Client | undefined> {
    this.listener ??= (async () => {
      const client = this.newClient(this.connection);
      try {
        await client.connect();
        client.on('notification', () => this.waker.wake());
        client.on('error', () => {
          // Lost: subscriptions fall back to polling; the next subscribe after all stop listens again.
          this.listener = undefined;
        });
        await client.query(`LISTEN ${quoteIdent(schemaConstants(this.schema).channel)}`);
        return client;
      } catch {
        await client.end().catch(() => {});
        this.listener = undefined;
        return undefined;
      }
    })();
    return this.listener;
  }

  private async unlisten(): Promise<void> {
    const l = this.listener;
    this.listener = undefined;
    const client = await l;
    await client?.end().catch(() => {});
  }
}
