/**
 * The transport's one producer: idempotent (the broker drops a batch the client retried
 * after a lost acknowledgement, and keeps per-partition order across retries), acks=all.
 *
 * Records published in the same turn of the event loop go in one produce request, and one
 * request is in flight at a time: what arrives meanwhile waits and goes in the next, so
 * batches grow with the load (as librdkafka's linger does) and a retried batch can never be
 * overtaken by a later one, which is what per-key order needs.
 */
import { Producer, ProduceAcks, type MessageToProduce } from '@platformatic/kafka';
import { backoffDelay, RECONNECT_BACKOFF, sleep } from '../backoff.js';
import { BusClosedError } from '../errors.js';
import { kafkaAuthorizationFailure } from './security.js';

/** Whether a failed send may succeed when tried again: the client says so on every error in its chain. */
function retriable(err: unknown): boolean {
  const e = err as { canRetry?: unknown; errors?: unknown[]; cause?: unknown; findBy?: (k: string, v: unknown) => unknown };
  if (typeof e?.findBy === 'function') return !e.findBy('canRetry', false);
  return e?.canRetry !== false;
}

export interface OutRecord {
  topic: string;
  key: string | Buffer | undefined;
  headers: ReadonlyMap<string | Buffer, string | Buffer>;
  value: Uint8Array;
}

interface Queued {
  message: MessageToProduce<Buffer, Buffer, Buffer, Buffer>;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** Largest batch handed to one produce request (count; the broker's limit is per record batch bytes). */
const MAX_BATCH = 1000;

/**
 * Header names as bytes, made once: every record carries the same dozen names (`ce_id`,
 * `ce_type`, …), and making a Buffer of each for every record was half the Buffers send()
 * made. The client only reads them. Bounded, since callers may add headers of their own.
 */
const names = new Map<string, Buffer>();
const MAX_NAMES = 1024;
function nameBytes(name: string): Buffer {
  let b = names.get(name);
  if (b === undefined) {
    b = Buffer.from(name, 'utf8');
    if (names.size < MAX_NAMES) names.set(name, b);
  }
  return b;
}

export class KafkaPublisher {
  private queue: Queued[] = [];
  private inflight: Promise<void> | undefined;
  private closed = false;

  constructor(
    readonly producer: Producer<Buffer, Buffer, Buffer, Buffer>,
    /** How long a batch is tried before its publishes fail. */
    private readonly deadlineMs: number,
    /** Called after every acknowledged batch (the transport learns the cluster serves it). */
    private readonly acked: () => void = () => undefined,
  ) {}

  static create(base: ConstructorParameters<typeof Producer<Buffer, Buffer, Buffer, Buffer>>[0], deadlineMs: number, acked?: () => void): KafkaPublisher {
    return new KafkaPublisher(new Producer<Buffer, Buffer, Buffer, Buffer>({ ...base, idempotent: true, acks: ProduceAcks.ALL }), deadlineMs, acked);
  }

  /** Resolves once the broker stored the record on all in-sync replicas. */
  send(r: OutRecord): Promise<void> {
    if (this.closed) return Promise.reject(new BusClosedError());
    const headers = new Map<Buffer, Buffer>();
    for (const [k, v] of r.headers) headers.set(typeof k === 'string' ? nameBytes(k) : k, typeof v === 'string' ? Buffer.from(v, 'utf8') : v);
    const message: MessageToProduce<Buffer, Buffer, Buffer, Buffer> = {
      topic: r.topic,
      value: Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength),
      headers,
    };
    if (r.key !== undefined) message.key = typeof r.key === 'string' ? Buffer.from(r.key, 'utf8') : r.key;
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ message, resolve, reject });
      if (!this.inflight) this.inflight = this.pump();
    });
  }

  private async pump(): Promise<void> {
    while (this.queue.length > 0) {
      // Let the rest of this turn's publishes join the batch: those the previous batch's
      // completion set going (a publisher with N in flight refills as its acks come back),
      // else the batches alternate between a large and a small one.
      await new Promise<void>((r) => setImmediate(r));
      const batch = this.queue.length <= MAX_BATCH ? this.queue : this.queue.slice(0, MAX_BATCH);
      this.queue = this.queue.length <= MAX_BATCH ? [] : this.queue.slice(MAX_BATCH);
      try {
        await this.sendRetrying(batch.map((q) => q.message));
        for (const q of batch) q.resolve();
        this.acked();
      } catch (err) {
        if (kafkaAuthorizationFailure(err) !== undefined && batch.some((q) => q.message.topic !== batch[0]!.message.topic)) await this.sendEachTopic(batch);
        else for (const q of batch) q.reject(err);
      }
    }
    this.inflight = undefined;
  }

  /**
   * The broker's ACLs refuse per topic (and store what they allow): a batch over several
   * topics that was refused is sent again a topic at a time, so a refused topic fails its own
   * publishes only. The allowed ones may be stored twice; the consumers' dedupe store absorbs that.
   */
  private async sendEachTopic(batch: Queued[]): Promise<void> {
    const byTopic = new Map<string, Queued[]>();
    for (const q of batch) {
      let same = byTopic.get(q.message.topic);
      if (!same) byTopic.set(q.message.topic, (same = []));
      same.push(q);
    }
    for (const same of byTopic.values()) {
      try {
        await this.sendRetrying(same.map((q) => q.message));
        for (const q of same) q.resolve();
        this.acked();
      } catch (err) {
        for (const q of same) q.reject(err);
      }
    }
  }

  /**
   * Sends a batch, trying again until `deadlineMs` has passed while the failure may pass (a
   * broker gone, a leader being elected). The client's own retries keep to the metadata it
   * had, so a killed leader was tried until they ran out; between tries the metadata is
   * dropped, so the next one asks the cluster who leads now. A batch the broker may have
   * stored before the failure can be stored twice: the consumers' dedupe store absorbs that.
   */
  private async sendRetrying(messages: Array<MessageToProduce<Buffer, Buffer, Buffer, Buffer>>): Promise<void> {
    const until = Date.now() + this.deadlineMs;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.producer.send({ messages });
        return;
      } catch (err) {
        if (this.closed || !retriable(err) || Date.now() + backoffDelay(RECONNECT_BACKOFF, attempt) > until) throw err;
        this.producer.clearMetadata();
        await sleep(backoffDelay(RECONNECT_BACKOFF, attempt));
      }
    }
  }

  /** Waits for what is queued, then closes the producer. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    while (this.inflight) await this.inflight;
    await this.producer.close().catch(() => undefined);
  }
}
