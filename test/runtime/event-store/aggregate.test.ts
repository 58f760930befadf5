/**
 * Aggregates: folding a stream with a typed reducer, and the load → decide → append loop
 * with optimistic retries, on the memory and the PostgreSQL event store.
 */
import { beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import {
  appendToAggregate,
  ConcurrencyRetriesExhaustedError,
  defineReducer,
  loadAggregate,
  StreamSequenceError,
  UnhandledEventVersionError,
  withOptimisticRetry,
  type Reducer,
  type StoredEventOf,
} from '../../../src/runtime/event-store/aggregate.js';
import pg from 'pg';
import { afterAll } from 'vitest';
import { createEventStore, MemoryEventStoreBackend, PostgresEventStoreBackend, WrongExpectedVersionError, type EventStore, type StoredEvent } from '../../../src/runtime/event-store/index.js';
import { PG } from './pg-helpers.js';
import type { EventDescriptor } from '../../../src/runtime/index.js';
import type { TransactionCreatedV1Event, TransactionCompletedV1Event } from '../../../generated/events.js';
import type { TransactionCompletedV1, TransactionCreatedV1 } from '../../../generated/types.js';
import { rand } from '../helpers.js';
import { accountContract, type AccountContract, type Deposited, type Opened } from './contract.js';

interface Account {
  owner: string;
  balance: number;
  applied: number;
}

/** The reducer the tests share; `applied` counts handler calls, so a test can tell what a load folded. */
function accountReducer(c: AccountContract, schemaVersion = 'account@1') {
  return defineReducer<Account>({ schemaVersion, initial: { owner: '', balance: 0, applied: 0 } })
    .on(c.opened, (s, d) => ({ ...s, owner: d.owner, applied: s.applied + 1 }))
    .on(c.deposited, (s, d) => {
      // Mutating is allowed: each load starts from a copy of `initial`.
      s.balance += d.amount;
      s.applied += 1;
      return s;
    });
}

const pgSchema = `agg_${rand()}`;
let pgUsed = false;
afterAll(async () => {
  if (!pgUsed) return;
  const admin = new pg.Pool({ ...PG, max: 1 });
  await admin.query(`DROP SCHEMA IF EXISTS "${pgSchema}" CASCADE`);
  await admin.end();
});

const backends = {
  memory: async () => new MemoryEventStoreBackend(),
  postgres: async () => {
    pgUsed = true;
    return PostgresEventStoreBackend.connect({ connection: { ...PG, max: 4 }, schema: pgSchema });
  },
};
let backendKind: keyof typeof backends = 'memory';

async function memoryStore(c: AccountContract): Promise<EventStore> {
  return createEventStore({ backend: await backends[backendKind](), events: c.all, upcasters: c.upcasters, source: 'test' });
}

async function seed(store: EventStore, c: AccountContract, id: string, deposits: number): Promise<string> {
  const stream = c.stream(id);
  await store.append(stream, [{ event: c.opened, data: { accountId: id, owner: 'ada' } }], { expectedVersion: 'no-stream' });
  for (let i = 1; i <= deposits; i++) await store.append(stream, [{ event: c.deposited, data: { accountId: id, amount: i } }]);
  return stream;
}

describe.each(Object.keys(backends) as Array<keyof typeof backends>)('on the %s event store', (kind) => {
  beforeAll(() => {
    backendKind = kind;
  });

  describe('loadAggregate', () => {
    it('folds every event of the stream and reports the version to append at', async () => {
      const c = accountContract(`t${rand()}`);
      const store = await memoryStore(c);
      const stream = await seed(store, c, 'a1', 4);
      const loaded = await loadAggregate(store, stream, accountReducer(c));
      expect(loaded).toMatchObject({ streamId: stream, version: 5, eventsFolded: 5, snapshotTaken: false, state: { owner: 'ada', balance: 10, applied: 5 } });
      expect(loaded.fromSnapshot).toBeUndefined();
      await store.close();
    });

    it('gives the initial state at version 0 for a stream with no events, and never shares it between loads', async () => {
      const c = accountContract(`t${rand()}`);
      const store = await memoryStore(c);
      const reducer = accountReducer(c);
      const empty = await loadAggregate(store, c.stream('none'), reducer);
      expect(empty).toMatchObject({ version: 0, state: { owner: '', balance: 0, applied: 0 } });
      // The deposit handler mutates its state: a shared initial object would leak 10 into the next load.
      await seed(store, c, 'b1', 4);
      await loadAggregate(store, c.stream('b1'), reducer);
      expect(reducer.initial).toEqual({ owner: '', balance: 0, applied: 0 });
      expect((await loadAggregate(store, c.stream('none'), reducer)).state.balance).toBe(0);
      await store.close();
    });

    it('ignores event types the reducer does not name, and refuses a named type at a major it has no handler for', async () => {
      const c = accountContract(`t${rand()}`);
      const store = await memoryStore(c);
      const stream = await seed(store, c, 'c1', 1);
      await store.append(stream, [{ event: c.closedV2, data: { accountId: 'c1' } }]);
      expect((await loadAggregate(store, stream, accountReducer(c))).state.balance).toBe(1);

      // A reducer written for renamed@1 meets renamed@2 (the store upcasts 1.x to 2.0.0 on read).
      await store.append(stream, [{ event: c.renamedV2, data: { accountId: 'c1', first: 'Ada', last: 'L' } }]);
      const stale = accountReducer(c).on(c.renamedV1, (s) => s);
      const error = await loadAggregate(store, stream, stale).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UnhandledEventVersionError);
      expect(error).toMatchObject({ eventType: c.renamedV2.type, eventVersion: '2.0.0', streamVersion: 4 });
      await store.close();
    });

    it('folds upcast events with the handler of the newest major', async () => {
      const c = accountContract(`t${rand()}`);
      const store = await memoryStore(c);
      const stream = c.stream('u1');
      await store.append(stream, [{ event: c.renamedV1, data: { accountId: 'u1', name: 'Ada Lovelace' } }]);
      const reducer = defineReducer({ schemaVersion: 'name@1', initial: { last: '' } }).on(c.renamedV2, (_s, d) => ({ last: d.last }));
      expect((await loadAggregate(store, stream, reducer)).state.last).toBe('Lovelace');
      await store.close();
    });

    it('refuses two handlers for one type and major', () => {
      const c = accountContract(`t${rand()}`);
      expect(() => accountReducer(c).on(c.deposited, (s) => s)).toThrow(/already handles .*deposited@1/);
    });

    it('stops at a gap in the stream versions instead of folding past it', async () => {
      const c = accountContract(`t${rand()}`);
      const real = await memoryStore(c);
      const stream = await seed(real, c, 'g1', 3);
      // A store that loses the event at version 3: the fold must not silently skip it.
      const lossy: EventStore = {
        ...real,
        read: async function* (id, options) {
          for await (const e of real.read(id, options)) if (e.streamVersion !== 3) yield e;
        },
      };
      await expect(loadAggregate(lossy, stream, accountReducer(c))).rejects.toThrow(StreamSequenceError);
      await real.close();
    });
  });

  describe('optimistic concurrency', () => {
    it('appendToAggregate appends at the version it loaded, and retries when another writer got there first', async () => {
      const c = accountContract(`t${rand()}`);
      const store = await memoryStore(c);
      const stream = await seed(store, c, 'r1', 0);
      const reducer = accountReducer(c);
      // Both writers load version 1 before either appends: one of them must conflict and retry.
      let loadedBoth!: () => void;
      const bothLoaded = new Promise<void>((r) => (loadedBoth = r));
      let firstTries = 0;
      const decide = async (state: Account, version: number) => {
        if (version === 1 && ++firstTries === 2) loadedBoth();
        await bothLoaded;
        return [{ event: c.deposited, data: { accountId: 'r1', amount: 10 + state.balance } }];
      };
      const [a, b] = await Promise.all([appendToAggregate(store, stream, reducer, decide), appendToAggregate(store, stream, reducer, decide)]);
      expect([a.attempts, b.attempts].sort()).toEqual([1, 2]);
      // The retry decided on the state after the winner's deposit: 10, then 10 + 10.
      const final = await loadAggregate(store, stream, reducer);
      expect(final).toMatchObject({ version: 3, state: { balance: 30 } });
      expect(Math.max(a.version, b.version)).toBe(3);
      await store.close();
    });

    it('appendToAggregate writes nothing when decide returns no events, and creates a stream with no-stream', async () => {
      const c = accountContract(`t${rand()}`);
      const store = await memoryStore(c);
      const stream = c.stream('n1');
      const nothing = await appendToAggregate(store, stream, accountReducer(c), () => []);
      expect(nothing).toMatchObject({ version: 0, appended: 0, attempts: 1 });
      const opened = await appendToAggregate(store, stream, accountReducer(c), (s) => (s.owner ? [] : [{ event: c.opened, data: { accountId: 'n1', owner: 'bo' } satisfies Opened }]));
      expect(opened).toMatchObject({ version: 1, appended: 1 });
      await store.close();
    });

    it('withOptimisticRetry gives up after the bounded number of tries with the last conflict as the cause', async () => {
      let calls = 0;
      const conflict = new WrongExpectedVersionError('d.a.x', 1, 2);
      const error = await withOptimisticRetry(
        async () => {
          calls++;
          throw conflict;
        },
        { attempts: 3, delayMs: () => 0 },
      ).catch((e: unknown) => e);
      expect(calls).toBe(3);
      expect(error).toBeInstanceOf(ConcurrencyRetriesExhaustedError);
      expect((error as Error).cause).toBe(conflict);
    });

    it('withOptimisticRetry throws any other error at once', async () => {
      let calls = 0;
      await expect(
        withOptimisticRetry(async () => {
          calls++;
          throw new Error('insufficient funds');
        }),
      ).rejects.toThrow('insufficient funds');
      expect(calls).toBe(1);
      await expect(withOptimisticRetry(async () => 1, { attempts: 0 })).rejects.toThrow(RangeError);
    });
  });

});

describe('reducer types', () => {
  it('type the payload of each handler from its descriptor, and the event union from the descriptors', () => {
    // Generated descriptors (generated/events.ts), as an application would use them.
    type Created = typeof TransactionCreatedV1Event;
    type Completed = typeof TransactionCompletedV1Event;
    expectTypeOf<StoredEventOf<Created | Completed>>().toEqualTypeOf<StoredEvent<TransactionCreatedV1> | StoredEvent<TransactionCompletedV1>>();

    // Type checks only: stand-ins with the two fields `on` reads at run time.
    const created = { type: 'transaction.created', version: '1.0.0' } as Created;
    const completed = { type: 'transaction.completed', version: '1.0.0' } as Completed;
    const reducer = defineReducer({ schemaVersion: 'tx@1', initial: { amount: "0", done: false } })
      .on(created, (state, data, event) => {
        expectTypeOf(data).toEqualTypeOf<TransactionCreatedV1>();
        expectTypeOf(event).toEqualTypeOf<StoredEvent<TransactionCreatedV1>>();
        expectTypeOf(state).toEqualTypeOf<{ amount: string; done: boolean }>();
        return { ...state, amount: data.amount.amount };
      })
      .on(completed, (state, data) => {
        expectTypeOf(data).toEqualTypeOf<TransactionCompletedV1>();
        return { ...state, done: true };
      });
    expectTypeOf(reducer).toMatchTypeOf<Reducer<{ amount: string; done: boolean }, StoredEvent<TransactionCreatedV1> | StoredEvent<TransactionCompletedV1>>>();

    // @ts-expect-error: a handler must return the state type
    defineReducer({ schemaVersion: 'x', initial: { n: 0 } }).on(created, () => ({ m: 1 }));
    const deposited = { type: 'account.deposited', version: '1.0.0' } as EventDescriptor<Deposited>;
    // @ts-expect-error: the payload of deposited has no `owner`
    defineReducer({ schemaVersion: 'x', initial: { n: 0 } }).on(deposited, (s, d) => ({ n: s.n + d.owner }));
  });
});
