/**
 * Faults: the relay killed (SIGKILL, by PID) exactly between publishing and marking, and
 * at random points while writers go on; the database killed (a private PostgreSQL, by PID)
 * in the middle of a batch. Afterwards every committed event is on the stream once (the
 * republished ones dropped by JetStream's Nats-Msg-Id window), in position order, and the
 * consumer handled each exactly once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { createEventBus, type EventBus } from '../../../src/runtime/index.js';
import { NatsTransport } from '../../../src/runtime/nats/index.js';
import { createOutbox, createOutboxRelay, migrateOutbox, type Outbox, type OutboxRelayNotice } from '../../../src/runtime/outbox/index.js';
import { NATS_URL, rand, waitFor } from '../helpers.js';
import { orderPlaced, type OrderPlaced } from './fixture.js';
import { testStream, type TestStream } from './js-helpers.js';
import { dropSchema, inTransaction, newPool, OwnPostgres, PG_URL, publishedIds, schemaName } from './pg-helpers.js';
import { RelayWorker } from './worker-process.js';

/** A consumer (bus, default dedupe store) counting how often each event id was handled. */
async function countingConsumer(prefix: string, ev: ReturnType<typeof orderPlaced>): Promise<{ bus: EventBus; handled: Map<string, number> }> {
  const bus = createEventBus({ transport: await NatsTransport.connect({ connect: { servers: NATS_URL } }), source: 'test/consumer' });
  const handled = new Map<string, number>();
  await bus.subscribe({
    group: `c_${prefix}`,
    concurrency: 8,
    handlers: [{ type: ev.type, accepts: [ev], handle: async (e) => void handled.set(e.id, (handled.get(e.id) ?? 0) + 1) }],
  });
  return { bus, handled };
}

const addMany = async (pool: pg.Pool, outbox: Outbox, ev: ReturnType<typeof orderPlaced>, txs: number, perTx: number, from = 0): Promise<string[]> => {
  const ids: string[] = [];
  for (let t = 0; t < txs; t++) {
    await inTransaction(pool, async (tx) => {
      for (let k = 0; k < perTx; k++) {
        const seq = from + t * perTx + k;
        ids.push((await outbox.add<OrderPlaced>(tx, ev, { orderId: `o${seq % 5}`, seq }, { params: { orderId: `o${seq % 5}` } })).id);
      }
    });
  }
  return ids;
};

describe('outbox relay faults', () => {
  let pool: pg.Pool;
  const cleanups: Array<() => Promise<void>> = [];
  beforeAll(() => {
    pool = newPool(undefined, 20);
  });
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    await pool.end();
  });

  async function setup(tag: string) {
    const schema = schemaName(tag);
    const prefix = `ob${tag}${rand()}`;
    await migrateOutbox(pool, { schema });
    const stream = await testStream(prefix);
    const ev = orderPlaced(prefix);
    const consumer = await countingConsumer(prefix, ev);
    cleanups.push(() => stream.destroy(), () => dropSchema(pool, schema), () => consumer.bus.close());
    const outbox = createOutbox({ events: [ev], source: 'test/orders', schema });
    const workerEnv = (extra: Record<string, string> = {}) => ({ OB_PG_URL: PG_URL, OB_NATS_URL: NATS_URL, OB_SCHEMA: schema, OB_PREFIX: prefix, ...extra });
    const startWorker = async (extra?: Record<string, string>) => {
      const w = await RelayWorker.start(workerEnv(extra));
      cleanups.push(() => w.stop());
      return w;
    };
    return { schema, prefix, stream, ev, outbox, consumer, startWorker };
  }

  const positionOrder = async (outbox: Outbox): Promise<string[]> => (await pool.query(`SELECT event_id FROM ${outbox.location.qualified} ORDER BY position`)).rows.map((r) => r.event_id);
  const publishedCount = async (outbox: Outbox): Promise<number> => (await publishedIds(pool, outbox)).length;

  async function expectExactlyOnce(stream: TestStream, handled: Map<string, number>, committed: string[], outbox: Outbox) {
    await waitFor(() => handled.size >= committed.length, 30_000, 'the consumer to handle every event');
    const onStream = await stream.ids();
    expect(onStream).toHaveLength(committed.length);
    expect(new Set(onStream)).toEqual(new Set(committed));
    expect(onStream).toEqual(await positionOrder(outbox));
    expect(handled.size).toBe(committed.length);
    expect([...handled.values()].filter((n) => n !== 1)).toEqual([]);
  }

  it('relay killed between publish and mark: the next relay republishes the unmarked batch, JetStream drops it, each event handled once', async () => {
    const { stream, ev, outbox, consumer, startWorker } = await setup('crash');
    const committed = await addMany(pool, outbox, ev, 30, 20);
    const a = await startWorker({ OB_CRASH_AT_BATCH: '2', OB_BATCH_SIZE: '100' });
    const exit = await a.exited;
    expect(exit.signal).toBe('SIGKILL');
    expect(a.lines.find((l) => l.kind === 'crashing')).toMatchObject({ batch: 2, unmarked: 100 });
    // Batch 2 (and maybe batch 3, published while 2 was being marked) is on the stream and
    // unmarked: the state a crash at that point leaves.
    expect(await publishedCount(outbox)).toBe(100);
    const unmarked = (await stream.count()) - 100;
    expect(unmarked).toBeGreaterThanOrEqual(100);

    const b = await startWorker();
    await waitFor(async () => (await publishedCount(outbox)) === committed.length, 30_000, 'the second relay to publish the rest');
    expect(b.published).toBe(committed.length - 100);
    // The republished rows: acked by JetStream as duplicates, stored once.
    expect(b.duplicates).toBe(unmarked);
    await expectExactlyOnce(stream, consumer.handled, committed, outbox);
  });

  it('relays killed at random points while writers go on: the last one publishes everything committed, each event handled once', async () => {
    const { stream, ev, outbox, consumer, startWorker } = await setup('random');
    const committed: string[] = [];
    let writing = true;
    const writers = Promise.all(
      Array.from({ length: 3 }, async (_, w) => {
        for (let t = 0; writing && t < 200; t++) committed.push(...(await addMany(pool, outbox, ev, 1, 1 + ((w + t) % 4), w * 10_000 + t * 10)));
      }),
    );
    for (let round = 0; round < 3; round++) {
      const w = await startWorker({ OB_BATCH_SIZE: String(10 + Math.floor(Math.random() * 40)) });
      const target = 20 + Math.floor(Math.random() * 150);
      await waitFor(() => w.published >= target || w.proc.exitCode !== null, 30_000, `worker ${round} to publish ${target}`);
      await w.kill();
    }
    writing = false;
    await writers;
    await startWorker();
    await waitFor(async () => (await publishedCount(outbox)) === committed.length, 30_000, 'the last relay to publish everything');
    await expectExactlyOnce(stream, consumer.handled, committed, outbox);
  });

  describe('with a private PostgreSQL', () => {
    let db: OwnPostgres;
    let own: pg.Pool;
    beforeAll(async () => {
      db = await OwnPostgres.start();
      own = newPool(db.url, 8);
    }, 60_000);
    afterAll(async () => {
      await own?.end().catch(() => undefined);
      await db?.destroy();
    });

    it('the database killed mid-batch (after the publishes, before the marks) and restarted on its directory: the relay reconnects and goes on; nothing lost, nothing twice', async () => {
      const prefix = `obdb${rand()}`;
      const ev = orderPlaced(prefix);
      await migrateOutbox(own);
      const outbox = createOutbox({ events: [ev], source: 'test/orders' });
      const stream = await testStream(prefix);
      const consumer = await countingConsumer(prefix, ev);
      cleanups.push(() => stream.destroy(), () => consumer.bus.close());
      const acknowledged = await addMany(own, outbox, ev, 20, 25);

      const notices: OutboxRelayNotice[] = [];
      let batches = 0;
      let killed: Promise<void> | undefined;
      const relay = createOutboxRelay({
        pool: own,
        outbox,
        transport: stream.transport,
        batchSize: 50,
        pollIntervalMs: 100,
        backoff: { initialMs: 50, maxMs: 500 },
        onNotice: (n) => notices.push(n),
        beforeMark: async () => {
          if (++batches === 3) {
            killed = db.kill();
            await killed;
          }
        },
      });
      cleanups.push(() => relay.stop());
      await relay.start();
      await waitFor(() => killed !== undefined, 30_000, 'the third batch');
      await killed;
      expect(relay.stats().published).toBe(100);
      await waitFor(() => notices.some((n) => n.kind === 'database-error'), 10_000, 'the relay to report the lost database');
      await db.spawn();
      // Writers go on after the restart.
      acknowledged.push(...(await addMany(own, outbox, ev, 10, 10, 10_000)));
      await waitFor(async () => relay.stats().published === acknowledged.length, 30_000, 'the relay to publish everything after the restart');
      // Batch 3 at least (and what was published while it was being marked) went out twice, stored once.
      expect(relay.stats().duplicates).toBeGreaterThanOrEqual(50);
      const inTable = (await own.query(`SELECT event_id FROM ${outbox.location.qualified} ORDER BY position`)).rows.map((r) => r.event_id);
      expect(inTable).toEqual(acknowledged);
      await waitFor(() => consumer.handled.size >= acknowledged.length, 30_000, 'the consumer to handle every event');
      const onStream = await stream.ids();
      expect(onStream).toEqual(inTable);
      expect([...consumer.handled.values()].filter((n) => n !== 1)).toEqual([]);
      expect(consumer.handled.size).toBe(acknowledged.length);
      await waitFor(() => relay.stats().listening, 10_000, 'LISTEN again after the restart');
      // Stopped here: the pool cannot end while the relay holds its connections.
      await relay.stop();
    }, 120_000);
  });
});
