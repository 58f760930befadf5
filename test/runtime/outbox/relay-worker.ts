/**
 * A relay in a process of its own, for the fault tests to kill by PID. Configured by
 * environment; prints one JSON line per batch it marked published. With OB_CRASH_AT_BATCH=n
 * it SIGKILLs itself in batch n after the broker acked the publishes and before the rows
 * are marked: the exact point where a crash leaves published rows unmarked.
 * Run: node --import tsx test/runtime/outbox/relay-worker.ts
 */
import pg from 'pg';
import { createOutbox, createOutboxRelay } from '../../../src/runtime/outbox/index.js';
import { NatsTransport } from '../../../src/runtime/nats/index.js';
import { orderPlaced } from './fixture.js';

const env = (name: string): string => {
  const v = process.env[name];
  if (v === undefined) throw new Error(`relay-worker: ${name} is not set`);
  return v;
};

const say = (o: object) => process.stdout.write(JSON.stringify(o) + '\n');

async function main(): Promise<void> {
  const crashAt = Number(process.env['OB_CRASH_AT_BATCH'] ?? 0);
  const pool = new pg.Pool({ connectionString: env('OB_PG_URL'), max: 4 });
  pool.on('error', () => undefined);
  const transport = await NatsTransport.connect({ connect: { servers: env('OB_NATS_URL') }, publishTimeoutMs: 2000 });
  const outbox = createOutbox({ events: [orderPlaced(env('OB_PREFIX'))], source: 'test/orders', schema: env('OB_SCHEMA') });
  let batches = 0;
  const relay = createOutboxRelay({
    pool,
    outbox,
    transport,
    batchSize: Number(process.env['OB_BATCH_SIZE'] ?? 100),
    pollIntervalMs: 100,
    beforeMark: (ids) => {
      batches++;
      if (batches === crashAt) {
        say({ kind: 'crashing', batch: batches, unmarked: ids.length });
        process.kill(process.pid, 'SIGKILL');
      }
    },
    onNotice: (n) => {
      if (n.kind === 'published') say({ kind: 'published', count: n.count, duplicates: n.duplicates, lastPosition: n.lastPosition });
      else if (n.kind === 'failed-row') say({ kind: 'failed-row', eventId: n.eventId, reason: n.reason });
    },
  });
  await relay.start();
  say({ kind: 'ready' });
  process.once('SIGTERM', () => {
    void (async () => {
      await relay.stop();
      await transport.close();
      await pool.end();
      process.exit(0);
    })();
  });
}

main().catch((err) => {
  process.stderr.write(`relay-worker failed: ${(err as Error).stack}\n`);
  process.exit(1);
});
