/**
 * At least once, and once with a shared dedupe store: a consumer process killed (SIGKILL)
 * after handling one record and while another, earlier on the same partition, is still
 * running (its dedupe claim lives 3 s). Its offsets were committed only up to the first unsettled record, so the group's
 * next member reads both again: the one still running is handled, the one handled already
 * is recognised by the dedupe store (JetStream KV, shared by the processes) and acked as a
 * duplicate.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Consumer } from '@platformatic/kafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEventBus, type EventBus, type RuntimeNotice } from '../../src/runtime/index.js';
import { KvDedupeStore } from '../../src/runtime/nats/index.js';
import { NATS_URL, rand, userCreated, waitFor } from './helpers.js';
import { createTopics, deleteByPrefix, KafkaTracker, kafkaBootstrap } from './kafka-helpers.js';

/** The consumer service, in its own process: the slow event never finishes; completing a dedupe key is reported. */
const WORKER = `
const { BOOTSTRAP, PREFIX, INTERNAL, GROUP, BUCKET, NATS } = process.env;
const rt = await import('./src/runtime/index.ts');
const { KafkaTransport } = await import('./src/runtime/kafka/index.ts');
const { KvDedupeStore } = await import('./src/runtime/nats/index.ts');
const { connect } = await import('@nats-io/transport-node');
const nc = await connect({ servers: NATS });
const store = await KvDedupeStore.open(nc, { bucket: BUCKET });
const dedupe = {
  claim: (k, ttl) => store.claim(k, ttl),
  release: (k) => store.release(k),
  complete: async (k) => { await store.complete(k); console.log('completed ' + k); },
};
const topology = [{ name: PREFIX, subjects: [PREFIX + '.>'] }];
const transport = await KafkaTransport.connect({ bootstrap: BOOTSTRAP, topology, internalTopicPrefix: INTERNAL, sessionTimeoutMs: 6000 });
const bus = rt.createEventBus({ transport, source: 'worker' });
const ev = { type: 'user.created', version: '1.0.0', address: PREFIX + '.users.{userId}.created', parameters: ['userId'], validate: (d) => ({ ok: true, value: d }) };
await bus.subscribe({ group: GROUP, dedupe, claimTtlMs: 3000, concurrency: 2, handlers: [{ type: ev.type, accepts: [ev], handle: async (e) => {
  console.log('handling ' + e.id);
  if (e.data.userId === 'slow') await new Promise(() => {});
} }] });
console.log('ready');
`;

describe('kafka: a consumer killed before its commit', () => {
  const id = rand();
  const prefix = `kdl${id}`;
  const internal = `_kdl${id}.`;
  const group = `crash_${id}`;
  const bucket = `kdl-dedupe-${id}`;
  const ev = userCreated(prefix);
  let bootstrap: string;
  let tracker: KafkaTracker;
  let nc: NatsConnection;
  let worker: ChildProcess | undefined;
  const lines: string[] = [];
  const buses: EventBus[] = [];

  beforeAll(async () => {
    bootstrap = await kafkaBootstrap();
    await createTopics(bootstrap, [{ name: prefix, subjects: [`${prefix}.>`], partitions: 1 }]);
    tracker = new KafkaTracker({ bootstrap, topology: [{ name: prefix, subjects: [`${prefix}.>`] }], internalTopicPrefix: internal });
    nc = await connect({ servers: NATS_URL });
  });
  afterAll(async () => {
    worker?.kill('SIGKILL');
    await Promise.allSettled(buses.map((b) => b.close()));
    await tracker?.close();
    await deleteByPrefix(bootstrap, [prefix, internal, group]);
    const jsm = await jetstreamManager(nc);
    await jsm.streams.delete(`KV_${bucket}`).catch(() => undefined);
    await nc?.close();
  });

  it('redelivers from the first unsettled record; the dedupe store makes the handled one a duplicate', async () => {
    worker = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', WORKER], {
      cwd: process.cwd(),
      env: { ...process.env, BOOTSTRAP: bootstrap, PREFIX: prefix, INTERNAL: internal, GROUP: group, BUCKET: bucket, NATS: NATS_URL },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    createInterface({ input: worker.stdout! }).on('line', (l) => lines.push(l));
    await waitFor(() => lines.includes('ready'), 30_000, 'the worker');

    const producer = createEventBus({ transport: await tracker.connect(), source: 'test/producer' });
    buses.push(producer);
    // Same partition (one), slow first: the fast one settles while the slow one runs.
    await producer.publish(ev, { userId: 'slow', email: 'a@x.io' }, { params: { userId: 'slow' }, id: 'slow-1' });
    await producer.publish(ev, { userId: 'fast', email: 'a@x.io' }, { params: { userId: 'fast' }, id: 'fast-1' });
    await waitFor(() => lines.includes('handling slow-1') && lines.includes(`completed ${group}/fast-1`), 30_000, 'the worker to handle fast-1 while slow-1 runs');

    // The fast one was acked; its offset (1) must not be committed past the slow one (0).
    // Given time to go wrong (the commit follows an ack within a turn of the event loop):
    await new Promise((r) => setTimeout(r, 1000));
    const probe = new Consumer({ clientId: 'probe', groupId: group, bootstrapBrokers: bootstrap.split(',') });
    const committed = await probe.listCommittedOffsets({ topics: [{ topic: prefix, partitions: [0] }] });
    await new Promise<void>((r) => probe.close(true, () => r()));
    expect(committed.get(prefix)?.[0] ?? -1n).toBeLessThanOrEqual(0n);

    worker.kill('SIGKILL');
    await new Promise((r) => worker!.once('exit', r));

    const handled: string[] = [];
    const notices: RuntimeNotice[] = [];
    const survivor = createEventBus({ transport: await tracker.connect(), source: 'test/survivor', middleware: [{ name: 'n', notice: (n) => void notices.push(n) }] });
    buses.push(survivor);
    await survivor.subscribe({
      group,
      dedupe: await KvDedupeStore.open(nc, { bucket }),
      handlers: [{ type: ev.type, accepts: [ev], handle: async (e) => void handled.push(e.id) }],
    });
    await waitFor(() => handled.includes('slow-1') && notices.some((n) => n.kind === 'duplicate' && n.id === 'fast-1'), 45_000, 'the redelivery of both').catch((err) => {
      throw new Error(`${(err as Error).message}; handled ${JSON.stringify(handled)}, notices ${JSON.stringify(notices.map((n) => [n.kind, 'id' in n ? n.id : '']))}`);
    });
    expect(handled).toEqual(['slow-1']);
    expect(lines.filter((l) => l === 'handling fast-1')).toHaveLength(1);
  }, 120_000);
});

describe('kafka: a record larger than the fetch size', () => {
  const id = rand();
  const prefix = `kfs${id}`;
  const internal = `_kfs${id}.`;
  const ev = userCreated(prefix);
  const topology = [{ name: prefix, subjects: [`${prefix}.>`], partitions: 1, config: { 'max.message.bytes': String(512 * 1024) } }];
  let bootstrap: string;
  let tracker: KafkaTracker;

  beforeAll(async () => {
    bootstrap = await kafkaBootstrap();
    await createTopics(bootstrap, topology);
    tracker = new KafkaTracker({ bootstrap, topology, internalTopicPrefix: internal });
  });
  afterAll(async () => {
    await tracker?.close();
    await deleteByPrefix(bootstrap, [prefix, internal]);
  });

  it('still arrives, in order with the records around it (16 KiB fetches; records of 40 and 300 KiB)', async () => {
    const producer = createEventBus({ transport: await tracker.connect(), source: 'test/producer' });
    const reader = createEventBus({ transport: await tracker.connect({ fetchMaxBytes: 16 * 1024 }), source: 'test/reader' });
    try {
      const sizes = [100, 300 * 1024, 100, 100, 40 * 1024, 100];
      for (const [i, n] of sizes.entries()) await producer.publish(ev, { userId: `u${i}`, email: 'a@x.io', note: 'x'.repeat(n) }, { params: { userId: `u${i}` }, id: `fs-${i}` });
      const seen: Array<[string, number]> = [];
      await reader.subscribe({
        group: `fetch_${id}`,
        handlers: [{ type: ev.type, accepts: [ev], handle: async (e) => void seen.push([e.id, e.data.note?.length ?? 0]) }],
      });
      await waitFor(() => seen.length >= sizes.length, 30_000, `all ${sizes.length} records (seen ${JSON.stringify(seen)})`);
      expect(seen).toEqual(sizes.map((n, i) => [`fs-${i}`, n]));
    } finally {
      await Promise.allSettled([producer.close(), reader.close()]);
    }
  }, 60_000);
});
