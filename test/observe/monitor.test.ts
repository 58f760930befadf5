/**
 * The contract monitor on real brokers. The workspace's contract is used with its channel
 * addresses moved under a random prefix (so the test's traffic and the monitor's tap touch
 * nothing of anyone else's), and the generated validators check the payloads and headers.
 * NATS: rate and lag per type and version, and each kind of violation with its last
 * offending example; RabbitMQ: a temporary queue sees the traffic while the group's own
 * queue still gets every event; the CLI: JSON lines, and --fail-on-violation exits 1 with
 * the details.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, headers as natsHeaders, type NatsConnection } from '@nats-io/transport-node';
import type { Catalog } from '../../src/catalog/model.js';
import { createEventBus, type EventBus, type EventDescriptor } from '../../src/runtime/index.js';
import { jetstreamManager } from '@nats-io/jetstream';
import { NatsTransport, provisionNats } from '../../src/runtime/nats/index.js';
import { AmqpTransport } from '../../src/runtime/amqp/index.js';
import { ContractMonitor, monitorContract, tapAmqp, tapNats, type MonitorReport } from '../../src/observe/monitor/index.js';
import { openWorkspace } from '../../src/workspace.js';
import { AMQP_URL, TopologyTracker } from '../runtime/amqp-helpers.js';
import { NATS_URL, rand, waitFor } from '../runtime/helpers.js';

const VALIDATORS = resolve('generated/validators/ajv');

/** The catalog with every channel address under `prefix.` (plain data: a deep copy). */
function prefixed(catalog: Catalog, prefix: string): Catalog {
  const c = JSON.parse(JSON.stringify(catalog)) as Catalog & { events: Array<{ versions: Array<{ channels: Array<{ address?: string }> }> }> };
  for (const t of c.events) for (const v of t.versions) for (const ch of v.channels) if (ch.address !== undefined) ch.address = `${prefix}.${ch.address}`;
  return c;
}

let catalog: Catalog;
let example: Record<string, unknown>;
beforeAll(async () => {
  const ws = await openWorkspace(['asyncapi'], { examples: false });
  if (!ws.ok) throw new Error('workspace does not load');
  catalog = ws.catalog;
  example = ws.catalog.events.find((t) => t.type === 'user.created')!.versions.find((v) => v.version === '2.0.0')!.examples[0]!.payload as Record<string, unknown>;
}, 60_000);

describe('contract monitor on NATS', () => {
  let nc: NatsConnection;
  const buses: EventBus[] = [];
  beforeAll(async () => {
    nc = await connect({ servers: NATS_URL });
  });
  afterAll(async () => {
    await Promise.allSettled(buses.map((b) => b.close()));
    await nc.close();
  });

  it('reports rate and lag per type and version, and every kind of violation with its last example', async () => {
    const prefix = `mon${rand()}`;
    const contract = monitorContract(prefixed(catalog, prefix), VALIDATORS);
    const v2 = [...contract.types.get('user.created')!.versions.values()].find((v) => v.descriptor.version === '2.0.0')!.descriptor as EventDescriptor<unknown>;
    const monitor = new ContractMonitor(contract);
    const tap = await tapNats(monitor, { servers: NATS_URL, subjects: [`${prefix}.>`] });
    try {
      const bus = createEventBus({ transport: await NatsTransport.connect({ connect: { servers: NATS_URL } }), source: 'users-service' });
      buses.push(bus);
      for (let i = 0; i < 10; i++) await bus.publish(v2, example, { headers: { 'x-tenant': 'acme' }, transient: true });
      // A valid message as the bus sends it, for the raw producers below to bend.
      const sample = await new Promise<{ h: Record<string, string>; body: Uint8Array }>((res) => {
        nc.subscribe(`${prefix}.user.created.v2`, {
          max: 1,
          callback: (_e, m) => {
            const h: Record<string, string> = {};
            for (const k of m.headers!.keys()) h[k] = m.headers!.get(k);
            res({ h, body: m.data });
          },
        });
        void nc.flush().then(() => bus.publish(v2, example, { headers: { 'x-tenant': 'acme' }, transient: true }));
      });
      const raw = (subject: string, change: Record<string, string | undefined>, body: Uint8Array | string = sample.body) => {
        const id = randomUUID();
        const h = natsHeaders();
        for (const [k, v] of Object.entries({ ...sample.h, 'ce-id': id, ...change })) if (v !== undefined && k !== 'Nats-Msg-Id') h.set(k, v);
        nc.publish(subject, typeof body === 'string' ? new TextEncoder().encode(body) : body, { headers: h });
        return id;
      };
      raw(`${prefix}.user.created.v2`, {}, JSON.stringify({ ...example, email: 'not an e-mail' }));
      raw(`${prefix}.user.created.v2`, { 'ce-type': 'user.exploded' });
      raw(`${prefix}.user.created.v2`, { 'ce-eventversion': '9.0.0' });
      raw(`${prefix}.user.created.v2`, { 'x-tenant': undefined });
      raw(`${prefix}.user.created.v2`, { 'x-tenant': 'NOT A SLUG' });
      nc.publish(`${prefix}.user.created.v2`, new TextEncoder().encode('garbage'));
      const wrong = raw(`${prefix}.user.deleted.v1`, {});
      await waitFor(() => monitor.seen === 18, 10_000, '18 messages seen');
      const r = monitor.report();
      const of = (key: string) => r.types.find((t) => t.key === key)!;
      const ok = of('user.created@2.0.0');
      expect(ok.count).toBe(11 + 4);
      expect(ok.lagMs!.p50).toBeGreaterThanOrEqual(0);
      expect(ok.lagMs!.p99).toBeGreaterThanOrEqual(ok.lagMs!.p50);
      expect(ok.violations).toEqual({ 'invalid-payload': 1, 'missing-headers': 1, 'invalid-headers': 1, 'wrong-subject': 1 });
      // The last offending example: what was wrong, where, which event, and the message itself.
      expect(ok.lastViolation).toMatchObject({ kind: 'wrong-subject', subject: `${prefix}.user.deleted.v1`, id: wrong, type: 'user.created' });
      expect(ok.lastViolation!.detail).toContain(`${prefix}.user.created.v2`);
      expect(ok.lastViolation!.headers['x-tenant']).toBe('acme');
      expect(ok.lastViolation!.body).toContain(String(example["userId"]));
      expect(of('user.exploded@2.0.0').violations).toEqual({ 'unknown-type': 1 });
      expect(of('user.created@9.0.0').violations).toEqual({ 'unknown-major': 1 });
      expect(of('(undecodable)').violations).toEqual({ undecodable: 1 });
      expect(r.violations).toBe(7);
      expect(r.total).toBe(18);
      // Rates are per interval: the next report starts from zero, totals go on.
      const next = monitor.report();
      expect(next.types.find((t) => t.key === 'user.created@2.0.0')).toMatchObject({ count: 15, ratePerSecond: 0, lagMs: undefined });
    } finally {
      await tap.stop();
    }
  });
});

describe('contract monitor beside a JetStream consumer', () => {
  it('the durable group still gets and settles every event while the monitor taps its subject', async () => {
    const prefix = `mon${rand()}`;
    const nc = await connect({ servers: NATS_URL });
    const jsm = await jetstreamManager(nc);
    const stream = `MON_${prefix}`;
    const contract = monitorContract(prefixed(catalog, prefix), VALIDATORS);
    const v2 = [...contract.types.get('user.created')!.versions.values()].find((v) => v.descriptor.version === '2.0.0')!.descriptor as EventDescriptor<unknown>;
    const monitor = new ContractMonitor(contract);
    // Replies on a per-service inbox prefix (as the generated ACLs give each service), which
    // the tap also covers here, are not events.
    const inbox = `_INBOX_${prefix}`;
    const tap = await tapNats(monitor, { servers: NATS_URL, subjects: [`${prefix}.>`, `${inbox}.>`] });
    const bus = createEventBus({ transport: await NatsTransport.connect({ connect: { servers: NATS_URL } }), source: 'users-service' });
    try {
      await provisionNats(nc, { streams: [{ name: stream, subjects: [`${prefix}.>`], storage: 'memory' }] });
      let handled = 0;
      await bus.subscribe({ group: 'welcome', handlers: [{ type: 'user.created', accepts: [v2], handle: async () => void handled++ }] });
      // Sent and flushed first: the server hands it to the tap before any of the events.
      nc.publish(`${inbox}.ack1`, new TextEncoder().encode(JSON.stringify({ stream, seq: 1 })));
      await nc.flush();
      for (let i = 0; i < 5; i++) await bus.publish(v2, example, { headers: { 'x-tenant': 'acme' } });
      await waitFor(() => handled === 5 && monitor.seen === 5, 10_000, 'handled and seen 5');
      // The monitor's tap saw the stored events and their publish acks did not count as events.
      expect(monitor.report().types).toEqual([expect.objectContaining({ key: 'user.created@2.0.0', count: 5, violations: {} })]);
      await waitFor(async () => (await jsm.consumers.info(stream, 'welcome')).num_ack_pending === 0, 5000, 'all acked');
      const info = await jsm.consumers.info(stream, 'welcome');
      expect(info.delivered.consumer_seq).toBe(5);
      expect(info.num_pending).toBe(0);
    } finally {
      await tap.stop();
      await bus.close();
      await jsm.streams.delete(stream).catch(() => undefined);
      await nc.close();
    }
  });
});

describe('contract monitor on RabbitMQ', () => {
  const tracker = new TopologyTracker();
  const buses: EventBus[] = [];
  afterAll(async () => {
    await Promise.allSettled(buses.map((b) => b.close()));
    await tracker.cleanup();
  });

  it('a temporary queue bound to # sees every event; the group queue still gets them all', async () => {
    const prefix = `mon${rand()}`;
    const exchange = `${prefix}x`;
    const contract = monitorContract(prefixed(catalog, prefix), VALIDATORS);
    const v2 = [...contract.types.get('user.created')!.versions.values()].find((v) => v.descriptor.version === '2.0.0')!.descriptor as EventDescriptor<unknown>;
    const transport = tracker.track(await AmqpTransport.connect({ url: AMQP_URL, exchange, queuePrefix: `${prefix}.` }));
    const bus = createEventBus({ transport, source: 'users-service' });
    buses.push(bus);
    let handled = 0;
    // The real consumer's queue exists before anything is published.
    await bus.subscribe({ group: 'welcome', handlers: [{ type: 'user.created', accepts: [v2], handle: async () => void handled++ }] });
    const monitor = new ContractMonitor(contract);
    const tap = await tapAmqp(monitor, { url: AMQP_URL, exchange });
    try {
      for (let i = 0; i < 12; i++) await bus.publish(v2, example, { headers: { 'x-tenant': 'acme' } });
      await bus.publish(v2, { ...example, email: 'nope' } as unknown, { headers: { 'x-tenant': 'acme' } }).catch(() => undefined);
      await waitFor(() => monitor.seen === 12 && handled === 12, 10_000, 'monitor and consumer saw 12');
      const r = monitor.report();
      expect(r.types).toEqual([expect.objectContaining({ key: 'user.created@2.0.0', count: 12, violations: {} })]);
      expect(handled).toBe(12);
    } finally {
      await tap.stop();
    }
  });
});

describe('event-contracts monitor (CLI)', () => {
  let nc: NatsConnection;
  beforeAll(async () => {
    nc = await connect({ servers: NATS_URL });
  });
  afterAll(async () => {
    await nc.close();
  });

  /** Runs the CLI tapping `prefix.>`; `whenReady` runs once it listens and has printed `lines` reports. */
  const cli = (prefix: string, args: string[], whenReady: () => Promise<void>, lines = 0) => {
    const child = spawn(process.execPath, ['bin/event-contracts.js', 'monitor', 'nats', '--server', NATS_URL, '--subject', `${prefix}.>`, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let fired = false;
    const check = (): void => {
      if (!fired && err.includes('monitoring nats') && out.split('\n').length > lines) {
        fired = true;
        void whenReady();
      }
    };
    child.stdout.on('data', (c: Buffer) => ((out += c.toString()), check()));
    child.stderr.on('data', (c: Buffer) => ((err += c.toString()), check()));
    return new Promise<{ code: number | null; out: string; err: string }>((res) => child.on('exit', (code) => res({ code, out, err })));
  };

  it('--fail-on-violation exits 1 on the first violation with its details; --format json prints one line per interval', async () => {
    const prefix = `monc${rand()}`;
    // The workspace's own contract: an event on a subject of the contract, under the tapped prefix, is on the wrong subject.
    const r = await cli(prefix, ['--format', 'json', '--interval', '0.2', '--fail-on-violation', '--duration', '60'], async () => {
      const h = natsHeaders();
      for (const [k, v] of Object.entries({ 'ce-specversion': '1.0', 'ce-id': 'evt-1', 'ce-type': 'user.created', 'ce-source': 'x', 'ce-time': new Date().toISOString(), 'ce-eventversion': '2.0.0', 'content-type': 'application/json', 'x-tenant': 'acme', 'x-correlation-id': '0b0f6a8e-5e37-4c4e-9b1e-6f3f0c6a2d11' })) h.set(k, v);
      nc.publish(`${prefix}.user.created.v2`, new TextEncoder().encode(JSON.stringify(example)), { headers: h });
      await nc.flush();
      // After two empty intervals (a JSON line each).
    }, 2);
    expect(r.code).toBe(1);
    expect(r.err).toContain('contract violation: wrong-subject');
    expect(r.err).toContain('evt-1');
    const lines = r.out.trim().split('\n').map((l) => JSON.parse(l) as MonitorReport);
    expect(lines.length).toBeGreaterThanOrEqual(3);
    expect(lines.at(-1)!.violations).toBe(1);
    expect(lines.at(-1)!.types[0]).toMatchObject({ key: 'user.created@2.0.0', violations: { 'wrong-subject': 1 } });
  });

  it('stops after --duration with exit 0 and prints the table', async () => {
    const prefix = `monc${rand()}`;
    const r = await cli(prefix, ['--duration', '0.5', '--interval', '10'], async () => undefined);
    expect(r.code).toBe(0);
    expect(r.out).toContain('EVENT');
    expect(r.out).toContain('0 events, 0 violations');
  });
});
