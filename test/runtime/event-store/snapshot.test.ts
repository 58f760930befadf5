/**
 * Snapshots: when one is taken, when one is trusted, and the PostgreSQL table (migration,
 * quoting, upsert order, hostile states). The loading rules run on both snapshot stores.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineReducer, loadAggregate } from '../../../src/runtime/event-store/aggregate.js';
import { createEventStore, MemoryEventStoreBackend, type EventStore } from '../../../src/runtime/event-store/index.js';
import { createPgSnapshotStore, MemorySnapshotStore, SnapshotEncodingError, type PgSnapshotStore, type SnapshotStore } from '../../../src/runtime/event-store/snapshot.js';
import { rand } from '../helpers.js';
import { accountContract, type AccountContract } from './contract.js';

const DATABASE_URL = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

function reducerOf(c: AccountContract, schemaVersion = 'account@1') {
  return defineReducer({ schemaVersion, initial: { balance: 0, applied: 0 } })
    .on(c.opened, (s) => ({ ...s, applied: s.applied + 1 }))
    .on(c.deposited, (s, d) => ({ balance: s.balance + d.amount, applied: s.applied + 1 }));
}

async function deposit(store: EventStore, c: AccountContract, id: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) await store.append(c.stream(id), [{ event: c.deposited, data: { accountId: id, amount: 1 } }]);
}

let pool: pg.Pool;
const schemas: string[] = [];
beforeAll(() => {
  pool = new pg.Pool({ connectionString: DATABASE_URL, max: 4 });
});
afterAll(async () => {
  for (const s of schemas) await pool.query(`DROP SCHEMA IF EXISTS "${s.replaceAll('"', '""')}" CASCADE`);
  await pool.end();
});

async function pgSnapshots(table = 'snapshots'): Promise<PgSnapshotStore> {
  const schema = `snap_${rand()}`;
  schemas.push(schema);
  const store = createPgSnapshotStore({ pool, schema, table });
  await store.migrate();
  return store;
}

const kinds: Array<[string, () => Promise<SnapshotStore>]> = [
  ['memory', async () => new MemorySnapshotStore()],
  ['postgres', () => pgSnapshots()],
];

describe.each(kinds)('snapshots on the %s snapshot store', (_kind, makeSnapshots) => {
  async function setup() {
    const c = accountContract(`t${rand()}`);
    const store = await createEventStore({ backend: new MemoryEventStoreBackend(), events: c.all, upcasters: c.upcasters, source: 'test' });
    return { c, store, snapshots: await makeSnapshots() };
  }

  it('takes a snapshot once a load folds `every` events past the last one, and folds only the events after it next time', async () => {
    const { c, store, snapshots } = await setup();
    const policy = { snapshots: { store: snapshots, every: 5 } };
    await deposit(store, c, 'a', 4);
    expect(await loadAggregate(store, c.stream('a'), reducerOf(c), policy)).toMatchObject({ version: 4, snapshotTaken: false });
    expect(await snapshots.load(c.stream('a'))).toBeUndefined();

    await deposit(store, c, 'a', 1);
    expect(await loadAggregate(store, c.stream('a'), reducerOf(c), policy)).toMatchObject({ version: 5, snapshotTaken: true, eventsFolded: 5 });
    expect(await snapshots.load(c.stream('a'))).toEqual({ streamId: c.stream('a'), version: 5, schemaVersion: 'account@1', state: { balance: 5, applied: 5 } });

    await deposit(store, c, 'a', 3);
    const next = await loadAggregate(store, c.stream('a'), reducerOf(c), policy);
    // From the snapshot: only events 6..8 folded, the state is as if all 8 were.
    expect(next).toMatchObject({ version: 8, fromSnapshot: 5, eventsFolded: 3, snapshotTaken: false, state: { balance: 8, applied: 8 } });

    await deposit(store, c, 'a', 2);
    expect(await loadAggregate(store, c.stream('a'), reducerOf(c), policy)).toMatchObject({ version: 10, fromSnapshot: 5, snapshotTaken: true });
    expect((await snapshots.load(c.stream('a')))?.version).toBe(10);
    await store.close();
  });

  it('ignores a snapshot of a stale schema version, rebuilds from the events and replaces it', async () => {
    const { c, store, snapshots } = await setup();
    await deposit(store, c, 'b', 6);
    await loadAggregate(store, c.stream('b'), reducerOf(c, 'account@1'), { snapshots: { store: snapshots, every: 2 } });
    // A snapshot of the old shape, with a state the new reducer would misread.
    await snapshots.save({ streamId: c.stream('b'), version: 6, schemaVersion: 'account@1', state: { balance: 'oops' } });

    const v2 = await loadAggregate(store, c.stream('b'), reducerOf(c, 'account@2'), { snapshots: { store: snapshots, every: 2 } });
    expect(v2).toMatchObject({ version: 6, eventsFolded: 6, state: { balance: 6, applied: 6 }, snapshotTaken: true });
    expect(v2.fromSnapshot).toBeUndefined();
    expect(await snapshots.load(c.stream('b'))).toMatchObject({ version: 6, schemaVersion: 'account@2', state: { balance: 6 } });
    await store.close();
  });

  it('ignores a snapshot ahead of its stream (the stream was written again, shorter)', async () => {
    const { c, store, snapshots } = await setup();
    await deposit(store, c, 'c', 3);
    await snapshots.save({ streamId: c.stream('c'), version: 9, schemaVersion: 'account@1', state: { balance: 900, applied: 9 } });
    const loaded = await loadAggregate(store, c.stream('c'), reducerOf(c), { snapshots: { store: snapshots, every: 100 } });
    expect(loaded).toMatchObject({ version: 3, state: { balance: 3 } });
    expect(loaded.fromSnapshot).toBeUndefined();
    await store.close();
  });

  it('keeps the newer of two snapshots of one schema version (two loaders racing)', async () => {
    const { snapshots } = await setup();
    await snapshots.save({ streamId: 'd.a.x', version: 7, schemaVersion: 's@1', state: { v: 7 } });
    await snapshots.save({ streamId: 'd.a.x', version: 4, schemaVersion: 's@1', state: { v: 4 } });
    expect(await snapshots.load('d.a.x')).toMatchObject({ version: 7, state: { v: 7 } });
    // Another schema version replaces it whatever its version: the old state is of no use.
    await snapshots.save({ streamId: 'd.a.x', version: 2, schemaVersion: 's@2', state: { v: 2 } });
    expect(await snapshots.load('d.a.x')).toMatchObject({ version: 2, schemaVersion: 's@2' });
  });

  it('refuses a state JSON cannot carry with a typed error; with onError the load still succeeds from the events', async () => {
    const { c, store, snapshots } = await setup();
    await deposit(store, c, 'e', 2);
    const cyclic = defineReducer({ schemaVersion: 'cyc@1', initial: {} as Record<string, unknown> }).on(c.deposited, (s) => {
      s['self'] = s;
      return s;
    });
    await expect(loadAggregate(store, c.stream('e'), cyclic, { snapshots: { store: snapshots, every: 1 } })).rejects.toThrow(SnapshotEncodingError);
    const errors: unknown[] = [];
    const loaded = await loadAggregate(store, c.stream('e'), cyclic, { snapshots: { store: snapshots, every: 1, onError: (e) => errors.push(e) } });
    expect(loaded).toMatchObject({ version: 2, snapshotTaken: false });
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(SnapshotEncodingError);
    await store.close();
  });
});

describe('the PostgreSQL snapshot table', () => {
  it('migrates idempotently, from several connections at once, under a name that needs quoting', async () => {
    const schema = `snap ${rand()} "quoted"`;
    schemas.push(schema);
    const table = 'Snap-Shots; DROP TABLE x';
    const stores = [0, 1, 2].map(() => createPgSnapshotStore({ pool, schema, table }));
    await Promise.all(stores.map((s) => s.migrate()));
    await stores[0]!.migrate();
    await stores[1]!.save({ streamId: 'd.a.1', version: 1, schemaVersion: 's@1', state: { ok: true } });
    expect(await stores[2]!.load('d.a.1')).toMatchObject({ state: { ok: true } });
    const { rows } = await pool.query<{ n: string }>('SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = $1 AND table_name = $2', [schema, table]);
    expect(rows[0]?.n).toBe('1');
  });

  it('a state with a NUL character (which jsonb refuses) fails the save, not the load, when onError is given', async () => {
    const c = accountContract(`t${rand()}`);
    const store = await createEventStore({ backend: new MemoryEventStoreBackend(), events: c.all, upcasters: c.upcasters, source: 'test' });
    await store.append(c.stream('h'), [{ event: c.opened, data: { accountId: 'h', owner: 'evil\u0000owner' } }]);
    const snapshots = await pgSnapshots();
    const reducer = defineReducer({ schemaVersion: 'o@1', initial: { owner: '' } }).on(c.opened, (_s, d) => ({ owner: d.owner }));
    const errors: unknown[] = [];
    const loaded = await loadAggregate(store, c.stream('h'), reducer, { snapshots: { store: snapshots, every: 1, onError: (e) => errors.push(e) } });
    expect(loaded.state.owner).toBe('evil\u0000owner');
    expect(errors).toHaveLength(1);
    expect(String(errors[0])).toMatch(/unicode|\\u0000/i);
    expect(await snapshots.load(c.stream('h'))).toBeUndefined();
    await store.close();
  });

  it('refuses table names PostgreSQL would truncate', () => {
    expect(() => createPgSnapshotStore({ pool, table: 'x'.repeat(64) })).toThrow(/PostgreSQL identifier/);
    expect(() => createPgSnapshotStore({ pool, table: 'a\u0000b' })).toThrow(/PostgreSQL identifier/);
  });
});
