/**
 * The event bus: everything broker-neutral. Encodes envelopes, validates payloads, runs the
 * middleware onions, schedules handlers (concurrency, per-key order, dedupe, retries with
 * backoff, dead letters) and leaves bytes-on-the-wire to a Transport.
 */
import { randomUUID } from 'node:crypto';
import { addressOf } from './address.js';
import { compress, decodeMessage, decodeMessageSync, encodeFields, H, type DecodedEnvelope, type EncodedEvent } from './codec.js';
import { MemoryDedupeStore } from './dedupe.js';
import {
  BusClosedError,
  DecodeError,
  EventTooLargeError,
  EventValidationError,
  PublishBatchError,
  RemoteHandlerError,
} from './errors.js';
import type {
  BackoffOptions,
  BatchItem,
  DeadLetter,
  DeadLetterReason,
  DeadLetterSubscribeSpec,
  DedupeStore,
  Delivery,
  Envelope,
  EventBus,
  EventBusOptions,
  EventDescriptor,
  EventHandler,
  HandleMiddlewareContext,
  HandlerContext,
  HeaderRecord,
  InboundMessage,
  Middleware,
  OutboundMessage,
  PublishMiddlewareContext,
  PublishOptions,
  PublishReceipt,
  RequestOptions,
  RespondOptions,
  RuntimeNotice,
  SubscribeSpec,
  Subscription,
  Transport,
  TransportSubscription,
} from './types.js';
import { VersionResolver } from './versions.js';
import { backoffDelay, DEFAULT_BACKOFF } from './backoff.js';

let lastMs = 0;
let lastIso = '';
/** ISO time of now, formatted once per millisecond (publishers send many per ms). */
function nowIso(): string {
  const ms = Date.now();
  if (ms !== lastMs) {
    lastMs = ms;
    lastIso = new Date(ms).toISOString();
  }
  return lastIso;
}

type PublishFn = (ctx: PublishMiddlewareContext, send: () => Promise<PublishReceipt>) => Promise<PublishReceipt>;
type HandleFn = (ctx: HandleMiddlewareContext, run: () => Promise<void>) => Promise<void>;

/** Builds the onion once; with no middleware the call is direct (the hot path). */
function composePublish(mw: readonly Middleware[]): PublishFn | undefined {
  const layers = mw.filter((m) => m.publish);
  if (layers.length === 0) return undefined;
  return (ctx, send) => {
    const step = (i: number): Promise<PublishReceipt> => (i === layers.length ? send() : layers[i]!.publish!(ctx, () => step(i + 1)));
    return step(0);
  };
}

function composeHandle(mw: readonly Middleware[]): HandleFn | undefined {
  const layers = mw.filter((m) => m.handle);
  if (layers.length === 0) return undefined;
  return (ctx, run) => {
    const step = (i: number): Promise<void> => (i === layers.length ? run() : layers[i]!.handle!(ctx, () => step(i + 1)));
    return step(0);
  };
}

function headerBytes(h: HeaderRecord): number {
  // NATS/1.0 status line plus "k: v\r\n" per header plus the closing CRLF.
  let n = 12;
  for (const k in h) n += k.length + (h[k] as string).length + 4;
  return n;
}

function errorText(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return String(err);
}

interface Prepared<T> {
  id: string;
  subject: string;
  encoded: EncodedEvent;
  value: T;
  time: string;
}

interface Route {
  handler: EventHandler;
  versions: VersionResolver<unknown>;
}

interface Job {
  d: Delivery;
  env: DecodedEnvelope;
  route: Route;
  key: string | undefined;
}

class BusImpl implements EventBus {
  readonly source: string;
  private readonly transport: Transport;
  private readonly mode: 'binary' | 'structured';
  private readonly compressAbove: number | undefined;
  private readonly maxDecodedBytes: number;
  private readonly requestTimeoutMs: number;
  private readonly newId: () => string;
  private readonly middleware: readonly Middleware[];
  private readonly publishOnion: PublishFn | undefined;
  private readonly handleOnion: HandleFn | undefined;
  private readonly noticeListeners: Middleware[];
  private readonly subscriptions = new Set<Subscription>();
  private readonly defaultDedupe = new MemoryDedupeStore();
  private closing: Promise<void> | undefined;
  private readonly closeController = new AbortController();

  constructor(o: EventBusOptions) {
    if (!o.source) throw new Error('createEventBus: source is required');
    this.transport = o.transport;
    this.source = o.source;
    this.mode = o.mode ?? 'binary';
    this.compressAbove = o.compression?.thresholdBytes;
    this.maxDecodedBytes = o.maxDecodedBytes ?? 16 * 1024 * 1024;
    this.requestTimeoutMs = o.requestTimeoutMs ?? 5000;
    this.newId = o.newId ?? randomUUID;
    this.middleware = o.middleware ?? [];
    this.publishOnion = composePublish(this.middleware);
    this.handleOnion = composeHandle(this.middleware);
    this.noticeListeners = this.middleware.filter((m) => m.notice);
  }

  notify(n: RuntimeNotice): void {
    for (const m of this.noticeListeners) {
      try {
        m.notice!(n);
      } catch {
        // An observer must never break delivery.
      }
    }
  }

  private assertOpen(): void {
    if (this.closing) throw new BusClosedError();
  }

  /** Validate and encode; throws EventValidationError before anything is sent. */
  private async prepare<T>(
    event: EventDescriptor<T>,
    data: T,
    options: PublishOptions | RequestOptions | undefined,
    extra?: { causationId?: string; correlationId?: string; subject?: string },
  ): Promise<Prepared<T>> {
    const p = this.prepareSync(event, data, options, extra);
    if (this.compressAbove !== undefined) p.encoded = await compress(p.encoded, this.compressAbove);
    return p;
  }

  /** Synchronous part of prepare(): without compression, publish awaits nothing before the transport. */
  private prepareSync<T>(
    event: EventDescriptor<T>,
    data: T,
    options: PublishOptions | RequestOptions | undefined,
    extra?: { causationId?: string; correlationId?: string; subject?: string },
  ): Prepared<T> {
    const id = options?.id ?? this.newId();
    const result = event.validate(data);
    if (!result.ok) throw new EventValidationError(id, event.type, event.version, result.errors);
    // Replies travel to the requester's inbox, so their channel address is not filled in.
    const subject = extra?.subject ?? addressOf(event).fill(options?.params);
    const po = options as PublishOptions | undefined;
    const time = po?.timestamp ? po.timestamp.toISOString() : nowIso();
    const encoded = encodeFields(
      {
        id,
        type: event.type,
        source: this.source,
        time,
        version: event.version,
        data: result.value,
        metadata: options?.metadata,
        correlationId: options?.correlationId ?? extra?.correlationId,
        causationId: po?.causationId ?? extra?.causationId,
        partitionKey: po?.orderingKey,
        contentType: event.contentType,
      },
      this.mode,
    );
    return { id, subject, encoded, value: result.value, time };
  }

  private checkSize(id: string, m: OutboundMessage): void {
    const limit = this.transport.maxMessageBytes();
    if (limit === undefined) return;
    const size = m.body.byteLength + headerBytes(m.headers);
    if (size > limit) throw new EventTooLargeError(id, size, limit);
  }

  publish<T>(event: EventDescriptor<T>, data: T, options?: PublishOptions, extra?: { causationId?: string; correlationId?: string }): Promise<PublishReceipt> {
    if (this.compressAbove !== undefined || this.publishOnion || options?.transient === true) return this.publishSlow(event, data, options, extra);
    // Hot path (no compression, no middleware, durable): no async frames of our own between
    // the caller and the transport. Each async layer cost a promise, a microtask hop and a
    // deeper stack for the Error objects nats.js captures per request.
    let msg: OutboundMessage;
    try {
      this.assertOpen();
      const p = this.prepareSync(event, data, options, extra);
      msg = { subject: p.subject, headers: p.encoded.headers, body: p.encoded.body, id: p.id };
      this.checkSize(p.id, msg);
    } catch (err) {
      // publish() reports every failure as a rejection, never as a synchronous throw.
      return Promise.reject(err);
    }
    // The receipt callback keeps only id and subject alive while the ack is awaited, not the message.
    const { id, subject } = msg;
    return this.transport.publish(msg).then((r) => ({ id, subject, stream: r.stream, sequence: r.sequence, duplicate: r.duplicate }));
  }

  private async publishSlow<T>(event: EventDescriptor<T>, data: T, options: PublishOptions | undefined, extra: { causationId?: string; correlationId?: string } | undefined): Promise<PublishReceipt> {
    this.assertOpen();
    const p = this.compressAbove === undefined ? this.prepareSync(event, data, options, extra) : await this.prepare(event, data, options, extra);
    return this.sendPrepared(event, p, options, extra);
  }

  private async sendPrepared<T>(event: EventDescriptor<T>, p: Prepared<T>, options: PublishOptions | undefined, extra: { causationId?: string; correlationId?: string } | undefined): Promise<PublishReceipt> {
    if (!this.publishOnion && options?.transient !== true) {
      // No middleware, durable publish; one await, one receipt object.
      const msg: OutboundMessage = { subject: p.subject, headers: p.encoded.headers, body: p.encoded.body, id: p.id };
      this.checkSize(p.id, msg);
      const r = await this.transport.publish(msg);
      return { id: p.id, subject: p.subject, stream: r.stream, sequence: r.sequence, duplicate: r.duplicate };
    }
    const transient = options?.transient === true;
    const msg: OutboundMessage = { subject: p.subject, headers: p.encoded.headers, body: p.encoded.body, id: p.id };
    const send = async (): Promise<PublishReceipt> => {
      this.checkSize(p.id, msg);
      if (transient) {
        await this.transport.publishTransient(msg);
        return { id: p.id, subject: p.subject, duplicate: false };
      }
      const r = await this.transport.publish(msg);
      const receipt: PublishReceipt = { id: p.id, subject: p.subject, duplicate: r.duplicate };
      if (r.stream !== undefined) receipt.stream = r.stream;
      if (r.sequence !== undefined) receipt.sequence = r.sequence;
      return receipt;
    };
    if (!this.publishOnion) return send();
    const envelope: Envelope = {
      id: p.id,
      type: event.type,
      source: this.source,
      timestamp: new Date(p.time),
      version: event.version,
      data: p.value,
      metadata: options?.metadata ?? {},
      subject: p.subject,
      ...(options?.correlationId ?? extra?.correlationId ? { correlationId: (options?.correlationId ?? extra?.correlationId) as string } : {}),
      ...(options?.causationId ?? extra?.causationId ? { causationId: (options?.causationId ?? extra?.causationId) as string } : {}),
    };
    try {
      return await this.publishOnion({ envelope, descriptor: event as EventDescriptor, headers: msg.headers, transient }, send);
    } catch (err) {
      this.notify({ kind: 'publish-failed', id: p.id, type: event.type, error: err });
      throw err;
    }
  }

  async publishBatch(items: readonly BatchItem[]): Promise<PublishReceipt[]> {
    this.assertOpen();
    // Validate and encode everything first, so an invalid item means nothing was sent.
    const prepared = await Promise.all(items.map((it) => this.prepare(it.event, it.data, it.options)));
    const receipts: Array<PublishReceipt | undefined> = new Array(items.length);
    const failures: Array<{ index: number; error: unknown }> = [];
    await Promise.all(
      prepared.map(async (p, i) => {
        const it = items[i]!;
        try {
          receipts[i] = await this.sendPrepared(it.event, p, it.options, undefined);
        } catch (error) {
          failures.push({ index: i, error });
        }
      }),
    );
    if (failures.length > 0) throw new PublishBatchError(receipts, failures.sort((a, b) => a.index - b.index));
    return receipts as PublishReceipt[];
  }

  async subscribe(spec: SubscribeSpec): Promise<Subscription> {
    this.assertOpen();
    const sub = new Consumer(this, spec, spec.dedupe === undefined ? this.defaultDedupe : spec.dedupe);
    await sub.start();
    this.subscriptions.add(sub);
    return sub;
  }

  async subscribeDeadLetters(spec: DeadLetterSubscribeSpec, handle: (dl: DeadLetter) => Promise<void>): Promise<Subscription> {
    this.assertOpen();
    const inflight = new Set<Promise<void>>();
    let stopped = false;
    const ts = await this.transport.consume({ group: spec.group, subjects: [spec.subject], maxInFlight: 16 }, (d) => {
      if (stopped) {
        void d.retry(0).catch(() => undefined);
        return;
      }
      const h = d.headers;
      const dl: DeadLetter = {
        originalSubject: h.get(H.dlSubject) ?? '',
        reason: (h.get(H.dlReason) ?? 'undecodable') as DeadLetterReason,
        detail: h.get(H.dlDetail) ?? '',
        group: h.get(H.dlGroup) ?? '',
        deliveryCount: Number(h.get(H.dlDeliveryCount) ?? '0'),
        failedAt: new Date(h.get(H.dlTime) ?? 0),
        headers: h,
        body: d.body,
      };
      const p = handle(dl).then(
        () => d.ack(),
        () => d.retry(1000),
      ).catch(() => undefined).finally(() => inflight.delete(p));
      inflight.add(p);
    });
    const bus = this;
    const sub: Subscription = {
      group: spec.group,
      async close() {
        stopped = true;
        await ts.stop();
        await Promise.all(inflight);
        bus.subscriptions.delete(sub);
      },
    };
    this.subscriptions.add(sub);
    return sub;
  }

  async request<Req, Res>(request: EventDescriptor<Req>, data: Req, reply: EventDescriptor<Res>, options?: RequestOptions): Promise<Envelope<Res>> {
    this.assertOpen();
    const p = await this.prepare(request, data, options);
    const msg: OutboundMessage = { subject: p.subject, headers: p.encoded.headers, body: p.encoded.body, id: p.id };
    this.checkSize(p.id, msg);
    const res = await this.transport.request(msg, options?.timeoutMs ?? this.requestTimeoutMs);
    const failure = res.headers.get(H.replyError);
    if (failure !== undefined) throw new RemoteHandlerError(p.subject, failure, res.headers.get(H.replyErrorDetail) ?? '');
    const env = await decodeMessage(res, this.maxDecodedBytes);
    if (env.type !== reply.type) throw new DecodeError('unknown-type', `expected a ${reply.type} reply, got ${env.type}`);
    const match = new VersionResolver(reply.type, [reply]).resolve(env.version);
    if (!match.ok) throw new DecodeError('unknown-version', match.detail);
    const v = reply.validate(env.data);
    if (!v.ok) throw new EventValidationError(env.id, env.type, env.version, v.errors);
    return { ...env, data: v.value };
  }

  async respond<Req, Res>(
    request: EventDescriptor<Req>,
    reply: EventDescriptor<Res>,
    handler: (event: Envelope<Req>, ctx: HandlerContext) => Promise<Res>,
    options?: RespondOptions,
  ): Promise<Subscription> {
    this.assertOpen();
    const addr = addressOf(request);
    const subject = options?.params ? addr.fill(options.params) : addr.pattern;
    const versions = new VersionResolver<Req>(request.type, [request]);
    const group = options?.group ?? this.source;
    const errorReply = (code: string, detail: string) => ({ headers: { [H.replyError]: code, [H.replyErrorDetail]: detail.slice(0, 1024) }, body: new Uint8Array(0) });
    const ts = await this.transport.serve({ subject, group }, async (msg: InboundMessage) => {
      let env: DecodedEnvelope;
      try {
        env = await decodeMessage(msg, this.maxDecodedBytes);
      } catch (err) {
        return errorReply((err as DecodeError).reason ?? 'undecodable', (err as Error).message);
      }
      if (env.type !== request.type) return errorReply('unknown-type', `this responder handles ${request.type}, not ${env.type}`);
      const m = versions.resolve(env.version);
      if (!m.ok) return errorReply('unknown-version', m.detail);
      const v = m.descriptor.validate(env.data);
      if (!v.ok) return errorReply('validation-failed', new EventValidationError(env.id, env.type, env.version, v.errors).message);
      const typed = { ...env, data: v.value } as Envelope<Req>;
      let result!: Res;
      const run = async () => {
        result = await handler(typed, this.handlerContext(group, typed, 1, msg.headers, addr.extract(msg.subject) ?? {}));
      };
      try {
        if (this.handleOnion) await this.handleOnion({ envelope: typed, group, deliveryCount: 1, headers: msg.headers }, run);
        else await run();
      } catch (err) {
        return errorReply('handler-failed', errorText(err));
      }
      try {
        const p = await this.prepare(reply, result, { correlationId: env.correlationId ?? env.id }, { causationId: env.id, subject: '' });
        return { headers: p.encoded.headers, body: p.encoded.body };
      } catch (err) {
        return errorReply('invalid-reply', errorText(err));
      }
    });
    const bus = this;
    const sub: Subscription = {
      group,
      async close() {
        await ts.stop();
        bus.subscriptions.delete(sub);
      },
    };
    this.subscriptions.add(sub);
    return sub;
  }

  handlerContext(group: string, env: Envelope, deliveryCount: number | (() => number), headers: InboundMessage['headers'], params: Record<string, string> | (() => Record<string, string>)): HandlerContext {
    return new Context(this, group, env, deliveryCount, headers, params);
  }

  get signal(): AbortSignal {
    return this.closeController.signal;
  }

  get decodedLimit(): number {
    return this.maxDecodedBytes;
  }

  get handleMiddleware(): HandleFn | undefined {
    return this.handleOnion;
  }

  get wire(): Transport {
    return this.transport;
  }

  forget(sub: Subscription): void {
    this.subscriptions.delete(sub);
  }

  close(): Promise<void> {
    if (!this.closing) {
      this.closing = (async () => {
        await Promise.allSettled([...this.subscriptions].map((s) => s.close()));
        this.closeController.abort();
        await this.transport.close();
      })();
    }
    return this.closing;
  }
}

/** Per-event handler context; a class with lazy fields because one is made per event. */
class Context implements HandlerContext {
  private p: Record<string, string> | (() => Record<string, string>);
  private n: number | (() => number);
  constructor(
    private readonly bus: BusImpl,
    readonly group: string,
    private readonly env: Envelope,
    deliveryCount: number | (() => number),
    readonly headers: InboundMessage['headers'],
    params: Record<string, string> | (() => Record<string, string>),
  ) {
    this.p = params;
    this.n = deliveryCount;
  }
  get subject(): string {
    return this.env.subject;
  }
  get params(): Readonly<Record<string, string>> {
    if (typeof this.p === 'function') this.p = this.p();
    return this.p;
  }
  get deliveryCount(): number {
    if (typeof this.n === 'function') this.n = this.n();
    return this.n;
  }
  get signal(): AbortSignal {
    return this.bus.signal;
  }
  publish<T>(event: EventDescriptor<T>, data: T, options?: PublishOptions): Promise<PublishReceipt> {
    return this.bus.publish(event, data, options, { causationId: this.env.id, correlationId: this.env.correlationId ?? this.env.id });
  }
}

/** One subscribe() call: a durable consumer plus the scheduler in front of its handlers. */
class Consumer implements Subscription {
  readonly group: string;
  private readonly routes = new Map<string, Route>();
  private readonly concurrency: number;
  private readonly maxInFlight: number;
  private readonly maxDeliver: number;
  private readonly backoff: BackoffOptions;
  private readonly claimTtlMs: number;
  private readonly deadLetterSubject: string;
  private readonly keyOf: ((e: Envelope) => string | undefined) | undefined;
  private readonly ready: Job[] = [];
  /** Keys with a job running; the array holds the jobs waiting behind it, in arrival order. */
  private readonly keyed = new Map<string, Job[]>();
  private running = 0;
  private readonly settling = new Set<Promise<void>>();
  private ts: TransportSubscription | undefined;
  private stopped = false;
  private closed: Promise<void> | undefined;
  private readonly memDedupe: MemoryDedupeStore | undefined;

  constructor(
    private readonly bus: BusImpl,
    private readonly spec: SubscribeSpec,
    private readonly dedupe: DedupeStore | null,
  ) {
    this.group = spec.group;
    if (!/^[A-Za-z0-9_-]+$/.test(spec.group)) throw new Error(`consumer group '${spec.group}' must match [A-Za-z0-9_-]+ (it names a durable consumer)`);
    for (const h of spec.handlers) {
      if (this.routes.has(h.type)) throw new Error(`two handlers for '${h.type}' in group ${spec.group}`);
      this.routes.set(h.type, { handler: h, versions: new VersionResolver(h.type, h.accepts as EventDescriptor<unknown>[]) });
    }
    this.concurrency = Math.max(1, spec.concurrency ?? 1);
    this.maxInFlight = Math.max(this.concurrency, spec.maxInFlight ?? Math.max(4 * this.concurrency, 64));
    // A core (ephemeral) subscription never redelivers: its first failure is its last.
    this.maxDeliver = spec.ephemeral ? 1 : Math.max(1, spec.maxDeliver ?? 5);
    this.backoff = { ...DEFAULT_BACKOFF, ...spec.backoff };
    this.claimTtlMs = spec.claimTtlMs ?? 60_000;
    this.deadLetterSubject = spec.deadLetter?.subject ?? `deadletter.${spec.group}`;
    this.keyOf = spec.orderingKey;
    this.memDedupe = dedupe instanceof MemoryDedupeStore ? dedupe : undefined;
  }

  subjects(): string[] {
    if (this.spec.subjects && this.spec.subjects.length > 0) return [...new Set(this.spec.subjects)];
    const out = new Set<string>();
    for (const r of this.routes.values()) for (const d of r.handler.accepts) out.add(addressOf(d).pattern);
    return [...out];
  }

  async start(): Promise<void> {
    const consumeSpec = {
      group: this.group,
      subjects: this.subjects(),
      maxInFlight: this.maxInFlight,
      ...(this.spec.ackWaitMs !== undefined ? { ackWaitMs: this.spec.ackWaitMs } : {}),
      ...(this.spec.ephemeral ? { ephemeral: true } : {}),
    };
    this.ts = await this.bus.wire.consume(consumeSpec, (d) => this.onDelivery(d));
  }

  /** Runs synchronously in arrival order, so per-key order is fixed before anything awaits. */
  private onDelivery(d: Delivery): void {
    if (this.stopped) {
      this.track(d.retry(0));
      return;
    }
    let env: DecodedEnvelope;
    try {
      env = decodeMessageSync(d, this.bus.decodedLimit);
    } catch (err) {
      const e = err instanceof DecodeError ? err : new DecodeError('undecodable', errorText(err));
      this.track(this.deadLetter(d, e.reason, e.message, undefined));
      return;
    }
    const route = this.routes.get(env.type);
    if (!route) {
      if (this.spec.unhandled === 'ack') this.track(d.ack());
      else this.track(this.deadLetter(d, 'unknown-type', `no handler for event type '${env.type}' in group ${this.group}`, env));
      return;
    }
    const m = route.versions.resolve(env.version);
    if (!m.ok) {
      this.track(this.deadLetter(d, 'unknown-version', m.detail, env));
      return;
    }
    const v = m.descriptor.validate(env.data);
    if (!v.ok) {
      this.track(this.deadLetter(d, 'validation-failed', new EventValidationError(env.id, env.type, env.version, v.errors).message, env));
      return;
    }
    (env as { data: unknown }).data = v.value;
    let key: string | undefined;
    try {
      key = this.keyOf ? this.keyOf(env) : env.partitionKey;
    } catch (err) {
      this.track(this.deadLetter(d, 'handler-failed', `orderingKey() threw: ${errorText(err)}`, env));
      return;
    }
    const job: Job = { d, env, route, key };
    if (key !== undefined) {
      const waiting = this.keyed.get(key);
      if (waiting) {
        waiting.push(job);
        return;
      }
      this.keyed.set(key, []);
    }
    this.ready.push(job);
    this.pump();
  }

  private pump(): void {
    while (this.running < this.concurrency && this.ready.length > 0) {
      const job = this.ready.shift()!;
      this.running++;
      this.run(job);
    }
  }

  /**
   * Runs a job in a slot; when it is done, the next job queued behind its key takes the same
   * slot (per-key order). Promise callbacks rather than an async loop around runJob: one
   * promise less per event.
   */
  private run(job: Job): void {
    const done = (): void => this.finished(job);
    (this.stopped ? this.returnToBroker(job) : this.runJob(job)).then(done, done);
  }

  private finished(job: Job): void {
    const next = job.key !== undefined ? this.nextForKey(job.key) : undefined;
    if (next) {
      this.run(next);
      return;
    }
    this.running--;
    if (this.running === 0 && this.ready.length === 0) this.idle?.();
    this.pump();
  }

  private nextForKey(key: string): Job | undefined {
    const waiting = this.keyed.get(key);
    const next = waiting?.shift();
    if (!next) this.keyed.delete(key);
    return next;
  }

  private async returnToBroker(job: Job): Promise<void> {
    await job.d.retry(0).catch(() => undefined);
  }

  private async runJob(job: Job): Promise<void> {
    const { d, env, route } = job;
    const dedupeKey = `${this.group}/${env.id}`;
    const store = this.dedupe;
    try {
      if (store) {
        const claim = this.memDedupe ? this.memDedupe.claimSync(dedupeKey, this.claimTtlMs) : await store.claim(dedupeKey, this.claimTtlMs);
        if (claim === 'done') {
          this.bus.notify({ kind: 'duplicate', group: this.group, id: env.id, type: env.type });
          await d.ack();
          return;
        }
        if (claim === 'busy') {
          // Someone else is handling it right now; not a failure, so no dead letter.
          await d.retry(backoffDelay(this.backoff, 1));
          return;
        }
      }
    } catch (err) {
      // The store is unreachable: retry later rather than risk handling twice.
      await d.retry(backoffDelay(this.backoff, d.deliveryCount)).catch(() => undefined);
      this.bus.notify({ kind: 'retry', group: this.group, id: env.id, type: env.type, deliveryCount: d.deliveryCount, delayMs: 0, error: err });
      return;
    }
    const ctx = this.bus.handlerContext(this.group, env, () => d.deliveryCount, d.headers, () => this.params(route, env.subject));
    const onion = this.bus.handleMiddleware;
    let error: unknown;
    let failed = false;
    try {
      if (onion) {
        await onion({ envelope: env, group: this.group, deliveryCount: d.deliveryCount, headers: d.headers }, () => route.handler.handle(env, ctx));
      } else {
        await route.handler.handle(env, ctx);
      }
    } catch (err) {
      failed = true;
      error = err;
    }
    try {
      if (!failed) {
        if (this.memDedupe) this.memDedupe.completeSync(dedupeKey);
        else if (store) await store.complete(dedupeKey);
        await d.ack();
        return;
      }
      if (store) await store.release(dedupeKey);
      if (d.deliveryCount >= this.maxDeliver) {
        await this.deadLetter(d, 'handler-failed', `failed ${d.deliveryCount} deliveries; last error: ${errorText(error)}`, env);
      } else {
        const delayMs = backoffDelay(this.backoff, d.deliveryCount);
        this.bus.notify({ kind: 'retry', group: this.group, id: env.id, type: env.type, deliveryCount: d.deliveryCount, delayMs, error });
        await d.retry(delayMs);
      }
    } catch {
      // Settling failed (connection lost): the broker redelivers after its ack wait.
    }
  }

  private params(route: Route, subject: string): Record<string, string> {
    for (const d of route.handler.accepts) {
      const p = addressOf(d).extract(subject);
      if (p) return p;
    }
    return {};
  }

  private async deadLetter(d: Delivery, reason: DeadLetterReason, detail: string, env: DecodedEnvelope | undefined): Promise<void> {
    try {
      await d.deadLetter({ subject: this.deadLetterSubject, reason, detail, group: this.group });
      this.bus.notify({ kind: 'dead-letter', group: this.group, reason, detail, ...(env ? { id: env.id, type: env.type } : {}) });
    } catch {
      // Dead-letter publish failed: leave it for redelivery (the transport did not term it).
      await d.retry(backoffDelay(this.backoff, d.deliveryCount)).catch(() => undefined);
    }
  }

  private track(p: Promise<void>): void {
    const t = p.catch(() => undefined).finally(() => this.settling.delete(t));
    this.settling.add(t);
  }

  private idle: (() => void) | undefined;

  close(): Promise<void> {
    if (!this.closed) {
      this.closed = (async () => {
        this.stopped = true;
        await this.ts?.stop();
        // Jobs not started go back to the broker now instead of after the ack wait.
        const pending = this.ready.splice(0);
        for (const w of this.keyed.values()) pending.push(...w.splice(0));
        await Promise.all(pending.map((j) => this.returnToBroker(j)));
        if (this.running > 0) await new Promise<void>((resolve) => (this.idle = resolve));
        await Promise.all(this.settling);
        this.bus.forget(this);
      })();
    }
    return this.closed;
  }
}

export function createEventBus(options: EventBusOptions): EventBus {
  return new BusImpl(options);
}
