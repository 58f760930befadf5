/**
 * The verifier's bounded memory of verified hashes and batches (BoundedMemory): it holds at
 * most `max` keys, always the most recent `max / 2`, and forgets older ones in whole
 * generations, so remembering never scans what it forgot (the single-Map FIFO it replaces
 * spent 23 µs per insertion at 200 000 keys, skipping deleted entries on every eviction).
 */
import { describe, expect, it } from 'vitest';
import { BoundedMemory } from '../../src/runtime/signing.js';
import { recordingTransport, signingKeys, type Sent } from './signing-helpers.js';

const key = signingKeys('sign-per-signer');

describe('BoundedMemory', () => {
  it('given/want: the newest max/2 keys are always there, never more than max keys in all', () => {
    const m = new BoundedMemory<number>(10);
    for (let i = 0; i < 1000; i++) {
      m.set(`k${i}`, i);
      expect(m.size).toBeLessThanOrEqual(10);
      for (let j = Math.max(0, i - 4); j <= i; j++) expect(m.get(`k${j}`), `k${j} after k${i}`).toBe(j);
    }
    expect(m.get('k0')).toBeUndefined();
    expect(m.get('k989')).toBeUndefined();
  });

  it('a key set again takes its newest value (the young generation answers first)', () => {
    const m = new BoundedMemory<string>(4);
    m.set('x', 'first');
    m.set('a', '');
    m.set('x', 'second');
    expect(m.get('x')).toBe('second');
    m.set('b', '');
    expect(m.get('x')).toBe('second');
  });

  it('a memory of one still remembers the last key', () => {
    const m = new BoundedMemory<boolean>(1);
    m.set('a', true);
    m.set('b', true);
    expect(m.get('b')).toBe(true);
    expect(m.size).toBeLessThanOrEqual(2);
  });
});

describe('what the verifier remembers is per signer', () => {
  it("an event of a batch verified as A's, relabelled as B's (B's key is listed too), is dead-lettered: B never signed it", async () => {
    const { createEventBus, MemoryTransport, signedTransport, SIGNER_HEADER } = await import('../../src/runtime/index.js');
    const { rand, userCreated } = await import('../runtime/helpers.js');
    const a = key('a');
    const b = key('b');
    const shared = new MemoryTransport();
    const ev = userCreated(`ps${rand()}`);
    const handled: string[] = [];
    const dead: string[] = [];
    const consumer = createEventBus({
      transport: signedTransport(new MemoryTransport({ sharedWith: shared }), { verify: { keys: { a: [a.pub], b: [b.pub] } } }),
      source: 'c',
      middleware: [{ name: 'n', notice: (n) => void (n.kind === 'dead-letter' && dead.push(n.reason)) }],
    });
    await consumer.subscribe({ group: 'ps', handlers: [{ type: 'user.created', accepts: [ev], handle: async (e) => void handled.push(e.data.userId) }] });
    const sent: Sent[] = [];
    const producer = createEventBus({ transport: signedTransport(recordingTransport(shared, sent), { sign: { service: 'a', privateKey: { file: a.file } } }), source: 'a' });
    await Promise.all(Array.from({ length: 8 }, (_, i) => producer.publish(ev, { userId: `u${i}`, email: 'a@b' }, { params: { userId: `u${i}` } })));
    const { waitFor } = await import('../runtime/helpers.js');
    await waitFor(() => handled.length === 8, 10_000, 'the batch handled');
    // The same bytes, signature and proof, said to be B's: its leaf is remembered as A's only.
    const raw = new MemoryTransport({ sharedWith: shared });
    await raw.publish({ ...sent[3]!, id: `relabelled-${rand()}`, headers: { ...sent[3]!.headers, [SIGNER_HEADER]: 'b' } });
    await waitFor(() => dead.length === 1, 10_000, 'the relabelled event dead-lettered');
    expect(dead).toEqual(['signature']);
    expect(handled).toHaveLength(8);
    await producer.close();
    await consumer.close();
  });
});
