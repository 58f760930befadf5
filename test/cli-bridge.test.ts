/**
 * `event-contracts bridge`: the subjects to read come from the contract (every channel of
 * the chosen types), events arrive on the other broker with their ids, the final stats are
 * printed when it is stopped; a bridge to the same broker, patterns matching nothing and an
 * unreachable broker are clear errors.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bridgeCommand, type BridgeArgs } from '../src/cli/bridge-command.js';
import { AmqpTransport } from '../src/runtime/amqp/index.js';
import { createEventBus, type Envelope } from '../src/runtime/index.js';
import { NatsTransport, provisionNats } from '../src/runtime/nats/index.js';
import { AMQP_URL, TopologyTracker } from './runtime/amqp-helpers.js';
import { descriptor, NATS_URL, rand, userValidator, waitFor } from './runtime/helpers.js';
import { runCli } from './helpers/cli.js';

const id = rand();
const prefix = `ecbc${id}`;
const dir = mkdtempSync(path.join(os.tmpdir(), 'ec-bridge-cli-'));
const spec = path.join(dir, 'bridge.yaml');
writeFileSync(
  spec,
  `asyncapi: 3.0.0
info:
  title: Bridge Test
  version: 1.0.0
  x-service-id: bridge-test
channels:
  userCreated:
    address: ${prefix}.users.{userId}.created
    parameters:
      userId: {}
    messages:
      created:
        name: user.created
        payload:
          type: object
          properties:
            userId: { type: string }
            email: { type: string }
          required: [userId, email]
  systemPing:
    address: ${prefix}.system.ping
    messages:
      ping:
        name: system.ping
        payload: { type: object }
operations:
  sendUserCreated:
    action: send
    channel: { $ref: '#/channels/userCreated' }
  sendPing:
    action: send
    channel: { $ref: '#/channels/systemPing' }
`,
);

const io = () => {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (t: string) => void out.push(t), err: (t: string) => void err.push(t) }, out, err };
};
const base = (o: Partial<BridgeArgs>): BridgeArgs => ({ specs: [spec], from: 'nats', to: 'amqp', events: ['user.*'], format: 'json', progressSeconds: 0, ...o });

describe('event-contracts bridge', () => {
  const stream = `ECBC_${id}`;
  const tracker = new TopologyTracker();
  let admin: Awaited<ReturnType<typeof connect>>;

  beforeAll(async () => {
    admin = await connect({ servers: NATS_URL });
    await provisionNats(admin, { streams: [{ name: stream, subjects: [`${prefix}.>`], storage: 'memory', maxAgeMs: 10 * 60_000 }] });
  });
  afterAll(async () => {
    await tracker.cleanup();
    const jsm = await jetstreamManager(admin);
    await jsm.streams.delete(stream).catch(() => undefined);
    await admin.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('forwards the chosen types from NATS to RabbitMQ with their ids, reads the subjects the contract gives them, and prints its stats when stopped', { timeout: 120_000 }, async () => {
    const ev = descriptor('user.created', '1.0.0', `${prefix}.users.{userId}.created`, userValidator);
    // The consumer that moved to RabbitMQ: its queue on the default `events` exchange.
    const consumer = createEventBus({ transport: tracker.track(await AmqpTransport.connect({ url: AMQP_URL, queuePrefix: `${prefix}.` })), source: 'test/consumer' });
    const got: Envelope[] = [];
    await consumer.subscribe({ group: `moved_${id}`, handlers: [{ type: ev.type, accepts: [ev], handle: async (e) => void got.push(e) }] });
    const producer = createEventBus({ transport: await NatsTransport.connect({ connect: { servers: NATS_URL } }), source: 'test/producer' });
    let stop = (): void => undefined;
    const stopped = new Promise<void>((r) => (stop = r));
    const { io: capture, out, err } = io();
    const running = bridgeCommand(base({ fromServer: NATS_URL, toServer: AMQP_URL, name: `bridge_${id}` }), capture, stopped);
    try {
      await waitFor(() => err.some((l) => l.includes('→')), 60_000, 'the bridge to start');
      expect(err.join('\n')).toContain(`subjects ${prefix}.users.*.created`);
      // Not the ping channel: its type was not chosen.
      expect(err.join('\n')).not.toContain('system.ping');
      for (let i = 0; i < 5; i++) await producer.publish(ev, { userId: `u${i}`, email: `u${i}@x.io` }, { params: { userId: `u${i}` }, id: `evt-${id}-${i}` });
      await waitFor(() => got.length === 5, 60_000, 'five events on RabbitMQ');
      expect(got.map((e) => e.id).sort()).toEqual([0, 1, 2, 3, 4].map((i) => `evt-${id}-${i}`));
      expect(got[0]!.source).toBe('test/producer');
    } finally {
      stop();
      expect(await running).toBe(0);
      await producer.close();
      await consumer.close();
    }
    const result = JSON.parse(out.join('\n')) as { stats: { forwarded: number; skipped: number }; subjects: string[] };
    expect(result.stats.forwarded).toBe(5);
    expect(result.subjects).toEqual([`${prefix}.users.*.created`]);
  });

  it('refuses a bridge to the same broker, patterns no type matches, and says which broker it cannot reach', { timeout: 60_000 }, async () => {
    const never = new Promise<void>(() => undefined);
    let c = io();
    expect(await bridgeCommand(base({ to: 'nats' }), c.io, never)).toBe(2);
    expect(c.err.join('\n')).toMatch(/--from and --to are both nats/);
    c = io();
    expect(await bridgeCommand(base({ events: ['order.*'] }), c.io, never)).toBe(2);
    expect(c.err.join('\n')).toMatch(/no event type of the contract matches "order\.\*"/);
    c = io();
    expect(await bridgeCommand(base({ fromServer: 'nats://127.0.0.1:1' }), c.io, never)).toBe(1);
    expect(c.err.join('\n')).toMatch(/cannot connect to nats at nats:\/\/127\.0\.0\.1:1/);
  });

  it('is a CLI command with its options in --help', async () => {
    const r = await runCli(['bridge', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/--from/);
    expect(r.stdout).toMatch(/--events/);
  });
});
