/**
 * The relay against real JetStream and PostgreSQL: woken by NOTIFY, going on when its
 * LISTEN connection is cut, never publishing what a transaction rolled back, keeping
 * position order across concurrent writers and two relays, retrying a failing broker
 * without marking anything, and dead-lettering rows it can never publish.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { createOutbox, createOutboxRelay, migrateOutbox, type Outbox, type OutboxRelay, type OutboxRelayNotice } from '../../../src/runtime/outbox/index.js';
import { rand, waitFor } from '../helpers.js';
import { orderPlaced } from './fixture.js';
import { testStream, WatchingTransport, type TestStream } from './js-helpers.js';
import { dropSchema, inTransaction, newPool, schemaName } from './pg-helpers.js';

describe('outbox relay on JetStream', () => {
  let pool: pg.Pool;
  const cleanups: Array<() => Promise<void>> = [];
  beforeAll(() => {
    pool = newPool(undefined, 30);
  });
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    await pool.end();
  });

  /** A schema with a migrated outbox and a stream for its prefix, both removed afterwards. */
  async function setup(tag: string) {
    const schema = schemaName(tag);
    const prefix = `ob${tag}${rand()}`;
    await migrateOutbox(pool, { schema });
    const stream = await testStream(prefix);
    cleanups.push(() => stream.destroy(), () => dropSchema(pool, schema));
    const ev = orderPlaced(prefix);
    const outbox = createOutbox({ events: [ev], source: 'test/orders', schema });
    const table = outbox.location.qualified;
    const positions = async (): Promise<string[]> => (await pool.query(`SELECT event_id FROM ${table} WHERE published_at IS NOT NULL ORDER BY position`)).rows.map((r) => r.event_id);
    return { schema, prefix, stream, ev, outbox, table, positions };
  }

  function startRelay(outbox: Outbox, stream: TestStream, o: Partial<Parameters<typeof createOutboxRelay>[0]> = {}) {
    const notices: OutboxRelayNotice[] = [];
    const relay = createOutboxRelay({ pool, outbox, transport: stream.transport, pollIntervalMs: 200, onNotice: (n) => notices.push(n), ...o });
    cleanups.push(() => relay.stop());
    return { relay, notices, started: relay.start() };
  }

  const add = (outbox: Outbox, ev: ReturnType<typeof orderPlaced>, seq: number, tx: pg.PoolClient) => outbox.add(tx, ev, { orderId: `o${seq % 7}`, seq }, { params: { orderId: `o${seq % 7}` } });

  it('a commit wakes the relay through NOTIFY (polling is off for ten minutes)', async () => {
    const { stream, ev, outbox } = await setup('wake');
    const { relay, started } = startRelay(outbox, stream, { pollIntervalMs: 600_000 });
    await started;
    await waitFor(() => relay.stats().listening, 10_000, 'LISTEN');
    // The first pass (made when LISTEN began) found nothing; only a notification can wake it now.
    const r = await inTransaction(pool, (tx) => add(outbox, ev, 1, tx));
    await waitFor(async () => (await stream.count()) === 1, 10_000, 'the event on the stream');
    expect(await stream.ids()).toEqual([r.id]);
    await waitFor(() => relay.stats().published === 1, 5000, 'the row marked');
  });

  it('the LISTEN connection cut by the server: the relay listens again and goes on', async () => {
    const { stream, ev, outbox } = await setup('cut');
    const { relay, notices, started } = startRelay(outbox, stream, { pollIntervalMs: 600_000 });
    await started;
    await waitFor(() => relay.stats().listening, 10_000, 'LISTEN');
    const cut = await pool.query(`SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE query = $1`, [`LISTEN ${outbox.location.channel}`]);
    expect(cut.rows).toHaveLength(1);
    await waitFor(() => notices.some((n) => n.kind === 'listen' && !n.listening), 10_000, 'the lost LISTEN reported');
    await waitFor(() => relay.stats().listening, 10_000, 'LISTEN again');
    const r = await inTransaction(pool, (tx) => add(outbox, ev, 1, tx));
    await waitFor(async () => (await stream.count()) === 1, 10_000, 'the event after the new LISTEN');
    expect(await stream.ids()).toEqual([r.id]);
  });

  it('with LISTEN off the relay polls', async () => {
    const { stream, ev, outbox } = await setup('poll');
    const { started } = startRelay(outbox, stream, { listen: false, pollIntervalMs: 50 });
    await started;
    const r = await inTransaction(pool, (tx) => add(outbox, ev, 1, tx));
    await waitFor(async () => (await stream.count()) === 1, 10_000, 'the polled event');
    expect(await stream.ids()).toEqual([r.id]);
  });

  it('a commit under way with a lower position holds back the committed rows above it (lag, never disorder); the writers never wait', async () => {
    const { stream, ev, outbox, table } = await setup('horizon');
    const { relay, started } = startRelay(outbox, stream, { pollIntervalMs: 50 });
    await started;
    // A transaction in its commit: firing the deferred trigger early draws its position and
    // takes the shared commit lock, as a commit does, and stays open.
    const slow = await pool.connect();
    try {
      await slow.query('BEGIN');
      const first = await add(outbox, ev, 1, slow);
      await slow.query('SET CONSTRAINTS ALL IMMEDIATE');
      // Another writer commits meanwhile (not blocked by the one in its commit) with the next position.
      const second = await inTransaction(pool, (tx) => add(outbox, ev, 2, tx));
      const pos = await pool.query(`SELECT event_id, position::int AS p FROM ${table}`);
      expect(pos.rows).toEqual([{ event_id: second.id, p: 2 }]);
      await waitFor(() => relay.stats().waitingOnCommits === 1, 10_000, 'the relay to wait for the commit under way');
      // Let it run a few batches while the lower position is still unsettled: nothing goes out.
      const seen = relay.stats().batches;
      await waitFor(() => relay.stats().batches >= seen + 3, 10_000, 'three more batches');
      expect(await stream.count()).toBe(0);
      await slow.query('COMMIT');
      await waitFor(async () => (await stream.count()) === 2, 10_000, 'both events');
      expect(await stream.ids()).toEqual([first.id, second.id]);
    } finally {
      slow.release();
    }
  });

  it('interleaved committed and rolled-back transactions from 8 writers: exactly the committed events, once each, in position order', async () => {
    const { stream, ev, outbox, positions } = await setup('rb');
    const { relay, started } = startRelay(outbox, stream, { batchSize: 40 });
    await started;
    const committed = new Set<string>();
    const rolledBack = new Set<string>();
    let seq = 0;
    const writer = async (w: number) => {
      for (let i = 0; i < 30; i++) {
        const ids: string[] = [];
        const rollback = (w + i) % 3 === 0 || Math.random() < 0.2;
        await inTransaction(pool, async (tx) => {
          const n = 1 + ((w * 31 + i) % 3);
          for (let k = 0; k < n; k++) ids.push((await add(outbox, ev, seq++, tx)).id);
          if (rollback) throw new Error('rolled back on purpose');
        }).catch((err: Error) => {
          if (err.message !== 'rolled back on purpose') throw err;
        });
        for (const id of ids) (rollback ? rolledBack : committed).add(id);
      }
    };
    await Promise.all(Array.from({ length: 8 }, (_, w) => writer(w)));
    expect(rolledBack.size).toBeGreaterThan(0);
    await waitFor(async () => (await stream.count()) >= committed.size && relay.stats().published === committed.size, 30_000, 'every committed event');
    const onStream = await stream.ids();
    expect(onStream).toHaveLength(committed.size);
    expect(new Set(onStream)).toEqual(committed);
    expect(onStream.filter((id) => rolledBack.has(id))).toEqual([]);
    // Stream order is commit (position) order.
    expect(onStream).toEqual(await positions());
  });

  it('two relays at once with writers going, the leader stopped halfway: no row published twice, let alone at once; stream order is position order', async () => {
    const { stream, ev, outbox, positions } = await setup('two');
    const ledger = new WatchingTransport(stream.transport);
    const a = startRelay(outbox, stream, { transport: new WatchingTransport(stream.transport, ledger), batchSize: 15, pollIntervalMs: 20 });
    const b = startRelay(outbox, stream, { transport: new WatchingTransport(stream.transport, ledger), batchSize: 15, pollIntervalMs: 20 });
    await Promise.all([a.started, b.started]);
    let seq = 0;
    let total = 0;
    const writer = async () => {
      for (let i = 0; i < 40; i++) {
        await inTransaction(pool, async (tx) => {
          await add(outbox, ev, seq++, tx);
          await add(outbox, ev, seq++, tx);
        });
        total += 2;
      }
    };
    const both = () => a.relay.stats().published + b.relay.stats().published;
    const writing = Promise.all(Array.from({ length: 6 }, writer));
    // Halfway, the relay that leads stops: the other takes over where it left off.
    await waitFor(() => both() >= 100, 30_000, 'a hundred events published');
    const leader = a.relay.stats().published >= b.relay.stats().published ? a.relay : b.relay;
    await leader.stop();
    await writing;
    await waitFor(() => both() === total, 30_000, 'every event published by one relay or the other');
    expect(ledger.overlaps).toBe(0);
    expect([...ledger.calls.values()].every((n) => n === 1)).toBe(true);
    expect(ledger.calls.size).toBe(total);
    expect(await stream.ids()).toEqual(await positions());
    // Both published: the second took over.
    expect(a.relay.stats().published).toBeGreaterThan(0);
    expect(b.relay.stats().published).toBeGreaterThan(0);
  });

  it('a broker failing publishes: rows stay unpublished while it fails (retried with backoff), then go out once each, in order', async () => {
    const { stream, ev, outbox, table, positions } = await setup('fail');
    const flaky = new WatchingTransport(stream.transport);
    flaky.failWith = new Error('broker unreachable (test)');
    const { relay, notices, started } = startRelay(outbox, stream, { transport: flaky, backoff: { initialMs: 20, maxMs: 200 } });
    await started;
    const ids: string[] = [];
    for (let i = 0; i < 30; i++) ids.push((await inTransaction(pool, (tx) => add(outbox, ev, i, tx))).id);
    await waitFor(() => notices.filter((n) => n.kind === 'retry').length >= 3, 10_000, 'three retries');
    expect((await pool.query(`SELECT count(*)::int AS n FROM ${table} WHERE published_at IS NOT NULL`)).rows[0].n).toBe(0);
    expect(relay.stats().lastError).toBe(flaky.failWith);
    flaky.failWith = undefined;
    await waitFor(() => relay.stats().published === 30, 20_000, 'all published after the broker came back');
    expect(await stream.ids()).toEqual(ids);
    expect(await positions()).toEqual(ids);
  });

  it('corrupt rows written by hand (bad JSON, unknown type or version, invalid payload, forged subject, bad id, too large) are marked failed with their reason; the relay goes on', async () => {
    const { stream, ev, outbox, table, prefix } = await setup('bad');
    const good = async (seq: number) => (await inTransaction(pool, (tx) => add(outbox, ev, seq, tx))).id;
    const raw = (eventId: string, type: string, version: string, subject: string, params: object, body: Buffer) =>
      inTransaction(pool, (tx) =>
        tx.query(`INSERT INTO ${table} (event_id, type, version, source, subject, params, occurred_at, body) VALUES ($1, $2, $3, 'hand', $4, $5, now(), $6)`, [eventId, type, version, subject, JSON.stringify(params), body]),
      );
    const ok = (o: string) => `${prefix}.orders.${o}.placed`;
    const expected: string[] = [];
    expected.push(await good(1));
    await raw(`bad-json-${rand()}`, 'order.placed', '1.0.0', ok('a'), { orderId: 'a' }, Buffer.from('{"orderId": "a", seq'));
    await raw(`bad-utf8-${rand()}`, 'order.placed', '1.0.0', ok('a'), { orderId: 'a' }, Buffer.from([0x7b, 0xff, 0xfe, 0x7d]));
    expected.push(await good(2));
    await raw(`unknown-type-${rand()}`, 'order.exploded', '1.0.0', ok('a'), { orderId: 'a' }, Buffer.from('{}'));
    await raw(`unknown-version-${rand()}`, 'order.placed', '9.0.0', ok('a'), { orderId: 'a' }, Buffer.from('{"orderId":"a","seq":1}'));
    await raw(`invalid-${rand()}`, 'order.placed', '1.0.0', ok('a'), { orderId: 'a' }, Buffer.from('{"orderId":"a","seq":"one"}'));
    await raw(`forged-subject-${rand()}`, 'order.placed', '1.0.0', 'payments.all', { orderId: 'a' }, Buffer.from('{"orderId":"a","seq":1}'));
    await raw(`bad-param-${rand()}`, 'order.placed', '1.0.0', `${prefix}.orders.>.placed`, { orderId: '>' }, Buffer.from('{"orderId":"a","seq":1}'));
    await raw('has space\r\nNats-Msg-Id: x', 'order.placed', '1.0.0', ok('a'), { orderId: 'a' }, Buffer.from('{"orderId":"a","seq":1}'));
    await raw(`huge-${rand()}`, 'order.placed', '1.0.0', ok('a'), { orderId: 'a' }, Buffer.from(JSON.stringify({ orderId: 'a', seq: 1, note: 'x'.repeat(2 * 1024 * 1024) })));
    expected.push(await good(3));

    const { relay, notices, started } = startRelay(outbox, stream);
    await started;
    await waitFor(() => relay.stats().published === 3 && relay.stats().failed === 9, 20_000, 'the good rows published, the bad ones failed');
    expect(await stream.ids()).toEqual(expected);
    const failed = await pool.query(`SELECT event_id, split_part(error, ':', 1) AS reason FROM ${table} WHERE failed_at IS NOT NULL ORDER BY position`);
    expect(failed.rows.map((r) => r.reason)).toEqual(['undecodable', 'undecodable', 'unknown-type', 'unknown-version', 'validation-failed', 'address-invalid', 'address-invalid', 'undecodable', 'too-large']);
    expect(notices.filter((n) => n.kind === 'failed-row').map((n) => (n as { eventId: string }).eventId)).toEqual(failed.rows.map((r) => r.event_id));
    // And it goes on with what comes next.
    const after = await good(4);
    await waitFor(async () => (await stream.count()) === 4, 10_000, 'the next event');
    expect((await stream.ids())[3]).toBe(after);
  });
});
