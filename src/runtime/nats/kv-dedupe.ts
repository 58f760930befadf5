/**
 * A dedupe store shared by every instance of a consumer group, on JetStream KV. Lives in the
 * NATS entry point: the broker-neutral runtime (and its in-memory store) loads no NATS code.
 */
import { createHash } from 'node:crypto';
import type { NatsConnection } from '@nats-io/transport-node';
import { JetStreamApiError, JetStreamApiCodes } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import type { ClaimResult, DedupeStore } from '../types.js';

const KV_KEY = /^[-/_=a-zA-Z0-9]+(\.[-/_=a-zA-Z0-9]+)*$/;
const enc = new TextEncoder();
const dec = new TextDecoder();

export interface KvDedupeOptions {
  /** Bucket name, created if missing. Default 'event-contracts-dedupe'. */
  bucket?: string;
  /** How long a handled id is remembered (bucket max age). Default 24 h. */
  retentionMs?: number;
  replicas?: number;
  /** How long complete() and release() retry a failing write (a bucket electing a leader). Default 20 000 ms. */
  settleRetryMs?: number;
}

/**
 * Shared store on JetStream KV: `create` is an atomic insert and `update` a
 * compare-and-set on the revision, so exactly one instance wins a claim.
 */
export class KvDedupeStore implements DedupeStore {
  private constructor(
    readonly kv: KV,
    private readonly owner: string,
    private readonly settleRetryMs: number,
  ) {}

  static async open(nc: NatsConnection, options: KvDedupeOptions = {}): Promise<KvDedupeStore> {
    // Loaded here, not at the top: users of the NATS transport without this store need not install @nats-io/kv.
    const { Kvm } = await import('@nats-io/kv');
    const kv = await new Kvm(nc).create(options.bucket ?? 'event-contracts-dedupe', {
      history: 1,
      ttl: options.retentionMs ?? 24 * 3600_000,
      replicas: options.replicas ?? 1,
    });
    return new KvDedupeStore(kv, `${process.pid}-${Math.random().toString(36).slice(2, 8)}`, options.settleRetryMs ?? 20_000);
  }

  private static key(key: string): string {
    // Ids are usually UUIDs; anything a KV key cannot hold is hashed instead.
    return KV_KEY.test(key) && key.length <= 200 ? key : 'h.' + createHash('sha256').update(key).digest('hex');
  }

  async claim(rawKey: string, ttlMs: number): Promise<ClaimResult> {
    const key = KvDedupeStore.key(rawKey);
    const value = enc.encode(`claim:${Date.now() + ttlMs}:${this.owner}`);
    // Bounded: each round either wins, sees a final state, or lost a race to another claimer.
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await this.kv.create(key, value);
        return 'claimed';
      } catch (err) {
        if (!isWrongLastSequence(err)) throw err;
      }
      const e = await this.kv.get(key);
      if (!e || e.operation !== 'PUT') continue; // deleted meanwhile: create again
      const v = dec.decode(e.value);
      if (v === 'done') return 'done';
      const expiresAt = Number(v.split(':')[1]);
      if (Number.isFinite(expiresAt) && expiresAt > Date.now()) return 'busy';
      try {
        // The holder crashed (its claim expired): take over only if nobody else did first.
        await this.kv.update(key, value, e.revision);
        return 'claimed';
      } catch (err) {
        if (!isWrongLastSequence(err)) throw err;
      }
    }
    return 'busy';
  }

  /**
   * Retried (see settle): a 'done' that is not written leaves the claim to expire, and if the
   * message's ack is lost as well (both happen when a cluster node dies) the redelivery is
   * handled a second time.
   */
  async complete(rawKey: string): Promise<void> {
    await this.settle(() => this.kv.put(KvDedupeStore.key(rawKey), enc.encode('done')));
  }

  async release(rawKey: string): Promise<void> {
    await this.settle(() => this.kv.delete(KvDedupeStore.key(rawKey)));
  }

  /**
   * Runs a write until it succeeds, with backoff, for at most `settleRetryMs`: while a
   * replicated bucket elects a new leader (seconds), writes fail with timeouts or "jetstream
   * not enabled", and giving up at once would lose the handled mark. The bound stays well
   * under the default claim TTL (60 s), after which another instance could claim the event.
   */
  private async settle(write: () => Promise<unknown>): Promise<void> {
    const deadline = Date.now() + this.settleRetryMs;
    for (let delay = 50; ; delay = Math.min(delay * 2, 1000)) {
      try {
        await write();
        return;
      } catch (err) {
        if (Date.now() + delay > deadline) throw err;
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  /** Removes the bucket (tests, teardown). */
  async destroy(): Promise<void> {
    await this.kv.destroy();
  }
}

function isWrongLastSequence(err: unknown): boolean {
  return (
    err instanceof JetStreamApiError &&
    (err.code === JetStreamApiCodes.StreamWrongLastSequence || err.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown)
  );
}
