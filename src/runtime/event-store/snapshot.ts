/**
 * Snapshots of an aggregate's state, so loading a long stream reads only the events after
 * the last snapshot. A snapshot is a cache: losing one, or ignoring a stale one, only costs
 * a longer fold, never a wrong state. That is why `loadAggregate` checks each snapshot
 * (schema version, version still present in the stream) before trusting it.
 *
 * States are stored as JSON (jsonb on PostgreSQL). The memory store round-trips through
 * JSON too, so a state that does not survive JSON (a Date, a Map) fails the same way in
 * tests as in production.
 */
import type { Pool } from 'pg';
import { EventContractsError } from '../errors.js';
import { quoteIdent } from './postgres/sql.js';

export interface Snapshot<S = unknown> {
  readonly streamId: string;
  /** The stream version the state was folded up to (inclusive). */
  readonly version: number;
  /** The reducer's state schema version when the snapshot was taken, e.g. 'account-state@3'. */
  readonly schemaVersion: string;
  readonly state: S;
}

export interface SnapshotStore {
  /** The stream's latest snapshot, whatever its schema version; the caller decides whether it still fits. */
  load(streamId: string): Promise<Snapshot | undefined>;
  /** Keeps the snapshot unless a newer one of the same schema version is already stored. */
  save(snapshot: Snapshot): Promise<void>;
}

/** A state that JSON cannot carry faithfully (a cycle, a BigInt, a non-finite number at the top). */
export class SnapshotEncodingError extends EventContractsError {
  constructor(
    readonly streamId: string,
    detail: string,
  ) {
    super(`snapshot of ${streamId} cannot be stored as JSON: ${detail}`);
  }
}

function encodeState(snapshot: Snapshot): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(snapshot.state);
  } catch (error) {
    throw new SnapshotEncodingError(snapshot.streamId, (error as Error).message);
  }
  if (text === undefined) throw new SnapshotEncodingError(snapshot.streamId, `a state of type ${typeof snapshot.state} has no JSON form`);
  return text;
}

function checkSnapshot(snapshot: Snapshot): void {
  if (!Number.isSafeInteger(snapshot.version) || snapshot.version < 1) {
    throw new RangeError(`snapshot version must be a positive integer, got ${snapshot.version}`);
  }
  if (typeof snapshot.schemaVersion !== 'string' || snapshot.schemaVersion === '') throw new RangeError('snapshot schemaVersion must be a non-empty string');
}

/** Snapshots in this process only: for tests and single-process tools. */
export class MemorySnapshotStore implements SnapshotStore {
  readonly #rows = new Map<string, { version: number; schemaVersion: string; json: string }>();

  async load(streamId: string): Promise<Snapshot | undefined> {
    const row = this.#rows.get(streamId);
    return row && { streamId, version: row.version, schemaVersion: row.schemaVersion, state: JSON.parse(row.json) as unknown };
  }

  async save(snapshot: Snapshot): Promise<void> {
    checkSnapshot(snapshot);
    const json = encodeState(snapshot);
    const current = this.#rows.get(snapshot.streamId);
    if (current && current.schemaVersion === snapshot.schemaVersion && current.version >= snapshot.version) return;
    this.#rows.set(snapshot.streamId, { version: snapshot.version, schemaVersion: snapshot.schemaVersion, json });
  }

  /** How many streams have a snapshot (for tests and metrics). */
  get size(): number {
    return this.#rows.size;
  }
}

// ---------------------------------------------------------------------------------------
// PostgreSQL
// ---------------------------------------------------------------------------------------

/** `"schema"."table"`, or `"table"` on the search path. */
export function qualifiedName(table: string, schema?: string): string {
  return schema === undefined ? quoteIdent(table) : `${quoteIdent(schema)}.${quoteIdent(table)}`;
}

export interface PgSnapshotStoreOptions {
  readonly pool: Pool;
  /** Default 'snapshots'. */
  readonly table?: string;
  /** Default 'event_store', the PostgreSQL backend's default schema: the table sits beside the store's. */
  readonly schema?: string;
}

export interface PgSnapshotStore extends SnapshotStore {
  /** Creates the table when missing. Idempotent, and safe when several processes run it at once. */
  migrate(): Promise<void>;
  /** The quoted, qualified table name. */
  readonly table: string;
}

/**
 * One row per stream: the latest snapshot. `save` is an upsert that never replaces a
 * snapshot with an older one of the same schema version (two loaders racing), but does
 * replace one of another schema version (the reducer changed, so the old state is useless).
 */
export function createPgSnapshotStore(options: PgSnapshotStoreOptions): PgSnapshotStore {
  const { pool } = options;
  const schema = options.schema ?? 'event_store';
  const table = qualifiedName(options.table ?? 'snapshots', schema);
  return {
    table,
    async migrate() {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        // Two processes running CREATE TABLE IF NOT EXISTS at once can still collide on the
        // catalog's unique index; the lock makes the second one wait and then find the table.
        await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`event-contracts:migrate:${table}`]);
        await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
        await client.query(
          `CREATE TABLE IF NOT EXISTS ${table} (
             "stream_id" text PRIMARY KEY,
             "version" bigint NOT NULL CHECK ("version" > 0),
             "schema_version" text NOT NULL,
             "state" jsonb NOT NULL,
             "taken_at" timestamptz NOT NULL DEFAULT now()
           )`,
        );
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    },
    async load(streamId) {
      const { rows } = await pool.query<{ version: string; schema_version: string; state: unknown }>(
        `SELECT "version", "schema_version", "state" FROM ${table} WHERE "stream_id" = $1`,
        [streamId],
      );
      const row = rows[0];
      return row && { streamId, version: Number(row.version), schemaVersion: row.schema_version, state: row.state };
    },
    async save(snapshot) {
      checkSnapshot(snapshot);
      const json = encodeState(snapshot);
      await pool.query(
        `INSERT INTO ${table} AS s ("stream_id", "version", "schema_version", "state") VALUES ($1, $2, $3, $4::jsonb)
         ON CONFLICT ("stream_id") DO UPDATE
           SET "version" = EXCLUDED."version", "schema_version" = EXCLUDED."schema_version", "state" = EXCLUDED."state", "taken_at" = now()
           WHERE s."schema_version" <> EXCLUDED."schema_version" OR s."version" < EXCLUDED."version"`,
        [snapshot.streamId, snapshot.version, snapshot.schemaVersion, json],
      );
    },
  };
}
