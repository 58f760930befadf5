/**
 * Whatever arrives on the wire, the consumer dead-letters it with a reason and keeps going.
 * Published with the transport directly, as a misbehaving producer would.
 */
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jetstreamManager } from '@nats-io/jetstream';
import { createEventBus, type DeadLetter, type EventBus, type HeaderRecord } from '../../src/runtime/index.js';
import { NatsTransport, provisionNats } from '../../src/runtime/nats/index.js';
import { NATS_URL, rand, userCreated, waitFor } from './helpers.js';

const good = (id: string): HeaderRecord => ({
  'ce-specversion': '1.0',
  'ce-id': id,
  'ce-type': 'user.created',
  'ce-source': 'raw',
  'ce-time': new Date().toISOString(),
  'ce-eventversion': '1.0.0',
  'content-type': 'application/json',
});
const json = (v: unknown) => Buffer.from(JSON.stringify(v));
const omit = (h: HeaderRecord, k: string) => Object.fromEntries(Object.entries(h).filter(([n]) => n !== k));

describe('NATS: malformed input lands in the dead letter with its reason', () => {
  const id = rand();
  const prefix = `mal${id}`;
  let t: NatsTransport;
  let bus: EventBus;
  beforeAll(async () => {
    t = await NatsTransport.connect({ connect: { servers: NATS_URL } });
    await provisionNats(t, { streams: [{ name: `MAL_${id}`, subjects: [`${prefix}.>`], storage: 'memory' }] });
    bus = createEventBus({ transport: await NatsTransport.connect({ connect: { servers: NATS_URL } }), source: 'test' });
  });
  afterAll(async () => {
    await bus.close();
    await (await jetstreamManager(t.nc)).streams.delete(`MAL_${id}`);
    await t.close();
  });

  it('undecodable bytes, wrong content type, missing headers, invalid payload, unknown type/version, bad gzip', async () => {
    const ev = userCreated(prefix);
    const subject = `${prefix}.users.x.created`;
    const dls: DeadLetter[] = [];
    await bus.subscribeDeadLetters({ subject: `${prefix}.dlq`, group: 'reader' }, async (dl) => void dls.push(dl));
    const handled: string[] = [];
    await bus.subscribe({ group: 'svc', deadLetter: { subject: `${prefix}.dlq` }, handlers: [{ type: ev.type, accepts: [ev], handle: async (e) => void handled.push(e.id) }] });
    const cases: Array<[string, HeaderRecord, Uint8Array, string]> = [
      ['bytes', good('bytes'), Uint8Array.from([0xff, 0x00, 0x7b, 0x22]), 'undecodable'],
      ['ctype', { ...good('ctype'), 'content-type': 'text/plain' }, Buffer.from('hello'), 'unsupported-content-type'],
      ['noheaders', {}, json({ userId: 'x', email: 'a@x.io' }), 'missing-attributes'],
      ['noid', omit(good('noid'), 'ce-id'), json({ userId: 'x', email: 'a@x.io' }), 'missing-attributes'],
      ['badtime', { ...good('badtime'), 'ce-time': 'yesterday' }, json({ userId: 'x', email: 'a@x.io' }), 'missing-attributes'],
      ['invalid', good('invalid'), json({ userId: 'x', email: 'no-at' }), 'validation-failed'],
      ['type', { ...good('type'), 'ce-type': 'user.exploded' }, json({}), 'unknown-type'],
      ['major', { ...good('major'), 'ce-eventversion': '7.0.0' }, json({ userId: 'x', email: 'a@x.io' }), 'unknown-version'],
      ['notsemver', { ...good('notsemver'), 'ce-eventversion': 'latest' }, json({ userId: 'x', email: 'a@x.io' }), 'unknown-version'],
      ['gzip', { ...good('gzip'), 'content-encoding': 'gzip' }, json({ userId: 'x', email: 'a@x.io' }), 'undecodable'],
      ['metadata', { ...good('metadata'), 'ce-metadata': '[1,2' }, json({ userId: 'x', email: 'a@x.io' }), 'undecodable'],
      ['structured', { 'content-type': 'application/cloudevents+json' }, Buffer.from('{"specversion":"1.0",'), 'undecodable'],
    ];
    for (const [name, headers, body] of cases) await t.publish({ subject, id: `${name}-${id}`, headers, body });
    // A well-formed, gzip-compressed event after all that: the consumer is still running.
    await t.publish({ subject, id: `ok-${id}`, headers: { ...good('ok'), 'content-encoding': 'gzip' }, body: gzipSync(json({ userId: 'x', email: 'a@x.io' })) });
    await waitFor(() => dls.length === cases.length && handled.length === 1, 15_000, 'dead letters');
    expect(handled).toEqual(['ok']);
    expect(dls.map((d) => d.reason).sort()).toEqual(cases.map((c) => c[3]).sort());
    for (const [name, headers, , reason] of cases) {
      if (headers['ce-id']) expect([name, dls.find((d) => d.headers.get('ce-id') === headers['ce-id'])?.reason]).toEqual([name, reason]);
    }
    for (const d of dls) {
      expect(d.group).toBe('svc');
      expect(d.detail.length).toBeGreaterThan(0);
      expect(d.originalSubject).toBe(subject);
    }
  });
});
