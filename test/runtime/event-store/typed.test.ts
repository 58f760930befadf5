/** The typed layer's start-up checks and option checks (no backend involved beyond memory). */
import { describe, expect, it } from 'vitest';
import { createEventStore, CorruptRecordError, InvalidOptionError, MemoryEventStoreBackend, MissingUpcasterError, UnknownEventTypeError, EventStoreClosedError } from '../../../src/runtime/event-store/index.js';
import { accountContract } from './contract.js';

describe('event store: typed layer', () => {
  it('refuses to start when an older major of an aggregate-bound type has no upcaster chain, listing every missing key', async () => {
    const c = accountContract('pay');
    const v3 = { ...c.renamedV2, version: '3.1.0' };
    const err = await createEventStore({ backend: new MemoryEventStoreBackend(), events: [...c.all, v3], upcasters: c.upcasters, source: 't' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MissingUpcasterError);
    expect((err as MissingUpcasterError).missing).toEqual(['account.renamed@2']);
    const none = await createEventStore({ backend: new MemoryEventStoreBackend(), events: [...c.all, v3], source: 't' }).catch((e: unknown) => e);
    expect((none as MissingUpcasterError).missing).toEqual(['account.renamed@1', 'account.renamed@2']);
    // A type bound to no aggregate is never read back from a stream by type: no chain needed.
    const loose = { ...c.renamedV1, aggregate: undefined };
    await expect(createEventStore({ backend: new MemoryEventStoreBackend(), events: [loose, { ...c.renamedV2, aggregate: undefined }], source: 't' })).resolves.toBeDefined();
  });

  it('chains upcasters across several majors and validates the result against the newest', async () => {
    const c = accountContract('pay');
    const v3 = { ...c.renamedV2, version: '3.0.0', validate: (d: unknown) => (typeof (d as { full?: unknown }).full === 'string' ? { ok: true as const, value: d } : { ok: false as const, errors: [{ path: '/full', message: 'must be string' }] }) };
    const store = await createEventStore({
      backend: new MemoryEventStoreBackend(),
      events: [c.opened, c.renamedV1, c.renamedV2, v3],
      upcasters: { ...c.upcasters, 'account.renamed@2': (d) => ({ ...(d as object), full: `${(d as { first: string }).first}/${(d as { last: string }).last}` }) },
      source: 't',
    });
    await store.append('pay.account.a', [{ event: c.renamedV1, data: { accountId: 'a', name: 'Ada King' } }]);
    const [e] = await collectAll(store.read('pay.account.a'));
    expect(e).toMatchObject({ version: '3.0.0', storedVersion: '1.0.0', data: { first: 'Ada', last: 'King', full: 'Ada/King' } });
    await store.close();
    await expect(store.append('pay.account.a', [])).rejects.toBeInstanceOf(EventStoreClosedError);
  });

  it("validateOnRead 'upcast-only' trusts events stored at a declared version, and still validates upcast ones", async () => {
    const c = accountContract('pay');
    const backend = new MemoryEventStoreBackend();
    const env = (type: string, version: string, data: unknown) => JSON.stringify({ id: 'x', type, version, source: 's', time: new Date().toISOString(), data, metadata: {} });
    backend.writeRaw('pay.account.a', env(c.deposited.type, '1.0.0', { accountId: 'a', amount: 'lots' }));
    backend.writeRaw('pay.account.a', env(c.renamedV1.type, '1.0.0', { accountId: 'a', name: 42 }));
    const strict = await createEventStore({ backend, events: c.all, upcasters: c.upcasters, source: 't' });
    const trusting = await createEventStore({ backend, events: c.all, upcasters: c.upcasters, source: 't', validateOnRead: 'upcast-only' });
    await expect(collectAll(strict.read('pay.account.a', { to: 1 }))).rejects.toBeInstanceOf(CorruptRecordError);
    expect((await collectAll(trusting.read('pay.account.a', { to: 1 }))).map((e) => e.data)).toEqual([{ accountId: 'a', amount: 'lots' }]);
    // The upcaster throws on a number name: reported as validation-failed even when trusting.
    await expect(collectAll(trusting.read('pay.account.a', { from: 2 }))).rejects.toBeInstanceOf(CorruptRecordError);
  });

  it('refuses a non-semver descriptor and out-of-range options with typed errors', async () => {
    const c = accountContract('pay');
    await expect(createEventStore({ backend: new MemoryEventStoreBackend(), events: [{ ...c.opened, version: 'one' }], source: 't' })).rejects.toBeInstanceOf(UnknownEventTypeError);
    const store = await createEventStore({ backend: new MemoryEventStoreBackend(), events: c.all, upcasters: c.upcasters, source: 't' });
    for (const expectedVersion of [-1, 1.5, NaN, '3' as never, {} as never]) {
      await expect(store.append('pay.account.a', [], { expectedVersion })).rejects.toBeInstanceOf(InvalidOptionError);
    }
    await expect(collectAll(store.read('pay.account.a', { from: -2 }))).rejects.toBeInstanceOf(InvalidOptionError);
    await expect(collectAll(store.read('pay.account.a', { direction: 'sideways' as never }))).rejects.toBeInstanceOf(InvalidOptionError);
    await expect(collectAll(store.readAll({ types: 'account.opened' as never }))).rejects.toBeInstanceOf(InvalidOptionError);
  });
});

async function collectAll<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}
