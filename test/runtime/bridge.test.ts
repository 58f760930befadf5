/**
 * The bridge between transports: forwards chosen types byte for byte with the same ids,
 * skips what it forwarded before (no loops), dead-letters what nobody could read, and lets a
 * consumer move from one broker to another mid-stream without losing or repeating an event.
 */
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AmqpTransport } from '../../src/runtime/amqp/index.js';
import { BRIDGED_HEADER, startBridge, typeMatcher } from '../../src/runtime/bridge.js';
import { MemoryTransport, type Delivery, type Transport } from '../../src/runtime/index.js';
import { NatsTransport, provisionNats } from '../../src/runtime/nats/index.js';
import { AMQP_URL, TopologyTracker } from './amqp-helpers.js';
import { consumerMovesMidStream } from './bridge-migration.js';
import { NATS_URL, rand, waitFor } from './helpers.js';
import { RawNatsClient } from './nats-helpers.js';

describe('typeMatcher', () => {
  it.each([
    [['user.*'], 'user.created', true],
    [['user.*'], 'user.profile.updated', true],
    [['user.*'], 'users.created', false],
    [['user.created'], 'user.created', true],
    [['user.created'], 'user.createdX', false],
    [['*'], 'anything.at.all', true],
    // Regular-expression characters in a pattern are literal.
    [['user.(a|b)'], 'user.a', false],
    [['user.(a|b)'], 'user.(a|b)', true],
    [['user.created', 'system.*'], 'system.health.check', true],
  ])('%j matches %s: %s', (patterns, type, want) => {
    expect(typeMatcher(patterns)(type)).toBe(want);
  });

  it('refuses no pattern and the empty pattern', () => {
    expect(() => typeMatcher([])).toThrow(/at least one/);
    expect(() => typeMatcher([''])).toThrow(/empty/);
  });
});

describe('bridge: a target that fails', () => {
  it('leaves the message with the source and retries it after the backoff, then forwards it once', { timeout: 60_000 }, async () => {
    const source = new MemoryTransport();
    const store = new MemoryTransport();
    const attempts: number[] = [];
    // The target refuses its first two publishes (a broker that is down), then stores.
    const target: Transport = Object.assign(Object.create(store) as typeof store, {
      publish: async (m: Parameters<Transport['publish']>[0]) => {
        attempts.push(performance.now());
        if (attempts.length <= 2) throw new Error('target down');
        return store.publish(m);
      },
    });
    const got: Delivery[] = [];
    await store.consume({ group: 'g', subjects: ['t.>'], maxInFlight: 10 }, (d) => {
      got.push(d);
      void d.ack();
    });
    const errors: string[] = [];
    const bridge = await startBridge({
      from: source,
      to: target,
      events: ['*'],
      subjects: ['t.>'],
      backoff: { initialMs: 200, maxMs: 200, factor: 1, jitter: 0 },
      onError: (e, c) => void errors.push(`${c.action}: ${(e as Error).message}`),
    });
    try {
      await source.publish({
        subject: 't.x',
        id: 'e1',
        headers: { 'ce-specversion': '1.0', 'ce-id': 'e1', 'ce-type': 'x.y', 'ce-source': 's', 'ce-time': '2025-01-01T00:00:00Z', 'ce-eventversion': '1.0.0', 'content-type': 'application/json' },
        body: new TextEncoder().encode('{}'),
      });
      await waitFor(() => got.length === 1, 30_000, 'the event forwarded');
      expect(bridge.stats).toMatchObject({ forwarded: 1, retried: 2 });
      expect(errors).toEqual(['retry: target down', 'retry: target down']);
      // Each retry waited for the backoff, not a tight loop against a broker that is down.
      expect(attempts[1]! - attempts[0]!).toBeGreaterThanOrEqual(190);
      expect(attempts[2]! - attempts[1]!).toBeGreaterThanOrEqual(190);
    } finally {
      await bridge.stop();
    }
  });
});

describe('bridge NATS JetStream → RabbitMQ', () => {
  const id = rand();
  const prefix = `ecbr${id}`;
  const stream = `ECBR_${id}`;
  const tracker = new TopologyTracker();
  let admin: Awaited<ReturnType<typeof connect>>;
  const opened: Transport[] = [];
  const nats = async (): Promise<Transport> => {
    const t = await NatsTransport.connect({ connect: { servers: NATS_URL } });
    opened.push(t);
    return t;
  };
  const amqp = async (): Promise<Transport> =>
    tracker.track(await AmqpTransport.connect({ url: AMQP_URL, exchange: prefix, queuePrefix: `${prefix}.`, deadLetterSubjects: [`${prefix}.dlq`] }));

  beforeAll(async () => {
    admin = await connect({ servers: NATS_URL });
    await provisionNats(admin, {
      streams: [
        { name: stream, subjects: [`${prefix}.>`], storage: 'memory', maxAgeMs: 10 * 60_000 },
        { name: `${stream}_DL`, subjects: [`deadletter.bridge_${id}.>`, `deadletter.bridge_${id}`], storage: 'memory', maxAgeMs: 10 * 60_000 },
      ],
    });
  });
  afterAll(async () => {
    await Promise.allSettled(opened.map((t) => t.close()));
    await tracker.cleanup();
    const jsm = await jetstreamManager(admin);
    await jsm.streams.delete(stream).catch(() => undefined);
    await jsm.streams.delete(`${stream}_DL`).catch(() => undefined);
    await admin.close();
  });

  it('moves a consumer from NATS to RabbitMQ mid-stream: every event handled exactly once, none lost', { timeout: 300_000 }, async () => {
    const r = await consumerMovesMidStream({ prefix: `${prefix}.m${rand()}`, source: nats, target: amqp });
    // Both halves did real work: the move happened mid-stream, not before or after it.
    expect(r.handledOnSource).toBeGreaterThan(0);
    expect(r.handledOnTarget).toBeGreaterThan(0);
    expect(r.handledOnSource + r.handledOnTarget).toBe(300);
  });

  it('forwards the message byte for byte with the same id, marks it, and does not forward a forwarded one again', { timeout: 120_000 }, async () => {
    const scope = `${prefix}.b${rand()}`;
    const target = new MemoryTransport();
    const got: Delivery[] = [];
    const errors: unknown[] = [];
    await target.consume({ group: 'g', subjects: [`${scope}.>`], maxInFlight: 100 }, (d) => {
      got.push(d);
      void d.ack();
    });
    const bridge = await startBridge({ from: await nats(), to: target, events: ['user.*'], subjects: [`${scope}.>`], name: `bridge_${id}`, onError: (e) => errors.push(e) });
    const raw = await RawNatsClient.open(NATS_URL);
    try {
      const headers = (extra: string) =>
        `NATS/1.0\r\nce-specversion: 1.0\r\nce-id: evt-${extra}\r\nce-type: user.created\r\nce-source: test\r\nce-time: 2025-01-01T00:00:00Z\r\nce-eventversion: 1.0.0\r\ncontent-type: application/json\r\nx-tenant: t1\r\nx-ec-retry-count: 7\r\n${extra === 'looped' ? `${BRIDGED_HEADER}: elsewhere\r\n` : ''}\r\n`;
      raw.hpub(`${scope}.users.u1.created`, headers('plain'), '{"userId":"u1","email":"a@x.io"}');
      raw.hpub(`${scope}.users.u2.created`, headers('looped'), '{"userId":"u2","email":"b@x.io"}');
      raw.hpub(`${scope}.other`, 'NATS/1.0\r\nce-specversion: 1.0\r\nce-id: evt-other\r\nce-type: payment.made\r\nce-source: t\r\nce-time: 2025-01-01T00:00:00Z\r\nce-eventversion: 1.0.0\r\ncontent-type: application/json\r\n\r\n', '{}');
      await raw.ping();
      await waitFor(() => bridge.stats.forwarded + bridge.stats.skipped >= 3, 30_000, 'the three messages').catch((e) => {
        throw new Error(`${(e as Error).message}: ${JSON.stringify(bridge.stats)} ${errors.map(String).join('; ')}`);
      });
      expect(bridge.stats).toMatchObject({ forwarded: 1, skipped: 2, deadLettered: 0 });
      expect(got).toHaveLength(1);
      const d = got[0]!;
      expect(d.subject).toBe(`${scope}.users.u1.created`);
      expect(Buffer.from(d.body).toString()).toBe('{"userId":"u1","email":"a@x.io"}');
      expect(d.headers.get('ce-id')).toBe('evt-plain');
      expect(d.headers.get('x-tenant')).toBe('t1');
      expect(d.headers.get(BRIDGED_HEADER)).toBe(`bridge_${id}`);
      // The source's bookkeeping (forged or not) does not travel: it would lie on the target.
      expect(d.headers.get('x-ec-retry-count')).toBeUndefined();
      expect(d.headers.get('Nats-Msg-Id')).toBeUndefined();
    } finally {
      raw.close();
      await bridge.stop();
    }
  });

  it('dead-letters what no consumer could read (no id), with its reason, and goes on', { timeout: 120_000 }, async () => {
    const scope = `${prefix}.d${rand()}`;
    const target = new MemoryTransport();
    const bridge = await startBridge({ from: await nats(), to: target, events: ['*'], subjects: [`${scope}.>`], name: `bridge_${id}_d`, deadLetterSubject: `deadletter.bridge_${id}` });
    const raw = await RawNatsClient.open(NATS_URL);
    try {
      raw.hpub(`${scope}.x`, 'NATS/1.0\r\nce-type: user.created\r\ncontent-type: application/json\r\n\r\n', '{}');
      raw.hpub(`${scope}.y`, 'NATS/1.0\r\nce-specversion: 1.0\r\nce-id: ok-1\r\nce-type: user.created\r\nce-source: t\r\nce-time: 2025-01-01T00:00:00Z\r\nce-eventversion: 1.0.0\r\ncontent-type: application/json\r\n\r\n', '{}');
      await raw.ping();
      await waitFor(() => bridge.stats.deadLettered === 1 && bridge.stats.forwarded === 1, 30_000, 'one dead letter, one forwarded');
    } finally {
      raw.close();
      await bridge.stop();
    }
  });
});
