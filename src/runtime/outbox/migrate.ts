/**
 * The outbox table and what keeps its order, created idempotently (run it at every start).
 *
 * Order. Rows get two numbers: `id`, drawn at insert, and `position`, drawn at COMMIT by a
 * deferred constraint trigger that first takes a per-table advisory lock held until the
 * commit ends. So positions follow commit order: when a row with position p is visible,
 * every row of a lower position is visible too, and no transaction can later commit a
 * lower position. The relay can publish in position order without waiting on, or
 * skipping, holes: a rolled-back transaction never draws a position, and a position drawn
 * by a commit that then fails leaves a hole nobody will fill. The cost is that commits
 * which add outbox rows queue on that lock for the length of their commit (not of their
 * transaction); see the README for figures.
 */
import { LOCK, oidLockKey, outboxLocation, type OutboxLocation } from './names.js';
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
      position bigint UNIQUE,
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
      published_at timestamptz,
      failed_at timestamptz,
      error text
    )`,
    `CREATE INDEX IF NOT EXISTS ${l.pendingIndex} ON ${t} (position) WHERE published_at IS NULL AND failed_at IS NULL AND position IS NOT NULL`,
    // Fired once per row at commit, in insert order. The lock is re-entrant within the
    // transaction, so a transaction with many rows waits once.
    `CREATE OR REPLACE FUNCTION ${l.commitFunction}() RETURNS trigger LANGUAGE plpgsql AS $outbox_commit$
BEGIN
  PERFORM pg_advisory_xact_lock(${LOCK.COMMIT}, ${oidLockKey('TG_RELID')});
  UPDATE ${t} SET position = nextval('${l.positionSequence.replace(/'/g, "''")}'::regclass), committed_at = clock_timestamp() WHERE id = NEW.id;
  RETURN NULL;
END
$outbox_commit$`,
  ];
}

/**
 * Creates the outbox table, its sequence, index and commit trigger if they are missing.
 * Safe to run concurrently from several instances (serialised by an advisory lock).
 */
export async function migrateOutbox(db: ConnectionPool | Queryable, options: OutboxTableOptions = {}): Promise<OutboxLocation> {
  const l = outboxLocation(options.schema, options.table);
  const body = statements(l);
  // The function body is dollar-quoted: a name holding the tag would end it early.
  if (body[4]!.split('$outbox_commit$').length !== 3) throw new Error('outbox: a schema or table name contains the function quote tag $outbox_commit$');
  const pooled = 'connect' in db && typeof db.connect === 'function';
  const client = pooled ? await (db as ConnectionPool).connect() : (db as Queryable);
  let failed: Error | undefined;
  try {
    await client.query('BEGIN');
    await client.query(`SELECT pg_advisory_xact_lock(${LOCK.MIGRATE}, 0)`);
    for (const sql of body) await client.query(sql);
    // A constraint trigger cannot be CREATE OR REPLACEd: look it up with bound names.
    const found = await client.query(`SELECT 1 FROM pg_trigger WHERE tgrelid = $1::regclass AND tgname = $2`, [l.qualified, l.raw.commitTrigger]);
    if (found.rows.length === 0) {
      await client.query(
        `CREATE CONSTRAINT TRIGGER ${l.commitTrigger} AFTER INSERT ON ${l.qualified} DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ${l.commitFunction}()`,
      );
    }
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
