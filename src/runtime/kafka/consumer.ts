/**
 * Consuming: one Kafka consumer (one group member) per consume() call, reading the topics
 * that carry the group's subjects plus the group's retry topics. Each record becomes a
 * Delivery the bus settles; a record whose subject none of the group's patterns match is
 * settled at once (its topic carries other subjects too).
 *
 * Offsets are committed only for settled records, and per partition only up to the first
 * unsettled one (PartitionOffsets), so a later record settled early is never committed
 * ahead of an earlier one still running: a consumer that dies mid-way makes the group
 * redeliver from its first unsettled record (at least once; the bus's dedupe store makes
 * the copies of handled events acks). At most `maxInFlight` records are held (handed out
 * or waiting for a retry's due time): the stream is paused until some settle.
 *
 * Retries. Kafka has no per-message nak, so a retry is a copy: the record is republished to
 * the group's retry topic for its delay bucket (see names.ts) with its subject, the count of
 * deliveries so far and its due time in `ec-kafka-*` headers, then the original is
 * committed. The group reads its retry topics too and hands a copy out once it is due.
 * Chosen over pause-and-seek, which redelivers by seeking the partition back: that holds
 * every later record of the partition (other keys included) behind one failing record for
 * its whole backoff, and re-reads what came after it. The price of copies is that a retried
 * record leaves its partition's order, as a NATS nak with delay does. The count is read only
 * on the group's own retry topics; every `ec-kafka-*` header arriving elsewhere is dropped
 * (a producer cannot forge an attempt count), and only this transport should be allowed to
 * write to retry topics (Kafka ACLs). When the copy cannot be written, the record is kept
 * and handed out again here after the delay (uncommitted, so a crash redelivers it).
 *
 * Nothing about one record can stop the consumer: the delivery is built without throwing
 * (unreadable headers make it `malformed`), a hand-off that throws is retried.
 */
import type { Consumer, Message, MessagesStream } from '@platformatic/kafka';
import { isBrokerGone } from './internals.js';
import { kafkaAuthorizationFailure, kafkaPermissionDenied } from './security.js';
import { subjectMatches } from '../address.js';
import { backoffDelay, DEFAULT_BACKOFF, RECONNECT_BACKOFF, sleep } from '../backoff.js';
import { deadLetterHeaders, fitDeadLetter } from '../dead-letter.js';
import type { ConsumeSpec, DeadLetterInfo, DeadLetterReason, Delivery, DeliveryHandler, HeaderReader, TransportNotice } from '../types.js';
import { ATTEMPT_HEADER, DUE_HEADER, hidden, KafkaHeaders, NO_HEADERS, recordBytes, SUBJECT_HEADER, toKafkaHeaders, type RawHeaders } from './headers.js';
import { delayBucket, isRetryTopicOf, retryTopic, retryTopics, UnroutedSubjectError, type TopicRouter } from './names.js';
import { PartitionOffsets } from './offsets.js';
import type { KafkaPublisher } from './producer.js';
import type { KafkaTransportStats } from './types.js';

export type RawMessage = Message<Buffer, Buffer, Buffer, Buffer>;
export type RawConsumer = Consumer<Buffer, Buffer, Buffer, Buffer>;

/** What a consumer uses of its transport. */
export interface ConsumerHost {
  readonly router: TopicRouter;
  readonly internalPrefix: string;
  readonly publisher: KafkaPublisher;
  readonly stats: KafkaTransportStats;
  /** A new group member (not yet joined). */
  newConsumer(groupId: string): RawConsumer;
  /** Creates the topics that do not exist yet (the transport's own: retry and reply topics). */
  ensureTopics(names: readonly string[], partitions: number): Promise<void>;
  maxMessageBytes(): number;
  notify(n: TransportNotice): void;
  /**
   * Whether the transport connects as an account (SASL or a client certificate): brokers
   * enforce ACLs per account, so only then may reading a topic be refused.
   */
  readonly authenticated: boolean;
  /** A record arrived: if a connection had been lost, the cluster serves us again. */
  recovered(server: string | undefined, how: string): void;
}

/** A record with what was read of it once. */
interface Received {
  readonly m: RawMessage;
  readonly t: PartitionOffsets;
  readonly headers: KafkaHeaders;
  /** The concrete subject, or undefined when the record carries none. */
  readonly subject: string | undefined;
  /** Deliveries so far, from the group's own retry topic; 0 elsewhere. */
  readonly attempts: number;
}

/** Closes a group member without waiting for its fetches (it leaves the group); never rejects. */
export function closeConsumer(c: RawConsumer): Promise<void> {
  return new Promise<void>((resolve) => c.close(true, () => resolve()));
}

/**
 * Calls `listener` after each fetch of `stream`: with the error the fetch failed with, or
 * undefined when it went through. The stream emits 'fetch' and then, for a failed fetch,
 * destroys itself in the same turn, so the outcome is read a microtask later. Returns the
 * function that stops listening.
 */
function onFetched(stream: MessagesStream<Buffer, Buffer, Buffer, Buffer>, listener: (error: unknown) => void): () => void {
  const fetched = (): void => queueMicrotask(() => listener(stream.destroyed ? (stream.errored ?? new Error('the consumer stream closed')) : undefined));
  stream.on('fetch', fetched);
  return () => void stream.off('fetch', fetched);
}

/** A non-negative safe integer written by us, or undefined. */
function count(v: string | undefined): number | undefined {
  if (v === undefined || !/^[0-9]{1,15}$/.test(v)) return undefined;
  return Number(v);
}

export class KafkaGroupConsumer {
  private consumer: RawConsumer | undefined;
  private stream: MessagesStream<Buffer, Buffer, Buffer, Buffer> | undefined;
  /** Offsets of each assigned partition (`topic:partition`) in the current generation. */
  private trackers = new Map<string, PartitionOffsets>();
  /** Partitions assigned in the current generation, `topic:partition`. */
  private assigned = new Set<string>();
  /** Retry records not due yet, per retry-topic partition, in order. */
  private readonly waiting = new Map<string, Array<{ rec: Received; due: number }>>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private unsettled = 0;
  private held = 0;
  private paused = false;
  private stopped = false;
  private commitScheduled = false;
  private committing: Promise<void> | undefined;
  private commitAgain = false;
  private finishing: Promise<void> | undefined;
  private drainedResolve!: () => void;
  /** Resolves once a stopped consumer made its last commit and left the group. */
  readonly drained = new Promise<void>((r) => (this.drainedResolve = r));
  private readonly ephemeral: boolean;

  constructor(
    readonly host: ConsumerHost,
    readonly spec: ConsumeSpec,
    private readonly onDelivery: DeliveryHandler,
  ) {
    this.ephemeral = spec.ephemeral === true;
  }

  get group(): string {
    return this.spec.group;
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  async start(): Promise<void> {
    const router = this.host.router;
    const topics = router.topicsFor(this.spec.subjects);
    if (topics.length === 0) throw new UnroutedSubjectError(this.spec.subjects.join(', '));
    const partitions = Math.max(1, ...router.topics.filter((t) => topics.includes(t.name)).map((t) => t.partitions ?? 1));
    const retry = this.ephemeral ? [] : retryTopics(this.host.internalPrefix, this.group);
    if (retry.length > 0) await this.host.ensureTopics(retry, partitions);
    const consumer = this.newMember();
    this.topics = [...topics, ...retry];
    try {
      await this.open();
      if (this.stream && this.host.authenticated) await this.firstFetch(this.stream);
    } catch (err) {
      this.stopped = true;
      await this.stream?.close().catch(() => undefined);
      await closeConsumer(consumer);
      throw err;
    }
  }

  /**
   * Waits for the stream's first fetch when this member was assigned partitions: the broker
   * checks the right to read a topic only when it is fetched (joining the group and reading
   * its offsets need less), and a consumer the ACLs refuse must fail to start, not start and
   * then retry for ever. Rejects only for that refusal; any other failure is the stream's to
   * recover from. Costs up to the fetch wait (500 ms) when the topics hold nothing new, so
   * only a transport that connects as an account waits.
   */
  private firstFetch(stream: MessagesStream<Buffer, Buffer, Buffer, Buffer>): Promise<void> {
    if (!(this.consumer?.assignments ?? []).some((a) => a.partitions.length > 0)) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const done = (err: unknown): void => {
        stopListening();
        stream.off('error', done);
        stream.off('close', onClose);
        if (err !== undefined && kafkaAuthorizationFailure(err) !== undefined) reject(err);
        else resolve();
      };
      const stopListening = onFetched(stream, done);
      const onClose = (): void => done(stream.errored ?? undefined);
      stream.once('error', done);
      stream.once('close', onClose);
    });
  }

  private topics: string[] = [];
  private reopening = false;
  /** Streams that failed since a fetch last went through. */
  private failedStreams = 0;
  private renewing: Promise<void> | undefined;

  private newMember(): RawConsumer {
    const consumer = this.host.newConsumer(this.group);
    this.consumer = consumer;
    consumer.on('consumer:group:join', () => {
      if (this.consumer === consumer) this.rebalanced();
    });
    // A member whose coordinator left the cluster fails every heartbeat (and would fetch
    // nothing more once the group moved on without it) but raises no error: renew it.
    let heartbeatFailures = 0;
    consumer.on('consumer:heartbeat:end', () => void (heartbeatFailures = 0));
    consumer.on('consumer:heartbeat:error', (p: { error?: unknown } | undefined) => {
      if (this.consumer !== consumer || this.stopped || this.finishing) return;
      heartbeatFailures++;
      if (isBrokerGone(p?.error) || heartbeatFailures >= 3) {
        heartbeatFailures = 0;
        this.host.notify({ kind: 'consumer-error', transport: 'kafka', group: this.group, detail: `group heartbeats fail (${(p?.error as Error | undefined)?.message ?? 'unknown error'}): joining again as a new member` });
        void this.renew();
      }
    });
    return consumer;
  }

  /**
   * Replaces this instance's group member with a new one. The client caches the group's
   * coordinator for the life of a member: once that broker has left the cluster, every
   * commit fails (src/runtime/kafka/internals.ts) until a new member looks the coordinator
   * up again. What the old member held uncommitted is read again (rebalanced: revoked), and
   * the dedupe store makes the handled records acks.
   */
  private renew(): Promise<void> {
    this.renewing ??= (async () => {
      const old = this.consumer;
      const oldStream = this.stream;
      this.stream = undefined;
      this.newMember();
      this.rebalanced();
      // Not awaited: leaving the group needs the coordinator that is gone.
      void oldStream?.close().catch(() => undefined);
      if (old) void closeConsumer(old);
      for (let attempt = 1; !this.stopped; attempt++) {
        try {
          await this.open();
          return;
        } catch (err) {
          if (attempt === 1) this.host.notify({ kind: 'consumer-error', transport: 'kafka', group: this.group, detail: `a new group member could not read yet, retrying: ${(err as Error).message}`, error: err });
          await sleep(backoffDelay(RECONNECT_BACKOFF, attempt));
        }
      }
    })().finally(() => (this.renewing = undefined));
    return this.renewing;
  }

  /** Starts reading: a stream of the group's topics from the committed offsets. */
  private async open(): Promise<void> {
    const stream = await this.consumer!.consume({
      topics: this.topics,
      autocommit: false,
      // A new group reads what its topics retain, as a new JetStream durable does (deliver
      // policy all); an ephemeral one only what comes after it.
      mode: 'committed',
      fallbackMode: this.ephemeral ? 'latest' : 'earliest',
      maxWaitTime: 500,
    });
    if (this.stopped) {
      await stream.close().catch(() => undefined);
      return;
    }
    this.stream = stream;
    this.paused = false;
    this.rebalanced();
    // A fetch that went through ends a run of failed streams.
    onFetched(stream, (err) => void (err === undefined && (this.failedStreams = 0)));
    stream.on('data', (m: RawMessage) => this.received(m));
    stream.on('error', (err: Error) => {
      if (this.stopped) return;
      // An ACL revoked while the consumer runs: said as such; it reads again once granted.
      const denied = kafkaPermissionDenied(err, 'subscribe', this.spec.subjects.join(', '));
      this.host.notify({ kind: 'consumer-error', transport: 'kafka', group: this.group, detail: `the consumer stream failed, reading again: ${(denied ?? err).message}`, error: denied ?? err });
    });
    stream.on('close', () => {
      if (this.stream !== stream || this.stopped) return;
      this.failedStreams++;
      this.reopen();
    });
  }

  /**
   * The client gives up a stream on a failed fetch (a broker gone): read again, with backoff,
   * from the committed offsets. What this instance holds uncommitted is read again too (the
   * dedupe store makes the handled ones acks). A second stream failing before any fetch went
   * through is the member's problem, not the stream's: reading the group's committed offsets
   * goes to the coordinator the member cached, and once that broker is gone every new stream
   * of the member fails the same way (while its heartbeats may have stopped without saying
   * so), so a new member reads instead.
   */
  private reopen(): void {
    if (this.reopening) return;
    this.reopening = true;
    this.stream = undefined;
    void (async () => {
      for (let attempt = 1; !this.stopped; attempt++) {
        await sleep(backoffDelay(RECONNECT_BACKOFF, attempt));
        if (this.stopped) break;
        if (this.failedStreams >= 2) {
          this.failedStreams = 0;
          this.reopening = false;
          this.host.notify({ kind: 'consumer-error', transport: 'kafka', group: this.group, detail: 'the consumer stream failed twice without a fetch going through: joining again as a new member' });
          await this.renew();
          return;
        }
        try {
          await this.open();
          break;
        } catch (err) {
          if (attempt === 1) this.host.notify({ kind: 'consumer-error', transport: 'kafka', group: this.group, detail: `reading again failed, retrying: ${(err as Error).message}`, error: err });
          // The member itself may be stuck (its cached coordinator left the cluster):
          // after a second failure, or at once for that reason, read with a new member.
          if (isBrokerGone(err) || attempt >= 2) {
            this.reopening = false;
            await this.renew();
            return;
          }
        }
      }
      this.reopening = false;
    })();
  }

  /** A (re)join: records held from the previous generation are no longer ours to commit. */
  private rebalanced(): void {
    for (const t of this.trackers.values()) t.revoked = true;
    this.trackers = new Map();
    this.assigned = new Set();
    for (const a of this.consumer?.assignments ?? []) for (const p of a.partitions) this.assigned.add(`${a.topic}:${p}`);
    for (const q of this.waiting.values()) this.held -= q.length;
    this.waiting.clear();
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    this.flow();
  }

  private matches(subject: string): boolean {
    for (const p of this.spec.subjects) if (subjectMatches(p, subject)) return true;
    return false;
  }

  /** The stream's 'data' listener: must not throw. */
  private received(m: RawMessage): void {
    this.host.recovered(undefined, 'a record was fetched');
    const tp = `${m.topic}:${m.partition}`;
    // Buffered before a rebalance took the partition away: its new owner reads it.
    if (!this.assigned.has(tp)) return;
    let t = this.trackers.get(tp);
    if (!t || !t.received(m.offset)) {
      if (t) t.revoked = true;
      t = new PartitionOffsets(m.topic, m.partition);
      t.received(m.offset);
      this.trackers.set(tp, t);
    }
    // Stopping: left uncommitted, the group's next owner of the partition reads it.
    if (this.stopped) return;
    try {
      const fromRetry = !this.ephemeral && isRetryTopicOf(this.host.internalPrefix, this.group, m.topic);
      const headers = new KafkaHeaders(m.headers as unknown as RawHeaders);
      const subject = headers.own.get(SUBJECT_HEADER);
      if (!fromRetry && subject !== undefined && !this.matches(subject)) {
        this.host.stats.skipped++;
        t.settle(m.offset);
        this.scheduleCommit();
        return;
      }
      const attempts = fromRetry ? (count(headers.own.get(ATTEMPT_HEADER)) ?? 0) : 0;
      const rec: Received = { m, t, headers, subject, attempts };
      const due = fromRetry ? (count(headers.own.get(DUE_HEADER)) ?? 0) : 0;
      if (this.waiting.has(tp) || due > Date.now()) this.hold(tp, rec, due);
      else this.deliver(rec, attempts + 1);
    } catch (err) {
      // A bug of ours: not settled, so it is not lost (redelivered after a restart).
      this.host.stats.handoffErrors++;
      this.host.notify({ kind: 'consumer-error', transport: 'kafka', group: this.group, detail: `record ${tp}@${m.offset} could not be handed out`, error: err });
    }
  }

  /** Hands a record to the bus as delivery number `n`. */
  deliver(rec: Received, n: number): void {
    if (this.stopped || rec.t.revoked) return;
    this.unsettled++;
    this.flow();
    let d: KafkaDelivery | undefined;
    try {
      d = new KafkaDelivery(this, rec, n);
      this.onDelivery(d);
    } catch {
      this.host.stats.handoffErrors++;
      if (!d) {
        this.unsettled--;
        return;
      }
      if (!d.settledAlready) void d.retry(backoffDelay(DEFAULT_BACKOFF, n)).catch(() => undefined);
    }
  }

  private hold(tp: string, rec: Received, due: number): void {
    let q = this.waiting.get(tp);
    if (!q) this.waiting.set(tp, (q = []));
    q.push({ rec, due });
    this.held++;
    this.flow();
    this.arm(tp);
  }

  private arm(tp: string): void {
    const q = this.waiting.get(tp);
    if (!q || q.length === 0 || this.timers.has(tp)) return;
    const timer = setTimeout(() => {
      this.timers.delete(tp);
      this.release(tp);
    }, Math.max(0, q[0]!.due - Date.now()));
    timer.unref?.();
    this.timers.set(tp, timer);
  }

  /** Hands out the retry records of a partition that are due, in order. */
  private release(tp: string): void {
    const q = this.waiting.get(tp);
    if (!q) return;
    const now = Date.now();
    while (q.length > 0 && q[0]!.due <= now + 1) {
      const { rec } = q.shift()!;
      this.held--;
      this.deliver(rec, rec.attempts + 1);
    }
    if (q.length === 0) this.waiting.delete(tp);
    else this.arm(tp);
    this.flow();
  }

  /**
   * Pauses the stream at maxInFlight records held and resumes it at half that: resuming
   * restarts the client's fetch loop, and doing so at every settled record made it fetch a
   * record at a time.
   */
  private flow(): void {
    const s = this.stream;
    if (!s || this.stopped) return;
    const held = this.unsettled + this.held;
    if (!this.paused && held >= this.spec.maxInFlight) {
      this.paused = true;
      s.pause();
    } else if (this.paused && held <= Math.floor(this.spec.maxInFlight / 2)) {
      this.paused = false;
      s.resume();
    }
  }

  /** A delivery was settled (`commit`: its offset may be committed; else it stays for redelivery). */
  settled(rec: Received, commit: boolean): void {
    this.unsettled--;
    if (commit) {
      rec.t.settle(rec.m.offset);
      this.scheduleCommit();
    }
    if (this.stopped && this.unsettled <= 0) void this.finish();
    else this.flow();
  }

  private scheduleCommit(): void {
    if (this.commitScheduled) return;
    this.commitScheduled = true;
    setImmediate(() => {
      this.commitScheduled = false;
      void this.flush();
    });
  }

  /** Commits every partition's commit point that moved; one commit request at a time. */
  flush(): Promise<void> {
    if (this.committing) {
      this.commitAgain = true;
      return this.committing;
    }
    this.committing = (async () => {
      for (let failures = 0; ; ) {
        this.commitAgain = false;
        const offsets = [];
        const trackers: Array<[PartitionOffsets, bigint]> = [];
        for (const t of this.trackers.values()) {
          const o = t.due();
          if (o === undefined) continue;
          t.committing(o);
          trackers.push([t, o]);
          offsets.push({ topic: t.topic, partition: t.partition, offset: o, leaderEpoch: -1 });
        }
        if (offsets.length > 0 && this.consumer) {
          try {
            await this.consumer.commit({ offsets });
            failures = 0;
          } catch (err) {
            for (const [t, o] of trackers) t.failed(o);
            this.host.stats.commitFailures++;
            if (failures++ === 0) this.host.notify({ kind: 'consumer-error', transport: 'kafka', group: this.group, detail: `offset commit failed: ${(err as Error).message}`, error: err });
            if (this.finishing && failures > 3) return;
            if (!this.finishing && !this.stopped && (isBrokerGone(err) || failures >= 5)) {
              // The member's coordinator is gone (or commits keep failing): a new member.
              await this.renew();
              failures = 0;
              continue;
            }
            await sleep(backoffDelay(RECONNECT_BACKOFF, failures));
            this.commitAgain = true;
          }
        }
        if (!this.commitAgain) return;
      }
    })().finally(() => (this.committing = undefined));
    return this.committing;
  }

  // -------------------------------------------------------------------------------------
  // Retry and dead-letter copies.
  // -------------------------------------------------------------------------------------

  /** The record's headers as they came, less the transport's own (never carried over). */
  private carried(rec: Received): Map<Buffer, Buffer> {
    const out = new Map<Buffer, Buffer>();
    for (const [k, v] of rec.m.headers as unknown as RawHeaders) {
      if (k === undefined || v === undefined || v === null) continue;
      if (hidden(k.toString('utf8'))) continue;
      out.set(k, v);
    }
    return out;
  }

  /** Writes `rec` to the group's retry topic for `delayMs`, as delivery `n` so far. */
  async publishRetry(rec: Received, n: number, delayMs: number): Promise<void> {
    const headers = new Map<string | Buffer, string | Buffer>(this.carried(rec));
    headers.set(SUBJECT_HEADER, rec.subject ?? rec.m.topic);
    headers.set(ATTEMPT_HEADER, String(n));
    headers.set(DUE_HEADER, String(Date.now() + Math.max(0, delayMs)));
    const topic = retryTopic(this.host.internalPrefix, this.group, delayBucket(delayMs));
    await this.host.publisher.send({ topic, key: rec.m.key ?? undefined, headers, value: rec.m.value ?? Buffer.alloc(0) });
    this.host.stats.retries++;
  }

  /** Publishes a dead letter of `rec`: original bytes and readable headers plus the reason headers. */
  async publishDeadLetter(rec: Received, info: DeadLetterInfo, n: number): Promise<void> {
    const topic = this.host.router.route(info.subject);
    const subject = rec.subject ?? rec.m.topic;
    const key = rec.m.key ?? undefined;
    const size = (h: Record<string, string>, b: Uint8Array) => recordBytes(toKafkaHeaders(h, info.subject), b, key?.toString('utf8'));
    const fitted = fitDeadLetter(deadLetterHeaders(rec.headers.record(), subject, info, n), rec.m.value ?? Buffer.alloc(0), this.host.maxMessageBytes(), size);
    await this.host.publisher.send({ topic, key, headers: toKafkaHeaders(fitted.headers, info.subject), value: fitted.body });
  }

  /** The copy could not be written: hand the record out again here after the delay. */
  retryLocally(rec: Received, n: number, delayMs: number): void {
    const t = setTimeout(() => {
      this.unsettled--;
      if (this.stopped || rec.t.revoked) {
        if (this.stopped && this.unsettled <= 0) void this.finish();
        return;
      }
      this.deliver(rec, n + 1);
    }, Math.max(delayMs, RECONNECT_BACKOFF.initialMs));
    t.unref?.();
  }

  // -------------------------------------------------------------------------------------
  // Stopping.
  // -------------------------------------------------------------------------------------

  /** No more deliveries; the group is left once the bus settled what it holds (see drained). */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.stream?.pause();
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    this.waiting.clear();
    this.held = 0;
    if (this.unsettled <= 0) void this.finish();
  }

  /** Last commit, then leave the group (its partitions go to the other members at once). */
  finish(): Promise<void> {
    this.finishing ??= (async () => {
      await this.flush().catch(() => undefined);
      await this.stream?.close().catch(() => undefined);
      if (this.consumer) await closeConsumer(this.consumer);
    })().finally(() => this.drainedResolve());
    return this.finishing;
  }
}

/** One delivery; a class because one is made per record. Its constructor never throws. */
class KafkaDelivery implements Delivery {
  readonly subject: string;
  readonly headers: HeaderReader;
  readonly body: Uint8Array;
  readonly malformed?: { readonly reason: DeadLetterReason; readonly detail: string };
  private done = false;

  constructor(
    private readonly c: KafkaGroupConsumer,
    private readonly rec: Received,
    readonly deliveryCount: number,
  ) {
    this.subject = rec.subject ?? rec.m.topic;
    this.body = rec.m.value ?? Buffer.alloc(0);
    const problem = rec.headers.problem ?? (rec.subject === undefined ? `the record carries no ${SUBJECT_HEADER} header (topic ${rec.m.topic})` : undefined);
    if (problem !== undefined) {
      this.headers = NO_HEADERS;
      this.malformed = { reason: rec.headers.problem !== undefined ? 'headers-invalid' : 'missing-attributes', detail: problem };
    } else this.headers = rec.headers;
  }

  get settledAlready(): boolean {
    return this.done;
  }

  async ack(): Promise<void> {
    if (this.done) return;
    this.done = true;
    this.c.settled(this.rec, true);
  }

  async retry(delayMs: number): Promise<void> {
    if (this.done) return;
    // Marked now: nothing else may settle it while the copy is written.
    this.done = true;
    if (this.c.spec.ephemeral) return this.c.settled(this.rec, true);
    // Stopping (or the partition moved): left uncommitted for the group's next reader.
    if (this.c.isStopped || this.rec.t.revoked) return this.c.settled(this.rec, false);
    try {
      await this.c.publishRetry(this.rec, this.deliveryCount, delayMs);
      this.c.settled(this.rec, true);
    } catch {
      this.c.retryLocally(this.rec, this.deliveryCount, delayMs);
    }
  }

  async deadLetter(info: DeadLetterInfo): Promise<void> {
    if (this.done) return;
    // Rejects (leaving the record unsettled, so the bus retries it) when it cannot be stored.
    await this.c.publishDeadLetter(this.rec, info, this.deliveryCount);
    if (this.done) return;
    this.done = true;
    this.c.settled(this.rec, true);
  }
}
