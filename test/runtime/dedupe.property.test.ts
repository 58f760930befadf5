/**
 * The in-memory dedupe store keeps fingerprints in typed arrays with its own hash index;
 * these tests hold it to a plain model (exact keys in a list) and its hash to the
 * reference MurmurHash3.
 */
import murmur from 'murmurhash3js-revisited';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MemoryDedupeStore } from '../../src/runtime/dedupe.js';
import { fingerprint, newFingerprint } from '../../src/runtime/fingerprint.js';
import type { ClaimResult } from '../../src/runtime/types.js';

const hex = (fp: Int32Array): string => [...fp].map((w) => (w >>> 0).toString(16).padStart(8, '0')).join('');

describe('fingerprint', () => {
  it('is MurmurHash3 x86_128 of the UTF-16LE bytes, for every tail length', () => {
    const fp = newFingerprint();
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 70 }), (s) => {
        fingerprint(s, fp);
        expect(hex(fp)).toBe(murmur.x86.hash128(Buffer.from(s, 'utf16le')));
      }),
      { numRuns: 2000 },
    );
  });

  it('tells apart keys that differ in one code unit, however long', () => {
    const a = newFingerprint();
    const b = newFingerprint();
    const base = 'orders/' + 'x'.repeat(200);
    fingerprint(base, a);
    for (let i = 0; i < base.length; i++) {
      fingerprint(base.slice(0, i) + 'y' + base.slice(i + 1), b);
      expect(hex(b)).not.toBe(hex(a));
    }
  });
});

/** What the store promises, written the obvious way. */
class Model {
  private entries: Array<{ key: string; state: 'free' | 'claimed' | 'done'; until: number }> = [];
  constructor(
    private readonly max: number,
    private readonly retention: number,
  ) {}
  private add(key: string, state: 'claimed' | 'done', until: number): void {
    if (this.entries.length === this.max) this.entries.shift();
    this.entries.push({ key, state, until });
  }
  claim(key: string, ttl: number, now: number): ClaimResult {
    const e = this.entries.find((x) => x.key === key);
    if (!e) {
      this.add(key, 'claimed', now + ttl);
      return 'claimed';
    }
    if (e.state !== 'free' && e.until > now) return e.state === 'done' ? 'done' : 'busy';
    e.state = 'claimed';
    e.until = now + ttl;
    return 'claimed';
  }
  complete(key: string, now: number): void {
    const e = this.entries.find((x) => x.key === key);
    if (!e) this.add(key, 'done', now + this.retention);
    else {
      e.state = 'done';
      e.until = now + this.retention;
    }
  }
  release(key: string): void {
    const e = this.entries.find((x) => x.key === key);
    if (e) e.state = 'free';
  }
  get size(): number {
    return this.entries.filter((e) => e.state !== 'free').length;
  }
}

type Op = { op: 'claim'; key: number; ttl: number } | { op: 'complete'; key: number } | { op: 'release'; key: number } | { op: 'tick'; ms: number };

describe('MemoryDedupeStore', () => {
  it('behaves like the model: claims, completions, releases, expiry and eviction of the oldest', async () => {
    const op: fc.Arbitrary<Op> = fc.oneof(
      { weight: 6, arbitrary: fc.record({ op: fc.constant('claim' as const), key: fc.nat(2000), ttl: fc.integer({ min: 1, max: 50 }) }) },
      { weight: 4, arbitrary: fc.record({ op: fc.constant('complete' as const), key: fc.nat(2000) }) },
      { weight: 1, arbitrary: fc.record({ op: fc.constant('release' as const), key: fc.nat(2000) }) },
      { weight: 1, arbitrary: fc.record({ op: fc.constant('tick' as const), ms: fc.integer({ min: 1, max: 40 }) }) },
    );
    await fc.assert(
      // Small windows over a few hundred keys: eviction, wrap-around and index growth all happen.
      fc.asyncProperty(fc.integer({ min: 1, max: 1500 }), fc.array(op, { minLength: 200, maxLength: 4000, size: 'max' }), async (max, ops) => {
        let now = 1_000;
        const store = new MemoryDedupeStore({ maxEntries: max, retentionMs: 100, now: () => now });
        const model = new Model(max, 100);
        for (const o of ops) {
          if (o.op === 'tick') now += o.ms;
          else if (o.op === 'claim') expect(await store.claim(`g/${o.key}`, o.ttl)).toBe(model.claim(`g/${o.key}`, o.ttl, now));
          else if (o.op === 'complete') {
            await store.complete(`g/${o.key}`);
            model.complete(`g/${o.key}`, now);
          } else {
            await store.release(`g/${o.key}`);
            model.release(`g/${o.key}`);
          }
          expect(store.size).toBe(model.size);
        }
      }),
      { numRuns: 60 },
    );
  });

  it('remembers exactly the newest maxEntries ids across growth and wrap-around', () => {
    const store = new MemoryDedupeStore({ maxEntries: 5000 });
    const ids = Array.from({ length: 23_000 }, (_, i) => `group/${i.toString(36)}-${(i * 7919) % 10007}`);
    for (const id of ids) {
      expect(store.claimSync(id, 60_000)).toBe('claimed');
      store.completeSync(id);
    }
    expect(store.size).toBe(5000);
    // Forgotten ones first: claiming them would evict remembered ones.
    for (const id of ids.slice(-5000)) expect(store.claimSync(id, 60_000)).toBe('done');
    for (const id of ids.slice(0, 18_000)) expect(store.claimSync(id, 60_000)).toBe('claimed');
  });
});
