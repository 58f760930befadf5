/**
 * JetStream-only behaviour: the subject layout under hostile entity ids, forged messages on
 * the store's subjects, duplicate appends, oversized appends, the append-only stream
 * configuration, and streams created after a subscription started.
 */
import { connect, headers, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEventStore, CorruptRecordError, type BadRecord, type EventStore, type StoredEvent } from '../../../src/runtime/event-store/index.js';
import { JetStreamEventStoreBackend, entityFromToken, entityToken, streamName, subjectOf } from '../../../src/runtime/event-store/jetstream/index.js';
import { streamIdOfSubject } from '../../../src/runtime/event-store/jetstream/layout.js';
import { parseStreamId } from '../../../src/runtime/event-store/index.js';
import { EventTooLargeError } from '../../../src/runtime/errors.js';
import { NATS_URL, rand, waitFor } from '../helpers.js';
import { accountContract } from './contract.js';

const id = rand();
const layout = { subjectPrefix: `$ESM${id}`, streamPrefix: `ESM${id}` };
let nc: NatsConnection;
let jsm: JetStreamManager;
let js: JetStreamClient;
const stores: EventStore[] = [];
async function open(c = accountContract(`d${rand()}`)) {
  const store = await createEventStore({ backend: await JetStreamEventStoreBackend.connect({ servers: NATS_URL, ...layout, storage: 'memory', discoverMs: 200 }), events: c.all, upcasters: c.upcasters, source: 't' });
  stores.push(store);
  return { store, c };
}
async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

beforeAll(async () => {
  nc = await connect({ servers: NATS_URL });
  jsm = await jetstreamManager(nc);
  js = jetstream(nc);
});
afterAll(async () => {
  await Promise.allSettled(stores.map((s) => s.close()));
  for await (const name of jsm.streams.names(`${layout.subjectPrefix}.>`)) await jsm.streams.delete(name);
  await nc.close();
});

describe('jetstream event store: layout', () => {
  it.each([
    ['acc_1-x', 'acc_1-x'],
    ['a.b', '=YS5i'],
    ['*', '=Kg'],
    ['>', '=Pg'],
    ['a b', '=YSBi'],
    ['=YS5i', '=PVlTNWk'],
    ['é', '=w6k'],
  ])('entity %j is the subject token %j, a single token with no wildcard, and decodes back', (entity, token) => {
    expect(entityToken(entity)).toBe(token);
    expect(token).toMatch(/^[A-Za-z0-9_=-]+$/);
    expect(entityFromToken(token)).toBe(entity);
  });

  it('a token that is not the canonical encoding of any id is not a stream of the store', () => {
    expect(entityFromToken('=YS5i=')).toBeUndefined(); // padding: not canonical
    expect(entityFromToken('=YWI')).toBeUndefined(); // 'ab' is a plain token, never encoded
    expect(entityFromToken('a b')).toBeUndefined();
    expect(streamIdOfSubject(layout, `${layout.subjectPrefix}.pay.account.=YWI`)).toBeUndefined();
    expect(streamIdOfSubject(layout, `${layout.subjectPrefix}.pay.account.x.y`)).toBeUndefined();
    expect(streamIdOfSubject(layout, `other.pay.account.x`)).toBeUndefined();
    expect(streamIdOfSubject(layout, `${layout.subjectPrefix}.pay.account.=YS5i`)).toBe('pay.account.a.b');
  });
});

describe('jetstream event store', () => {
  it('keeps each aggregate in an append-only stream of its own, under the store prefix', async () => {
    const { c } = await open();
    const info = await jsm.streams.info(streamName(layout, c.domain, c.aggregate));
    expect(info.config.subjects).toEqual([`${layout.subjectPrefix}.${c.domain}.${c.aggregate}.*`]);
    expect(info.config.deny_delete).toBe(true);
    expect(info.config.deny_purge).toBe(true);
  });

  it('a forged message without version headers is a corrupt record: read fails, append refuses, a subscription reports it and goes on', async () => {
    const { store, c } = await open();
    const s = c.stream('forged');
    await store.append(s, [{ event: c.opened, data: { accountId: 'forged', owner: 'x' } }]);
    await js.publish(subjectOf(layout, parseStreamId(s)), new TextEncoder().encode('[{"id":"evil"}]'));
    expect(await collect(store.read(s)).catch((e: unknown) => e)).toBeInstanceOf(CorruptRecordError);
    await expect(store.append(s, [{ event: c.deposited, data: { accountId: 'forged', amount: 1 } }])).rejects.toBeInstanceOf(CorruptRecordError);

    const other = c.stream('fine');
    const seen: StoredEvent[] = [];
    const bad: BadRecord[] = [];
    const sub = await store.subscribe({ aggregates: [`${c.domain}.${c.aggregate}`] }, (e) => void seen.push(e), { onBadRecord: (b) => void bad.push(b) });
    await store.append(other, [{ event: c.opened, data: { accountId: 'fine', owner: 'y' } }]);
    await waitFor(() => seen.length >= 2, 10_000, 'the events around the forged one');
    await sub.stop();
    expect(seen.map((e) => e.streamId)).toEqual([s, other]);
    expect(bad.map((b) => b.reason)).toEqual(['corrupt']);
    expect(bad[0]!.detail).toMatch(/Es-Version/);
  });

  it('a forged message whose version header lies is corrupt on read', async () => {
    const { store, c } = await open();
    const s = c.stream('liar');
    await store.append(s, [{ event: c.opened, data: { accountId: 'liar', owner: 'x' } }]);
    const h = headers();
    h.set('Es-Version', '5');
    h.set('Es-Count', '1');
    const env = { id: 'forged', type: c.deposited.type, version: '1.0.0', source: 'evil', time: new Date().toISOString(), data: { accountId: 'liar', amount: 1 }, metadata: {} };
    await js.publish(subjectOf(layout, parseStreamId(s)), new TextEncoder().encode(JSON.stringify([env])), { headers: h });
    const err = await collect(store.read(s)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CorruptRecordError);
    expect((err as Error).message).toMatch(/versions 5-5 where 2 comes next/);
  });

  it('a message on an entity subject the store never writes (a non-canonical token) is reported, not misread as another stream', async () => {
    const { store, c } = await open();
    const bad: BadRecord[] = [];
    const sub = await store.subscribe({ aggregates: [`${c.domain}.${c.aggregate}`] }, () => {}, { onBadRecord: (b) => void bad.push(b) });
    await sub.caughtUp;
    await js.publish(`${layout.subjectPrefix}.${c.domain}.${c.aggregate}.=YWI`, new TextEncoder().encode('[]'));
    await waitFor(() => bad.length >= 1, 10_000, 'the bad record');
    await sub.stop();
    expect(bad[0]).toMatchObject({ reason: 'corrupt' });
    expect(bad[0]!.streamId).toBeUndefined();
  });

  it('appending the same event id again within the duplicate window stores it once and answers with what was stored', async () => {
    const { store, c } = await open();
    const s = c.stream('dup');
    const e = { event: c.opened, data: { accountId: 'dup', owner: 'x' }, id: `evt-${rand()}` };
    const first = await store.append(s, [e]);
    const again = await store.append(s, [e]);
    expect(again).toEqual(first);
    expect(await store.version(s)).toBe(1);
  });

  it('an append larger than the server accepts is refused whole, before anything is stored', async () => {
    const { store, c } = await open();
    const s = c.stream('huge');
    const big = Array.from({ length: 40 }, (_, i) => ({ event: c.deposited, data: { accountId: 'huge', amount: i, note: 'x'.repeat(40_000) } }));
    await expect(store.append(s, big)).rejects.toBeInstanceOf(EventTooLargeError);
    expect(await store.version(s)).toBe(0);
  });

  it('a subscription to every aggregate finds an aggregate stream created after it started', async () => {
    const c = accountContract(`d${rand()}`);
    const ledger = accountContract(c.domain, 'ledger');
    // The reader knows the ledger's events but not as an aggregate, so it does not create the ledger's stream itself.
    const { store } = await open({ ...c, all: [...c.all, ...ledger.all.map((d) => ({ ...d, aggregate: undefined }))] });
    const seen: StoredEvent[] = [];
    const sub = await store.subscribe({}, (e) => {
      if (e.streamId.startsWith(`${c.domain}.ledger.`)) seen.push(e);
    });
    await sub.caughtUp;
    expect(await jsm.streams.info(streamName(layout, c.domain, 'ledger')).catch(() => 'missing')).toBe('missing');
    const { store: writer } = await open(ledger);
    await writer.append(ledger.stream('l1'), [{ event: ledger.opened, data: { accountId: 'l1', owner: 'z' } }]);
    await waitFor(() => seen.length >= 1, 10_000, 'the event of the new stream');
    await sub.stop();
    expect(seen.map((e) => e.streamId)).toEqual([ledger.stream('l1')]);
  });
});
