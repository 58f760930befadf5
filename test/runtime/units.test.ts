/** Given/want tables for the pure parts: addresses, versions, backoff, the CloudEvents codec. */
import { describe, expect, it } from 'vitest';
import {
  AddressParameterError,
  backoffDelay,
  CLOUDEVENTS_MAPPING,
  compileAddress,
  createEventBus,
  createMetrics,
  decodeMessage,
  MemoryDedupeStore,
  MemoryTransport,
  recordHeaders,
  subjectMatches,
  VersionResolver,
  type EventDescriptor,
  type Middleware,
} from '../../src/runtime/index.js';
import { waitFor } from './helpers.js';

const ok = (d: unknown) => ({ ok: true as const, value: d });
const desc = (version: string): EventDescriptor => ({ type: 't', version, address: 'a', parameters: [], validate: ok });

describe('addresses', () => {
  it.each([
    ['users.{userId}.created', { userId: '42' }, 'users.42.created', 'users.*.created'],
    ['users.{userId}.orders.{orderId}', { userId: 'u', orderId: 'o' }, 'users.u.orders.o', 'users.*.orders.*'],
    ['tenant-{t}.events', { t: 'acme' }, 'tenant-acme.events', '*.events'],
    ['plain.subject', {}, 'plain.subject', 'plain.subject'],
  ])('%s', (template, params, subject, pattern) => {
    const a = compileAddress(template);
    expect(a.fill(params)).toBe(subject);
    expect(a.pattern).toBe(pattern);
    expect(a.extract(subject)).toEqual(params);
  });

  it.each([
    [{}, "needs parameter 'userId'"],
    [{ userId: '' }, "needs parameter 'userId'"],
    [{ userId: 'a.b' }, 'must not contain'],
    [{ userId: '*' }, 'must not contain'],
    [{ userId: 'a b' }, 'must not contain'],
    [{ userId: '>' }, 'must not contain'],
  ])('rejects parameters %j', (params, message) => {
    expect(() => compileAddress('users.{userId}.created').fill(params)).toThrowError(AddressParameterError);
    expect(() => compileAddress('users.{userId}.created').fill(params)).toThrowError(message);
  });

  it.each([
    ['a.*.c', 'a.b.c', true],
    ['a.*.c', 'a.b.d', false],
    ['a.>', 'a.b.c', true],
    ['a.>', 'a', false],
    ['a.b', 'a.b.c', false],
    ['>', 'x', true],
  ])('subjectMatches(%s, %s) = %s', (p, s, want) => expect(subjectMatches(p, s)).toBe(want));
});

describe('versions', () => {
  const r = new VersionResolver('t', [desc('1.0.0'), desc('1.2.0'), desc('3.1.0')]);
  it.each([
    ['1.0.0', '1.0.0'],
    ['1.1.5', '1.0.0'],
    ['1.2.0', '1.2.0'],
    ['1.9.0', '1.2.0'],
    ['3.0.0', '3.1.0'],
    ['3.4.1-beta.1', '3.1.0'],
  ])('incoming %s is validated with %s', (incoming, used) => {
    const m = r.resolve(incoming);
    expect(m.ok && m.descriptor.version).toBe(used);
  });
  it.each([
    ['2.0.0', 'major 2 is not accepted by this consumer (accepts 1.x, 3.x)'],
    ['banana', "version 'banana' is not semver"],
  ])('refuses %s', (incoming, detail) => {
    const m = r.resolve(incoming);
    expect(m.ok).toBe(false);
    expect(!m.ok && m.detail).toContain(detail);
  });
});

describe('backoff', () => {
  const b = { initialMs: 100, maxMs: 1000, factor: 2, jitter: 0.5 };
  it.each([
    [1, 0, 50],
    [1, 1, 100],
    [2, 0, 100],
    [3, 1, 400],
    [10, 1, 1000],
    [10, 0, 500],
  ])('attempt %i with random %d -> %i ms', (attempt, random, want) => expect(backoffDelay(b, attempt, () => random)).toBe(want));
});

describe('CloudEvents codec', () => {
  it('the mapping table covers every envelope field', () => {
    const fields = CLOUDEVENTS_MAPPING.map((m) => m.envelope);
    for (const f of ['id', 'type', 'source', 'timestamp', 'version', 'data', 'metadata', 'correlationId', 'causationId']) expect(fields).toContain(f);
  });

  it('binary mode writes the headers of the table', async () => {
    const t = new MemoryTransport();
    const bus = createEventBus({ transport: t, source: 'svc/a' });
    const ev: EventDescriptor<{ x: number }> = { type: 'thing.done', version: '2.1.0', address: 'things.{id}', parameters: ['id'], validate: (d) => ({ ok: true, value: d as { x: number } }) };
    await bus.publish(ev, { x: 1 }, { params: { id: '7' }, id: 'e1', correlationId: 'c1', causationId: 'k1', orderingKey: 'p1', metadata: { m: true }, timestamp: new Date('2025-01-27T00:00:00Z') });
    const [m] = t.messages('things.>');
    const h = Object.fromEntries([...m!.headers.keys()].map((k) => [k, m!.headers.get(k)]));
    expect(h).toEqual({
      'ce-specversion': '1.0',
      'ce-id': 'e1',
      'ce-type': 'thing.done',
      'ce-source': 'svc/a',
      'ce-time': '2025-01-27T00:00:00.000Z',
      'ce-eventversion': '2.1.0',
      'ce-correlationid': 'c1',
      'ce-causationid': 'k1',
      'ce-partitionkey': 'p1',
      'ce-metadata': '{"m":true}',
      'content-type': 'application/json',
    });
    expect(Buffer.from(m!.body).toString()).toBe('{"x":1}');
    await bus.close();
  });

  it('structured mode writes one CloudEvents JSON document', async () => {
    const t = new MemoryTransport();
    const bus = createEventBus({ transport: t, source: 'svc/a', mode: 'structured' });
    await bus.publish({ type: 'x', version: '1.0.0', address: 's', parameters: [], validate: ok }, { a: 1 }, { id: 'e2', timestamp: new Date('2025-01-27T00:00:00Z') });
    const [m] = t.messages('s');
    expect(m!.headers.get('content-type')).toBe('application/cloudevents+json');
    expect(JSON.parse(Buffer.from(m!.body).toString())).toEqual({ specversion: '1.0', id: 'e2', type: 'x', source: 'svc/a', time: '2025-01-27T00:00:00.000Z', eventversion: '1.0.0', datacontenttype: 'application/json', data: { a: 1 } });
    const env = await decodeMessage(m!, 1 << 20);
    expect(env.data).toEqual({ a: 1 });
    await bus.close();
  });

  it('compresses at the threshold and marks it; refuses a decompression bomb', async () => {
    const t = new MemoryTransport();
    const bus = createEventBus({ transport: t, source: 's', compression: { thresholdBytes: 100 } });
    const ev = { type: 'x', version: '1.0.0', address: 'z', parameters: [], validate: ok };
    await bus.publish(ev, { s: 'a'.repeat(50) });
    await bus.publish(ev, { s: 'a'.repeat(5000) });
    const [small, big] = t.messages('z');
    expect(small!.headers.get('content-encoding')).toBeUndefined();
    expect(big!.headers.get('content-encoding')).toBe('gzip');
    expect(big!.body.byteLength).toBeLessThan(200);
    await expect(decodeMessage(big!, 1000)).rejects.toMatchObject({ reason: 'undecodable' });
    expect((await decodeMessage(big!, 1 << 20)).data).toEqual({ s: 'a'.repeat(5000) });
    await bus.close();
  });

  it('decodes a minimal binary event with recordHeaders', async () => {
    const env = await decodeMessage({ subject: 's', headers: recordHeaders({ 'ce-specversion': '1.0', 'ce-id': 'i', 'ce-type': 't', 'ce-source': 'x', 'ce-time': '2025-01-27T00:00:00Z', 'ce-eventversion': '1.0.0' }), body: Buffer.from('null') }, 1000);
    expect(env).toMatchObject({ id: 'i', type: 't', data: null, metadata: {} });
    expect(env.correlationId).toBeUndefined();
  });
});

describe('middleware', () => {
  it('wraps publish and handle as an onion, outermost first, and may add headers', async () => {
    const t = new MemoryTransport();
    const calls: string[] = [];
    const mw = (name: string): Middleware => ({
      name,
      async publish(ctx, next) {
        calls.push(`${name}>pub`);
        ctx.headers[`x-${name}`] = '1';
        const r = await next();
        calls.push(`${name}<pub`);
        return r;
      },
      async handle(ctx, next) {
        calls.push(`${name}>handle:${ctx.headers.get(`x-${name}`)}`);
        await next();
        calls.push(`${name}<handle`);
      },
    });
    const metrics = createMetrics();
    const bus = createEventBus({ transport: t, source: 's', middleware: [mw('outer'), mw('inner'), metrics.middleware] });
    const ev = { type: 'x', version: '1.0.0', address: 'm', parameters: [], validate: ok };
    await bus.subscribe({ group: 'g', handlers: [{ type: 'x', accepts: [ev], handle: async () => void calls.push('handler') }] });
    await bus.publish(ev, {});
    await waitFor(() => calls.includes('outer<handle'));
    expect(calls).toEqual(['outer>pub', 'inner>pub', 'inner<pub', 'outer<pub', 'outer>handle:1', 'inner>handle:1', 'handler', 'inner<handle', 'outer<handle']);
    const snap = metrics.snapshot();
    expect(snap).toMatchObject({ published: 1, consumed: 1, failed: 0, byType: { x: { published: 1, consumed: 1, failed: 0 } } });
    expect(snap.handlerLatency.count).toBe(1);
    await bus.close();
  });
});

describe('memory dedupe store', () => {
  it('claims once, reports busy while claimed, done after complete, free after release or expiry', async () => {
    const s = new MemoryDedupeStore();
    expect(await s.claim('k', 1000)).toBe('claimed');
    expect(await s.claim('k', 1000)).toBe('busy');
    await s.release('k');
    expect(await s.claim('k', 30)).toBe('claimed');
    await new Promise((r) => setTimeout(r, 40)); // the holder "crashed": its claim expired
    expect(await s.claim('k', 1000)).toBe('claimed');
    await s.complete('k');
    expect(await s.claim('k', 1000)).toBe('done');
  });

  it('forgets a handled id after its retention, and the oldest ids beyond its size', async () => {
    const s = new MemoryDedupeStore({ retentionMs: 30, maxEntries: 2 });
    expect(await s.claim('a', 1000)).toBe('claimed');
    await s.complete('a');
    expect(await s.claim('a', 1000)).toBe('done');
    await new Promise((r) => setTimeout(r, 40));
    expect(await s.claim('a', 1000)).toBe('claimed'); // remembered no longer: handled again
    await s.complete('a');
    expect(await s.claim('b', 1000)).toBe('claimed');
    await s.complete('b');
    expect(await s.claim('c', 1000)).toBe('claimed'); // evicts the oldest: a
    expect(await s.claim('a', 1000)).toBe('claimed');
    expect(s.size).toBe(2);
  });

  it('completing an id it never claimed still remembers it', async () => {
    const s = new MemoryDedupeStore();
    await s.complete('x');
    expect(await s.claim('x', 1000)).toBe('done');
  });
});

describe('ephemeral (core) subscriptions', () => {
  it('dead-letters a failed event at once: there is no redelivery to wait for', async () => {
    const t = new MemoryTransport();
    const bus = createEventBus({ transport: t, source: 's' });
    const ev = { type: 'x', version: '1.0.0', address: 'eph.in', parameters: [], validate: ok };
    await bus.subscribe({ group: 'live', ephemeral: true, deadLetter: { subject: 'eph.dlq' }, handlers: [{ type: 'x', accepts: [ev], handle: async () => Promise.reject(new Error('nope')) }] });
    await bus.publish(ev, {}, { transient: true, id: 'e1' });
    await waitFor(() => t.messages('eph.dlq').length === 1, 2000, 'the dead letter');
    expect(t.messages('eph.dlq')[0]!.headers.get('ec-dead-letter-reason')).toBe('handler-failed');
    await bus.close();
    t.destroy();
  });
});
