/**
 * Projection runner: checkpoint and read-model writes in one transaction (a runner killed
 * with SIGKILL mid-stream applies each event once), dead letters instead of stopping,
 * rebuild into a new generation while the old one serves, and fencing of a second runner.
 * Functional tests run on the memory event store; the crash test on the PostgreSQL one, as
 * it needs a store two processes share. The read models are always in PostgreSQL.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { createEventStore, MemoryEventStoreBackend, PostgresEventStoreBackend, type EventStore } from '../../../src/runtime/event-store/index.js';
import { createProjectionRunner, type ProjectionDeadLetter, type ProjectionOptions, type RebuildProgress } from '../../../src/runtime/event-store/projection.js';
import { rand, stopProcess, waitFor } from '../helpers.js';
import { accountContract, type AccountContract } from './contract.js';
import { PG } from './pg-helpers.js';

const schema = `proj_${rand()}`;
let pool: pg.Pool;
beforeAll(async () => {
  pool = new pg.Pool({ ...PG, max: 8 });
  await pool.query(`CREATE SCHEMA "${schema}"`);
});
afterAll(async () => {
  await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await pool.end();
});

interface Setup {
  c: AccountContract;
  store: EventStore;
  backend: MemoryEventStoreBackend;
}

async function memoryStore(): Promise<Setup> {
  const c = accountContract(`t${rand()}`);
  const backend = new MemoryEventStoreBackend();
  const store = await createEventStore({ backend, events: c.all, upcasters: c.upcasters, source: 'test' });
  return { c, store, backend };
}

async function deposit(s: Setup, id: string, amounts: number[]): Promise<void> {
  await s.store.append(
    s.c.stream(id),
    amounts.map((amount) => ({ event: s.c.deposited, data: { accountId: id, amount } })),
  );
}

/** A read model of deposits, table `<name>_g<n>`: one row per event applied (a plain INSERT, so applying twice shows). */
function depositsRunner(s: Setup, name: string, extra: Partial<ProjectionOptions> = {}) {
  return createProjectionRunner({
    store: s.store,
    pool,
    name,
    schema,
    readModelSchema: schema,
    prepare: async (tx) => {
      await tx.query(`CREATE TABLE ${tx.table(name)} (event_id text NOT NULL, stream_id text NOT NULL, amount integer NOT NULL CHECK (amount <> 666))`);
    },
    handle: async (event, tx) => {
      const { amount } = event.data as { amount: number };
      await tx.query(`INSERT INTO ${tx.table(name)} (event_id, stream_id, amount) VALUES ($1, $2, $3)`, [event.id, event.streamId, amount]);
      if (amount === 13) throw new Error('unlucky amount');
    },
    ...extra,
  });
}

async function count(table: string | undefined): Promise<{ rows: number; distinct: number; sum: number }> {
  if (!table) throw new Error('no active table');
  const { rows } = await pool.query<{ rows: string; distinct: string; sum: string | null }>(`SELECT count(*) AS rows, count(DISTINCT event_id) AS distinct, sum(amount) AS sum FROM ${table}`);
  return { rows: Number(rows[0]!.rows), distinct: Number(rows[0]!.distinct), sum: Number(rows[0]!.sum ?? 0) };
}

describe('projection runner', () => {
  it('applies the catch-up and then live events, and resumes after its checkpoint on restart', async () => {
    const s = await memoryStore();
    await deposit(s, 'a', [1, 2, 3]);
    const name = `basic_${rand()}`;
    const runner = depositsRunner(s, name);
    await runner.migrate();
    await runner.migrate();
    await runner.start();
    const table = await runner.activeTable(name);
    expect(table).toBe(`"${schema}"."${name}_g1"`);
    expect(await count(table)).toEqual({ rows: 3, distinct: 3, sum: 6 });
    await deposit(s, 'b', [10, 20]);
    await waitFor(async () => (await count(table)).rows === 5, 10_000, 'live events');
    await runner.stop();

    await deposit(s, 'a', [100]);
    const again = depositsRunner(s, runner.name);
    await again.start();
    await waitFor(async () => (await count(table)).rows === 6, 10_000, 'the event after the checkpoint');
    expect(await count(table)).toEqual({ rows: 6, distinct: 6, sum: 136 });
    expect((await again.status()).generations).toEqual([expect.objectContaining({ generation: 1, status: 'active', events: 6, deadLetters: 0 })]);
    await again.stop();
    await s.store.close();
  });

  it('dead-letters an event whose handler throws, undoing only that event’s writes, and goes on', async () => {
    const s = await memoryStore();
    // 13: the handler inserts, then throws. 666: the INSERT itself fails (a CHECK constraint), which aborts a transaction without a savepoint.
    await deposit(s, 'a', [1, 13, 2, 666, 3]);
    const letters: ProjectionDeadLetter[] = [];
    const name = `dead_${rand()}`;
    const runner = depositsRunner(s, name, { onDeadLetter: (l) => letters.push(l) });
    await runner.migrate();
    await runner.start();
    const table = await runner.activeTable(name);
    expect(await count(table)).toEqual({ rows: 3, distinct: 3, sum: 6 });
    expect(letters.map((l) => [l.streamVersion, l.reason])).toEqual([
      [2, 'handler-failed'],
      [4, 'handler-failed'],
    ]);
    expect(letters[0]!.detail).toBe('Error: unlucky amount');
    expect(letters[1]!.detail).toMatch(/check constraint/);
    const { rows } = await pool.query(`SELECT "stream_id", "stream_version", "event_type", "reason", "detail", "event" FROM "${schema}"."event_projection_dead_letters" WHERE "projection" = $1 ORDER BY "id"`, [runner.name]);
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatchObject({ stream_id: s.c.stream('a'), stream_version: '2', event_type: s.c.deposited.type, reason: 'handler-failed' });
    expect(JSON.parse(rows[0].event as string).data).toEqual({ accountId: 'a', amount: 13 });
    // Later events still flow.
    await deposit(s, 'a', [4]);
    await waitFor(async () => (await count(table)).rows === 4, 10_000, 'the event after the dead letters');
    expect((await runner.status()).generations[0]).toMatchObject({ events: 6, deadLetters: 2 });
    await runner.stop();
    await s.store.close();
  });

  it('dead-letters the event of a handler that swallowed its own failed query (the transaction was left aborted)', async () => {
    const s = await memoryStore();
    await deposit(s, 'a', [1, 666, 2]);
    const name = `swallow_${rand()}`;
    const letters: ProjectionDeadLetter[] = [];
    const runner = depositsRunner(s, name, {
      onDeadLetter: (l) => letters.push(l),
      handle: async (event, tx) => {
        const { amount } = event.data as { amount: number };
        await tx.query(`INSERT INTO ${tx.table(name)} (event_id, stream_id, amount) VALUES ($1, $2, $3)`, [event.id, event.streamId, amount]).catch(() => undefined);
      },
    });
    await runner.migrate();
    await runner.start();
    expect(await count(await runner.activeTable(name))).toMatchObject({ rows: 2, sum: 3 });
    expect(letters.map((l) => [l.streamVersion, l.reason])).toEqual([[2, 'handler-failed']]);
    expect(letters[0]!.detail).toMatch(/current transaction is aborted/);
    await runner.stop();
    await s.store.close();
  });

  it('dead-letters a record the store cannot read (reason from the store) and goes on', async () => {
    const s = await memoryStore();
    await deposit(s, 'a', [1]);
    s.backend.writeRaw(s.c.stream('a'), '{"id": "x", "type": ');
    await deposit(s, 'b', [2]);
    const letters: ProjectionDeadLetter[] = [];
    const name = `bad_${rand()}`;
    const runner = depositsRunner(s, name, { onDeadLetter: (l) => letters.push(l) });
    await runner.migrate();
    await runner.start();
    expect(await count(await runner.activeTable(name))).toMatchObject({ rows: 2, sum: 3 });
    expect(letters).toEqual([expect.objectContaining({ reason: 'corrupt', streamId: s.c.stream('a'), checkpoint: '2' })]);
    await runner.stop();
    await s.store.close();
  });

  it('keeps hostile text out of harm: NUL in an error message, a handler that throws a non-Error', async () => {
    const s = await memoryStore();
    await deposit(s, 'a', [1, 2]);
    const letters: ProjectionDeadLetter[] = [];
    const runner = depositsRunner(s, `hostile_${rand()}`, {
      onDeadLetter: (l) => letters.push(l),
      handle: async (event) => {
        if ((event.data as { amount: number }).amount === 1) throw new Error('bad \u0000 byte\u001b[2J' + 'x'.repeat(10_000));
        throw Object.assign(Object.create(null) as object, { toString: undefined });
      },
    });
    await runner.migrate();
    await runner.start();
    expect(letters).toHaveLength(2);
    expect(letters[0]!.detail).toContain('bad \\u0000 byte');
    expect(letters[0]!.detail.length).toBeLessThan(2_100);
    expect(letters[1]!.detail).toBe('thrown object');
    await runner.stop();
    await s.store.close();
  });

  it('fences a second runner of the same projection: every event is applied once', async () => {
    const s = await memoryStore();
    const name = `fence_${rand()}`;
    const errors: unknown[] = [];
    const a = depositsRunner(s, name, { batchSize: 3, onError: (e) => errors.push(e) });
    const b = depositsRunner(s, name, { batchSize: 3, onError: (e) => errors.push(e) });
    await a.migrate();
    await Promise.all([a.start(), b.start()]);
    for (let i = 0; i < 20; i++) await deposit(s, `x${i % 3}`, [1, 1, 1, 1, 1]);
    const table = await a.activeTable(name);
    await waitFor(async () => (await a.status()).generations[0]?.events === 100, 20_000, 'all 100 events');
    expect(await count(table)).toEqual({ rows: 100, distinct: 100, sum: 100 });
    await Promise.all([a.stop(), b.stop()]);
    await s.store.close();
  });

  it('rebuilds into a new generation while the old one serves, switches in one transaction, and follows on in the new one', async () => {
    const s = await memoryStore();
    for (let i = 0; i < 10; i++) await deposit(s, `r${i}`, [1, 2, 3, 4, 5]);
    const retired: number[] = [];
    const prepared: number[] = [];
    const name = `rebuild_${rand()}`;
    const options: Partial<ProjectionOptions> = {
      batchSize: 8,
      prepare: async (tx) => {
        prepared.push(tx.generation);
        await tx.query(`CREATE TABLE ${tx.table(name)} (event_id text NOT NULL, stream_id text NOT NULL, amount integer NOT NULL)`);
      },
      retire: async (tx) => {
        retired.push(tx.generation);
        await tx.query(`DROP TABLE ${tx.table(name)}`);
      },
      // Generation 2 counts amounts twice: the rebuild is how a changed projection reaches its readers.
      handle: async (event, tx) => {
        const { amount } = event.data as { amount: number };
        await tx.query(`INSERT INTO ${tx.table(name)} (event_id, stream_id, amount) VALUES ($1, $2, $3)`, [event.id, event.streamId, tx.generation === 1 ? amount : amount * 2]);
      },
    };
    const live = depositsRunner(s, name, options);
    await live.migrate();
    await live.start();
    onTestFinished(() => live.stop());
    const old = await live.activeTable(name);
    expect(await count(old)).toMatchObject({ rows: 50, sum: 150 });

    const progress: RebuildProgress[] = [];
    const servingDuring: Array<string | undefined> = [];
    const rebuilder = depositsRunner(s, name, options);
    const result = await rebuilder.rebuild({
      onProgress: (p) => {
        progress.push(p);
        if (p.phase === 'replaying') void live.activeTable(name).then((t) => servingDuring.push(t));
      },
    });
    expect(result).toEqual({ generation: 2, events: 50, deadLetters: 0 });
    expect(prepared).toEqual([1, 2]);
    expect(progress.length).toBeGreaterThanOrEqual(7);
    expect(progress.at(-1)).toEqual({ generation: 2, done: 50, total: 50, phase: 'switched' });
    // One report per committed batch (at most batchSize events each), counting up to 50.
    const done = progress.filter((p) => p.phase === 'replaying').map((p) => p.done);
    expect(done.at(-1)).toBe(50);
    const steps = done.map((d, i) => d - (done[i - 1] ?? 0));
    expect(steps.every((step) => step >= 1 && step <= 8)).toBe(true);
    expect(progress.every((p) => p.total === 50)).toBe(true);
    await waitFor(() => servingDuring.length === done.length, 5_000, 'reads during the rebuild');
    expect(new Set(servingDuring)).toEqual(new Set([old]));

    const fresh = await live.activeTable(name);
    expect(fresh).toBe(`"${schema}"."${name}_g2"`);
    expect(await count(fresh)).toMatchObject({ rows: 50, sum: 300 });
    expect(retired).toEqual([1]);
    expect((await live.status()).generations.map((g) => [g.generation, g.status])).toEqual([
      [1, 'retired'],
      [2, 'active'],
    ]);
    // The live runner (another runner object, as in another process) moves on to generation 2 at the next event.
    await deposit(s, 'after', [7]);
    await waitFor(async () => (await count(fresh)).rows === 51, 10_000, 'the live runner writing to generation 2');
    expect(await count(fresh)).toMatchObject({ rows: 51, distinct: 51, sum: 314 });
    await s.store.close();
  });

  it('refuses a second rebuild of the same projection while one runs', async () => {
    const s = await memoryStore();
    await deposit(s, 'a', [1]);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const name = `double_${rand()}`;
    const slow = depositsRunner(s, name, {
      handle: async () => {
        await gate;
      },
    });
    await slow.migrate();
    const first = slow.rebuild();
    try {
      await waitFor(async () => (await slow.status()).generations.length === 1, 5_000, 'the first rebuild to register');
      await expect(depositsRunner(s, name).rebuild()).rejects.toThrow(/already running/);
    } finally {
      release();
    }
    await expect(first).resolves.toMatchObject({ generation: 1, events: 1 });
    await s.store.close();
  });

  it('rejects start when the database is unreachable, with the connection error', async () => {
    const s = await memoryStore();
    const dead = new pg.Pool({ host: '127.0.0.1', port: 1, user: 'postgres', database: 'test', connectionTimeoutMillis: 2_000 });
    const runner = createProjectionRunner({ store: s.store, pool: dead, name: 'unreachable', handle: () => undefined });
    await expect(runner.start()).rejects.toThrow(/ECONNREFUSED|connect/);
    await dead.end();
    await s.store.close();
  });

  it('refuses names that are not plain', () => {
    const base = { store: {} as EventStore, pool, handle: () => undefined };
    expect(() => createProjectionRunner({ ...base, name: 'x"; DROP TABLE y; --' })).toThrow(RangeError);
    expect(() => createProjectionRunner({ ...base, name: '' })).toThrow(RangeError);
  });
});

describe('on the PostgreSQL event store', () => {
  const storeSchema = `proj_pgstore_${rand()}`;
  afterAll(async () => {
    await pool.query(`DROP SCHEMA IF EXISTS "${storeSchema}" CASCADE`);
  });

  it('follows catch-up and live events, and a rebuild elsewhere moves it to the new generation', async () => {
    const c = accountContract(`t${rand()}`);
    const store = await createEventStore({ backend: await PostgresEventStoreBackend.connect({ connection: PG, schema: storeSchema }), events: c.all, upcasters: c.upcasters, source: 'test' });
    const s = { c, store } as unknown as Setup;
    try {
      await deposit(s, 'p', [1, 2, 3]);
      const name = `pgstore_${rand()}`;
      const live = depositsRunner(s, name);
      await live.migrate();
      await live.start();
      onTestFinished(() => live.stop());
      expect(await count(await live.activeTable(name))).toMatchObject({ rows: 3, sum: 6 });
      await deposit(s, 'q', [4]);
      await waitFor(async () => (await count(await live.activeTable(name))).rows === 4, 10_000, 'a live event');

      expect(await depositsRunner(s, name).rebuild()).toEqual({ generation: 2, events: 4, deadLetters: 0 });
      await deposit(s, 'q', [5]);
      const fresh = await live.activeTable(name);
      expect(fresh).toBe(`"${schema}"."${name}_g2"`);
      await waitFor(async () => (await count(fresh)).rows === 5, 10_000, 'the live runner writing to generation 2');
      expect(await count(fresh)).toEqual({ rows: 5, distinct: 5, sum: 15 });
    } finally {
      await store.close();
    }
  });
});

describe('a runner killed with SIGKILL mid-stream (PostgreSQL event store)', () => {
  const storeSchema = `proj_store_${rand()}`;
  const children: ChildProcess[] = [];
  afterAll(async () => {
    for (const child of children) await stopProcess(child);
    await pool.query(`DROP SCHEMA IF EXISTS "${storeSchema}" CASCADE`);
  });

  // Two child processes (tsx start-up each) and 1,500 events on a loaded machine: about 25 s.
  it('applies each event exactly once across the crash', { timeout: 90_000 }, async () => {
    const c = accountContract(`t${rand()}`);
    const store = await createEventStore({ backend: await PostgresEventStoreBackend.connect({ connection: PG, schema: storeSchema }), events: c.all, upcasters: c.upcasters, source: 'test' });
    const N = 1_500;
    for (let i = 0; i < N; i += 50) {
      await store.append(
        c.stream(`k${i % 7}`),
        Array.from({ length: 50 }, (_, j) => ({ event: c.deposited, data: { accountId: `k${i % 7}`, amount: i + j } })),
      );
    }
    const runnerSchema = `proj_crash_${rand()}`;
    const table = `"${runnerSchema}"."applied_g1"`;
    await pool.query(`CREATE SCHEMA "${runnerSchema}"`);
    try {
      // Two crashes: one inside a transaction (the handler stops at event 303, its batch's
      // writes made, not committed), one wherever the next runner happens to be.
      for (const hangAt of ['303', undefined]) {
        let applied = 0;
        let hanging = false;
        // Node itself with tsx as a loader, not the tsx command: that one runs the script in a
        // grandchild, which a SIGKILL to the command does not reach.
        const child = spawn(
          process.execPath,
          ['--import', 'tsx', 'test/runtime/event-store/projection-child.ts', storeSchema, runnerSchema, c.domain, ...(hangAt ? [hangAt] : [])],
          { stdio: ['ignore', 'pipe', 'pipe'] },
        );
        children.push(child);
        let stderr = '';
        child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
        child.stdout!.on('data', (d: Buffer) => {
          for (const m of d.toString().matchAll(/applied (\d+)/g)) applied = Math.max(applied, Number(m[1]));
          if (d.toString().includes('hanging')) hanging = true;
        });
        await waitFor(() => (hangAt ? hanging : applied >= 300) || child.exitCode !== null, 60_000, 'the child to apply events');
        expect(stderr).toBe('');
        child.kill('SIGKILL');
        await new Promise((r) => child.once('exit', r));

        // Right after the crash: the committed checkpoint and the read model agree, and it stopped mid-stream.
        // (One statement, one snapshot: the killed process's last COMMIT may still be landing.)
        const { rows } = await pool.query<{ events: string; applied: string }>(
          `SELECT (SELECT "events" FROM "${runnerSchema}"."event_projections" WHERE "projection" = 'crash') AS events, (SELECT count(*) FROM ${table}) AS applied`,
        );
        expect(rows[0]!.applied).toBe(rows[0]!.events);
        expect(Number(rows[0]!.applied)).toBeLessThan(N);
        if (hangAt) expect(Number(rows[0]!.applied)).toBeLessThan(Number(hangAt));
      }

      // A new runner takes over from the checkpoint.
      const runner = createProjectionRunner({
        store,
        pool,
        name: 'crash',
        schema: runnerSchema,
        readModelSchema: runnerSchema,
        handle: async (event, tx) => {
          await tx.query(`INSERT INTO ${tx.table('applied')} (event_id, amount) VALUES ($1, $2)`, [event.id, (event.data as { amount: number }).amount]);
        },
      });
      await runner.start();
      const final = await count(table);
      expect(final).toEqual({ rows: N, distinct: N, sum: (N * (N - 1)) / 2 });
      await runner.stop();
    } finally {
      await store.close();
      await pool.query(`DROP SCHEMA IF EXISTS "${runnerSchema}" CASCADE`);
    }
  });
});
