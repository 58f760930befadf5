/** NATS-only behaviour: KV dedupe store, idempotent provisioning, core (transient) pub/sub. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jetstreamManager } from '@nats-io/jetstream';
import { createEventBus, type Envelope } from '../../src/runtime/index.js';
import { durableName, KvDedupeStore, NatsTransport, provisionNats } from '../../src/runtime/nats/index.js';
import { NATS_URL, rand, sleep, userCreated, waitFor, type UserCreated } from './helpers.js';

describe('NATS specifics', () => {
  let t: NatsTransport;
  beforeAll(async () => {
    t = await NatsTransport.connect({ connect: { servers: NATS_URL } });
  });
  afterAll(async () => {
    await t.close();
  });

  it('KV dedupe: one winner across stores, busy while held, takeover after a crashed holder, done after complete', async () => {
    const bucket = `ect-dd-${rand()}`;
    const other = await NatsTransport.connect({ connect: { servers: NATS_URL } });
    const a = await KvDedupeStore.open(t.nc, { bucket });
    const b = await KvDedupeStore.open(other.nc, { bucket });
    try {
      const results = await Promise.all([a.claim('g/e1', 5000), b.claim('g/e1', 5000), a.claim('g/e1', 5000), b.claim('g/e1', 5000)]);
      expect(results.filter((r) => r === 'claimed')).toHaveLength(1);
      expect(results.filter((r) => r === 'busy')).toHaveLength(3);
      // A holder that crashes never completes nor releases; its claim expires.
      expect(await a.claim('g/e2', 200)).toBe('claimed');
      expect(await b.claim('g/e2', 5000)).toBe('busy');
      await sleep(250);
      expect(await b.claim('g/e2', 5000)).toBe('claimed');
      await b.complete('g/e2');
      expect(await a.claim('g/e2', 5000)).toBe('done');
      // Released after a failed handler: claimable again.
      await a.release('g/e1');
      expect(await b.claim('g/e1', 5000)).toBe('claimed');
      // Keys KV cannot hold are hashed, not rejected.
      expect(await a.claim('g/id with spaces*', 5000)).toBe('claimed');
    } finally {
      await a.destroy();
      await other.close();
    }
  });

  it('provisionNats is idempotent and updates what changed', async () => {
    const id = rand();
    const plan = {
      streams: [{ name: `PRV_${id}`, subjects: [`prv${id}.>`], storage: 'memory' as const, maxAgeMs: 60_000 }],
      consumers: [{ stream: `PRV_${id}`, name: durableName('billing', [`prv${id}.a.*`], `prv${id}.a.*`), filterSubject: `prv${id}.a.*`, ackWaitMs: 10_000 }],
    };
    try {
      expect(await provisionNats(t, plan)).toEqual({ streams: [{ name: `PRV_${id}`, action: 'created' }], consumers: [{ stream: `PRV_${id}`, name: 'billing', action: 'created' }] });
      expect(await provisionNats(t, plan)).toEqual({ streams: [{ name: `PRV_${id}`, action: 'unchanged' }], consumers: [{ stream: `PRV_${id}`, name: 'billing', action: 'unchanged' }] });
      plan.streams[0]!.maxAgeMs = 120_000;
      plan.consumers[0]!.ackWaitMs = 20_000;
      expect(await provisionNats(t, plan)).toEqual({ streams: [{ name: `PRV_${id}`, action: 'updated' }], consumers: [{ stream: `PRV_${id}`, name: 'billing', action: 'updated' }] });
      const jsm = await jetstreamManager(t.nc);
      expect((await jsm.streams.info(`PRV_${id}`)).config.max_age).toBe(120_000 * 1e6);
      expect((await jsm.consumers.info(`PRV_${id}`, 'billing')).config.ack_wait).toBe(20_000 * 1e6);
    } finally {
      await (await jetstreamManager(t.nc)).streams.delete(`PRV_${id}`).catch(() => undefined);
    }
  });

  it('a group reading two subjects gets one durable per subject (no multi-filter on 2.9)', async () => {
    const id = rand();
    const prefix = `two${id}`;
    await provisionNats(t, { streams: [{ name: `TWO_${id}`, subjects: [`${prefix}.>`], storage: 'memory' }] });
    const bus = createEventBus({ transport: await NatsTransport.connect({ connect: { servers: NATS_URL } }), source: 's' });
    try {
      const created = userCreated(prefix);
      const deleted = { ...userCreated(prefix), type: 'user.deleted', address: `${prefix}.users.{userId}.deleted` };
      const got: string[] = [];
      await bus.subscribe({ group: 'both', handlers: [created, deleted].map((d) => ({ type: d.type, accepts: [d], handle: async (e: Envelope<UserCreated>) => void got.push(e.type) })) });
      await bus.publish(created, { userId: 'u', email: 'a@x.io' }, { params: { userId: 'u' } });
      await bus.publish(deleted, { userId: 'u', email: 'a@x.io' }, { params: { userId: 'u' } });
      await waitFor(() => got.length === 2);
      expect(got.sort()).toEqual(['user.created', 'user.deleted']);
      const names: string[] = [];
      for await (const c of (await jetstreamManager(t.nc)).consumers.list(`TWO_${id}`)) names.push(c.name);
      const subjects = [`${prefix}.users.*.created`, `${prefix}.users.*.deleted`];
      expect(names.sort()).toEqual(subjects.map((s) => durableName('both', subjects, s)).sort());
    } finally {
      await bus.close();
      await (await jetstreamManager(t.nc)).streams.delete(`TWO_${id}`);
    }
  });

  it('acks reach the server: after 2 000 events nothing is pending and nothing was redelivered', async () => {
    // The dedupe store would hide lost acks from the handler (a redelivery is acked as a
    // duplicate), so this asks the server what it saw.
    const id = rand();
    const prefix = `ack${id}`;
    const stream = `ACK_${id}`;
    await provisionNats(t, { streams: [{ name: stream, subjects: [`${prefix}.>`], storage: 'memory' }] });
    const bus = createEventBus({ transport: await NatsTransport.connect({ connect: { servers: NATS_URL } }), source: 's' });
    try {
      const ev = userCreated(prefix);
      let handled = 0;
      let duplicates = 0;
      const consumer = createEventBus({
        transport: await NatsTransport.connect({ connect: { servers: NATS_URL } }),
        source: 'c',
        middleware: [{ name: 'count-duplicates', notice: (n) => void (n.kind === 'duplicate' && duplicates++) }],
      });
      try {
        await consumer.subscribe({ group: 'acks', concurrency: 16, maxInFlight: 256, ackWaitMs: 2000, handlers: [{ type: ev.type, accepts: [ev], handle: async () => void handled++ }] });
        await Promise.all(Array.from({ length: 2000 }, (_, i) => bus.publish(ev, { userId: `u${i}`, email: 'a@x.io' }, { params: { userId: `u${i}` } })));
        await waitFor(() => handled === 2000, 20_000, 'all handled');
        const jsm = await jetstreamManager(t.nc);
        await waitFor(async () => (await jsm.consumers.info(stream, 'acks')).num_ack_pending === 0, 5000, 'no ack pending');
        // Past the ack wait: anything unacknowledged would have come back by now.
        await sleep(2500);
        const info = await jsm.consumers.info(stream, 'acks');
        expect(info.ack_floor.stream_seq).toBe(2000);
        expect(info.num_redelivered).toBe(0);
        expect(duplicates).toBe(0);
        expect(handled).toBe(2000);
      } finally {
        await consumer.close();
      }
    } finally {
      await bus.close();
      await (await jetstreamManager(t.nc)).streams.delete(stream);
    }
  });

  it('core NATS: transient publish reaches an ephemeral queue group once per group, nothing stored', async () => {
    const prefix = `core${rand()}`;
    const ev = userCreated(prefix);
    const bus = createEventBus({ transport: await NatsTransport.connect({ connect: { servers: NATS_URL } }), source: 's' });
    try {
      const got: Array<[string, number]> = [];
      for (let i = 0; i < 2; i++) await bus.subscribe({ group: 'live', ephemeral: true, handlers: [{ type: ev.type, accepts: [ev], handle: async (e) => void got.push([e.id, i]) }] });
      await bus.subscribe({ group: 'other', ephemeral: true, handlers: [{ type: ev.type, accepts: [ev], handle: async (e) => void got.push([e.id, 9]) }] });
      await t.nc.flush();
      for (let i = 0; i < 20; i++) await bus.publish(ev, { userId: `u${i}`, email: 'a@x.io' }, { params: { userId: `u${i}` }, transient: true, id: `c${i}` });
      await waitFor(() => got.length === 40);
      await sleep(100);
      expect(got.filter(([, i]) => i === 9)).toHaveLength(20);
      const live = got.filter(([, i]) => i !== 9).map(([id]) => id);
      expect(live.sort()).toEqual(Array.from({ length: 20 }, (_, i) => `c${i}`).sort());
    } finally {
      await bus.close();
    }
  });
});
