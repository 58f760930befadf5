/**
 * Faults between the SDK and RabbitMQ: connections cut mid-stream by a TCP proxy inside the
 * test (the shared broker and other tests' connections are left alone). amqplib does not
 * reconnect; the transport must, and no confirmed event may be lost or handled twice.
 */
import { execFileSync } from 'node:child_process';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AmqpTransport, PublishTimeoutError } from '../../src/runtime/amqp/index.js';
import { createEventBus, type EventBus, type Middleware } from '../../src/runtime/index.js';
import { AMQP_URL, CuttableProxy, TopologyTracker, deleteTopology } from './amqp-helpers.js';
import { rand, sleep, userCreated, waitFor } from './helpers.js';

describe('AMQP faults: connections cut mid-stream', () => {
  let proxy: CuttableProxy;
  let tracker: TopologyTracker;
  const buses: EventBus[] = [];
  beforeAll(async () => {
    proxy = await CuttableProxy.start();
  });
  afterEach(async () => {
    await Promise.allSettled(buses.splice(0).map((b) => b.close()));
    await tracker.cleanup();
  });
  afterAll(async () => {
    await proxy.close();
  });

  const connect = async (prefix: string, extra: Partial<Parameters<typeof AmqpTransport.connect>[0]> = {}) => {
    tracker ??= new TopologyTracker();
    return tracker.track(await AmqpTransport.connect({ url: proxy.url, exchange: prefix, queuePrefix: `${prefix}.`, reconnect: { initialMs: 50, maxMs: 500 }, ...extra }));
  };

  it('3 000 events, every connection cut after 1 000 confirms: publishes retried, consumer resumes, each handled exactly once', async () => {
    tracker = new TopologyTracker();
    const prefix = `flt${rand()}`;
    const ev = userCreated(prefix);
    const pubT = await connect(prefix);
    const subT = await connect(prefix);
    const duplicates: string[] = [];
    const seeDuplicates: Middleware = { name: 'dups', notice: (n) => void (n.kind === 'duplicate' && duplicates.push(n.id)) };
    const producer = createEventBus({ transport: pubT, source: 'faults/producer' });
    const consumer = createEventBus({ transport: subT, source: 'faults/consumer', middleware: [seeDuplicates] });
    buses.push(producer, consumer);

    const handled = new Map<string, number>();
    await consumer.subscribe({
      group: 'faults',
      concurrency: 32,
      maxInFlight: 256,
      handlers: [{ type: ev.type, accepts: [ev], handle: async (e) => void handled.set(e.id, (handled.get(e.id) ?? 0) + 1) }],
    });

    const total = 3000;
    const ids = Array.from({ length: total }, (_, i) => `a-${i}-${rand()}`);
    let confirmed = 0;
    let next = 0;
    const failures: unknown[] = [];
    // 200 publishes in flight, each awaiting its confirm (retried inside the transport).
    const worker = async () => {
      while (next < total) {
        const i = next++;
        try {
          await producer.publish(ev, { userId: `u${i % 97}`, email: 'a@x.io', seq: i }, { params: { userId: `u${i % 97}` }, id: ids[i]! });
          confirmed++;
        } catch (err) {
          failures.push(err);
        }
      }
    };
    const publishing = Promise.all(Array.from({ length: 200 }, worker));
    await waitFor(() => confirmed >= 1000, 30_000, '1000 confirms');
    const handledBeforeCut = handled.size;
    await proxy.cut(500);
    await publishing;
    expect(failures).toEqual([]);
    expect(confirmed).toBe(total);
    // The cut caught publishes in flight: they were sent again with the same message id.
    expect(pubT.stats.publishRetries, 'publish retries').toBeGreaterThanOrEqual(1);
    expect(pubT.stats.reconnects, 'producer reconnects').toBeGreaterThanOrEqual(1);

    await waitFor(() => handled.size === total, 60_000, `all ${total} events handled (have ${handled.size})`);
    // Checked only now: the consumer may come back a little after the producer.
    expect(subT.stats.reconnects, 'consumer reconnects').toBeGreaterThanOrEqual(1);
    expect(handledBeforeCut).toBeLessThan(total);
    expect(ids.filter((id) => !handled.has(id))).toEqual([]);
    expect([...handled.values()].filter((n) => n !== 1)).toEqual([]);
    // Whatever RabbitMQ delivered twice (republished, or unacked when the cut came) was
    // absorbed by the dedupe store, never handed to the handler.
    expect(duplicates.every((id) => handled.get(id) === 1)).toBe(true);
    console.log(`faults: ${pubT.stats.publishRetries} publish retries, ${duplicates.length} duplicate deliveries absorbed, consumer restarts ${subT.stats.consumerRestarts}`);
  }, 120_000);

  it('a retry waiting in a delay queue survives a cut and is delivered with its attempt count', async () => {
    tracker = new TopologyTracker();
    const prefix = `flt${rand()}`;
    const ev = userCreated(prefix);
    const t = await connect(prefix);
    const b = createEventBus({ transport: t, source: 'faults/retry' });
    buses.push(b);
    const attempts: number[] = [];
    await b.subscribe({
      group: 'delayed',
      maxDeliver: 5,
      backoff: { initialMs: 800, maxMs: 800, factor: 1, jitter: 0 },
      handlers: [
        {
          type: ev.type,
          accepts: [ev],
          handle: async (_e, ctx) => {
            attempts.push(ctx.deliveryCount);
            if (ctx.deliveryCount === 1) throw new Error('first attempt fails');
          },
        },
      ],
    });
    await b.publish(ev, { userId: 'd', email: 'a@x.io' }, { params: { userId: 'd' } });
    await waitFor(() => attempts.length === 1, 10_000, 'first attempt');
    await sleep(100); // the retry is now in the delay queue
    await proxy.cut(300);
    await waitFor(() => attempts.length === 2, 15_000, 'the delayed retry after the cut');
    expect(t.stats.reconnects, 'reconnects').toBeGreaterThanOrEqual(1);
    expect(attempts).toEqual([1, 2]);
  }, 30_000);

  it('a dead letter that cannot be stored leaves the event for redelivery; it lands once the dead-letter exchange works', async () => {
    tracker = new TopologyTracker();
    const prefix = `flt${rand()}`;
    const ev = userCreated(prefix);
    const dlx = `${prefix}.dlx`;
    // Squat the dead-letter exchange's name with another type: declaring it fails (406).
    const squatter = await AmqpTransport.connect({ url: AMQP_URL, exchange: `${prefix}.squat` });
    await squatter.withChannel((ch) => ch.assertExchange(dlx, 'fanout', { durable: false }));
    await squatter.close();
    tracker.extraExchanges.add(dlx);
    const t = await connect(prefix);
    const b = createEventBus({ transport: t, source: 'faults/dl' });
    buses.push(b);
    const tries: number[] = [];
    await b.subscribe({
      group: 'dlfail',
      maxDeliver: 2,
      backoff: { initialMs: 50, maxMs: 200, factor: 2, jitter: 0 },
      handlers: [{ type: ev.type, accepts: [ev], handle: async (_e, ctx) => void (tries.push(ctx.deliveryCount), await Promise.reject(new Error('always'))) }],
    });
    const { id } = await b.publish(ev, { userId: 'x', email: 'a@x.io' }, { params: { userId: 'x' } });
    // Past maxDeliver, every attempt to dead-letter fails and the event comes back.
    await waitFor(() => tries.length >= 4, 15_000, 'deliveries past maxDeliver');
    // Each came back through a delay queue (counted by the broker), not as an immediate requeue.
    expect(tries.slice(0, 4)).toEqual([1, 2, 3, 4]);
    await deleteTopology({ exchanges: [dlx] });
    const dead: string[] = [];
    await b.subscribeDeadLetters({ subject: 'deadletter.dlfail', group: 'ops' }, async (dl) => void dead.push(dl.headers.get('ce-id') ?? ''));
    await waitFor(() => dead.length === 1, 20_000, 'the dead letter');
    expect(dead).toEqual([id]);
  }, 40_000);

  it('a publish whose confirm never comes fails at the deadline instead of hanging', async () => {
    tracker = new TopologyTracker();
    const prefix = `flt${rand()}`;
    const ev = userCreated(prefix);
    const t = await connect(prefix, { publishDeadlineMs: 700, unroutable: 'drop', heartbeatSeconds: 30 });
    const b = createEventBus({ transport: t, source: 'faults/stall' });
    buses.push(b);
    await b.publish(ev, { userId: 's', email: 'a@x.io' }, { params: { userId: 's' } }); // exchange declared
    // The broker's answers are held back until released: the publish can only end by its own deadline.
    const release = proxy.stall();
    const err = await b.publish(ev, { userId: 's', email: 'a@x.io' }, { params: { userId: 's' } }).catch((e: unknown) => e);
    release();
    expect(err).toBeInstanceOf(PublishTimeoutError);
    // The connection is still good afterwards.
    await expect(b.publish(ev, { userId: 's', email: 'a@x.io' }, { params: { userId: 's' } })).resolves.toMatchObject({ duplicate: false });
  }, 20_000);

  // As `rabbitmqctl close_all_connections`, but only for this test's connections (found by
  // their connection_name), so other suites on the shared broker keep theirs. Needs root.
  const rabbitmqctl = (() => {
    try {
      execFileSync('rabbitmqctl', ['-q', 'list_connections', 'pid'], { stdio: 'pipe', timeout: 30_000 });
      return true;
    } catch {
      return false;
    }
  })();
  it.skipIf(!rabbitmqctl)('the broker closing the connections (rabbitmqctl close_connection) mid-stream: both sides come back by themselves', async () => {
    tracker = new TopologyTracker();
    const prefix = `flt${rand()}`;
    const name = `ec-faults-${prefix}`;
    const ev = userCreated(prefix);
    const pubT = await connect(prefix, { url: AMQP_URL, connectionName: name });
    const subT = await connect(prefix, { url: AMQP_URL, connectionName: name });
    const producer = createEventBus({ transport: pubT, source: 'faults/producer' });
    const consumer = createEventBus({ transport: subT, source: 'faults/consumer' });
    buses.push(producer, consumer);
    const handled = new Map<string, number>();
    await consumer.subscribe({ group: 'forced', concurrency: 16, maxInFlight: 128, handlers: [{ type: ev.type, accepts: [ev], handle: async (e) => void handled.set(e.id, (handled.get(e.id) ?? 0) + 1) }] });
    const total = 1500;
    let confirmed = 0;
    let next = 0;
    const worker = async () => {
      while (next < total) {
        const i = next++;
        await producer.publish(ev, { userId: 'u', email: 'a@x.io', seq: i }, { params: { userId: 'u' }, id: `forced-${i}` });
        confirmed++;
      }
    };
    const publishing = Promise.all(Array.from({ length: 100 }, worker));
    await waitFor(() => confirmed >= 300, 30_000, '300 confirms');
    const pids = execFileSync('rabbitmqctl', ['-q', 'list_connections', 'pid', 'client_properties'], { encoding: 'utf8', timeout: 30_000 })
      .split('\n')
      .filter((line) => line.includes(name))
      .map((line) => line.split('\t')[0]!);
    expect(pids).toHaveLength(2);
    for (const pid of pids) execFileSync('rabbitmqctl', ['-q', 'close_connection', pid, 'test'], { stdio: 'pipe', timeout: 30_000 });
    await publishing;
    expect(confirmed).toBe(total);
    await waitFor(() => handled.size === total, 60_000, `all ${total} handled (have ${handled.size})`);
    expect([...handled.values()].filter((n) => n !== 1)).toEqual([]);
    expect(pubT.stats.reconnects, 'producer reconnects').toBeGreaterThanOrEqual(1);
    expect(subT.stats.reconnects, 'consumer reconnects').toBeGreaterThanOrEqual(1);
  }, 90_000);
});
