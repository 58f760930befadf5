/**
 * The event store conformance suite: every backend runs it through the typed store, against
 * its real service. A fixture gives fresh backends (sharing one isolated store) and a way to
 * write a record past every check, for the bad-record tests.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createEventStore,
  CorruptRecordError,
  InvalidCheckpointError,
  InvalidStreamIdError,
  MissingUpcasterError,
  UnknownEventTypeError,
  WrongAggregateError,
  WrongExpectedVersionError,
  type BadRecord,
  type EventStore,
  type EventStoreBackend,
  type StoredEvent,
} from '../../../src/runtime/event-store/index.js';
import { EventValidationError } from '../../../src/runtime/errors.js';
import { rand, waitFor } from '../helpers.js';
import { accountContract, type AccountContract } from './contract.js';

export type RawRecord = { readonly record: Record<string, unknown> } | { readonly garbage: true };

export interface EventStoreFixture {
  backend(): Promise<EventStoreBackend>;
  /** Stores a record as the next one of the stream, past every check (a damaged or foreign write). */
  writeRaw(streamId: string, raw: RawRecord): Promise<void>;
  cleanup(): Promise<void>;
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

async function caught(p: Promise<unknown> | (() => Promise<unknown>)): Promise<unknown> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

export function describeEventStoreConformance(name: string, setup: () => Promise<EventStoreFixture>, options: { largeStream?: number } = {}): void {
  describe(`event store conformance: ${name}`, () => {
    let fx: EventStoreFixture;
    const stores: EventStore[] = [];
    beforeAll(async () => {
      fx = await setup();
    });
    afterAll(async () => {
      await Promise.allSettled(stores.map((s) => s.close()));
      await fx?.cleanup();
    });

    /** A store over a fresh backend, with its own domain so tests never see each other's events. */
    async function open(c: AccountContract = accountContract(`d${rand()}`)): Promise<{ store: EventStore; c: AccountContract }> {
      const store = await createEventStore({ backend: await fx.backend(), events: c.all, upcasters: c.upcasters, source: 'test/conformance' });
      stores.push(store);
      return { store, c };
    }
    const deposits = (c: AccountContract, id: string, from: number, n: number) =>
      Array.from({ length: n }, (_, i) => ({ event: c.deposited, data: { accountId: id, amount: from + i, n: from + i } }));

    it('appends and reads a stream in order, both directions, with ranges and limits', async () => {
      const { store, c } = await open();
      const s = c.stream('acc1');
      const r1 = await store.append(s, [{ event: c.opened, data: { accountId: 'acc1', owner: 'ann' } }], { expectedVersion: 'no-stream' });
      expect(r1.version).toBe(1);
      const r2 = await store.append(s, deposits(c, 'acc1', 1, 9), { expectedVersion: 1 });
      expect(r2.version).toBe(10);
      const all = await collect(store.read(s));
      expect(all.map((e) => e.streamVersion)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      expect(all[0]).toMatchObject({ type: c.opened.type, version: '1.0.0', streamId: s, source: 'test/conformance', data: { accountId: 'acc1', owner: 'ann' } });
      expect(all[0]!.timestamp).toBeInstanceOf(Date);
      expect(all.at(-1)!.checkpoint).toBe(r2.checkpoint);
      expect((await collect(store.read(s, { direction: 'backwards' }))).map((e) => e.streamVersion)).toEqual([10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
      expect((await collect(store.read(s, { from: 3, to: 5 }))).map((e) => e.streamVersion)).toEqual([3, 4, 5]);
      expect((await collect(store.read(s, { from: 4, limit: 2 }))).map((e) => e.streamVersion)).toEqual([4, 5]);
      expect((await collect(store.read(s, { direction: 'backwards', from: 8, to: 6 }))).map((e) => e.streamVersion)).toEqual([8, 7, 6]);
      expect((await collect(store.read(s, { direction: 'backwards', limit: 3 }))).map((e) => e.streamVersion)).toEqual([10, 9, 8]);
      expect((await collect(store.read(s, { from: 11 })))).toEqual([]);
      expect(await collect(store.read(c.stream('nobody')))).toEqual([]);
      expect(await store.version(s)).toBe(10);
      expect(await store.version(c.stream('nobody'))).toBe(0);
    });

    it('fills the envelope: id from the contract field or given, correlation and causation, timestamp, metadata', async () => {
      const { store, c } = await open();
      const s = c.stream('acc2');
      const at = new Date('2026-01-02T03:04:05.678Z');
      await store.append(s, [
        { event: c.opened, data: { accountId: 'acc2', owner: 'bo' }, id: 'given-id', correlationId: 'conv-1', causationId: 'cause-1', metadata: { user: 'u1' }, timestamp: at },
        { event: c.deposited, data: { accountId: 'acc2', amount: 5 } },
      ]);
      const [a, b] = await collect(store.read(s));
      expect(a).toMatchObject({ id: 'given-id', correlationId: 'conv-1', causationId: 'cause-1', metadata: { user: 'u1' } });
      expect(a!.timestamp.toISOString()).toBe(at.toISOString());
      expect(b!.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(b!.metadata).toEqual({});
    });

    it("checks expectedVersion: exact, 'no-stream', 'any'; a conflict stores nothing and carries the actual version", async () => {
      const { store, c } = await open();
      const s = c.stream('acc3');
      await store.append(s, [{ event: c.opened, data: { accountId: 'acc3', owner: 'x' } }], { expectedVersion: 'no-stream' });
      const e1 = await caught(store.append(s, deposits(c, 'acc3', 1, 1), { expectedVersion: 'no-stream' }));
      expect(e1).toBeInstanceOf(WrongExpectedVersionError);
      expect(e1).toMatchObject({ streamId: s, expected: 'no-stream', actual: 1 });
      const e2 = await caught(store.append(s, deposits(c, 'acc3', 1, 3), { expectedVersion: 0 }));
      expect(e2).toMatchObject({ expected: 0, actual: 1 });
      const e3 = await caught(store.append(s, deposits(c, 'acc3', 1, 3), { expectedVersion: 5 }));
      expect(e3).toMatchObject({ expected: 5, actual: 1 });
      expect((await store.append(s, deposits(c, 'acc3', 1, 2), { expectedVersion: 1 })).version).toBe(3);
      expect((await store.append(s, deposits(c, 'acc3', 3, 2), { expectedVersion: 'any' })).version).toBe(5);
      expect((await store.append(s, deposits(c, 'acc3', 5, 1))).version).toBe(6);
      expect(await store.version(s)).toBe(6);
      expect((await collect(store.read(s))).length).toBe(6);
    });

    it('refuses what the contract does not allow, before storing anything: unknown type, wrong aggregate, invalid payload, bad stream id', async () => {
      const { store, c } = await open();
      const other = accountContract(`d${rand()}`);
      const s = c.stream('acc4');
      const good = { event: c.opened, data: { accountId: 'acc4', owner: 'x' } };
      expect(await caught(store.append(s, [good, { event: { ...c.opened, type: 'account.stolen' }, data: { accountId: 'acc4', owner: 'x' } }]))).toBeInstanceOf(UnknownEventTypeError);
      expect(await caught(store.append(s, [good, { event: { ...c.opened, version: '9.0.0' }, data: { accountId: 'acc4', owner: 'x' } }]))).toBeInstanceOf(UnknownEventTypeError);
      // Same type and version, bound to another domain: declared by another contract, not this store's.
      expect(await caught(store.append(other.stream('acc4'), [good]))).toBeInstanceOf(WrongAggregateError);
      expect(await caught(store.append(c.stream('acc5'), [good]))).toBeInstanceOf(WrongAggregateError);
      expect(await caught(store.append(s, [good, { event: c.deposited, data: { accountId: 'acc4', amount: 'lots' } as never }]))).toBeInstanceOf(EventValidationError);
      for (const bad of ['', 'nodots', 'a.b', `${c.domain}.${c.aggregate}.`, `${c.domain}..x`, `bad domain.${c.aggregate}.x`, `${c.domain}.${c.aggregate}.x\u0000y`, `${c.domain}.${c.aggregate}.${'x'.repeat(300)}`]) {
        expect(await caught(store.append(bad, [good])), bad).toBeInstanceOf(InvalidStreamIdError);
      }
      expect(await store.version(s)).toBe(0);
    });

    it('upcasts an older major on read through the chain and validates against the newest; storedVersion says what was stored', async () => {
      const { store, c } = await open();
      const s = c.stream('acc6');
      await store.append(s, [
        { event: c.opened, data: { accountId: 'acc6', owner: 'x' } },
        { event: c.renamedV1, data: { accountId: 'acc6', name: 'Ada Lovelace King' } },
        { event: c.renamedV2, data: { accountId: 'acc6', first: 'Ada', last: 'King' } },
      ]);
      const [, up, now] = await collect(store.read(s));
      expect(up).toMatchObject({ version: '2.0.0', storedVersion: '1.0.0', data: { accountId: 'acc6', first: 'Ada', last: 'Lovelace King' } });
      expect(now).toMatchObject({ version: '2.0.0', data: { first: 'Ada', last: 'King' } });
      expect(now!.storedVersion).toBeUndefined();
    });

    it('many concurrent appenders to one stream: exactly one wins per version, the losers learn the actual version', async () => {
      const { store, c } = await open();
      const s = c.stream('hot');
      const first = await Promise.allSettled(Array.from({ length: 25 }, (_, i) => store.append(s, [{ event: c.opened, data: { accountId: 'hot', owner: `w${i}` } }], { expectedVersion: 'no-stream' })));
      expect(first.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      for (const r of first) if (r.status === 'rejected') expect(r.reason).toMatchObject({ name: 'WrongExpectedVersionError', actual: 1 });

      const writers = 12;
      const perWriter = 8;
      let conflicts = 0;
      await Promise.all(
        Array.from({ length: writers }, async (_, w) => {
          let done = 0;
          for (let attempt = 0; done < perWriter && attempt < 10_000; attempt++) {
            const v = await store.version(s);
            try {
              await store.append(s, [{ event: c.deposited, data: { accountId: 'hot', amount: w, n: done } }, { event: c.deposited, data: { accountId: 'hot', amount: w, n: done } }], { expectedVersion: v });
              done++;
            } catch (err) {
              if (!(err instanceof WrongExpectedVersionError)) throw err;
              expect(err.actual).toBeGreaterThan(v);
              conflicts++;
            }
          }
          expect(done).toBe(perWriter);
        }),
      );
      const events = await collect(store.read(s));
      expect(events.map((e) => e.streamVersion)).toEqual(Array.from({ length: 1 + writers * perWriter * 2 }, (_, i) => i + 1));
      // Each batch of two is contiguous: nobody wrote between the two events of an append.
      for (let i = 1; i < events.length; i += 2) expect((events[i]!.data as { amount: number }).amount).toBe((events[i + 1]!.data as { amount: number }).amount);
      expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
      expect(conflicts).toBeGreaterThan(0);
    });

    it('subscribes: catch-up then live while appends continue, missing nothing and repeating nothing', async () => {
      const { store, c } = await open();
      const ids = ['a1', 'a2', 'a3', 'a4'];
      for (const id of ids) await store.append(c.stream(id), [{ event: c.opened, data: { accountId: id, owner: id } }, ...deposits(c, id, 1, 40)]);
      const seen: StoredEvent[] = [];
      const sub = await store.subscribe({ aggregates: [`${c.domain}.${c.aggregate}`] }, (e) => {
        seen.push(e);
      });
      // Writers run while the subscription catches up and goes live.
      const writing = Promise.all(ids.map(async (id) => {
        for (let i = 0; i < 15; i++) await store.append(c.stream(id), deposits(c, id, 100 + i * 3, 3));
      }));
      await sub.caughtUp;
      await writing;
      const total = ids.length * (41 + 45);
      await waitFor(() => seen.length >= total, 30_000, `${total} events`);
      await sub.stop();
      expect(seen.length).toBe(total);
      expect(new Set(seen.map((e) => e.id)).size).toBe(total);
      for (const id of ids) {
        expect(seen.filter((e) => e.streamId === c.stream(id)).map((e) => e.streamVersion)).toEqual(Array.from({ length: 86 }, (_, i) => i + 1));
      }
      // The subscription's order is readAll's order.
      expect(seen.map((e) => e.id)).toEqual((await collect(store.readAll({ aggregates: [`${c.domain}.${c.aggregate}`] }))).map((e) => e.id));
    });

    it('resumes from a checkpoint: exactly the events after it', async () => {
      const { store, c } = await open();
      await store.append(c.stream('r1'), [{ event: c.opened, data: { accountId: 'r1', owner: 'x' } }, ...deposits(c, 'r1', 1, 9)]);
      const firstRun: StoredEvent[] = [];
      const sub1 = await store.subscribe({ aggregates: [`${c.domain}.${c.aggregate}`] }, (e) => {
        firstRun.push(e);
      });
      await sub1.caughtUp;
      await sub1.stop();
      expect(firstRun).toHaveLength(10);
      const resumeAt = firstRun[5]!.checkpoint;
      await store.append(c.stream('r2'), [{ event: c.opened, data: { accountId: 'r2', owner: 'y' } }]);
      await store.append(c.stream('r1'), deposits(c, 'r1', 10, 2));
      const second: StoredEvent[] = [];
      const sub2 = await store.subscribe({ aggregates: [`${c.domain}.${c.aggregate}`] }, (e) => {
        second.push(e);
      }, { from: resumeAt });
      await sub2.caughtUp;
      await waitFor(() => second.length >= 7, 10_000, '7 events');
      await sub2.stop();
      expect(second.map((e) => `${e.streamId}#${e.streamVersion}`)).toEqual(
        [...firstRun.slice(6).map((e) => `${e.streamId}#${e.streamVersion}`), `${c.stream('r2')}#1`, `${c.stream('r1')}#11`, `${c.stream('r1')}#12`],
      );
      expect((await collect(store.readAll({ aggregates: [`${c.domain}.${c.aggregate}`] }, { from: resumeAt }))).length).toBe(7);
      expect(await caught(store.subscribe({}, () => {}, { from: 'not-a-checkpoint' }))).toBeInstanceOf(InvalidCheckpointError);
      expect(await caught(collect(store.readAll({}, { from: '{"x":1}' })))).toBeInstanceOf(InvalidCheckpointError);
    });

    it('a handler that throws during catch-up ends the subscription: caughtUp rejects with its error, nothing after it is delivered', async () => {
      const { store, c } = await open();
      await store.append(c.stream('h1'), [{ event: c.opened, data: { accountId: 'h1', owner: 'x' } }, ...deposits(c, 'h1', 1, 4)]);
      const seen: number[] = [];
      const sub = await store.subscribe({ aggregates: [`${c.domain}.${c.aggregate}`] }, (e) => {
        if (e.streamVersion === 3) throw new Error('projection broke at 3');
        seen.push(e.streamVersion);
      });
      await expect(sub.caughtUp).rejects.toThrow('projection broke at 3');
      await sub.stop();
      expect(seen).toEqual([1, 2]);
    });

    const large = options.largeStream ?? 20_000;
    it(`reads a large stream (${large} events) back in order`, async () => {
      const { store, c } = await open();
      const s = c.stream('big');
      const batch = 500;
      for (let i = 0; i < large; i += batch) await store.append(s, deposits(c, 'big', i, Math.min(batch, large - i)), { expectedVersion: i });
      let expected = 1;
      for await (const e of store.read(s)) {
        if (e.streamVersion !== expected || (e.data as { n: number }).n !== expected - 1) throw new Error(`at ${expected}: got version ${e.streamVersion}`);
        expected++;
      }
      expect(expected - 1).toBe(large);
      expect((await collect(store.read(s, { direction: 'backwards', limit: 3 }))).map((e) => e.streamVersion)).toEqual([large, large - 1, large - 2]);
    }, 180_000);

    it('readAll filters by aggregate and by type, with a limit and a start', async () => {
      const c = accountContract(`d${rand()}`);
      const other = accountContract(c.domain, 'ledger');
      const { store } = await open({ ...c, all: [...c.all, ...other.all], upcasters: { ...c.upcasters, ...other.upcasters } });
      await store.append(c.stream('f1'), [{ event: c.opened, data: { accountId: 'f1', owner: 'x' } }, ...deposits(c, 'f1', 1, 3)]);
      await store.append(other.stream('g1'), [{ event: other.opened, data: { accountId: 'g1', owner: 'y' } }, ...deposits(other, 'g1', 1, 2)]);
      const accounts = await collect(store.readAll({ aggregates: [`${c.domain}.${c.aggregate}`] }));
      expect(accounts.map((e) => e.streamId)).toEqual(Array(4).fill(c.stream('f1')));
      const ledgerDeposits = await collect(store.readAll({ aggregates: [`${other.domain}.${other.aggregate}`], types: [other.deposited.type] }));
      expect(ledgerDeposits.map((e) => e.type)).toEqual([other.deposited.type, other.deposited.type]);
      const opens = await collect(store.readAll({ aggregates: [`${c.domain}.${c.aggregate}`, `${other.domain}.${other.aggregate}`], types: [c.opened.type, other.opened.type] }));
      expect(opens.map((e) => e.streamId).sort()).toEqual([c.stream('f1'), other.stream('g1')].sort());
      expect(await collect(store.readAll({ aggregates: [`${c.domain}.${c.aggregate}`] }, { limit: 2 }))).toHaveLength(2);
      expect(await collect(store.readAll({ aggregates: [`${c.domain}.${c.aggregate}`] }, { from: accounts[1]!.checkpoint }))).toHaveLength(2);
      expect(await collect(store.readAll({ aggregates: [`none${rand()}`] }))).toEqual([]);
      // A bare aggregate type matches it in every domain.
      expect((await collect(store.readAll({ aggregates: [other.aggregate] }))).map((e) => e.streamId)).toContain(other.stream('g1'));
    });

    it('entity ids with dots, wildcards, spaces and unicode round-trip and stay apart', async () => {
      const { store, c } = await open();
      const hostile = ['a.b', 'a*b', 'a>b', '>', '*', 'a b', ' lead', 'ab', 'YWI', '=YWI', 'é☃', 'a..b', 'acc.*.>', '%2e', 'a\\b', "'; drop table events; --"];
      for (const id of hostile) await store.append(c.stream(id), [{ event: c.opened, data: { accountId: id, owner: id } }], { expectedVersion: 'no-stream' });
      for (const id of hostile) {
        const events = await collect(store.read(c.stream(id)));
        expect(events.map((e) => [e.streamId, (e.data as { owner: string }).owner]), id).toEqual([[c.stream(id), id]]);
      }
      const all = await collect(store.readAll({ aggregates: [`${c.domain}.${c.aggregate}`] }));
      expect(all.map((e) => e.streamId).sort()).toEqual(hostile.map((id) => c.stream(id)).sort());
    });

    it('a bad record (damaged, unknown type, no upcaster, invalid) is a typed error on read; a subscription reports it and goes on', async () => {
      const { store, c } = await open();
      const s = c.stream('bad1');
      const env = (type: string, version: string, data: unknown) => ({ id: `raw-${rand()}`, type, version, source: 'raw', time: new Date().toISOString(), data, metadata: {} });
      await store.append(s, [{ event: c.opened, data: { accountId: 'bad1', owner: 'x' } }]);
      await fx.writeRaw(s, { garbage: true });
      await store.append(s, deposits(c, 'bad1', 1, 1));
      await fx.writeRaw(s, { record: env('account.exploded', '1.0.0', {}) });
      await fx.writeRaw(s, { record: env(c.closedV2.type, '1.0.0', { accountId: 'bad1' }) });
      await fx.writeRaw(s, { record: env(c.deposited.type, '1.0.0', { accountId: 'bad1', amount: 'NaN' }) });
      await fx.writeRaw(s, { record: env(c.deposited.type, '7.0.0', { accountId: 'bad1', amount: 1 }) });
      await store.append(s, deposits(c, 'bad1', 2, 1));

      expect(await caught(collect(store.read(s)))).toBeInstanceOf(CorruptRecordError);
      expect(await caught(collect(store.read(s, { from: 4, to: 4 })))).toBeInstanceOf(UnknownEventTypeError);
      expect(await caught(collect(store.read(s, { from: 5, to: 5 })))).toBeInstanceOf(MissingUpcasterError);
      expect(await caught(collect(store.read(s, { from: 6, to: 6 })))).toBeInstanceOf(CorruptRecordError);
      expect(await caught(collect(store.read(s, { from: 7, to: 7 })))).toBeInstanceOf(UnknownEventTypeError);
      expect((await collect(store.read(s, { from: 8 }))).map((e) => e.streamVersion)).toEqual([8]);

      const good: number[] = [];
      const bad: BadRecord[] = [];
      const sub = await store.subscribe({ aggregates: [`${c.domain}.${c.aggregate}`] }, (e) => {
        good.push(e.streamVersion);
      }, { onBadRecord: (b) => void bad.push(b) });
      await sub.caughtUp;
      await store.append(s, deposits(c, 'bad1', 3, 1));
      await waitFor(() => good.length >= 4, 10_000, 'the event after the bad ones');
      await sub.stop();
      expect(good).toEqual([1, 3, 8, 9]);
      expect(bad.map((b) => b.reason)).toEqual(['corrupt', 'unknown-type', 'no-upcaster', 'validation-failed', 'unknown-version']);
      for (const b of bad) {
        expect(b.streamId).toBe(s);
        expect(typeof b.checkpoint).toBe('string');
        expect(b.detail.length).toBeGreaterThan(0);
      }
      expect(bad[2]!.detail).toContain(`${c.closedV2.type}@1`);
    });
  });
}
