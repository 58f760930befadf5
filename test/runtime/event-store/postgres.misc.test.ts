/**
 * PostgreSQL-only behaviour: positions become visible in order even with transactions in
 * flight (the gap problem), migrations (idempotent, concurrent, hostile schema names), and
 * the unique-violation path of an append racing a writer that bypassed the store.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CorruptRecordError, createEventStore, WrongExpectedVersionError, type EventStore, type StoredEvent } from '../../../src/runtime/event-store/index.js';
import { PostgresEventStoreBackend } from '../../../src/runtime/event-store/postgres/index.js';
import { rand, waitFor } from '../helpers.js';
import { accountContract } from './contract.js';
import { PG } from './pg-helpers.js';

const schema = `es_misc_${rand()}`;
const s = `"${schema}"`;
let admin: pg.Client;
const c = accountContract('bank');
const stores: EventStore[] = [];
async function open(name = schema): Promise<EventStore> {
  const store = await createEventStore({ backend: await PostgresEventStoreBackend.connect({ connection: { ...PG, max: 6 }, schema: name, pollMs: 60_000 }), events: c.all, upcasters: c.upcasters, source: 'test' });
  stores.push(store);
  return store;
}
const opened = (id: string) => ({ event: c.opened, data: { accountId: id, owner: id } });
/** Sessions of this database waiting on a lock. */
async function lockWaiters(kind: 'advisory' | 'transactionid'): Promise<number> {
  const r = await admin.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND wait_event = $1`, [kind]);
  return r.rows[0].n;
}

beforeAll(async () => {
  admin = new pg.Client(PG);
  await admin.connect();
});
afterAll(async () => {
  await Promise.allSettled(stores.map((st) => st.close()));
  await admin.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
  await admin.end();
});

describe('postgres event store', () => {
  it('an append waits for an earlier in-flight append, so a live subscriber never passes over a position that commits later', async () => {
    const store = await open();
    const seen: StoredEvent[] = [];
    const sub = await store.subscribe({ aggregates: ['bank.account'] }, (e) => void seen.push(e));
    await sub.caughtUp;
    // A holds the store's append lock with its rows inserted but not committed.
    const a = new pg.Client(PG);
    await a.connect();
    await a.query('BEGIN');
    await a.query(`SELECT * FROM ${s}.append_events('bank.account.first', 'bank', 'account', NULL, $1::jsonb)`, [JSON.stringify([{ id: `a-${rand()}`, type: c.opened.type, version: '1.0.0', source: 't', time: new Date().toISOString(), data: { accountId: 'first', owner: 'a' }, metadata: {} }])]);
    // B, a later append with a higher position, must wait for A instead of committing first.
    const b = store.append(c.stream('second'), [opened('second')]);
    await waitFor(async () => (await lockWaiters('advisory')) >= 1, 10_000, 'B waiting on the append lock');
    expect(seen).toEqual([]);
    await a.query('COMMIT');
    await a.end();
    await b;
    await waitFor(() => seen.length >= 2, 10_000, 'both events');
    await sub.stop();
    expect(seen.map((e) => e.streamId)).toEqual(['bank.account.first', 'bank.account.second']);
    expect(BigInt(seen[0]!.checkpoint) < BigInt(seen[1]!.checkpoint)).toBe(true);
  });

  it('many concurrent appenders on many streams while subscribed: the subscriber sees exactly the committed history, in position order', async () => {
    const store = await open();
    const writerStores = [store, await open(), await open()];
    const seen: StoredEvent[] = [];
    const tag = rand();
    const sub = await store.subscribe({ aggregates: ['bank.account'] }, (e) => {
      if (e.streamId.includes(tag)) seen.push(e);
    });
    await sub.caughtUp;
    const streams = 24;
    const rounds = 15;
    await Promise.all(
      Array.from({ length: streams }, async (_, i) => {
        const st = writerStores[i % writerStores.length]!;
        const id = `${tag}-${i}`;
        await st.append(c.stream(id), [opened(id)]);
        for (let r = 0; r < rounds; r++) await st.append(c.stream(id), [{ event: c.deposited, data: { accountId: id, amount: r } }, { event: c.deposited, data: { accountId: id, amount: r } }]);
      }),
    );
    const total = streams * (1 + 2 * rounds);
    await waitFor(() => seen.length >= total, 30_000, `${total} events`);
    await sub.stop();
    const history: StoredEvent[] = [];
    for await (const e of store.readAll({ aggregates: ['bank.account'] })) if (e.streamId.includes(tag)) history.push(e);
    expect(history).toHaveLength(total);
    expect(seen.map((e) => e.checkpoint)).toEqual(history.map((e) => e.checkpoint));
  });

  it('a live subscription whose LISTEN connection is cut goes on by polling', async () => {
    const app = `es-listen-${rand()}`;
    const reader = await createEventStore({ backend: await PostgresEventStoreBackend.connect({ connection: { ...PG, max: 2, application_name: app }, schema, pollMs: 200 }), events: c.all, upcasters: c.upcasters, source: 'test' });
    stores.push(reader);
    const writer = await open();
    const tag = rand();
    const seen: StoredEvent[] = [];
    const sub = await reader.subscribe({ aggregates: ['bank.account'] }, (e) => {
      if (e.streamId.includes(tag)) seen.push(e);
    });
    await sub.caughtUp;
    const cut = await admin.query(`SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = $1 AND query ILIKE 'LISTEN%'`, [app]);
    expect(cut.rows).toHaveLength(1);
    await writer.append(c.stream(`${tag}-1`), [opened(`${tag}-1`)]);
    await waitFor(() => seen.length >= 1, 10_000, 'the event, by polling');
    await sub.stop();
    expect(seen.map((e) => e.streamId)).toEqual([c.stream(`${tag}-1`)]);
  });

  it('an append racing a writer that bypassed the store gets WrongExpectedVersionError with the actual version (unique violation)', async () => {
    const store = await open();
    const id = `race-${rand()}`;
    await store.append(c.stream(id), [opened(id)]);
    const raw = new pg.Client(PG);
    await raw.connect();
    await raw.query('BEGIN');
    await raw.query(`INSERT INTO ${s}.events (stream_id, version, domain, aggregate, event_id, type, type_version, source, time, data, metadata) VALUES ($1, 2, 'bank', 'account', 'raw', $2, '1.0.0', 'raw', now(), $3, '{}')`, [c.stream(id), c.deposited.type, JSON.stringify({ accountId: id, amount: 1 })]);
    const appending = store.append(c.stream(id), [{ event: c.deposited, data: { accountId: id, amount: 2 } }], { expectedVersion: 1 }).catch((e: unknown) => e);
    await waitFor(async () => (await lockWaiters('transactionid')) >= 1, 10_000, 'the append waiting on the uncommitted row');
    await raw.query('COMMIT');
    await raw.end();
    const err = await appending;
    expect(err).toBeInstanceOf(WrongExpectedVersionError);
    expect(err).toMatchObject({ expected: 1, actual: 2 });
  });

  it('event times read back to the millisecond whatever the session prints floats with (extra_float_digits = -3)', async () => {
    const store = await open();
    const id = `t${rand()}`;
    const timestamp = new Date('2026-01-01T00:00:00.123Z');
    await store.append(c.stream(id), [{ ...opened(id), timestamp }]);
    const terse = await createEventStore({
      backend: await PostgresEventStoreBackend.connect({ connection: { ...PG, max: 2, options: '-c extra_float_digits=-3' }, schema, pollMs: 60_000 }),
      events: c.all,
      upcasters: c.upcasters,
      source: 'test',
    });
    stores.push(terse);
    const read: StoredEvent[] = [];
    for await (const e of terse.read(c.stream(id))) read.push(e);
    expect(read.map((e) => e.timestamp.toISOString())).toEqual([timestamp.toISOString()]);
    // A time no JavaScript date holds (written by hand): that record is corrupt; the query reading it does not fail.
    await admin.query(`UPDATE ${s}.events SET time = 'infinity' WHERE stream_id = $1`, [c.stream(id)]);
    const attempt = async () => {
      for await (const e of terse.read(c.stream(id))) void e;
    };
    await expect(attempt()).rejects.toBeInstanceOf(CorruptRecordError);
    await expect(attempt()).rejects.toThrow(/no valid time/);
  });

  it('migrate() is idempotent, keeps a version table, and runs safely from several processes at once', async () => {
    const fresh = `es_mig_${rand()}`;
    try {
      const backends = await Promise.all([1, 2, 3].map(() => PostgresEventStoreBackend.connect({ connection: PG, schema: fresh })));
      expect(await backends[0]!.migrate()).toEqual({ applied: [] });
      const r = await admin.query(`SELECT version FROM "${fresh}".schema_version`);
      expect(r.rows).toEqual([{ version: 1 }]);
      await Promise.all(backends.map((b) => b.close()));
    } finally {
      await admin.query(`DROP SCHEMA IF EXISTS "${fresh}" CASCADE`);
    }
  });

  it('a hostile schema name is quoted, never pasted: the store lives in a schema of exactly that name', async () => {
    const hostile = `es"; DROP TABLE canary_${rand()}; --`;
    const canary = hostile.match(/canary_\w+/)![0];
    await admin.query(`CREATE TABLE ${canary} (x int)`);
    try {
      const store = await open(hostile);
      await store.append(c.stream('h1'), [opened('h1')]);
      let n = 0;
      for await (const e of store.read(c.stream('h1'))) n += e.streamVersion;
      expect(n).toBe(1);
      const r = await admin.query(`SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = $1 AND table_name = 'events'`, [hostile]);
      expect(r.rows[0].n).toBe(1);
      expect((await admin.query(`SELECT to_regclass($1) AS t`, [canary])).rows[0].t).toBe(canary);
      await expect(PostgresEventStoreBackend.connect({ connection: PG, schema: 'a\u0000b' })).rejects.toThrow(/identifier/);
    } finally {
      await admin.query(`DROP SCHEMA IF EXISTS "${hostile.replace(/"/g, '""')}" CASCADE`);
      await admin.query(`DROP TABLE IF EXISTS ${canary}`);
    }
  });
});
