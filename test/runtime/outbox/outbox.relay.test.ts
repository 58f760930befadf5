/**
 * The relay against real JetStream and PostgreSQL: woken by NOTIFY, going on when its
 * LISTEN connection is cut, never publishing what a transaction rolled back, keeping
 * position order across concurrent writers and two relays, retrying a failing broker
 * without marking anything, and dead-lettering rows it can never publish.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { createOutbox, createOutboxRelay, migrateOutbox, type Outbox, type OutboxRelay, type OutboxRelayNotice } from '../../../src/runtime/outbox/index.js';
import { LOCK } from '../../../src/runtime/outbox/names.js';
import { createEventBus, type EventBus } from '../../../src/runtime/index.js';
import { rand, waitFor } from '../helpers.js';
import { orderPlaced } from './fixture.js';
import { testStream, WatchingTransport, type TestStream } from './js-helpers.js';
import { dropSchema, inTransaction, newPool, PG_URL, publishedIds, publishedThrough, schemaName } from './pg-helpers.js';

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
    const positions = (): Promise<string[]> => publishedIds(pool, outbox);
    return { schema, prefix, stream, ev, outbox, table, positions };
  }

  function startRelay(outbox: Outbox, stream: TestStream, o: Partial<Parameters<typeof createOutboxRelay>[0]> = {}) {
    const notices: OutboxRelayNotice[] = [];
    const relay = createOutboxRelay({ pool, outbox, transport: stream.transport, pollIntervalMs: 200, onNotice: (n) => notices.push(n), ...o });
    cleanups.push(() => relay.stop());
    return { relay, notices, started: relay.start() };
  }

  const add = (outbox: Outbox, ev: ReturnType<typeof orderPlaced>, seq: number, tx: pg.PoolClient) => outbox.add(tx, ev, { orderId: `o${seq % 7}`, seq }, { params: { orderId: `o${seq % 7}` } });

  /** A row written by hand, past add()'s checks: what an operator, a migration or a bug may leave in the table. */
  const handRow = (table: string, r: { eventId: string; subject: string; body: Buffer; type?: string; version?: string; params?: object; occurredAt?: string }) =>
    inTransaction(pool, (tx) =>
      tx.query(`INSERT INTO ${table} (event_id, type, version, source, subject, params, occurred_at, body) VALUES ($1, $2, $3, 'hand', $4, $5, coalesce($6::timestamptz, now()), $7)`, [
        r.eventId,
        r.type ?? 'order.placed',
        r.version ?? '1.0.0',
        r.subject,
        JSON.stringify(r.params ?? { orderId: 'a' }),
        r.occurredAt ?? null,
        r.body,
      ]),
    );

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
    expect(await publishedThrough(pool, outbox)).toBe('0');
    expect(relay.stats().lastError).toBe(flaky.failWith);
    flaky.failWith = undefined;
    await waitFor(() => relay.stats().published === 30, 20_000, 'all published after the broker came back');
    expect(await stream.ids()).toEqual(ids);
    expect(await positions()).toEqual(ids);
  });

  it('one event failing while many batches are in flight: progress never passes it, the rows after it go out again once, each stored once, in order', async () => {
    const { stream, ev, outbox, positions } = await setup('gap');
    const ids: string[] = [];
    for (let i = 0; i < 300; i++) ids.push((await inTransaction(pool, (tx) => add(outbox, ev, i, tx))).id);
    const stuck = ids[137]!;
    const flaky = new WatchingTransport(stream.transport);
    flaky.failIds = new Set([stuck]);
    // The broker is slow to refuse it: later batches are acked (and complete) meanwhile.
    flaky.holdNextFailure = true;
    // Batches of 10 with 40 publishes in flight: the window spans four batches.
    const { relay, notices, started } = startRelay(outbox, stream, { transport: flaky, batchSize: 10, maxInFlight: 40, backoff: { initialMs: 20, maxMs: 100 } });
    await started;
    await waitFor(async () => flaky.holding === 1 && (await stream.count()) >= 137 + 30, 10_000, 'thirty rows after the stuck one stored while it hangs');
    flaky.releaseHeld();
    await waitFor(() => notices.filter((n) => n.kind === 'retry').length >= 3, 10_000, 'three retries of the stuck event');
    expect(notices.filter((n) => n.kind === 'retry').every((n) => (n as { eventId?: string }).eventId === stuck)).toBe(true);
    expect(await positions()).toEqual(ids.slice(0, 137));
    const stored = await stream.ids();
    expect(stored).not.toContain(stuck);
    const ahead = stored.length - 137;
    expect(ahead).toBeGreaterThanOrEqual(30);
    flaky.failIds = undefined;
    await waitFor(async () => (await positions()).length === 300, 20_000, 'progress past every row');
    expect(await positions()).toEqual(ids);
    const onStream = await stream.ids();
    expect(onStream).toHaveLength(300);
    expect(new Set(onStream)).toEqual(new Set(ids));
    expect(onStream.slice(0, 137)).toEqual(ids.slice(0, 137));
    // The rows stored ahead of it went out once more after it (acked as duplicates); the
    // retries sent the failing row alone, so no row went out a third time.
    expect(relay.stats().duplicates).toBe(ahead);
    expect(Math.max(...ids.filter((id) => id !== stuck).map((id) => flaky.calls.get(id) ?? 0))).toBe(2);
  });

  it('progress that cannot be stored holds publishing back a few batches ahead, not the whole backlog; it goes on once stored', async () => {
    const { stream, ev, outbox, positions } = await setup('held');
    const ids: string[] = [];
    for (let i = 0; i < 200; i++) ids.push((await inTransaction(pool, (tx) => add(outbox, ev, i, tx))).id);
    const watching = new WatchingTransport(stream.transport);
    let release!: () => void;
    const stored = new Promise<void>((r) => (release = r));
    // The first batch's progress is slow to store (as behind a lock): every later mark waits for it.
    let first = true;
    const { relay, started } = startRelay(outbox, stream, {
      transport: watching,
      batchSize: 10,
      maxInFlight: 10,
      beforeMark: async () => {
        if (!first) return;
        first = false;
        await stored;
      },
    });
    await started;
    await waitFor(() => relay.stats().heldBack, 10_000, 'publishing held back');
    // Four batches' progress unstored (at least twice the window's worth), plus the one that found that out.
    expect(watching.calls.size).toBe(50);
    expect(await publishedThrough(pool, outbox)).toBe('0');
    release();
    await waitFor(async () => (await positions()).length === 200, 20_000, 'all published once progress is stored');
    expect(await stream.ids()).toEqual(ids);
    expect(relay.stats().heldBack).toBe(false);
  });

  it('a failed row re-driven by clearing failed_at gets a new position at commit and goes out after the rows already published', async () => {
    const { stream, ev, outbox, table, positions, prefix } = await setup('redrive');
    const first = (await inTransaction(pool, (tx) => add(outbox, ev, 1, tx))).id;
    const bad = `invalid-${rand()}`;
    await handRow(table, { eventId: bad, subject: `${prefix}.orders.a.placed`, body: Buffer.from('{"orderId":"a","seq":"one"}') });
    const second = (await inTransaction(pool, (tx) => add(outbox, ev, 2, tx))).id;
    const { relay, started } = startRelay(outbox, stream);
    await started;
    await waitFor(() => relay.stats().published === 2 && relay.stats().failed === 1, 10_000, 'two published, one failed');
    const before = (await pool.query(`SELECT position::text AS p FROM ${table} WHERE event_id = $1`, [bad])).rows[0].p;
    // Mended and re-driven in one transaction, as an operator would.
    await inTransaction(pool, (tx) => tx.query(`UPDATE ${table} SET body = $2, failed_at = NULL, error = NULL WHERE event_id = $1`, [bad, Buffer.from('{"orderId":"a","seq":1}')]));
    await waitFor(() => relay.stats().published === 3, 10_000, 'the re-driven row published');
    const after = (await pool.query(`SELECT position::text AS p FROM ${table} WHERE event_id = $1`, [bad])).rows[0].p;
    expect(BigInt(after)).toBeGreaterThan(BigInt(before));
    expect(await stream.ids()).toEqual([first, second, bad]);
    expect(await positions()).toEqual([first, second, bad]);
  });

  it('a table made before the progress row (each row marked published_at) is converted: progress starts below its first unmarked row', async () => {
    const schema = schemaName('legacy');
    const prefix = `oblegacy${rand()}`;
    const stream = await testStream(prefix);
    cleanups.push(() => stream.destroy(), () => dropSchema(pool, schema));
    const t = `"${schema}".event_outbox`;
    // The earlier layout: published_at per row, an INSERT-only commit trigger.
    await pool.query(`CREATE SCHEMA "${schema}"`);
    await pool.query(`CREATE SEQUENCE "${schema}".event_outbox_position AS bigint`);
    await pool.query(`CREATE TABLE ${t} (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, position bigint, event_id text NOT NULL UNIQUE, type text NOT NULL,
      version text NOT NULL, source text NOT NULL, subject text NOT NULL, params jsonb NOT NULL DEFAULT '{}', headers jsonb NOT NULL DEFAULT '{}',
      metadata jsonb NOT NULL DEFAULT '{}', correlation_id text, causation_id text, partition_key text, occurred_at timestamptz NOT NULL, body bytea NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(), committed_at timestamptz, published_at timestamptz, failed_at timestamptz, error text)`);
    await pool.query(`CREATE FUNCTION "${schema}".event_outbox_commit_position() RETURNS trigger LANGUAGE plpgsql AS $f$
      BEGIN UPDATE ${t} SET position = nextval('"${schema}".event_outbox_position'::regclass), committed_at = clock_timestamp() WHERE id = NEW.id; RETURN NULL; END $f$`);
    await pool.query(`CREATE CONSTRAINT TRIGGER event_outbox_commit AFTER INSERT ON ${t} DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION "${schema}".event_outbox_commit_position()`);
    await pool.query(`CREATE INDEX event_outbox_pending ON ${t} (position) WHERE published_at IS NULL AND failed_at IS NULL AND position IS NOT NULL`);
    const ev = orderPlaced(prefix);
    const outbox = createOutbox({ events: [ev], source: 'test/orders', schema });
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push((await inTransaction(pool, (tx) => add(outbox, ev, i, tx))).id);
    await pool.query(`UPDATE ${t} SET published_at = now() WHERE event_id = ANY($1)`, [ids.slice(0, 2)]);

    // A relay of that version still leading (it holds the relay lock): refused, nothing changed.
    const oldRelay = await pool.connect();
    try {
      await oldRelay.query(`SELECT pg_advisory_lock($1::int4, (($2::regclass::oid)::bigint - 2147483648)::int4)`, [LOCK.RELAY, t]);
      await expect(migrateOutbox(pool, { schema })).rejects.toThrow(/a relay is running on this table/);
      expect((await pool.query(`SELECT to_regclass($1) AS r`, [`"${schema}".event_outbox_progress`])).rows[0].r).toBeNull();
    } finally {
      oldRelay.release(true);
    }

    await migrateOutbox(pool, { schema });
    await migrateOutbox(pool, { schema });
    const second = (await pool.query(`SELECT position::text AS p FROM ${t} WHERE event_id = $1`, [ids[1]])).rows[0].p;
    expect(await publishedThrough(pool, outbox)).toBe(second);
    const trigger = await pool.query(`SELECT (tgtype & 16) <> 0 AS on_update FROM pg_trigger WHERE tgrelid = $1::regclass AND tgname = 'event_outbox_commit'`, [t]);
    expect(trigger.rows).toEqual([{ on_update: true }]);
    // Its index no longer selects by published_at (which nothing writes now), so reads use it.
    const index = await pool.query(`SELECT pg_get_indexdef($1::regclass) AS def`, [`"${schema}".event_outbox_pending`]);
    expect(index.rows[0].def).not.toContain('published_at');
    expect(index.rows[0].def).toContain('failed_at IS NULL');

    const { relay, started } = startRelay(outbox, stream);
    await started;
    await waitFor(() => relay.stats().published === 2, 10_000, 'the two unmarked rows');
    expect(await stream.ids()).toEqual(ids.slice(2));
  });

  it('hand-written rows with an infinite time or a byte order mark: the one that cannot be sent as a consumer reads it is marked failed; the relay never stops', async () => {
    const { stream, ev, outbox, table, prefix } = await setup('odd');
    const raw = (eventId: string, occurredAt: string, body: Buffer) => handRow(table, { eventId, subject: `${prefix}.orders.a.placed`, occurredAt, body });
    const json = Buffer.from('{"orderId":"a","seq":1}');
    const never = `never-${rand()}`;
    const bom = `bom-${rand()}`;
    const lateCommit = `late-${rand()}`;
    const fine = `fine-${rand()}`;
    await raw(never, 'infinity', json);
    await raw(bom, '2026-01-01T00:00:00.123999Z', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), json]));
    await raw(lateCommit, '2026-01-01T00:00:00.123999Z', json);
    // Valid in itself; only its commit time (the lag the relay reports) is infinite.
    await pool.query(`UPDATE ${table} SET committed_at = 'infinity' WHERE event_id = $1`, [lateCommit]);
    await raw(fine, '2026-01-01T00:00:00.123999Z', json);
    // Sessions that print floats with fewer digits: times must not move with that setting.
    const terse = new pg.Pool({ connectionString: PG_URL, max: 4, options: '-c extra_float_digits=-3' });
    cleanups.push(() => terse.end());
    const { relay, notices, started } = startRelay(outbox, stream, { pool: terse });
    await started;
    await waitFor(() => relay.stats().published === 2 && relay.stats().failed === 2, 10_000, 'two published, two failed');
    expect(notices.filter((n) => n.kind === 'database-error')).toEqual([]);
    expect(await stream.ids()).toEqual([lateCommit, fine]);
    const failed = await pool.query(`SELECT event_id, error FROM ${table} WHERE failed_at IS NOT NULL ORDER BY position`);
    expect(failed.rows.map((r) => r.event_id)).toEqual([never, bom]);
    expect(failed.rows[0].error).toMatch(/^undecodable: occurred_at is not a finite time/);
    expect(failed.rows[1].error).toMatch(/^undecodable: body is not UTF-8 JSON/);
    // Whole milliseconds, whatever the session's extra_float_digits.
    const m = await stream.transport.jsm().then((jsm) => jsm.streams.getMessage(stream.name, { seq: 2 }));
    expect(m?.header.get('ce-time')).toBe('2026-01-01T00:00:00.123Z');
  });

  it('stop() called while a batch runs returns once it ends, without the poll interval (ten minutes here); a bus whose receipts say nothing still moves progress', async () => {
    const { stream, ev, outbox, positions } = await setup('stop');
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await inTransaction(pool, (tx) => add(outbox, ev, i, tx))).id);
    const real = createEventBus({ transport: stream.transport, source: 'test/orders' });
    // A caller's bus: publishes through the real one, resolves with nothing.
    const bus = { ...real, publish: async (...a: Parameters<typeof real.publish>) => void (await real.publish(...a)) } as unknown as EventBus;
    let stopped: Promise<void> | undefined;
    const relay = createOutboxRelay({ pool, outbox, bus, pollIntervalMs: 600_000, listen: false, beforeMark: () => void (stopped ??= relay.stop()) });
    cleanups.push(() => relay.stop());
    await relay.start();
    await waitFor(() => stopped !== undefined, 10_000, 'the first mark');
    await stopped;
    expect(relay.stats().running).toBe(false);
    expect(await positions()).toEqual(ids);
    expect(await stream.ids()).toEqual(ids);
  });

  it("a lead lost while its mark waits: that late mark does not fail again a row the next leader's operator re-drove", async () => {
    const { stream, ev, outbox, table, prefix } = await setup('late');
    const good1 = (await inTransaction(pool, (tx) => add(outbox, ev, 1, tx))).id;
    const bad = `late-bad-${rand()}`;
    await handRow(table, { eventId: bad, subject: `${prefix}.orders.a.placed`, body: Buffer.from('{"orderId":"a","seq":"one"}') });
    // Relay A: its first mark waits for the test.
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let waiting = false;
    const poolA = newPool(undefined, 4);
    cleanups.push(() => poolA.end());
    const a = startRelay(outbox, stream, {
      pool: poolA,
      beforeMark: async () => {
        if (waiting) return;
        waiting = true;
        await gate;
      },
    });
    await a.started;
    await waitFor(() => waiting, 10_000, "A's mark waiting");
    // A loses its lead: the server ends the session that holds the relay lock.
    await pool.query(`SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND classid = $1 AND granted`, [LOCK.RELAY]);
    const b = startRelay(outbox, stream);
    await b.started;
    await waitFor(() => b.relay.stats().failed === 1, 10_000, 'B marks the bad row failed');
    // The operator mends it and re-drives it; B publishes it.
    await inTransaction(pool, (tx) => tx.query(`UPDATE ${table} SET body = $2, failed_at = NULL, error = NULL WHERE event_id = $1`, [bad, Buffer.from('{"orderId":"a","seq":1}')]));
    await waitFor(async () => (await stream.ids()).includes(bad), 10_000, 'the re-driven row published');
    // Now A's late mark lands.
    release();
    await waitFor(() => a.notices.some((n) => n.kind === 'failed-row' || n.kind === 'database-error'), 10_000, "A's mark done or its lead ended");
    await a.relay.stop();
    const row = await pool.query(`SELECT failed_at FROM ${table} WHERE event_id = $1`, [bad]);
    expect(row.rows[0].failed_at).toBeNull();
    expect(await publishedIds(pool, outbox)).toEqual([good1, bad]);
  });

  it('corrupt rows written by hand (bad JSON, unknown type or version, invalid payload, forged subject, bad id, too large) are marked failed with their reason; the relay goes on', async () => {
    const { stream, ev, outbox, table, prefix } = await setup('bad');
    const good = async (seq: number) => (await inTransaction(pool, (tx) => add(outbox, ev, seq, tx))).id;
    const raw = (eventId: string, type: string, version: string, subject: string, params: object, body: Buffer) => handRow(table, { eventId, type, version, subject, params, body });
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
