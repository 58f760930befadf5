/**
 * A dedupe store shared by every instance of a consumer group, in a PostgreSQL table: for
 * services that keep their state there anyway, and for brokers that do not deduplicate
 * (Kafka, RabbitMQ), where instances in several processes must agree which one handles an
 * id. Typed structurally over `pg`'s Pool (any `query(text, values)`), so this module loads
 * no client: the caller passes its own pool.
 *
 * One row per key: 'claimed' with an expiry, or 'done'. A claim is one atomic upsert that
 * inserts, or takes over a claim whose holder died (expired); anything else is 'done' or
 * 'busy'. Handled keys are kept for `retentionMs`, then deleted in small batches as claims go.
 */
import type { ClaimResult, DedupeStore } from './types.js';

/** The one member of a pg Pool (or Client) this store uses. */
export interface SqlQueryable {
  query<R = any>(text: string, values?: unknown[]): Promise<{ rows: R[] }>;
}

export interface PgDedupeOptions {
  /** Default 'public'. */
  schema?: string;
  /** Default 'event_contracts_dedupe'. */
  table?: string;
  /** How long a handled key is remembered. Default 24 h. */
  retentionMs?: number;
}

/** `"name"` with inner quotes doubled: the one way a name reaches SQL text. */
function quoteIdent(name: string): string {
  if (typeof name !== 'string' || name === '' || /[\u0000-\u001f\u007f]/.test(name) || Buffer.byteLength(name) > 63) {
    throw new Error(`PgDedupeStore: ${JSON.stringify(name)} is not a usable PostgreSQL name (1 to 63 bytes, no control characters)`);
  }
  return `"${name.replace(/"/g, '""')}"`;
}

/** Expired 'done' rows deleted per sweep, and how many claims pass between sweeps. */
const SWEEP_BATCH = 500;
const SWEEP_EVERY = 1000;

export class PgDedupeStore implements DedupeStore {
  private readonly table: string;
  private readonly retentionMs: number;
  private claims = 0;

  private constructor(
    private readonly db: SqlQueryable,
    o: PgDedupeOptions,
  ) {
    this.table = `${quoteIdent(o.schema ?? 'public')}.${quoteIdent(o.table ?? 'event_contracts_dedupe')}`;
    this.retentionMs = o.retentionMs ?? 24 * 3600_000;
  }

  /**
   * Creates the schema and table if missing and returns the store. Safe from many sessions
   * at once (instances of a service starting together): `CREATE ... IF NOT EXISTS` is not
   * safe against itself (two sessions may both find the schema missing, and the second then
   * fails on a catalog's unique index), so the statements run as one transaction that first
   * takes an advisory lock. One query text without parameters, so that a pool runs it on one
   * connection as one implicit transaction.
   */
  static async open(db: SqlQueryable, options: PgDedupeOptions = {}): Promise<PgDedupeStore> {
    const store = new PgDedupeStore(db, options);
    await db.query(
      `SELECT pg_advisory_xact_lock(hashtext('event-contracts:dedupe:create'));
       ${options.schema !== undefined ? `CREATE SCHEMA IF NOT EXISTS ${quoteIdent(options.schema)};` : ''}
       CREATE TABLE IF NOT EXISTS ${store.table} (
         key text PRIMARY KEY,
         done boolean NOT NULL DEFAULT false,
         -- a claim's expiry while not done; when it was handled once done
         until timestamptz NOT NULL
       )`,
    );
    return store;
  }

  async claim(key: string, ttlMs: number): Promise<ClaimResult> {
    if (++this.claims % SWEEP_EVERY === 0) void this.sweep().catch(() => undefined);
    // Bounded: each round wins, sees a final state, or saw the key released in between.
    for (let attempt = 0; attempt < 3; attempt++) {
      // Inserts, or takes over an expired claim; a live claim or a done key returns no row.
      const won = await this.db.query(
        `INSERT INTO ${this.table} AS d (key, done, until) VALUES ($1, false, clock_timestamp() + make_interval(secs => $2::double precision / 1000))
         ON CONFLICT (key) DO UPDATE SET until = EXCLUDED.until
           WHERE NOT d.done AND d.until < clock_timestamp()
         RETURNING 1`,
        [key, ttlMs],
      );
      if (won.rows.length > 0) return 'claimed';
      const seen = await this.db.query<{ done: boolean }>(`SELECT done FROM ${this.table} WHERE key = $1`, [key]);
      const row = seen.rows[0];
      if (row !== undefined) return row.done ? 'done' : 'busy';
    }
    return 'busy';
  }

  async complete(key: string): Promise<void> {
    await this.db.query(
      `INSERT INTO ${this.table} (key, done, until) VALUES ($1, true, clock_timestamp())
       ON CONFLICT (key) DO UPDATE SET done = true, until = clock_timestamp()`,
      [key],
    );
  }

  async release(key: string): Promise<void> {
    await this.db.query(`DELETE FROM ${this.table} WHERE key = $1 AND NOT done`, [key]);
  }

  /** Deletes up to a batch of handled keys older than the retention. */
  async sweep(): Promise<number> {
    const r = await this.db.query(
      `DELETE FROM ${this.table} WHERE key IN (
         SELECT key FROM ${this.table} WHERE done AND until < clock_timestamp() - make_interval(secs => $1::double precision / 1000) LIMIT ${SWEEP_BATCH})
       RETURNING 1`,
      [this.retentionMs],
    );
    return r.rows.length;
  }
}
