/**
 * Idempotent consumers. A handler runs only after it claims `<group>/<event id>`; the
 * claim expires, so a crashed handler does not hold an event forever: after `ttlMs` another
 * delivery takes the claim over. Keep ttlMs above the longest handler run.
 */
import { fingerprint, newFingerprint } from './fingerprint.js';
import type { ClaimResult, DedupeStore } from './types.js';

const FREE = 0;
const CLAIMED = 1;
const DONE = 2;
const FIRST_CAPACITY = 1024;

/**
 * Per-process store: remembers the last `maxEntries` ids claimed (default 100 000) for
 * `retentionMs` (default 24 h), oldest out first.
 *
 * It keeps a 128-bit fingerprint of each key in typed arrays, not the key: holding 100 000
 * key strings and entry objects on the heap made the garbage collector copy and promote
 * every one of them, and that plus map lookups was the largest cost of consuming (about 2 µs
 * an event). Two keys share a fingerprint with a chance below that of two random UUIDs being
 * equal, and dedupe already relies on ids being unique.
 *
 * Layout: entries sit in a ring in the order their ids were first seen (oldest at `head`);
 * an open-addressing index with linear probing maps a fingerprint to its ring position. A
 * released id stays in its place, free to be claimed again. Ring and index start small and
 * double up to `maxEntries`.
 */
export class MemoryDedupeStore implements DedupeStore {
  private readonly maxEntries: number;
  private readonly retentionMs: number;
  private readonly now: () => number;
  private readonly fp = newFingerprint();

  private capacity = 0;
  /** Four fingerprint words per ring position. */
  private words = new Int32Array(0);
  private until = new Float64Array(0);
  private state = new Uint8Array(0);
  private head = 0;
  /** Ring positions taken (released ids included); `live` counts those not released. */
  private used = 0;
  private live = 0;

  /** Index slot -> ring position + 1; 0 is an empty slot. At most half full. */
  private index = new Int32Array(0);
  private mask = 0;

  constructor(options: { maxEntries?: number; retentionMs?: number; now?: () => number } = {}) {
    this.maxEntries = Math.max(1, Math.floor(options.maxEntries ?? 100_000));
    this.retentionMs = options.retentionMs ?? 24 * 3600_000;
    this.now = options.now ?? Date.now;
    this.resize(Math.min(FIRST_CAPACITY, this.maxEntries));
  }

  async claim(key: string, ttlMs: number): Promise<ClaimResult> {
    return this.claimSync(key, ttlMs);
  }

  /** Synchronous form used by the bus's fast path (no awaits per message). */
  claimSync(key: string, ttlMs: number): ClaimResult {
    fingerprint(key, this.fp);
    const now = this.now();
    const pos = this.find();
    if (pos < 0) {
      this.insert(CLAIMED, now + ttlMs);
      return 'claimed';
    }
    const state = this.state[pos]!;
    if (state !== FREE && this.until[pos]! > now) return state === DONE ? 'done' : 'busy';
    // Released, a claim whose handler crashed, or an id remembered past its retention: take
    // it (again). It keeps its place in the ring: the window is of ids first seen.
    if (state === FREE) this.live++;
    this.state[pos] = CLAIMED;
    this.until[pos] = now + ttlMs;
    return 'claimed';
  }

  async complete(key: string): Promise<void> {
    this.completeSync(key);
  }

  completeSync(key: string): void {
    fingerprint(key, this.fp);
    const until = this.now() + this.retentionMs;
    const pos = this.find();
    if (pos < 0) {
      this.insert(DONE, until);
      return;
    }
    if (this.state[pos] === FREE) this.live++;
    this.state[pos] = DONE;
    this.until[pos] = until;
  }

  async release(key: string): Promise<void> {
    fingerprint(key, this.fp);
    const pos = this.find();
    if (pos >= 0 && this.state[pos] !== FREE) {
      this.state[pos] = FREE;
      this.live--;
    }
  }

  /** Ids claimed or handled and not released, expired ones not yet dropped included. */
  get size(): number {
    return this.live;
  }

  /** Ring position of the fingerprint in `fp`, or -1. */
  private find(): number {
    const fp = this.fp;
    const words = this.words;
    const index = this.index;
    const mask = this.mask;
    const w0 = fp[0]!;
    for (let i = w0 & mask; ; i = (i + 1) & mask) {
      const e = index[i]!;
      if (e === 0) return -1;
      const w = (e - 1) * 4;
      if (words[w] === w0 && words[w + 1] === fp[1] && words[w + 2] === fp[2] && words[w + 3] === fp[3]) return e - 1;
    }
  }

  /** Adds the fingerprint in `fp` as the newest entry. */
  private insert(state: number, until: number): void {
    if (this.used === this.capacity) {
      if (this.capacity < this.maxEntries) this.resize(Math.min(this.maxEntries, this.capacity * 2));
      else this.dropOldest();
    }
    const pos = (this.head + this.used) % this.capacity;
    this.used++;
    this.live++;
    this.words.set(this.fp, pos * 4);
    this.until[pos] = until;
    this.state[pos] = state;
    this.link(pos);
  }

  private link(pos: number): void {
    const mask = this.mask;
    let i = this.words[pos * 4]! & mask;
    while (this.index[i] !== 0) i = (i + 1) & mask;
    this.index[i] = pos + 1;
  }

  /**
   * Forgets the oldest entry. Linear probing without tombstones: entries after its index slot
   * that would no longer be reachable from their home slot move back into the gap.
   */
  private dropOldest(): void {
    const pos = this.head;
    if (this.state[pos] !== FREE) this.live--;
    this.head = (this.head + 1) % this.capacity;
    this.used--;
    const index = this.index;
    const words = this.words;
    const mask = this.mask;
    let hole = words[pos * 4]! & mask;
    while (index[hole] !== pos + 1) hole = (hole + 1) & mask;
    for (let j = (hole + 1) & mask; index[j] !== 0; j = (j + 1) & mask) {
      const e = index[j]!;
      const home = words[(e - 1) * 4]! & mask;
      // The entry at j stays if its home lies cyclically in (hole, j].
      const stays = hole <= j ? home > hole && home <= j : home > hole || home <= j;
      if (!stays) {
        index[hole] = e;
        hole = j;
      }
    }
    index[hole] = 0;
  }

  /** Re-lays the ring from position 0 in a larger ring and index. */
  private resize(capacity: number): void {
    const words = new Int32Array(capacity * 4);
    const until = new Float64Array(capacity);
    const state = new Uint8Array(capacity);
    const n = this.used;
    for (let k = 0; k < n; k++) {
      const pos = (this.head + k) % this.capacity;
      words.set(this.words.subarray(pos * 4, pos * 4 + 4), k * 4);
      until[k] = this.until[pos]!;
      state[k] = this.state[pos]!;
    }
    this.words = words;
    this.until = until;
    this.state = state;
    this.capacity = capacity;
    this.head = 0;
    let size = 2;
    while (size < capacity * 2) size *= 2;
    this.index = new Int32Array(size);
    this.mask = size - 1;
    for (let pos = 0; pos < n; pos++) this.link(pos);
  }
}
