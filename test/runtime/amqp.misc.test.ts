/**
 * The AMQP transport beyond the conformance suite: the CloudEvents AMQP header mapping
 * (table and on the wire, both ways), delay buckets, unroutable events, the in-flight
 * bound, wildcard bindings, transient/ephemeral delivery and dead-letter parking and fan-out.
 */
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AmqpHeaders, AmqpTransport, UnroutableError, delayBucket, toAmqpProperties } from '../../src/runtime/amqp/index.js';
import { createEventBus, type Delivery, type EventBus } from '../../src/runtime/index.js';
import { AMQP_URL, TopologyTracker } from './amqp-helpers.js';
import { rand, sleep, userCreated, waitFor } from './helpers.js';

describe('CloudEvents AMQP binding: header mapping', () => {
  it.each([
    ['ce-id', 'e1', { headers: { 'cloudEvents:id': 'e1' } }],
    ['ce-specversion', '1.0', { headers: { 'cloudEvents:specversion': '1.0' } }],
    ['ce-eventversion', '2.1.0', { headers: { 'cloudEvents:eventversion': '2.1.0' } }],
    ['content-type', 'application/json', { contentType: 'application/json', headers: {} }],
    ['content-encoding', 'gzip', { contentEncoding: 'gzip', headers: {} }],
    ['ec-dead-letter-reason', 'handler-failed', { headers: { 'ec-dead-letter-reason': 'handler-failed' } }],
    ['traceparent', '00-abc-01', { headers: { traceparent: '00-abc-01' } }],
  ])('%s → %j', (name, value, want) => {
    const props = toAmqpProperties({ [name]: value }, 'm1', true);
    expect(props).toMatchObject({ messageId: 'm1', persistent: true, ...want });
    // And back: the bus reads the name it wrote.
    const back = new AmqpHeaders({ ...props, headers: props.headers } as never);
    expect(back.get(name)).toBe(value);
    expect([...back.keys()]).toEqual([name]);
  });

  it('reads the JMS spelling cloudEvents_, stringifies scalars and hides the broker trail, routing and transport headers', () => {
    const h = new AmqpHeaders({
      contentType: 'application/json',
      headers: { 'cloudEvents_id': 'j1', 'cloudEvents:type': 't', n: 5, b: Buffer.from('bytes'), 'x-death': [{ count: 1 }], 'x-first-death-queue': 'q', 'x-ec-attempt': 3, 'ec-amqp-retry': 'q.retry.0', CC: ['q'], 'x-custom': 'kept' },
    } as never);
    expect(Object.fromEntries([...h.keys()].map((k) => [k, h.get(k)]))).toEqual({ 'content-type': 'application/json', 'ce-id': 'j1', 'ce-type': 't', n: '5', b: 'bytes', 'x-custom': 'kept' });
    expect(h.problem).toBeUndefined();
  });

  it('a table where a value belongs is left out and named as the problem', () => {
    const h = new AmqpHeaders({ headers: { 'cloudEvents:id': 'j1', table: { a: 1 } } } as never);
    expect([...h.keys()]).toEqual(['ce-id']);
    expect(h.problem).toBe("header 'table' holds a table, not a value");
  });

  it('refuses a header that would pose as the transport own', () => {
    expect(() => toAmqpProperties({ 'x-ec-attempt': '9' }, 'm', true)).toThrow(/reserved/);
  });
});

describe('delay buckets', () => {
  it.each([
    [0, 0],
    [-5, 0],
    [1, 10],
    [10, 10],
    [100, 114],
    [200, 227],
    [250, 270],
    [30_000, 34_444],
  ])('%d ms waits in the %d ms bucket', (ms, bucket) => expect(delayBucket(ms)).toBe(bucket));

  it('never shorter than asked, at most ~19 % longer, and few buckets for jittered delays', () => {
    const seen = new Set<number>();
    for (let ms = 10; ms <= 60_000; ms += 7) {
      const b = delayBucket(ms);
      expect(b).toBeGreaterThanOrEqual(ms);
      expect(b).toBeLessThanOrEqual(Math.ceil(ms * 1.19) + 1);
      seen.add(b);
    }
    expect(seen.size).toBeLessThan(60);
  });
});

describe('AMQP transport against RabbitMQ', () => {
  const tracker = new TopologyTracker();
  const buses: EventBus[] = [];
  const prefix = `ecm${rand()}`;
  const connect = async (extra: Parameters<typeof AmqpTransport.connect>[0] = {}) =>
    tracker.track(await AmqpTransport.connect({ url: AMQP_URL, exchange: prefix, queuePrefix: `${prefix}.`, ...extra }));
  const bus = async (extra: Parameters<typeof AmqpTransport.connect>[0] = {}) => {
    const b = createEventBus({ transport: await connect(extra), source: 'test/amqp' });
    buses.push(b);
    return b;
  };
  let raw: amqp.ChannelModel;
  beforeAll(async () => {
    raw = await amqp.connect(AMQP_URL);
    raw.on('error', () => undefined);
  });
  afterAll(async () => {
    await Promise.allSettled(buses.map((b) => b.close()));
    await raw.close();
    await tracker.cleanup();
  });

  it('on the wire: cloudEvents:* application properties, content-type property, persistent, message id = event id', async () => {
    const ev = userCreated(`${prefix}.wire`);
    const b = await bus();
    const ch = await raw.createChannel();
    const q = `${prefix}.raw-reader`;
    tracker.extraQueues.add(q);
    // The transport declares exchanges as it first uses them; this reader comes first.
    await ch.assertExchange(prefix, 'topic', { durable: true });
    await ch.assertQueue(q, { durable: false });
    await ch.bindQueue(q, prefix, `${prefix}.wire.users.*.created`);
    await b.publish(ev, { userId: 'w', email: 'a@x.io' }, { params: { userId: 'w' }, id: 'wire-1', correlationId: 'c-1' });
    const m = await ch.get(q, { noAck: true });
    await ch.close();
    expect(m).not.toBe(false);
    if (m === false) return;
    expect(m.fields.routingKey).toBe(`${prefix}.wire.users.w.created`);
    expect(m.properties).toMatchObject({ contentType: 'application/json', messageId: 'wire-1', deliveryMode: 2 });
    expect(m.properties.headers).toMatchObject({
      'cloudEvents:specversion': '1.0',
      'cloudEvents:id': 'wire-1',
      'cloudEvents:type': 'user.created',
      'cloudEvents:source': 'test/amqp',
      'cloudEvents:eventversion': '1.0.0',
      'cloudEvents:correlationid': 'c-1',
    });
    expect(Object.keys(m.properties.headers ?? {}).some((k) => k.startsWith('ce-'))).toBe(false);
    expect(JSON.parse(m.content.toString())).toEqual({ userId: 'w', email: 'a@x.io' });
  });

  it('a CloudEvent published by another AMQP client (binary mode) is decoded by the bus', async () => {
    const ev = userCreated(`${prefix}.foreign`);
    const b = await bus();
    const got: Array<{ id: string; source: string; data: unknown }> = [];
    await b.subscribe({ group: `foreign_${rand()}`, handlers: [{ type: ev.type, accepts: [ev], handle: async (e) => void got.push({ id: e.id, source: e.source, data: e.data }) }] });
    const ch = await raw.createConfirmChannel();
    ch.publish(prefix, `${prefix}.foreign.users.f.created`, Buffer.from('{"userId":"f","email":"f@x.io"}'), {
      contentType: 'application/json',
      headers: { 'cloudEvents:specversion': '1.0', 'cloudEvents:id': 'foreign-1', 'cloudEvents:type': 'user.created', 'cloudEvents:source': 'other/client', 'cloudEvents:time': new Date().toISOString(), 'cloudEvents:eventversion': '1.0.0' },
    });
    await ch.waitForConfirms();
    await ch.close();
    await waitFor(() => got.length === 1, 10_000, 'the foreign event');
    expect(got[0]).toEqual({ id: 'foreign-1', source: 'other/client', data: { userId: 'f', email: 'f@x.io' } });
  });

  it('an event no queue is bound for is an error, not a silent drop', async () => {
    const ev = userCreated(`${prefix}.nobody`);
    const b = await bus();
    await expect(b.publish(ev, { userId: 'n', email: 'a@x.io' }, { params: { userId: 'n' } })).rejects.toBeInstanceOf(UnroutableError);
  });

  it("with unroutable: 'drop' such an event is let go, as plain RabbitMQ would", async () => {
    const ev = userCreated(`${prefix}.nobody2`);
    const b = await bus({ unroutable: 'drop' });
    await expect(b.publish(ev, { userId: 'n', email: 'a@x.io' }, { params: { userId: 'n' } })).resolves.toMatchObject({ duplicate: false });
  });

  it('a queue named by a binding is the queue of every group reading that subject', async () => {
    const named = `${prefix}.named-work`;
    const bindings = { [`${prefix}.work.*`]: { queue: { name: named } } };
    const ev = userCreated(`${prefix}.x`);
    const work = { ...ev, address: `${prefix}.work.{userId}` };
    const a = await bus({ bindings });
    const b = await bus({ bindings });
    const got: Array<[string, string]> = [];
    // Two groups, one queue: they compete for the messages instead of each getting a copy.
    await a.subscribe({ group: `ga_${rand()}`, handlers: [{ type: ev.type, accepts: [work], handle: async (e) => void got.push(['a', e.id]) }] });
    await b.subscribe({ group: `gb_${rand()}`, handlers: [{ type: ev.type, accepts: [work], handle: async (e) => void got.push(['b', e.id]) }] });
    for (let i = 0; i < 20; i++) await a.publish(work, { userId: `w${i}`, email: 'a@x.io' }, { params: { userId: `w${i}` } });
    await waitFor(() => got.length === 20, 10_000, 'the work items');
    await sleep(200);
    expect(got).toHaveLength(20);
    expect(new Set(got.map(([id]) => id))).toEqual(new Set(['a', 'b']));
    expect(tracker.queues()).toContain(named);
  });

  it('never holds more than maxInFlight unsettled deliveries (prefetch)', async () => {
    const t = await connect();
    const held: Delivery[] = [];
    const sub = await t.consume({ group: `inflight_${rand()}`, subjects: [`${prefix}.held.>`], maxInFlight: 3 }, (d) => void held.push(d));
    const p = await connect();
    for (let i = 0; i < 10; i++) await p.publish({ subject: `${prefix}.held.${i}`, id: `h${i}`, headers: { 'ce-id': `h${i}` }, body: Buffer.from('{}') });
    await waitFor(() => held.length === 3, 5000, 'three deliveries');
    await sleep(300);
    expect(held.length).toBe(3);
    await held[0]!.ack();
    await waitFor(() => held.length === 4, 5000, 'one more after an ack');
    await sleep(200);
    expect(held.length).toBe(4);
    // `>` became `#`: every depth below `held` reached the group.
    expect(held.map((d) => d.subject)).toEqual([`${prefix}.held.0`, `${prefix}.held.1`, `${prefix}.held.2`, `${prefix}.held.3`]);
    for (const d of held.slice(1)) await d.ack();
    await sub.stop();
  });

  it('deliveryCount survives a retry through a delay queue; the subject is the original one', async () => {
    const t = await connect();
    const seen: Array<{ n: number; subject: string; id: string | undefined }> = [];
    const sub = await t.consume({ group: `count_${rand()}`, subjects: [`${prefix}.count.*`], maxInFlight: 4 }, (d) => {
      seen.push({ n: d.deliveryCount, subject: d.subject, id: d.headers.get('ce-id') });
      void (d.deliveryCount < 3 ? d.retry(d.deliveryCount === 1 ? 0 : 50) : d.ack());
    });
    await t.publish({ subject: `${prefix}.count.a`, id: 'c1', headers: { 'ce-id': 'c1' }, body: Buffer.from('{}') });
    await waitFor(() => seen.length === 3, 5000, 'three deliveries');
    expect(seen).toEqual([1, 2, 3].map((n) => ({ n, subject: `${prefix}.count.a`, id: 'c1' })));
    await sub.stop();
  });

  it('ephemeral groups get only what is published while they listen; transient publishes reach them', async () => {
    const t = await connect();
    const got: string[] = [];
    const sub = await t.consume({ group: `eph_${rand()}`, subjects: [`${prefix}.eph.*`], maxInFlight: 8, ephemeral: true }, (d) => {
      got.push(d.headers.get('ce-id') ?? '');
      void d.ack();
    });
    await t.publishTransient({ subject: `${prefix}.eph.x`, id: 't1', headers: { 'ce-id': 't1' }, body: Buffer.from('{}') });
    await waitFor(() => got.length === 1, 5000, 'the transient event');
    await sub.stop();
    expect(got).toEqual(['t1']);
  });

  it('dead letters: parked while nobody reads them, then drained; every reader group gets new ones', async () => {
    const ev = userCreated(`${prefix}.dl`);
    const b = await bus();
    const group = `dlg_${rand()}`;
    await b.subscribe({ group, maxDeliver: 1, handlers: [{ type: ev.type, accepts: [ev], handle: async () => Promise.reject(new Error('no')) }] });
    const parked = await b.publish(ev, { userId: 'p', email: 'a@x.io' }, { params: { userId: 'p' } });
    // Nobody reads deadletter.<group> yet: the dead letter waits in its parking queue.
    await sleep(500);
    const r1: string[] = [];
    const r2: string[] = [];
    await b.subscribeDeadLetters({ subject: `deadletter.${group}`, group: 'ops' }, async (dl) => void r1.push(dl.headers.get('ce-id') ?? ''));
    await b.subscribeDeadLetters({ subject: `deadletter.${group}`, group: 'audit' }, async (dl) => void r2.push(dl.headers.get('ce-id') ?? ''));
    await waitFor(() => r1.length + r2.length === 1, 10_000, 'the parked dead letter');
    expect([...r1, ...r2]).toEqual([parked.id]);
    const fresh = await b.publish(ev, { userId: 'q', email: 'a@x.io' }, { params: { userId: 'q' } });
    await waitFor(() => r1.includes(fresh.id) && r2.includes(fresh.id), 10_000, 'the new dead letter in both reader groups');
  });
});
