/**
 * The outbox table and what keeps its order, created idempotently (run it at every start).
 *
 * Order. Rows get two numbers: `id`, drawn at insert, and `position`, drawn at COMMIT by a
 * deferred constraint trigger. Before drawing it the committing transaction takes a shared
 * per-table advisory lock, held until its commit has ended (visible or rolled back). A
 * position drawn at commit follows commit order closely (a writer that waited for another's
 * row lock draws after it), but two commits under way at once may become visible in the
 * other order. So the relay publishes only up to a horizon: it reads the sequence's last
 * value H, then the transactions holding the shared lock; once those are gone, every
 * position up to H is visible or will never be (rolled back, failed commit), and the rows
 * up to H can go out in position order with nothing lower ever turning up later. Writers
 * never wait for each other or for the relay (shared lock); a transaction that fired the
 * trigger early (SET CONSTRAINTS ALL IMMEDIATE) and stays open holds the horizon back, which
 * is lag, never disorder.
 *
 * Progress. Since rows go out in position order, what is published is one number: the
 * progress table's `published_through`, the position up to which every committed row is
 * published or marked failed. The relay moves it once per batch. Marking each row instead
 * cost PostgreSQL more than reading it (an UPDATE writes a new row version and an entry in
 * every index), and on a 2-core machine that CPU is the broker's and the relay's too.
 *
 * Re-driving a failed row: clear its `failed_at` (and `error`); the trigger, which also
 * fires on that update, gives it a new position at commit, so it goes out after the rows
 * already published.
 */
import { LOCK, OutboxConfigError, oidLockKey, outboxLocation, type OutboxLocation } from './names.js';
import type { ConnectionPool, PooledConnection, Queryable } from './sql-client.js';

export interface OutboxTableOptions {
  /** Default 'public'. */
  schema?: string;
  /** Default 'event_outbox'. */
  table?: string;
}

function statements(l: OutboxLocation): string[] {
  const t = l.qualified;
  return [
    `CREATE SCHEMA IF NOT EXISTS ${l.quotedSchema}`,
    `CREATE SEQUENCE IF NOT EXISTS ${l.positionSequence} AS bigint`,
    `CREATE TABLE IF NOT EXISTS ${t} (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      -- Unique by construction (one sequence); no index of its own beyond the pending one,
      -- since each index is one more entry written by the commit-time update.
      position bigint,
      event_id text NOT NULL UNIQUE,
      type text NOT NULL,
      version text NOT NULL,
      source text NOT NULL,
      subject text NOT NULL,
      params jsonb NOT NULL DEFAULT '{}',
      headers jsonb NOT NULL DEFAULT '{}',
      metadata jsonb NOT NULL DEFAULT '{}',
      correlation_id text,
      causation_id text,
      partition_key text,
      occurred_at timestamptz NOT NULL,
      body bytea NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      committed_at timestamptz,
      failed_at timestamptz,
      error text
    )`,
    `CREATE INDEX IF NOT EXISTS ${l.pendingIndex} ON ${t} (position) WHERE failed_at IS NULL AND position IS NOT NULL`,
    `CREATE TABLE IF NOT EXISTS ${l.progressTable} (
      one boolean PRIMARY KEY DEFAULT true CHECK (one),
      published_through bigint NOT NULL,
      updated_at timestamptz NOT NULL DEFAULT now()
    )`,
    // Fired once per row at commit, in insert order, and when a failed row is re-driven.
    // Shared: committing writers never wait for each other; the relay only looks at who
    // holds it (see the horizon in relay.ts).
    `CREATE OR REPLACE FUNCTION ${l.commitFunction}() RETURNS trigger LANGUAGE plpgsql AS $outbox_commit$
BEGIN
  IF TG_OP = 'UPDATE' AND (NEW.failed_at IS NOT NULL OR OLD.failed_at IS NULL) THEN
    RETURN NULL;
  END IF;
  PERFORM pg_advisory_xact_lock_shared(${LOCK.COMMIT}, ${oidLockKey('TG_RELID')});
  UPDATE ${t} SET position = nextval('${l.positionSequence.replace(/'/g, "''")}'::regclass), committed_at = clock_timestamp() WHERE id = NEW.id;
  RETURN NULL;
END
$outbox_commit$`,
  ];
}

/**
 * The progress row, made once. A table from before the progress table marked each row
 * (`published_at`): progress starts below its lowest unmarked row. Its in-flight commits
 * are waited for first (the commit lock, taken exclusively), so none of them can draw a
 * position under that mark after it is set.
 */
async function startProgress(client: Queryable, l: OutboxLocation): Promise<void> {
  const had = await client.query(`SELECT 1 FROM ${l.progressTable}`);
  if (had.rows.length > 0) return;
  const marked = await client.query(
    `SELECT 1 FROM pg_attribute WHERE attrelid = $1::regclass AND attname = 'published_at' AND NOT attisdropped`,
    [l.qualified],
  );
  if (marked.rows.length === 0) {
    await client.query(`INSERT INTO ${l.progressTable} (published_through) VALUES (0)`);
    return;
  }
  // A relay of the earlier version marks rows and never moves progress: converting under it
  // would have the next relay republish all it marked meanwhile. It holds the relay lock
  // while it leads (this takes it until the migration commits).
  const free = await client.query<{ ok: boolean }>(`SELECT pg_try_advisory_xact_lock(${LOCK.RELAY}, ${oidLockKey('$1::regclass::oid')}) AS ok`, [l.qualified]);
  if (!free.rows[0]?.ok) {
    throw new OutboxConfigError(`outbox ${l.qualified}: a relay is running on this table, made before the progress row; stop it, then migrate`);
  }
  // Its index selected rows by published_at, which nothing writes any more: the relay's reads
  // could not use it.
  await client.query(`DROP INDEX IF EXISTS ${l.quotedSchema}.${l.pendingIndex}`);
  await client.query(`CREATE INDEX ${l.pendingIndex} ON ${l.qualified} (position) WHERE failed_at IS NULL AND position IS NOT NULL`);
  await client.query(`SELECT pg_advisory_xact_lock(${LOCK.COMMIT}, ${oidLockKey('$1::regclass::oid')})`, [l.qualified]);
  await client.query(
    `INSERT INTO ${l.progressTable} (published_through)
     SELECT coalesce(
       (SELECT min(position) - 1 FROM ${l.qualified} WHERE published_at IS NULL AND failed_at IS NULL AND position IS NOT NULL),
       (SELECT max(position) FROM ${l.qualified}),
       0)`,
  );
}

/**
 * Creates the outbox table, its sequence, index, progress row and commit trigger if they are missing.
 * Safe to run concurrently from several instances (serialised by an advisory lock).
 */
export async function migrateOutbox(db: ConnectionPool | Queryable, options: OutboxTableOptions = {}): Promise<OutboxLocation> {
  const l = outboxLocation(options.schema, options.table);
  const body = statements(l);
  // The function body is dollar-quoted: a name holding the tag would end it early.
  if (body.join('\n').split('$outbox_commit$').length !== 3) throw new Error('outbox: a schema or table name contains the function quote tag $outbox_commit$');
  const pooled = 'connect' in db && typeof db.connect === 'function';
  const client = pooled ? await (db as ConnectionPool).connect() : (db as Queryable);
  let failed: Error | undefined;
  try {
    await client.query('BEGIN');
    await client.query(`SELECT pg_advisory_xact_lock(${LOCK.MIGRATE}, 0)`);
    for (const sql of body) await client.query(sql);
    // A constraint trigger cannot be CREATE OR REPLACEd: look it up with bound names. One
    // made before re-driving existed fires on INSERT only (tgtype bit 16 is UPDATE).
    const found = await client.query<{ on_update: boolean }>(`SELECT (tgtype & 16) <> 0 AS on_update FROM pg_trigger WHERE tgrelid = $1::regclass AND tgname = $2`, [l.qualified, l.raw.commitTrigger]);
    if (found.rows[0]?.on_update !== true) {
      if (found.rows.length > 0) await client.query(`DROP TRIGGER ${l.commitTrigger} ON ${l.qualified}`);
      await client.query(
        `CREATE CONSTRAINT TRIGGER ${l.commitTrigger} AFTER INSERT OR UPDATE OF failed_at ON ${l.qualified} DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ${l.commitFunction}()`,
      );
    }
    await startProgress(client, l);
    await client.query('COMMIT');
  } catch (err) {
    failed = err as Error;
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    // A connection that failed mid-migration is destroyed, not handed back to the pool.
    if (pooled) (client as PooledConnection).release(failed);
  }
  return l;
}
