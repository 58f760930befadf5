/**
 * The event bus: everything broker-neutral. Encodes envelopes, validates payloads, runs the
 * middleware onions, schedules handlers (concurrency, per-key order, dedupe, retries with
 * backoff, dead letters) and leaves bytes-on-the-wire to a Transport.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { addressOf } from './address.js';
import { backoffDelay, DEFAULT_BACKOFF } from './backoff.js';
import { compress, decodeMessage, encodeFields, H, STORED_DATA_JSON, type DecodedEnvelope, type EncodedEvent } from './codec.js';
import { Consumer, errorText, type ConsumerHost } from './consumer.js';
import { MemoryDedupeStore } from './dedupe.js';
import {
  BusClosedError,
  DecodeError,
  EventTooLargeError,
  EventValidationError,
  HeaderValidationError,
  PublishBatchError,
  RemoteHandlerError,
} from './errors.js';
import { prepareHeaders, readContractHeaders, RUNTIME_HEADERS } from './headers.js';
import { DEFAULT_LIMITS, withinDepth, type InboundLimits } from './limits.js';
import { composeHandle, composePublish, type HandleFn, type PublishFn } from './onion.js';
import type {
  BatchItem,
  DeadLetter,
  DeadLetterReason,
  DeadLetterSubscribeSpec,
  Envelope,
  EventBus,
  EventBusOptions,
  EventDescriptor,
  HandlerContext,
  HeaderReader,
  InboundMessage,
  Middleware,
  OutboundMessage,
  PublishOptions,
  PublishReceipt,
  RequestOptions,
  RespondOptions,
  RuntimeNotice,
  SubscribeSpec,
  Subscription,
  Transport,
} from './types.js';
import { VersionResolver } from './versions.js';
import { eventIdOf } from './event-id.js';

/**
 * The event a handler is running for: what it publishes is caused by it. `active` turns false
 * when the handler settles, so a timer or a pool the handler started (which keeps the async
 * context) does not go on publishing as if caused by that event.
 */
interface Handling {
  readonly env: Envelope;
  readonly headers: HeaderReader | undefined;
  active: boolean;
}

/** The conversation an event belongs to: its correlation id, the contract's header, or itself. */
function conversationOf(env: Envelope, headers: HeaderReader | undefined): string {
  return env.correlationId ?? headers?.get('x-correlation-id') ?? env.id;
}

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

/** Bytes of a message where the transport does not say how it frames one: body plus "name: value" lines. */
function plainSize(m: OutboundMessage): number {
  let n = m.body.byteLength;
  for (const k in m.headers) n += k.length + (m.headers[k] as string).length + 4;
  return n;
}

interface Prepared<T> {
  id: string;
  subject: string;
  encoded: EncodedEvent;
  value: T;
  time: string;
  correlationId: string | undefined;
  causationId: string | undefined;
}

/**
 * What a publish made while handling an event inherits from it: causation, correlation, and
 * `inbound`, the handled event's headers (its trace, and the values of headers both messages
 * declare, such as a tenant).
 */
type Extra = { causationId?: string; correlationId?: string; subject?: string; inbound?: HeaderReader; reply?: boolean };

class BusImpl implements EventBus, ConsumerHost {
  readonly source: string;
  private readonly transport: Transport;
  private readonly mode: 'binary' | 'structured';
  private readonly compressAbove: number | undefined;
  readonly limits: InboundLimits;
  private readonly handling = new AsyncLocalStorage<Handling>();
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
    this.limits = { maxDecodedBytes: o.maxDecodedBytes ?? DEFAULT_LIMITS.maxDecodedBytes, maxDepth: o.maxDepth ?? DEFAULT_LIMITS.maxDepth };
    this.requestTimeoutMs = o.requestTimeoutMs ?? 5000;
    this.newId = o.newId ?? randomUUID;
    this.middleware = o.middleware ?? [];
    this.publishOnion = composePublish(this.middleware);
    this.handleOnion = composeHandle(this.middleware);
    this.noticeListeners = this.middleware.filter((m) => m.notice);
    if (this.noticeListeners.length > 0) this.transport.onNotice?.((n) => this.notify(n));
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
    extra?: Extra,
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
    extra?: Extra,
  ): Prepared<T> {
    const id = options?.id ?? eventIdOf(event, data) ?? this.newId();
    const result = event.validate(data);
    if (!result.ok) throw new EventValidationError(id, event.type, event.version, result.errors);
    // Replies travel to the requester's inbox, so their channel address is not filled in.
    const subject = extra?.subject ?? addressOf(event).fill(options?.params);
    const po = options as PublishOptions | undefined;

    const time = po?.timestamp ? po.timestamp.toISOString() : nowIso();
    // Published while handling an event (through any client, not only ctx.publish): caused
    // by that event and part of its conversation, unless the caller says otherwise.
    const store = extra === undefined ? this.handling.getStore() : undefined;
    const cur = store?.active ? store : undefined;
    const givenCorrelation = options?.headers?.['x-correlation-id'];
    let correlationId =
      options?.correlationId ??
      (typeof givenCorrelation === 'string' ? givenCorrelation : undefined) ??
      extra?.correlationId ??
      (cur ? conversationOf(cur.env, cur.headers) : undefined);
    // A contract that carries the conversation in a header keeps the envelope in step with it:
    // an event that starts a conversation is its own correlation id, in both.
    if (correlationId === undefined && event.headers?.names.includes('x-correlation-id')) correlationId = id;
    const causationId = po?.causationId ?? extra?.causationId ?? cur?.env.id;
    const encoded = encodeFields(
      {
        id,
        type: event.type,
        source: this.source,
        time,
        version: event.version,
        data: result.value,
        dataJson: (po as { [STORED_DATA_JSON]?: Uint8Array } | undefined)?.[STORED_DATA_JSON],
        metadata: options?.metadata,
        correlationId,
        causationId,
        partitionKey: po?.orderingKey,
        contentType: event.contentType,
      },
      this.mode,
    );
    if (event.headers !== undefined || options?.headers !== undefined) {
      const inbound = extra?.inbound ?? cur?.headers;
      // Only a reply takes data headers (a tenant) from what it answers: a handler's own
      // events set theirs, since per-message headers (an idempotency key) must not be copied.
      const inherited = extra?.reply && event.headers && inbound ? inheritedHeaders(event.headers.names, inbound) : undefined;
      const given = inherited ? { ...inherited, ...options?.headers } : options?.headers;
      const h = prepareHeaders(event.headers, given, { id, correlationId, causationId, parentTrace: inbound?.get('traceparent') });
      if (!h.ok) throw new HeaderValidationError(id, event.type, event.version, h.issues);
      Object.assign(encoded.headers, h.wire);
    }
    return { id, subject, encoded, value: result.value, time, correlationId, causationId };
  }

  private checkSize(id: string, m: OutboundMessage): void {
    const limit = this.transport.maxMessageBytes();
    if (limit === undefined) return;
    const size = this.transport.messageBytes ? this.transport.messageBytes(m) : plainSize(m);
    if (size > limit) throw new EventTooLargeError(id, size, limit);
  }

  publish<T>(event: EventDescriptor<T>, data: T, options?: PublishOptions, extra?: Extra): Promise<PublishReceipt> {
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

  private async publishSlow<T>(event: EventDescriptor<T>, data: T, options: PublishOptions | undefined, extra: Extra | undefined): Promise<PublishReceipt> {
    this.assertOpen();
    const p = this.compressAbove === undefined ? this.prepareSync(event, data, options, extra) : await this.prepare(event, data, options, extra);
    return this.sendPrepared(event, p, options, extra);
  }

  private async sendPrepared<T>(event: EventDescriptor<T>, p: Prepared<T>, options: PublishOptions | undefined, extra: Extra | undefined): Promise<PublishReceipt> {
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
      ...(p.correlationId !== undefined ? { correlationId: p.correlationId } : {}),
      ...(p.causationId !== undefined ? { causationId: p.causationId } : {}),
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
      // Dead letters are read whatever they carry: a reader that throws here would stop
      // reading the one queue where nothing may be lost.
      const settle = (ok: boolean): Promise<void> => {
        try {
          return ok ? d.ack() : d.retry(backoffDelay(DEFAULT_BACKOFF, d.deliveryCount));
        } catch (err) {
          return Promise.reject(err);
        }
      };
      if (stopped) {
        void settle(false).catch(() => undefined);
        return;
      }
      let p: Promise<void>;
      try {
        const dl = readDeadLetter(d.headers, d.body, d.malformed);
        p = Promise.resolve()
          .then(() => handle(dl))
          .then(
            () => settle(true),
            () => settle(false),
          );
      } catch {
        p = settle(false);
      }
      const t: Promise<void> = p.catch(() => undefined).finally(() => inflight.delete(t));
      inflight.add(t);
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
    const timeoutMs = options?.timeoutMs ?? this.requestTimeoutMs;
    let res!: InboundMessage;
    if (this.publishOnion) {
      // Middleware sees a request as a publish awaiting its reply (a trace spans both sides).
      const envelope: Envelope = { id: p.id, type: request.type, source: this.source, timestamp: new Date(p.time), version: request.version, data: p.value, metadata: options?.metadata ?? {}, subject: p.subject, ...(p.correlationId !== undefined ? { correlationId: p.correlationId } : {}) };
      await this.publishOnion({ envelope, descriptor: request as EventDescriptor, headers: msg.headers, transient: true, operation: 'request' }, async () => {
        res = await this.transport.request(msg, timeoutMs);
        return { id: p.id, subject: p.subject, duplicate: false };
      });
    } else res = await this.transport.request(msg, timeoutMs);
    const failure = res.headers.get(H.replyError);
    if (failure !== undefined) throw new RemoteHandlerError(p.subject, failure, res.headers.get(H.replyErrorDetail) ?? '');
    const env = await decodeMessage(res, this.limits.maxDecodedBytes);
    if (env.type !== reply.type) throw new DecodeError('unknown-type', `expected a ${reply.type} reply, got ${env.type}`);
    const match = new VersionResolver(reply.type, [reply]).resolve(env.version);
    if (!match.ok) throw new DecodeError('unknown-version', match.detail);
    if (!withinDepth(env.data, this.limits.maxDepth)) throw new DecodeError('too-large', `reply ${env.id} nests deeper than ${this.limits.maxDepth} levels`);
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
        env = await decodeMessage(msg, this.limits.maxDecodedBytes);
      } catch (err) {
        return errorReply((err as DecodeError).reason ?? 'undecodable', (err as Error).message);
      }
      if (env.type !== request.type) return errorReply('unknown-type', `this responder handles ${request.type}, not ${env.type}`);
      const m = versions.resolve(env.version);
      if (!m.ok) return errorReply('unknown-version', m.detail);
      if (!withinDepth(env.data, this.limits.maxDepth)) return errorReply('too-large', `request ${env.id} nests deeper than ${this.limits.maxDepth} levels`);
      let v: ReturnType<typeof m.descriptor.validate>;
      let headerProblem: string | undefined;
      try {
        v = m.descriptor.validate(env.data);
        if (m.descriptor.headers) headerProblem = readContractHeaders(m.descriptor.headers, msg.headers, env.id);
      } catch (err) {
        return errorReply('validation-failed', `request ${env.id} could not be validated: ${errorText(err)}`);
      }
      if (!v.ok) return errorReply('validation-failed', new EventValidationError(env.id, env.type, env.version, v.errors).message);
      if (headerProblem !== undefined) return errorReply('headers-invalid', `request ${env.id} headers are invalid: ${headerProblem}`);
      const typed = { ...env, data: v.value } as Envelope<Req>;
      let result!: Res;
      const run = async () => {
        result = await handler(typed, this.handlerContext(group, typed, 1, msg.headers, addr.extract(msg.subject) ?? {}));
      };
      try {
        await this.runHandling(typed, () => (this.handleOnion ? this.handleOnion({ envelope: typed, group, deliveryCount: 1, headers: msg.headers }, run) : run()), msg.headers);
      } catch (err) {
        return errorReply('handler-failed', errorText(err));
      }
      try {
        // A reply carries the request's conversation and its values of the headers both declare (its tenant, say).
        const p = await this.prepare(reply, result, {}, { correlationId: conversationOf(env, msg.headers), causationId: env.id, subject: '', inbound: msg.headers, reply: true });
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

  async runHandling<T>(env: Envelope, fn: () => Promise<T>, headers?: HeaderReader): Promise<T> {
    const h: Handling = { env, headers, active: true };
    try {
      return await this.handling.run(h, fn);
    } finally {
      h.active = false;
    }
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
    return this.bus.publish(event, data, options, { causationId: this.env.id, correlationId: conversationOf(this.env, this.headers), inbound: this.headers });
  }
}

export function createEventBus(options: EventBusOptions): EventBus {
  return new BusImpl(options);
}

/** A dead letter as its reason headers describe it; the transport's word where it could not read them. */
function readDeadLetter(h: HeaderReader, body: Uint8Array, malformed: { reason: DeadLetterReason; detail: string } | undefined): DeadLetter {
  const count = Number(h.get(H.dlDeliveryCount) ?? '0');
  const time = new Date(h.get(H.dlTime) ?? 0);
  return {
    originalSubject: h.get(H.dlSubject) ?? '',
    reason: (h.get(H.dlReason) ?? malformed?.reason ?? 'undecodable') as DeadLetterReason,
    detail: h.get(H.dlDetail) ?? malformed?.detail ?? '',
    group: h.get(H.dlGroup) ?? '',
    deliveryCount: Number.isFinite(count) ? count : 0,
    failedAt: Number.isNaN(time.getTime()) ? new Date(0) : time,
    headers: h,
    body,
  };
}

/** The handled event's values of `names`, less the headers the runtime fills itself. */
function inheritedHeaders(names: readonly string[], h: HeaderReader): Record<string, string> | undefined {
  let out: Record<string, string> | undefined;
  for (const n of names) {
    if ((RUNTIME_HEADERS as readonly string[]).includes(n)) continue;
    const v = h.get(n);
    if (v !== undefined) (out ??= {})[n] = v;
  }
  return out;
}
