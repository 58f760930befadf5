/**
 * PgDedupeStore on the local PostgreSQL: one winner per key among concurrent claimers (as
 * instances in several processes would be), take-over of an expired claim, release, sweep,
 * and table names from configuration that never reach SQL unquoted.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgDedupeStore } from '../../src/runtime/pg-dedupe.js';
import { rand } from './helpers.js';

const PG_URL = process.env['PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
const schema = `ec_dedupe_${rand()}`;
let pool: pg.Pool;

beforeAll(() => {
  pool = new pg.Pool({ connectionString: PG_URL, max: 8 });
});
afterAll(async () => {
  await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await pool.end();
});

describe('PgDedupeStore', () => {
  it('claims once; a live claim is busy; complete makes it done; release lets another claim it', async () => {
    const s = await PgDedupeStore.open(pool, { schema });
    expect(await s.claim('a', 60_000)).toBe('claimed');
    expect(await s.claim('a', 60_000)).toBe('busy');
    await s.complete('a');
    expect(await s.claim('a', 60_000)).toBe('done');
    expect(await s.claim('b', 60_000)).toBe('claimed');
    await s.release('b');
    expect(await s.claim('b', 60_000)).toBe('claimed');
    // Releasing a done key does not forget that it was handled.
    await s.release('a');
    expect(await s.claim('a', 60_000)).toBe('done');
  });

  it('lets another instance take over a claim whose holder died (expired)', async () => {
    const s = await PgDedupeStore.open(pool, { schema });
    expect(await s.claim('crashed', 1)).toBe('claimed');
    await pool.query(`SELECT pg_sleep(0.01)`);
    const other = await PgDedupeStore.open(pool, { schema });
    expect(await other.claim('crashed', 60_000)).toBe('claimed');
    expect(await s.claim('crashed', 60_000)).toBe('busy');
  });

  it('gives a key to exactly one of many concurrent claimers', async () => {
    const stores = await Promise.all(Array.from({ length: 8 }, () => PgDedupeStore.open(pool, { schema })));
    for (let round = 0; round < 20; round++) {
      const key = `race-${round}`;
      const results = await Promise.all(stores.flatMap((s) => [s.claim(key, 60_000), s.claim(key, 60_000)]));
      expect(results.filter((r) => r === 'claimed')).toHaveLength(1);
      expect(results.filter((r) => r === 'busy')).toHaveLength(15);
    }
  });

  it('sweeps handled keys older than the retention, and only those', async () => {
    const s = await PgDedupeStore.open(pool, { schema, table: 'swept', retentionMs: 1 });
    await s.complete('old');
    expect(await s.claim('live', 60_000)).toBe('claimed');
    await pool.query(`SELECT pg_sleep(0.01)`);
    expect(await s.sweep()).toBe(1);
    expect(await s.claim('old', 60_000)).toBe('claimed');
    expect(await s.claim('live', 60_000)).toBe('busy');
  });

  it('opens from many sessions at once on a schema and table that do not exist yet (instances starting together)', async () => {
    // CREATE ... IF NOT EXISTS is not safe against itself: two sessions can both find the
    // schema missing, and the second then fails on pg_namespace's unique index. Seen as a
    // Kafka failover worker failing to start beside its twin. Several rounds, each on a
    // schema of its own, since one round may miss the window.
    for (let round = 0; round < 5; round++) {
      const own = `${schema}_open${round}`;
      const sessions = await Promise.all(
        Array.from({ length: 8 }, async () => {
          const c = new pg.Client({ connectionString: PG_URL });
          await c.connect();
          return c;
        }),
      );
      try {
        const opened = await Promise.allSettled(sessions.map((c) => PgDedupeStore.open(c, { schema: own, table: 'seen' })));
        expect(opened.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason))).toEqual([]);
        expect(await (opened[0] as PromiseFulfilledResult<PgDedupeStore>).value.claim('k', 60_000)).toBe('claimed');
      } finally {
        await Promise.all(sessions.map((c) => c.end()));
        await pool.query(`DROP SCHEMA IF EXISTS "${own}" CASCADE`);
      }
    }
  });

  it('quotes a hostile table name from configuration instead of running it', async () => {
    await pool.query(`CREATE TABLE IF NOT EXISTS "${schema}".victim (x int)`);
    const table = `x"; DROP TABLE "${schema}".victim; --`;
    const s = await PgDedupeStore.open(pool, { schema, table });
    expect(await s.claim('k', 60_000)).toBe('claimed');
    const tables = await pool.query<{ table_name: string }>(`SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1`, [schema]);
    expect(tables.rows.map((r) => r.table_name)).toContain(table);
    expect(tables.rows.map((r) => r.table_name)).toContain('victim');
  });

  it('refuses names PostgreSQL would cut or that carry control characters', async () => {
    await expect(PgDedupeStore.open(pool, { schema, table: 'a\nb' })).rejects.toThrow(/not a usable PostgreSQL name/);
    await expect(PgDedupeStore.open(pool, { schema, table: 'x'.repeat(64) })).rejects.toThrow(/not a usable PostgreSQL name/);
  });
});
