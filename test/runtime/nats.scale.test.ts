/**
 * Horizontal scale: three instances of one consumer service, each in its own process,
 * share one durable consumer and a JetStream KV dedupe store. Every event is handled by
 * exactly one instance, even events published twice under different broker message ids.
 */
import { fork, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { createEventBus } from '../../src/runtime/index.js';
import { NatsTransport, provisionNats } from '../../src/runtime/nats/index.js';
import { NATS_URL, rand, waitFor } from './helpers.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
/** Compiled inside node_modules so the children resolve @nats-io/* like the package would. */
const RUNTIME_DIR = join(root, 'node_modules/.cache/event-contracts-runtime-test', String(process.pid));

function compileRuntime(): void {
  mkdirSync(RUNTIME_DIR, { recursive: true });
  execFileSync(
    process.execPath,
    [join(root, 'node_modules/typescript/bin/tsc'), '--outDir', RUNTIME_DIR, '--rootDir', join(root, 'src/runtime'), '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--skipLibCheck', '--types', 'node', '--strict', join(root, 'src/runtime/index.ts'), join(root, 'src/runtime/nats/index.ts')],
    { stdio: 'inherit' },
  );
}

describe('horizontal scale: three processes share one durable consumer', () => {
  const id = rand();
  const prefix = `scl${id}`;
  const bucket = `ect-scale-${id}`;
  const children: ChildProcess[] = [];
  let admin: NatsTransport;

  beforeAll(async () => {
    compileRuntime();
    admin = await NatsTransport.connect({ connect: { servers: NATS_URL } });
    await provisionNats(admin, {
      streams: [{ name: `SCL_${id}`, subjects: [`${prefix}.>`], storage: 'memory' }],
      consumers: [{ stream: `SCL_${id}`, name: 'scale', filterSubject: `${prefix}.orders.*` }],
    });
  }, 60_000);

  afterAll(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    const jsm = await jetstreamManager(admin.nc);
    await jsm.streams.delete(`SCL_${id}`).catch(() => undefined);
    await (await new Kvm(admin.nc).open(bucket)).destroy().catch(() => undefined);
    await admin.close();
    rmSync(RUNTIME_DIR, { recursive: true, force: true });
  });

  it('each instance handles >= 20 %, no event twice, none missing', async () => {
    const handledBy = new Map<string, number[]>();
    const ready: boolean[] = [];
    for (let i = 0; i < 3; i++) {
      const c = fork(join(here, 'fixtures/scale-worker.mjs'), [], { env: { ...process.env, RUNTIME_DIR, NATS_URL, PREFIX: prefix, BUCKET: bucket }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      children.push(c);
      c.on('message', (m: { ready?: boolean; handled?: string }) => {
        if (m.ready) ready[i] = true;
        if (m.handled) handledBy.set(m.handled, [...(handledBy.get(m.handled) ?? []), i]);
      });
    }
    await waitFor(() => ready.filter(Boolean).length === 3, 20_000, 'three instances ready');

    const bus = createEventBus({ transport: await NatsTransport.connect({ connect: { servers: NATS_URL } }), source: 'scale/producer' });
    const ev = { type: 'order.placed', version: '1.0.0', address: `${prefix}.orders.{orderId}`, parameters: ['orderId'], validate: (d: unknown) => ({ ok: true as const, value: d as { n: number } }) };
    const receipts = await bus.publishBatch(Array.from({ length: 600 }, (_, n) => ({ event: ev, data: { n }, options: { params: { orderId: `o${n}` } } })));
    // The same 100 events again under new broker message ids (a producer that lost its ids):
    // JetStream stores them, so only the shared dedupe store keeps them from being handled twice.
    const raw = admin;
    const stored = await jetstreamManager(admin.nc).then((jsm) => jsm.streams.get(`SCL_${id}`));
    for (const r of receipts.slice(0, 100)) {
      const m = await stored.getMessage({ seq: r.sequence! });
      const headers: Record<string, string> = {};
      for (const k of m!.header.keys()) headers[k] = m!.header.get(k);
      await raw.publish({ subject: m!.subject, id: `again-${r.id}`, headers, body: m!.data });
    }
    await bus.close();

    await waitFor(() => handledBy.size === 600, 60_000, 'all 600 events handled');
    await new Promise((r) => setTimeout(r, 500)); // let any would-be double handling show up
    const ids = receipts.map((r) => r.id);
    expect(ids.filter((x) => !handledBy.has(x))).toEqual([]);
    expect([...handledBy.entries()].filter(([, by]) => by.length !== 1)).toEqual([]);
    const perInstance = [0, 1, 2].map((i) => [...handledBy.values()].filter((by) => by[0] === i).length);
    for (const n of perInstance) expect(n).toBeGreaterThanOrEqual(0.2 * 600);

    for (const c of children) c.send('stop');
    await waitFor(() => children.every((c) => c.exitCode !== null), 15_000, 'instances to drain and exit');
  }, 120_000);
});
