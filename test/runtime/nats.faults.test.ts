/**
 * Faults against a private nats-server that the test restarts: publishes retried with the
 * same id survive a broker restart, and every event is handled exactly once.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '@nats-io/transport-node';
import { createEventBus, type EventBus } from '../../src/runtime/index.js';
import { NatsTransport, provisionNats } from '../../src/runtime/nats/index.js';
import { findNatsServer, freePort, OwnNatsServer, rand, stopProcess, userCreated, waitFor } from './helpers.js';

describe('NATS faults: broker restart mid-stream', () => {
  let server: OwnNatsServer;
  const buses: EventBus[] = [];
  beforeAll(async () => {
    server = await OwnNatsServer.start();
  }, 30_000);
  afterAll(async () => {
    await Promise.allSettled(buses.map((b) => b.close()));
    await server.destroy();
  });

  it('10 000 events, server restarted after a few thousand acks: publishes retried, each handled exactly once', async () => {
    const prefix = `flt${rand()}`;
    const ev = userCreated(prefix);
    const opts = { connect: { servers: server.url, reconnectTimeWait: 100 }, publishTimeoutMs: 1000 };
    const pubT = await NatsTransport.connect(opts);
    // File storage: the stream and its consumer must survive the restart.
    await provisionNats(pubT, { streams: [{ name: `F_${prefix}`, subjects: [`${prefix}.>`], storage: 'file' }] });
    const subT = await NatsTransport.connect({ ...opts, pullExpiresMs: 1000 });
    const producer = createEventBus({ transport: pubT, source: 'faults/producer' });
    const consumer = createEventBus({ transport: subT, source: 'faults/consumer' });
    buses.push(producer, consumer);

    const handled = new Map<string, number>();
    await consumer.subscribe({
      group: 'faults',
      concurrency: 32,
      maxInFlight: 512,
      ackWaitMs: 5000,
      handlers: [{ type: ev.type, accepts: [ev], handle: async (e) => void handled.set(e.id, (handled.get(e.id) ?? 0) + 1) }],
    });

    const total = 10_000;
    const ids = Array.from({ length: total }, (_, i) => `f-${i}-${rand()}`);
    let acked = 0;
    let next = 0;
    // 200 publishes in flight, each awaiting its ack (retried inside the transport).
    const worker = async () => {
      while (next < total) {
        const i = next++;
        await producer.publish(ev, { userId: `u${i % 97}`, email: 'a@x.io', seq: i }, { params: { userId: `u${i % 97}` }, id: ids[i]! });
        acked++;
      }
    };
    const publishing = Promise.all(Array.from({ length: 200 }, worker));
    await waitFor(() => acked >= 3000, 30_000, '3000 acks');
    await server.restart();
    await publishing;
    expect(acked).toBe(total);
    expect(pubT.stats.publishRetries).toBeGreaterThanOrEqual(1);

    await waitFor(() => handled.size === total, 60_000, `all ${total} events handled (have ${handled.size})`);
    expect(ids.filter((id) => !handled.has(id))).toEqual([]);
    expect([...handled.values()].filter((n) => n !== 1)).toEqual([]);
  }, 120_000);
});

describe('NATS faults: JetStream not up when a consumer starts', () => {
  it('a failed first attempt is not remembered: consume() works once JetStream is up', async () => {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'ec-nats-nojs-'));
    const start = async (jetStream: boolean): Promise<ChildProcess> => {
      const p = spawn(findNatsServer(), ['-a', '127.0.0.1', '-p', String(port), ...(jetStream ? ['-js', '-sd', dir] : [])], { stdio: 'ignore' });
      await waitFor(async () => {
        try {
          const nc = await connect({ servers: `127.0.0.1:${port}`, reconnect: false, timeout: 500 });
          await nc.close();
          return true;
        } catch {
          return false;
        }
      }, 10_000, 'nats-server up');
      return p;
    };
    const stop = stopProcess;
    let server = await start(false);
    const t = await NatsTransport.connect({ connect: { servers: `127.0.0.1:${port}`, reconnectTimeWait: 100 } });
    try {
      await expect(t.consume({ group: 'g', subjects: ['nojs.>'], maxInFlight: 4 }, () => undefined)).rejects.toThrow();
      const reconnected = (async () => {
        for await (const s of t.nc.status()) if (s.type === 'reconnect') return;
      })();
      await stop(server);
      server = await start(true);
      await reconnected;
      await provisionNats(t, { streams: [{ name: 'NOJS', subjects: ['nojs.>'], storage: 'memory' }] });
      const sub = await t.consume({ group: 'g', subjects: ['nojs.>'], maxInFlight: 4 }, () => undefined);
      await sub.stop();
    } finally {
      await t.close();
      await stop(server);
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
