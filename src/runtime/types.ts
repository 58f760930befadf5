/**
 * Public types of the event-contracts runtime. Generated clients import these and nothing
 * else from the project, so this file is the contract between the generator and the
 * runtime: additions are fine, changes to existing members are breaking.
 */

// ---------------------------------------------------------------------------------------
// Contract-side: what the generator emits per event type and version.
// ---------------------------------------------------------------------------------------

export interface ValidationIssue {
  /** JSON pointer into the payload ('' for the root). */
  path: string;
  message: string;
}

export type ValidationResult<T> = { ok: true; value: T } | { ok: false; errors: ValidationIssue[] };

/** A payload validator. Generated code wraps a precompiled ajv function in this shape. */
export type Validator<T> = (data: unknown) => ValidationResult<T>;

/** One event type at one version, as generated from the contract. */
export interface EventDescriptor<T = unknown> {
  /** CloudEvents `type`, e.g. 'user.created'. */
  readonly type: string;
  /** Semver of the payload schema, e.g. '2.0.0'. Travels as the `eventversion` extension. */
  readonly version: string;
  /** Channel address template, e.g. 'users.{userId}.created'; the subject after substitution. */
  readonly address: string;
  /** Parameter names in `address`, in order of appearance. */
  readonly parameters: readonly string[];
  readonly validate: Validator<T>;
  /** Payload media type; only JSON is encoded by this runtime. Default 'application/json'. */
  readonly contentType?: string;
  /** The message's headers schema, when the contract has one. */
  readonly headers?: HeaderContract;
  /**
   * Payload property that holds the event's id (the contract's `x-event-id`, or a required
   * `eventId`): when the publisher passes no `id`, its value is the envelope id, hence the
   * broker's dedupe id too.
   */
  readonly eventIdField?: string;
  /**
   * The aggregate this event belongs to (the channel's `x-aggregate` extension): the event
   * store keeps it in the stream `<domain>.<type>.<entity id>`, the entity id being the
   * payload's `idField`.
   */
  readonly aggregate?: { readonly type: string; readonly domain: string; readonly idField: string };
}

/**
 * The headers a generated publish method takes: the contract's headers type, with the ones
 * the runtime fills (Nats-Msg-Id, traceparent, x-correlation-id, x-causation-id) optional.
 */
export type PublishHeaders<H> = Omit<H, RuntimeHeaderName> & Partial<Pick<H, Extract<keyof H, RuntimeHeaderName>>>;

/** Header names the runtime fills from the envelope; see RUNTIME_HEADERS. */
export type RuntimeHeaderName = 'Nats-Msg-Id' | 'traceparent' | 'x-correlation-id' | 'x-causation-id';

/** What the contract says about a message's headers. */
export interface HeaderContract {
  /** Validates the headers as an object of name to value (wire values are strings). */
  readonly validate: Validator<unknown>;
  /** Header names the schema declares: the ones read back and validated on receipt. */
  readonly names: readonly string[];
  /** Declared names whose schema type is not string: their wire text is JSON (a number, a boolean). */
  readonly json?: readonly string[];
}

/** Payload type carried by a descriptor. */
export type PayloadOf<D> = D extends EventDescriptor<infer T> ? T : never;

// ---------------------------------------------------------------------------------------
// The envelope: the design's BaseEvent plus correlation and causation, mapped to CloudEvents.
// ---------------------------------------------------------------------------------------

export interface Envelope<T = unknown> {
  /** CloudEvents `id`; also the broker dedupe id (Nats-Msg-Id) and the consumer dedupe key. */
  readonly id: string;
  readonly type: string;
  /** CloudEvents `source`: the producing service (URI-reference). */
  readonly source: string;
  /** CloudEvents `time`. */
  readonly timestamp: Date;
  /** Payload schema version (semver), extension attribute `eventversion`. */
  readonly version: string;
  readonly data: T;
  readonly metadata: Readonly<Record<string, unknown>>;
  /** Extension attribute `correlationid`: the conversation this event belongs to. */
  readonly correlationId?: string;
  /** Extension attribute `causationid`: id of the event that caused this one. */
  readonly causationId?: string;
  /** The concrete subject (channel address after parameter substitution). */
  readonly subject: string;
}

// ---------------------------------------------------------------------------------------
// Transport: the broker-specific half. Bytes and string headers in, bytes and headers out.
// Everything a broker does differently (acks, delayed redelivery, dead-letter publishing,
// request/reply, provisioning of durable state) lives behind this interface.
// ---------------------------------------------------------------------------------------

/** Read-only view of inbound headers. Names are matched exactly (we always write lowercase). */
export interface HeaderReader {
  get(name: string): string | undefined;
  keys(): Iterable<string>;
}

/** Outbound headers: lowercase names to string values. */
export type HeaderRecord = Record<string, string>;

export interface OutboundMessage {
  /** Concrete subject / routing key. */
  subject: string;
  headers: HeaderRecord;
  body: Uint8Array;
  /** Stable id used by brokers that deduplicate publishes (NATS `Nats-Msg-Id`). */
  id: string;
}

export interface TransportReceipt {
  /** Stream / queue that stored the message, when the broker reports it. */
  stream?: string;
  /** Broker sequence number, when there is one. */
  sequence?: number;
  /** True when the broker recognised the id as a duplicate and did not store it again. */
  duplicate: boolean;
}

export interface InboundMessage {
  subject: string;
  headers: HeaderReader;
  body: Uint8Array;
}

/** Why a message was dead-lettered. Stable strings: they are written into a header. */
export type DeadLetterReason =
  | 'undecodable'
  | 'unsupported-content-type'
  | 'missing-attributes'
  | 'unknown-type'
  | 'unknown-version'
  | 'validation-failed'
  /** The contract's headers schema refused the message's headers. */
  | 'headers-invalid'
  /** Decoded body larger or JSON nested deeper than the consumer's limits. */
  | 'too-large'
  | 'handler-failed'
  /** Unsigned, signed by an unknown service, or a signature that does not match (signedTransport). */
  | 'signature';

/** A message delivered by a durable consumer; settle it exactly once. */
export interface Delivery extends InboundMessage {
  /** 1 on the first delivery, incremented by every redelivery. */
  readonly deliveryCount: number;
  ack(): Promise<void>;
  /** Ask for redelivery no sooner than `delayMs` from now (NATS nak with delay). */
  retry(delayMs: number): Promise<void>;
  /**
   * Publish the original bytes and headers plus the reason to the dead-letter subject, then
   * remove the message from the consumer for good (NATS: term). Rejects when the dead-letter
   * publish fails; the message is then left for redelivery so it is never lost.
   */
  deadLetter(info: DeadLetterInfo): Promise<void>;
  /** Extend the broker's ack deadline for a long-running handler, when supported. */
  working?(): void;
  /**
   * Set by a transport that could not read the message's framing (a header block its
   * client library refuses, say). The bus dead-letters such a delivery with this reason
   * without decoding it; `headers` is then empty and `body` the raw bytes.
   */
  readonly malformed?: { readonly reason: DeadLetterReason; readonly detail: string };
}

export interface DeadLetterInfo {
  subject: string;
  reason: DeadLetterReason;
  detail: string;
  group: string;
}

export interface ConsumeSpec {
  /** Durable consumer group: instances with the same group share the work. */
  group: string;
  /** Subject patterns: `*` matches one token, `>` the rest (NATS syntax; others translate). */
  subjects: string[];
  /** Upper bound on messages held by this instance (buffered + in handlers). */
  maxInFlight: number;
  /** Ack deadline hint in ms; the broker redelivers when it passes. */
  ackWaitMs?: number;
  /** Non-durable subscription (core NATS queue group): no ack, no redelivery. */
  ephemeral?: boolean;
}

export type DeliveryHandler = (delivery: Delivery) => void;

export interface TransportSubscription {
  /**
   * Stop receiving; messages received but not yet handed out are returned to the broker
   * for prompt redelivery. Resolves once no more deliveries will be made.
   */
  stop(): Promise<void>;
}

export interface ServeSpec {
  subject: string;
  /** Responders with the same group share requests (queue group). */
  group?: string;
}

/** A responder returns the reply message; throwing yields an error reply. */
export type RequestHandler = (request: InboundMessage) => Promise<{ headers: HeaderRecord; body: Uint8Array }>;

export interface Transport {
  readonly name: string;
  /** Largest message (headers + body) the broker accepts, when known. */
  maxMessageBytes(): number | undefined;
  /** Size of `m` as the broker counts it against maxMessageBytes (its own header framing). */
  messageBytes?(m: OutboundMessage): number;
  /** Durable publish: resolves once the broker has stored the message. */
  publish(message: OutboundMessage): Promise<TransportReceipt>;
  /** Fire-and-forget publish (core NATS); resolves once handed to the connection. */
  publishTransient(message: OutboundMessage): Promise<void>;
  /**
   * Start a consumer. `onDelivery` is called for each message; the bus settles it later.
   * The transport must never hold more than `spec.maxInFlight` unsettled deliveries.
   */
  consume(spec: ConsumeSpec, onDelivery: DeliveryHandler): Promise<TransportSubscription>;
  /** Request/reply. Rejects with RequestTimeoutError or NoResponderError. */
  request(message: OutboundMessage, timeoutMs: number): Promise<InboundMessage>;
  serve(spec: ServeSpec, handler: RequestHandler): Promise<TransportSubscription>;
  /** Graceful: flush outstanding publishes, then disconnect. Idempotent. */
  close(): Promise<void>;
  /**
   * The bus registers one listener here when it is created; the transport calls it for
   * connection changes and consumer failures (see TransportNotice). Optional: a transport
   * without it reports nothing.
   */
  onNotice?(listener: (notice: TransportNotice) => void): void;
}

// ---------------------------------------------------------------------------------------
// Bus-level API used by generated code.
// ---------------------------------------------------------------------------------------

export interface PublishOptions {
  params?: Record<string, string>;
  /**
   * Message headers declared by the contract (generated clients type this argument). Checked
   * against the contract's headers schema before anything is sent; values that are not
   * strings travel as JSON text. Headers the runtime owns are filled by it when absent
   * (see RUNTIME_HEADERS).
   */
  headers?: Readonly<Record<string, unknown>> | undefined;
  /** Event id; default a random UUID. Reuse it when retrying a publish to keep it idempotent. */
  id?: string;
  correlationId?: string;
  causationId?: string;
  metadata?: Record<string, unknown>;
  /** Override the envelope time (default now). */
  timestamp?: Date;
  /** Extension attribute `partitionkey`: consumers serialise handling per key. */
  orderingKey?: string;
  /** Core (non-durable) publish instead of the default durable one. */
  transient?: boolean;
}

export interface PublishReceipt {
  id: string;
  subject: string;
  stream?: string;
  sequence?: number;
  duplicate: boolean;
}

export interface BatchItem<T = unknown> {
  event: EventDescriptor<T>;
  data: T;
  options?: PublishOptions;
}

export interface HandlerContext {
  readonly group: string;
  readonly subject: string;
  /** Address parameters recovered from the subject. */
  readonly params: Readonly<Record<string, string>>;
  readonly deliveryCount: number;
  readonly headers: HeaderReader;
  /** Aborted when the bus starts closing; long handlers may finish early (they are retried). */
  readonly signal: AbortSignal;
  /** Publish a follow-up event: causationId = this event's id, correlationId carried over. */
  publish<T>(event: EventDescriptor<T>, data: T, options?: PublishOptions): Promise<PublishReceipt>;
}

export interface EventHandler<T = any> {
  type: string;
  /**
   * Versions this handler accepts. A newer minor/patch of an accepted major is accepted and
   * validated with the newest known descriptor of that major not newer than it; another
   * major is dead-lettered as 'unknown-version'.
   */
  accepts: readonly EventDescriptor<T>[];
  handle: (event: Envelope<T>, ctx: HandlerContext) => Promise<void>;
}

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  factor: number;
  /** 0..1: fraction of the delay randomised ("equal jitter" when 0.5). */
  jitter: number;
}

export interface SubscribeSpec {
  /** Durable consumer name shared by all instances of the consuming service. */
  group: string;
  handlers: EventHandler[];
  /** Subject filters; default: each accepted address with parameters as `*`. */
  subjects?: string[];
  /** Handlers running at once in this instance. Default 1. */
  concurrency?: number;
  /** Messages held by this instance (buffered + running). Default max(4 * concurrency, 64). */
  maxInFlight?: number;
  /** Serialise handling per key. Default: the event's `partitionkey` extension, if any. */
  orderingKey?: (event: Envelope) => string | undefined;
  /** Deliveries before a failing event is dead-lettered. Default 5. */
  maxDeliver?: number;
  backoff?: Partial<BackoffOptions>;
  /** Default: a MemoryDedupeStore per bus (the last 100 000 ids for 24 h). Pass `null` to disable deduplication. */
  dedupe?: DedupeStore | null;
  /** How long a dedupe claim protects an event from a concurrent handler. Default 60 s. */
  claimTtlMs?: number;
  deadLetter?: { subject?: string };
  /** What to do with an event type no handler declares. Default 'dead-letter'. */
  unhandled?: 'ack' | 'dead-letter';
  ackWaitMs?: number;
  /** Core NATS queue subscription: no persistence, no redelivery. */
  ephemeral?: boolean;
}

export interface Subscription {
  readonly group: string;
  /** Stop receiving; wait for running handlers to finish and settle. */
  close(): Promise<void>;
}

export interface DeadLetter {
  readonly originalSubject: string;
  readonly reason: DeadLetterReason;
  readonly detail: string;
  readonly group: string;
  readonly deliveryCount: number;
  readonly failedAt: Date;
  readonly headers: HeaderReader;
  /** Original bytes, as they were on the wire (still compressed if they were). */
  readonly body: Uint8Array;
}

export interface DeadLetterSubscribeSpec {
  subject: string;
  group: string;
}

export interface RequestOptions {
  params?: Record<string, string>;
  /** Message headers declared by the contract, as for PublishOptions.headers. */
  headers?: Readonly<Record<string, unknown>> | undefined;
  timeoutMs?: number;
  id?: string;
  correlationId?: string;
  metadata?: Record<string, unknown>;
}

export interface RespondOptions {
  /** Responders sharing a group split the requests. Default: the bus source. */
  group?: string;
  /** Subject filter override; default the request address with parameters as `*`. */
  params?: Record<string, string>;
}

export interface EventBus {
  readonly source: string;
  publish<T>(event: EventDescriptor<T>, data: T, options?: PublishOptions): Promise<PublishReceipt>;
  /** Validates every item first (nothing sent if one is invalid), then pipelines the publishes. */
  publishBatch(items: readonly BatchItem[]): Promise<PublishReceipt[]>;
  subscribe(spec: SubscribeSpec): Promise<Subscription>;
  subscribeDeadLetters(spec: DeadLetterSubscribeSpec, handle: (dl: DeadLetter) => Promise<void>): Promise<Subscription>;
  request<Req, Res>(request: EventDescriptor<Req>, data: Req, reply: EventDescriptor<Res>, options?: RequestOptions): Promise<Envelope<Res>>;
  respond<Req, Res>(
    request: EventDescriptor<Req>,
    reply: EventDescriptor<Res>,
    handler: (event: Envelope<Req>, ctx: HandlerContext) => Promise<Res>,
    options?: RespondOptions,
  ): Promise<Subscription>;
  /** Graceful: stop consumers, let running handlers finish, flush, close the transport. */
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------
// Middleware: an onion around publish and around handle.
// ---------------------------------------------------------------------------------------

export interface PublishMiddlewareContext {
  readonly envelope: Envelope;
  readonly descriptor: EventDescriptor;
  /** Outbound headers; middleware may add its own (e.g. traceparent) before `next()`. */
  readonly headers: HeaderRecord;
  readonly transient: boolean;
  /** 'request' when the message is a request awaiting its reply (bus.request). Default 'publish'. */
  readonly operation?: 'publish' | 'request';
}

export interface HandleMiddlewareContext {
  readonly envelope: Envelope;
  readonly group: string;
  readonly deliveryCount: number;
  readonly headers: HeaderReader;
}

/** Things that happen outside the two onions; reported to every middleware that listens. */
export type RuntimeNotice =
  | { kind: 'retry'; group: string; id: string; type: string; deliveryCount: number; delayMs: number; error: unknown }
  | { kind: 'dead-letter'; group: string; id?: string; type?: string; reason: DeadLetterReason; detail: string }
  | { kind: 'duplicate'; group: string; id: string; type: string }
  | { kind: 'publish-failed'; id: string; type: string; error: unknown }
  /** The dedupe store could not record a handled (complete) or failed (release) event; the message was settled anyway. */
  | { kind: 'dedupe-failed'; group: string; id: string; type: string; operation: 'complete' | 'release'; error: unknown }
  /** Publishing a dead letter failed; the message stays with the broker and is retried after `delayMs`. */
  | { kind: 'dead-letter-failed'; group: string; id?: string; type?: string; reason: DeadLetterReason; deliveryCount: number; delayMs: number; error: unknown }
  | TransportNotice;

/**
 * What a transport reports about its connection and consumers, outside any one message:
 * a lost connection, the reconnect to a (possibly other) server of a cluster, a consumer
 * the broker stopped serving. The bus hands these to every middleware's `notice`.
 */
export type TransportNotice =
  | {
      kind: 'connection';
      transport: string;
      /** disconnected: lost, the client is trying again; reconnected: serving again, maybe from another server. */
      state: 'disconnected' | 'reconnecting' | 'reconnected';
      /** The server it lost or reached, `host:port`, when the client says. */
      server?: string;
      detail?: string;
    }
  | { kind: 'consumer-error'; transport: string; group: string; detail: string; error?: unknown };

export interface Middleware {
  readonly name: string;
  publish?(ctx: PublishMiddlewareContext, next: () => Promise<PublishReceipt>): Promise<PublishReceipt>;
  handle?(ctx: HandleMiddlewareContext, next: () => Promise<void>): Promise<void>;
  notice?(notice: RuntimeNotice): void;
}

// ---------------------------------------------------------------------------------------
// Idempotent consumers.
// ---------------------------------------------------------------------------------------

export type ClaimResult =
  /** The caller owns the event now and must call complete() or release(). */
  | 'claimed'
  /** Already handled: acknowledge without handling. */
  | 'done'
  /** Another handler holds a live claim: try again later. */
  | 'busy';

export interface DedupeStore {
  /**
   * Atomically claim `key` for `ttlMs`. An expired claim (a crashed handler) can be taken
   * over; a completed key stays 'done' for the store's retention.
   */
  claim(key: string, ttlMs: number): Promise<ClaimResult>;
  complete(key: string): Promise<void>;
  /** Give the claim back after a failed handler so a retry can claim it. */
  release(key: string): Promise<void>;
}

// ---------------------------------------------------------------------------------------
// Bus options.
// ---------------------------------------------------------------------------------------

export interface EventBusOptions {
  transport: Transport;
  /** Deepest nesting of arrays/objects accepted in a payload, checked before validation. Default 100. */
  maxDepth?: number;
  /** CloudEvents `source` of everything this bus publishes. */
  source: string;
  middleware?: Middleware[];
  /** Gzip bodies of at least this many bytes (header `content-encoding: gzip`). */
  compression?: { thresholdBytes: number };
  /** CloudEvents content mode. Default 'binary'. */
  mode?: 'binary' | 'structured';
  /** Largest decompressed body accepted from the wire. Default 16 MiB. */
  maxDecodedBytes?: number;
  /** Default request timeout. Default 5000 ms. */
  requestTimeoutMs?: number;
  /** Id generator, default crypto.randomUUID. */
  newId?: () => string;
}
