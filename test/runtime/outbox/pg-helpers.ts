/**
 * PostgreSQL for the outbox tests: pools on the shared server (each test in a schema of its
 * own, dropped afterwards), and a private server (initdb into a temp dir) that a fault test
 * kills by PID and restarts on the same data directory.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { OutboxLocation } from '../../../src/runtime/outbox/index.js';
import { freePort, rand, waitFor } from '../helpers.js';

export const PG_URL = process.env['PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
const PG_BIN = process.env['PG_BIN'] ?? '/usr/lib/postgresql/15/bin';

export function newPool(url = PG_URL, max = 10): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max, connectionTimeoutMillis: 5000 });
  // An idle connection that dies with a server we kill must not end the test process.
  pool.on('error', () => undefined);
  return pool;
}

/** A fresh schema name; drop it with dropSchema. */
export const schemaName = (tag: string): string => `ob_${tag}_${rand()}`;

export async function dropSchema(pool: pg.Pool, schema: string): Promise<void> {
  await pool.query(`DROP SCHEMA IF EXISTS "${schema.replace(/"/g, '""')}" CASCADE`);
}

/** Runs `fn` in a transaction on one connection; commits, or rolls back when it throws. */
export async function inTransaction<T>(pool: pg.Pool, fn: (tx: pg.PoolClient) => Promise<T>): Promise<T> {
  const tx = await pool.connect();
  let broken: Error | undefined;
  try {
    await tx.query('BEGIN');
    const out = await fn(tx);
    await tx.query('COMMIT');
    return out;
  } catch (err) {
    broken = err as Error;
    await tx.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    tx.release(broken !== undefined && !(broken as { code?: string }).code ? broken : undefined);
  }
}

/** The relay's progress: every committed row up to this position is published or failed. */
export async function publishedThrough(pool: pg.Pool, outbox: { location: OutboxLocation }): Promise<string> {
  return (await pool.query(`SELECT published_through::text AS p FROM ${outbox.location.progressTable}`)).rows[0].p;
}

/** Event ids the relay has published (below its progress, not failed), in position order. */
export async function publishedIds(pool: pg.Pool, outbox: { location: OutboxLocation }): Promise<string[]> {
  const l = outbox.location;
  const r = await pool.query(
    `SELECT o.event_id FROM ${l.qualified} AS o, ${l.progressTable} AS p WHERE o.position <= p.published_through AND o.failed_at IS NULL ORDER BY o.position`,
  );
  return r.rows.map((row) => row.event_id);
}

/**
 * A private PostgreSQL 15: initdb into a temp dir, `postgres` on a free loopback port in a
 * process group of its own, so kill() takes the postmaster and its backends down at once
 * (SIGKILL: a crash; the restart runs recovery on the same directory).
 */
export class OwnPostgres {
  private proc: ChildProcess | undefined;
  readonly dir = mkdtempSync(join(tmpdir(), 'ec-pg-'));
  private constructor(readonly port: number) {}

  /** PostgreSQL refuses to run as root: then the server runs as the `postgres` system user. */
  private static get identity(): { uid: number; gid: number } | undefined {
    if (process.getuid?.() !== 0) return undefined;
    return { uid: Number(process.env['PG_UID'] ?? 101), gid: Number(process.env['PG_GID'] ?? 104) };
  }

  static async start(): Promise<OwnPostgres> {
    const s = new OwnPostgres(await freePort());
    const id = OwnPostgres.identity;
    if (id) chownSync(s.dir, id.uid, id.gid);
    await new Promise<void>((resolve, reject) => {
      const p = spawn(join(PG_BIN, 'initdb'), ['-D', join(s.dir, 'data'), '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8'], { stdio: 'ignore', ...id });
      p.once('error', reject);
      p.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`initdb exited with ${code}`))));
    });
    await s.spawn();
    return s;
  }

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  async spawn(): Promise<void> {
    const args = ['-D', join(this.dir, 'data'), '-p', String(this.port), '-k', this.dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'max_connections=50'];
    this.proc = spawn(join(PG_BIN, 'postgres'), args, { stdio: 'ignore', detached: true, ...OwnPostgres.identity });
    await waitFor(async () => {
      const c = new pg.Client({ connectionString: this.url, connectionTimeoutMillis: 1000 });
      c.on('error', () => undefined);
      try {
        await c.connect();
        await c.query('SELECT 1');
        return true;
      } catch {
        return false;
      } finally {
        await c.end().catch(() => undefined);
      }
    }, 30_000, 'private postgres to accept connections');
  }

  /** SIGKILL to the server's process group (postmaster and backends), by its PID. */
  async kill(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise<void>((r) => p.once('exit', () => r()));
    process.kill(-p.pid!, 'SIGKILL');
    await exited;
    // Backends die with the group; wait until none is left holding the data directory.
    await waitFor(() => {
      try {
        process.kill(-p.pid!, 0);
        return false;
      } catch {
        return true;
      }
    }, 10_000, 'the killed postgres processes to exit');
    this.proc = undefined;
  }

  /** Fast shutdown (SIGINT) then removal of the data directory. */
  async destroy(): Promise<void> {
    const p = this.proc;
    if (p && p.exitCode === null && p.signalCode === null) {
      const exited = new Promise<void>((r) => p.once('exit', () => r()));
      process.kill(p.pid!, 'SIGINT');
      const t = setTimeout(() => {
        try {
          process.kill(-p.pid!, 'SIGKILL');
        } catch {
          // gone
        }
      }, 10_000);
      await exited;
      clearTimeout(t);
    }
    this.proc = undefined;
    rmSync(this.dir, { recursive: true, force: true });
  }
}
