/**
 * Request/reply over Kafka. A request is a record on the topic that carries its subject,
 * with the requester's reply topic, a correlation id and a deadline in `ec-kafka-*`
 * headers; responders are a consumer group per (group, subject pattern) on that topic and
 * answer on the reply topic. Each transport instance has one reply topic of its own
 * (`<prefix>reply.<instance>`, created on its first request, deleted at close), read by a
 * group of one.
 *
 * No responder. Kafka cannot know whether anyone serves a subject: a request is stored
 * whether or not a group reads it. A subject no topic of the topology carries cannot have
 * a responder, so that is a NoResponderError at once; otherwise a request nobody answers is
 * a RequestTimeoutError. Responders skip requests past their deadline (a responder group
 * starting late, or catching up after a crash, does not answer requests nobody waits for).
 *
 * A responder answers only on a reply topic under the transport's prefix: the reply topic
 * is the requester's to name, and any other would let a request make responders write into
 * arbitrary topics.
 *
 * Broker loss. The client gives a stream up when its fetches keep failing (a broker down
 * for longer than its retries), and a member whose group coordinator left the cluster fails
 * every heartbeat without an error on the stream. Responders and the requester's reply
 * reader then read again with a new member, with backoff, until the broker is back (the
 * event consumer does the same, see consumer.ts), so request/reply recovers on its own.
 */
import { createHash, randomUUID } from 'node:crypto';
import { subjectMatches } from '../address.js';
import { backoffDelay, RECONNECT_BACKOFF, sleep } from '../backoff.js';
import { BusClosedError, NoResponderError, RequestTimeoutError } from '../errors.js';
import type { HeaderRecord, InboundMessage, OutboundMessage, RequestHandler, ServeSpec } from '../types.js';
import { closeConsumer, type ConsumerHost, type RawConsumer, type RawMessage } from './consumer.js';
import { CORRELATION_HEADER, KafkaHeaders, REPLY_TO_HEADER, SUBJECT_HEADER, toKafkaHeaders, type RawHeaders } from './headers.js';
import { replyTopic, responderGroupPrefix, UnroutedSubjectError } from './names.js';
import type { MessagesStream } from '@platformatic/kafka';

/** When a request stops being worth answering (ms since the epoch). */
export const DEADLINE_HEADER = 'ec-kafka-deadline';

export interface RpcHost extends ConsumerHost {
  /** Unique per transport instance. */
  readonly instanceId: string;
  deleteOwn(topic: string, group: string): Promise<void>;
}

type Stream = MessagesStream<Buffer, Buffer, Buffer, Buffer>;

/**
 * Reads `topics` with a new member of `group` whenever the one before gave up (its stream
 * closed, or its heartbeats keep failing), with backoff, until stopped.
 */
class SupervisedReader {
  private consumer: RawConsumer | undefined;
  private stream: Stream | undefined;
  private reopening = false;
  private stopped = false;

  constructor(
    private readonly host: ConsumerHost,
    private readonly group: string,
    private readonly topics: readonly string[],
    /** Where the first member starts; a member reading again starts where the group stopped. */
    private readonly firstMode: 'committed' | 'earliest',
    private readonly onData: (m: RawMessage) => void,
    private readonly onError: (err: Error) => void,
  ) {}

  /** Opens the first member; rejects when it cannot read. */
  start(): Promise<void> {
    return this.open(this.firstMode);
  }

  pause(): void {
    this.stream?.pause();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.stream?.close().catch(() => undefined);
    if (this.consumer) await closeConsumer(this.consumer);
  }

  private async open(mode: 'committed' | 'earliest'): Promise<void> {
    const consumer = this.host.newConsumer(this.group);
    let stream: Stream;
    try {
      // 'committed' falls back to the start of what is retained for a new group.
      stream = await consumer.consume({ topics: [...this.topics], autocommit: 1000, mode, fallbackMode: 'earliest', maxWaitTime: 500 });
    } catch (err) {
      await closeConsumer(consumer);
      throw err;
    }
    if (this.stopped) {
      await stream.close().catch(() => undefined);
      await closeConsumer(consumer);
      return;
    }
    this.consumer = consumer;
    this.stream = stream;
    stream.on('data', this.onData);
    stream.on('error', (err: Error) => {
      if (!this.stopped) this.onError(err);
    });
    stream.on('close', () => {
      if (this.stream === stream) this.reopen();
    });
    let heartbeatFailures = 0;
    consumer.on('consumer:heartbeat:end', () => void (heartbeatFailures = 0));
    consumer.on('consumer:heartbeat:error', () => {
      if (this.consumer === consumer && ++heartbeatFailures >= 3) this.reopen();
    });
  }

  private reopen(): void {
    if (this.reopening || this.stopped) return;
    this.reopening = true;
    const { stream, consumer } = this;
    this.stream = undefined;
    this.consumer = undefined;
    // Not awaited: leaving the group may need a broker that is gone.
    void stream?.close().catch(() => undefined);
    if (consumer) void closeConsumer(consumer);
    void (async () => {
      for (let attempt = 1; !this.stopped; attempt++) {
        await sleep(backoffDelay(RECONNECT_BACKOFF, attempt));
        if (this.stopped) break;
        try {
          await this.open('committed');
          break;
        } catch (err) {
          if (attempt === 1) this.onError(new Error(`reading again failed, retrying: ${(err as Error).message}`));
        }
      }
      this.reopening = false;
    })();
  }
}

/** A responder: a consumer group per (group, subject pattern) on the topics that carry the subject. */
export class KafkaResponder {
  private reader: SupervisedReader | undefined;
  private stopped = false;
  private readonly running = new Set<Promise<void>>();
  private readonly group: string;

  constructor(
    private readonly host: RpcHost,
    private readonly spec: ServeSpec,
    private readonly handler: RequestHandler,
  ) {
    // Instances of one responder group share it; without a group every instance answers.
    const hash = createHash('sha256').update(spec.subject).digest('hex').slice(0, 10);
    this.group = `${responderGroupPrefix(host.internalPrefix, spec.group ?? `solo-${randomUUID()}`)}${hash}`;
  }


  async start(): Promise<void> {
    const topics = this.host.router.topicsFor([this.spec.subject]);
    if (topics.length === 0) throw new UnroutedSubjectError(this.spec.subject);
    // From the start of what is retained: a request written while the group was forming
    // must not be missed. Old ones are past their deadline and skipped.
    this.reader = new SupervisedReader(
      this.host,
      this.group,
      topics,
      'committed',
      (m) => this.received(m),
      (err) => this.host.notify({ kind: 'consumer-error', transport: 'kafka', group: this.group, detail: `the responder stream failed: ${err.message}`, error: err }),
    );
    await this.reader.start();
  }

  /** The stream's 'data' listener: must not throw. */
  private received(m: RawMessage): void {
    if (this.stopped) return;
    let p: Promise<void>;
    try {
      const headers = new KafkaHeaders(m.headers as unknown as RawHeaders);
      const subject = headers.own.get(SUBJECT_HEADER);
      const replyTo = headers.own.get(REPLY_TO_HEADER);
      const corr = headers.own.get(CORRELATION_HEADER);
      const deadline = Number(headers.own.get(DEADLINE_HEADER) ?? '0');
      if (subject === undefined || !subjectMatches(this.spec.subject, subject)) return;
      // Not a request (an event on the same topic), or one whose answer would go astray.
      if (replyTo === undefined || corr === undefined || !replyTo.startsWith(`${this.host.internalPrefix}reply.`)) return;
      if (!(deadline > Date.now())) return;
      const req: InboundMessage = { subject, headers, body: m.value ?? Buffer.alloc(0) };
      p = this.handler(req)
        .catch((e: unknown) => ({ headers: { 'ec-reply-error': 'handler-failed', 'ec-reply-error-detail': String(e).slice(0, 512) } as HeaderRecord, body: new Uint8Array(0) }))
        .then(async (r) => {
          const out = toKafkaHeaders(r.headers, subject);
          out.set(CORRELATION_HEADER, corr);
          await this.host.publisher.send({ topic: replyTo, key: undefined, headers: out, value: r.body });
        });
    } catch {
      // A request that cannot even be read gets no reply; the requester times out.
      return;
    }
    const tracked: Promise<void> = p.catch(() => undefined).finally(() => this.running.delete(tracked));
    this.running.add(tracked);
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.reader?.pause();
    // Requests already received still get their reply.
    await Promise.all(this.running);
    await this.reader?.stop();
  }
}

interface Pending {
  resolve: (m: InboundMessage) => void;
  reject: (e: unknown) => void;
}

/** Requester side: this instance's reply topic, replies matched by correlation id. */
export class KafkaRequester {
  private ready: Promise<void> | undefined;
  private reader: SupervisedReader | undefined;
  private readonly pending = new Map<string, Pending>();
  private seq = 0;
  private closed = false;
  readonly topic: string;

  constructor(private readonly host: RpcHost) {
    this.topic = replyTopic(host.internalPrefix, host.instanceId);
  }

  private open(): Promise<void> {
    return (this.ready ??= (async () => {
      await this.host.ensureTopics([this.topic], 1);
      const reader = new SupervisedReader(
        this.host,
        this.topic,
        [this.topic],
        // The first member reads the new topic from its start.
        'earliest',
        (m) => this.received(m),
        () => this.failAll(new Error('the reply consumer failed before the reply arrived')),
      );
      await reader.start();
      this.reader = reader;
    })().catch((err: unknown) => {
      this.ready = undefined;
      throw err;
    }));
  }

  private received(m: RawMessage): void {
    try {
      const headers = new KafkaHeaders(m.headers as unknown as RawHeaders);
      const p = this.pending.get(headers.own.get(CORRELATION_HEADER) ?? '');
      p?.resolve({ subject: headers.own.get(SUBJECT_HEADER) ?? '', headers, body: m.value ?? Buffer.alloc(0) });
    } catch {
      // An unreadable reply: its request times out.
    }
  }

  async request(m: OutboundMessage, timeoutMs: number): Promise<InboundMessage> {
    const topic = this.host.router.topicOf(m.subject);
    if (topic === undefined) throw new NoResponderError(m.subject);
    await this.open();
    if (this.closed) throw new BusClosedError();
    const corr = `${++this.seq}`;
    return new Promise<InboundMessage>((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        this.pending.delete(corr);
      };
      const timer = setTimeout(() => {
        done();
        reject(new RequestTimeoutError(m.subject, timeoutMs));
      }, timeoutMs);
      this.pending.set(corr, { resolve: (r) => (done(), resolve(r)), reject: (e) => (done(), reject(e)) });
      const headers = toKafkaHeaders(m.headers, m.subject);
      headers.set(REPLY_TO_HEADER, this.topic);
      headers.set(CORRELATION_HEADER, corr);
      headers.set(DEADLINE_HEADER, String(Date.now() + timeoutMs));
      this.host.publisher.send({ topic, key: m.subject, headers, value: m.body }).catch((err: unknown) => this.pending.get(corr)?.reject(err));
    });
  }

  private failAll(err: unknown): void {
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const p of pending) p.reject(err);
  }

  /** Fails what is pending, stops reading and deletes the reply topic and its group. */
  async close(): Promise<void> {
    this.closed = true;
    this.failAll(new BusClosedError());
    if (!this.ready) return;
    await this.ready.catch(() => undefined);
    await this.reader?.stop();
    await this.host.deleteOwn(this.topic, this.topic).catch(() => undefined);
  }
}
