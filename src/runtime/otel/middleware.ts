/**
 * OpenTelemetry for the bus, as one middleware: a producer span and metrics around every
 * publish (and request), a consumer span and metrics around every handled event, span
 * events and counters for the runtime's notices (retries, dead letters, duplicates).
 *
 * Only @opentelemetry/api is imported: with no SDK registered its tracer and meter are
 * no-ops. Register a MeterProvider before calling createObservability (or pass one): the
 * metrics API hands out no-op instruments that never upgrade. Tracing continues across
 * processes through the event's `traceparent`/`tracestate` headers, and inside a process
 * through OpenTelemetry's active context (an SDK's AsyncLocalStorage context manager), so
 * what a handler publishes is a child of its consumer span.
 */
import {
  context as otelContext,
  createNoopMeter,
  isSpanContextValid,
  metrics as otelMetrics,
  ProxyTracerProvider,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type ObservableResult,
  type Meter,
  type MeterProvider,
  type Span,
  type Tracer,
  type TracerProvider,
} from '@opentelemetry/api';
import type { HandleMiddlewareContext, Middleware, PublishMiddlewareContext, PublishReceipt, RuntimeNotice } from '../types.js';
import { ATTR, INSTRUMENTS, SECONDS_BUCKETS } from './names.js';
import { readTraceContext, writeTraceContext } from './trace-context.js';
import { errorLabel, type ObservabilityLog } from './log.js';
import { HISTOGRAM_DESCRIPTIONS, histogramProducerFor, type HistogramName, type HistogramProducer } from './histograms.js';

export interface ObservabilityOptions {
  /** The service, a label on every series. Default OTEL_SERVICE_NAME, else 'unknown_service'. */
  service?: string;
  /** `messaging.system`: 'nats', 'rabbitmq', … Default 'nats'. */
  system?: string;
  /** Default: the global tracer provider (a no-op until an SDK registers one). */
  tracerProvider?: TracerProvider;
  /** Default: the global meter provider at the time of the call. */
  meterProvider?: MeterProvider;
  /** Turn either half off. Both default to on. */
  traces?: boolean;
  metrics?: boolean;
  /** Structured log of runtime errors, retries and dead letters (pino-compatible). */
  logger?: ObservabilityLog;
  /**
   * How long a failed handling's span waits for the runtime's retry or dead-letter notice
   * before it ends without one. Default 5000 ms.
   */
  failedSpanWaitMs?: number;
  /**
   * Keep the publish and handle layers even when, at creation, no SDK records traces or
   * metrics, so that a tracer provider registered later still traces this bus. Default
   * false: with nothing to record the middleware leaves the bus on its direct path (it
   * costs nothing) and only reports notices to the logger. Register the SDK first.
   */
  lateRegistration?: boolean;
  /**
   * Keep the histograms in this producer (given to the readers as `metricProducers`) rather
   * than as SDK histograms, which hash a record's attributes on every record. Default: the
   * producer `serveMetrics()` bound to the meter provider, if any; else SDK histograms.
   */
  histograms?: HistogramProducer;
}

export interface Observability {
  readonly middleware: Middleware;
  /** The meter the instruments were made with; queue-depth and connection gauges use it too. */
  readonly meter: Meter;
  readonly service: string;
  readonly system: string;
}

const NAME = 'event-contracts';

/** Records a value into one histogram series, found once per label set. */
type Recorder = (value: number) => void;
/** Makes the recorder of one histogram and label set: a producer's series or an SDK histogram. */
type Recorders = (name: HistogramName, key: string, attrs: Attributes) => Recorder;

function recorders(meter: Meter, producer: HistogramProducer | undefined): Recorders {
  if (producer) {
    return (name, key, attrs) => {
      const s = producer.seriesFor(name, key, attrs);
      return (v) => s.record(v);
    };
  }
  const seconds = { unit: 's', advice: { explicitBucketBoundaries: [...SECONDS_BUCKETS] } };
  const h = {
    publishDuration: meter.createHistogram(INSTRUMENTS.publishDuration, { ...seconds, description: HISTOGRAM_DESCRIPTIONS.publishDuration }),
    processDuration: meter.createHistogram(INSTRUMENTS.processDuration, { ...seconds, description: HISTOGRAM_DESCRIPTIONS.processDuration }),
    lag: meter.createHistogram(INSTRUMENTS.lag, { ...seconds, description: HISTOGRAM_DESCRIPTIONS.lag }),
  };
  return (name, _key, attrs) => (v) => h[name].record(v, attrs);
}

const MAX_SERIES = 2000;
const OVERFLOW = '\u0000overflow';

/**
 * Dead-letter reasons decided after the event was routed to a handler: its type is one the
 * consumer knows. For the others (unknown type, undecodable, …) the type is whatever the
 * producer wrote, so it is not a label.
 */
const ROUTED_REASONS: ReadonlySet<string> = new Set(['unknown-version', 'validation-failed', 'headers-invalid', 'handler-failed']);

/**
 * Counts kept here and reported as observable counters at collection: an increment is a
 * map lookup on a key made once per label set, where a synchronous counter's add() hashes
 * its attributes on every call (most of what metrics cost a publish).
 */
class Counts {
  private readonly series = new Map<string, { attrs: Attributes; n: number }>();
  inc(key: string, attrs: () => Attributes): void {
    const s = this.series.get(key);
    if (s) s.n++;
    else if (this.series.size < MAX_SERIES) this.series.set(key, { attrs: attrs(), n: 1 });
    else {
      // Past the bound, one overflow series (as the SDK does past its cardinality limit).
      const o = this.series.get(OVERFLOW);
      if (o) o.n++;
      else this.series.set(OVERFLOW, { attrs: { 'otel.metric.overflow': true }, n: 1 });
    }
  }
  observe(r: ObservableResult): void {
    for (const s of this.series.values()) r.observe(s.n, s.attrs);
  }
}

function counters(meter: Meter): Record<'sent' | 'consumed' | 'retries' | 'deadLetters' | 'deadLetterFailures' | 'duplicates', Counts> {
  const c = { sent: new Counts(), consumed: new Counts(), retries: new Counts(), deadLetters: new Counts(), deadLetterFailures: new Counts(), duplicates: new Counts() };
  const describe: Record<keyof typeof c, string> = {
    sent: 'Messages published (failed ones carry error.type)',
    consumed: 'Events handed to handlers (failed handlings carry error.type)',
    retries: 'Failed handlings given back for redelivery',
    deadLetters: 'Events dead-lettered, by reason (error.type)',
    deadLetterFailures: 'Dead-letter publishes that failed',
    duplicates: 'Events acknowledged without handling: handled before',
  };
  for (const k of Object.keys(c) as Array<keyof typeof c>) {
    meter.createObservableCounter(INSTRUMENTS[k], { description: describe[k] }).addCallback((r) => c[k].observe(r));
  }
  return c;
}

function majorOf(version: string): string {
  const dot = version.indexOf('.');
  return dot < 0 ? version : version.slice(0, dot);
}

/** The error's class name: a bounded label (never its message). */
function errorType(err: unknown): string {
  if (err instanceof Error) return err.name || 'Error';
  return '_OTHER';
}

export function createObservability(o: ObservabilityOptions = {}): Observability {
  const service = o.service ?? process.env['OTEL_SERVICE_NAME'] ?? 'unknown_service';
  const system = o.system ?? 'nats';
  const provider = o.tracerProvider ?? trace.getTracerProvider();
  const tracer: Tracer = provider.getTracer(NAME);
  const meterProvider = o.meterProvider ?? otelMetrics.getMeterProvider();
  const meter: Meter = meterProvider.getMeter(NAME);
  // With no SDK the API's meter is a no-op for good (the metrics API has no proxy).
  const counting = o.metrics !== false && meter.constructor !== createNoopMeter().constructor;
  const rec = counting ? recorders(meter, o.histograms ?? histogramProducerFor(meterProvider)) : undefined;
  const c = counting ? counters(meter) : undefined;
  const log = o.logger;
  const waitMs = o.failedSpanWaitMs ?? 5000;

  // The global tracer provider is a proxy whose delegate an SDK may set at any time: whether
  // it records is probed once per delegate (a span that is never ended, so never exported).
  let probed: TracerProvider | undefined;
  let live = false;
  const tracingOn = (): boolean => {
    if (o.traces === false) return false;
    const d = provider instanceof ProxyTracerProvider ? provider.getDelegate() : provider;
    if (d !== probed) {
      probed = d;
      live = isSpanContextValid(d.getTracer(NAME).startSpan('event-contracts probe', {}, ROOT_CONTEXT).spanContext());
    }
    return live;
  };

  // One attribute object and histogram recorders per label combination, made once: bounded
  // by the contract's types.
  interface Labels {
    key: string;
    attrs: Attributes;
    /** publish: its duration; process: its duration. */
    duration: Recorder;
    /** process only. */
    lag: Recorder;
  }
  const attrCache = new Map<string, Labels>();
  // Keyed by major, not the version as received: a producer inventing patch versions must
  // not grow the cache (types are the consumer's known ones, groups its own).
  const labels = (op: 'publish' | 'process', type: string, version: string, group: string | undefined): Labels => {
    const major = majorOf(version);
    const key = `${op}\u0000${type}\u0000${major}\u0000${group ?? ''}`;
    let l = attrCache.get(key);
    if (l === undefined) {
      const attrs: Attributes = {
        [ATTR.system]: system,
        [ATTR.operationName]: op,
        [ATTR.eventType]: type,
        [ATTR.eventMajor]: major,
        [ATTR.service]: service,
        ...(group !== undefined ? { [ATTR.group]: group } : {}),
      };
      // Histograms carry fewer labels: the SDK hashes a record's attributes on every record
      // (its largest cost per event), and type with group (process) or service (publish) is
      // what the alert rules and the dashboard break them down by.
      const hist: Attributes = group !== undefined ? { [ATTR.eventType]: type, [ATTR.group]: group } : { [ATTR.eventType]: type, [ATTR.service]: service };
      const histKey = `${type}\u0000${group ?? service}`;
      l = {
        key,
        attrs,
        duration: rec!(op === 'publish' ? 'publishDuration' : 'processDuration', histKey, hist),
        lag: op === 'process' ? rec!('lag', histKey, hist) : () => undefined,
      };
      if (attrCache.size < 10_000) attrCache.set(key, l);
    }
    return l;
  };
  const failedAttrs = new Map<string, Attributes>();
  const withError = (l: { key: string; attrs: Attributes }, err: unknown): { key: string; attrs: Attributes } => {
    const t = errorType(err);
    const key = `${l.key}\u0000${t}`;
    let a = failedAttrs.get(key);
    if (a === undefined && failedAttrs.size < 10_000) failedAttrs.set(key, (a = { ...l.attrs, [ATTR.errorType]: t }));
    return { key, attrs: a ?? { ...l.attrs, [ATTR.errorType]: t } };
  };
  const noticeLabels = (group: string, type: string | undefined, errorKind?: string): Attributes => ({
    [ATTR.system]: system,
    [ATTR.service]: service,
    [ATTR.group]: group,
    [ATTR.eventType]: type ?? '_unknown',
    ...(errorKind !== undefined ? { [ATTR.errorType]: errorKind } : {}),
  });
  const countNotice = (counts: Counts, group: string, type: string | undefined, errorKind?: string): void =>
    counts.inc(`${group}\u0000${type ?? ''}\u0000${errorKind ?? ''}`, () => noticeLabels(group, type, errorKind));

  /** Consumer spans of failed handlings, waiting for the retry or dead-letter notice. */
  const failedSpans = new Map<string, { span: Span; timer: ReturnType<typeof setTimeout> }>();
  const parkFailed = (group: string, id: string, span: Span): void => {
    const key = `${group}\u0000${id}`;
    const prev = failedSpans.get(key);
    if (prev) {
      clearTimeout(prev.timer);
      prev.span.end();
    }
    const timer = setTimeout(() => {
      failedSpans.delete(key);
      span.end();
    }, waitMs);
    timer.unref?.();
    failedSpans.set(key, { span, timer });
  };
  const takeFailed = (group: string, id: string | undefined): Span | undefined => {
    if (id === undefined) return undefined;
    const key = `${group}\u0000${id}`;
    const f = failedSpans.get(key);
    if (!f) return undefined;
    failedSpans.delete(key);
    clearTimeout(f.timer);
    return f.span;
  };

  const middleware: Middleware = {
    name: 'opentelemetry',

    async publish(ctx: PublishMiddlewareContext, next: () => Promise<PublishReceipt>): Promise<PublishReceipt> {
      const tracing = tracingOn();
      if (!tracing && !counting) return next();
      const env = ctx.envelope;
      const l = counting ? labels('publish', env.type, env.version, undefined) : undefined;
      const t0 = counting ? performance.now() : 0;
      let span: Span | undefined;
      if (tracing) {
        const request = ctx.operation === 'request';
        span = tracer.startSpan(
          `${request ? 'request' : 'publish'} ${ctx.descriptor.address}`,
          {
            kind: request ? SpanKind.CLIENT : SpanKind.PRODUCER,
            attributes: {
              'messaging.system': system,
              'messaging.operation.type': 'send',
              'messaging.operation.name': request ? 'request' : 'publish',
              'messaging.destination.name': env.subject,
              'messaging.destination.template': ctx.descriptor.address,
              'messaging.message.id': env.id,
              'cloudevents.event_type': env.type,
              'event.version': env.version,
              'messaging.message.conversation_id': env.correlationId,
            },
          },
          otelContext.active(),
        );
        // The wire carries this span's context: consumers continue the trace from it.
        writeTraceContext(span.spanContext(), ctx.headers);
      }
      try {
        const r = await next();
        if (l) {
          c!.sent.inc(l.key, () => l.attrs);
          l.duration((performance.now() - t0) / 1000);
        }
        if (span) {
          if (r.duplicate) span.setAttribute('event_contracts.duplicate', true);
          span.end();
        }
        return r;
      } catch (err) {
        if (l) {
          const le = withError(l, err);
          c!.sent.inc(le.key, () => le.attrs);
          l.duration((performance.now() - t0) / 1000);
        }
        if (span) {
          span.recordException(err as Error);
          span.setStatus({ code: SpanStatusCode.ERROR, message: errorLabel(err) });
          span.setAttribute('error.type', errorType(err));
          span.end();
        }
        throw err;
      }
    },

    async handle(ctx: HandleMiddlewareContext, next: () => Promise<void>): Promise<void> {
      const tracing = tracingOn();
      if (!tracing && !counting) return next();
      const env = ctx.envelope;
      const l = counting ? labels('process', env.type, env.version, ctx.group) : undefined;
      const t0 = counting ? performance.now() : 0;
      if (l) {
        const lagS = (Date.now() - env.timestamp.getTime()) / 1000;
        if (Number.isFinite(lagS)) l.lag(Math.max(0, lagS));
      }
      let span: Span | undefined;
      let run = next;
      if (tracing) {
        const remote = readTraceContext(ctx.headers);
        const parent = remote ? trace.setSpanContext(ROOT_CONTEXT, remote) : otelContext.active();
        span = tracer.startSpan(
          `process ${env.type}`,
          {
            kind: SpanKind.CONSUMER,
            attributes: {
              'messaging.system': system,
              'messaging.operation.type': 'process',
              'messaging.destination.name': env.subject,
              'messaging.consumer.group.name': ctx.group,
              'messaging.message.id': env.id,
              'cloudevents.event_type': env.type,
              'event.version': env.version,
              'event_contracts.delivery_count': ctx.deliveryCount,
              // An undefined value is dropped by the SDK (no conversation id: no attribute).
              'messaging.message.conversation_id': env.correlationId,
            },
          },
          parent,
        );
        const active = trace.setSpan(parent, span);
        run = () => otelContext.with(active, next);
      }
      try {
        await run();
        if (l) {
          c!.consumed.inc(l.key, () => l.attrs);
          l.duration((performance.now() - t0) / 1000);
        }
        span?.end();
      } catch (err) {
        if (l) {
          const le = withError(l, err);
          c!.consumed.inc(le.key, () => le.attrs);
          l.duration((performance.now() - t0) / 1000);
        }
        if (span) {
          span.recordException(err as Error);
          span.setStatus({ code: SpanStatusCode.ERROR, message: errorLabel(err) });
          span.setAttribute('error.type', errorType(err));
          // Ended by the retry or dead-letter notice that follows (a span event), or by the timer.
          parkFailed(ctx.group, env.id, span);
        }
        throw err;
      }
    },

    notice(n: RuntimeNotice): void {
      switch (n.kind) {
        case 'retry': {
          if (c) countNotice(c.retries, n.group, n.type);
          const span = takeFailed(n.group, n.id);
          if (span) {
            span.addEvent('retry', { 'event_contracts.delivery_count': n.deliveryCount, 'event_contracts.retry_delay_ms': n.delayMs });
            span.end();
          }
          log?.warn({ ...logFields(n.group, n.id, n.type, span), deliveryCount: n.deliveryCount, delayMs: n.delayMs, err: errorLabel(n.error) }, 'event handling failed; retrying');
          return;
        }
        case 'dead-letter': {
          if (c) countNotice(c.deadLetters, n.group, ROUTED_REASONS.has(n.reason) ? n.type : undefined, n.reason);
          let span = takeFailed(n.group, n.id);
          if (!span && tracingOn()) {
            // Dead-lettered before any handler ran (undecodable, invalid, unknown type…).
            span = tracer.startSpan(`dead-letter ${n.group}`, {
              kind: SpanKind.CONSUMER,
              attributes: { 'messaging.system': system, 'messaging.consumer.group.name': n.group, ...(n.id !== undefined ? { 'messaging.message.id': n.id } : {}) },
            });
            span.setStatus({ code: SpanStatusCode.ERROR, message: n.reason });
          }
          if (span) {
            span.addEvent('dead-letter', { 'event_contracts.dead_letter.reason': n.reason, 'event_contracts.dead_letter.detail': n.detail.slice(0, 512) });
            span.end();
          }
          log?.error({ ...logFields(n.group, n.id, n.type, span), reason: n.reason, detail: n.detail }, 'event dead-lettered');
          return;
        }
        case 'dead-letter-failed': {
          if (c) countNotice(c.deadLetterFailures, n.group, ROUTED_REASONS.has(n.reason) ? n.type : undefined, n.reason);
          const span = takeFailed(n.group, n.id);
          if (span) {
            span.addEvent('dead-letter-failed', { 'event_contracts.dead_letter.reason': n.reason, 'event_contracts.retry_delay_ms': n.delayMs });
            span.end();
          }
          log?.error({ ...logFields(n.group, n.id, n.type, span), reason: n.reason, deliveryCount: n.deliveryCount, delayMs: n.delayMs, err: errorLabel(n.error) }, 'dead-letter publish failed; the event stays with the broker');
          return;
        }
        case 'duplicate':
          if (c) countNotice(c.duplicates, n.group, n.type);
          log?.debug?.({ group: n.group, eventId: n.id, type: n.type }, 'duplicate event acknowledged without handling');
          return;
        case 'publish-failed':
          // Counted by the publish layer (sent with error.type); logged here.
          log?.error({ eventId: n.id, type: n.type, err: errorLabel(n.error), traceId: activeTraceId() }, 'publish failed');
          return;
      }
    },
  };
  if (!counting && !tracingOn() && o.lateRegistration !== true) {
    // Nothing records: no layers around publish and handle (the bus keeps its direct path).
    return { middleware: { name: middleware.name, notice: middleware.notice! }, meter, service, system };
  }
  return { middleware, meter, service, system };
}

function activeTraceId(): string | undefined {
  const sc = trace.getSpanContext(otelContext.active());
  return sc && sc.traceId !== '00000000000000000000000000000000' ? sc.traceId : undefined;
}

function logFields(group: string, id: string | undefined, type: string | undefined, span: Span | undefined): Record<string, unknown> {
  const sc = span?.spanContext();
  return {
    group,
    ...(id !== undefined ? { eventId: id } : {}),
    ...(type !== undefined ? { type } : {}),
    ...(sc && sc.traceId !== '00000000000000000000000000000000' ? { traceId: sc.traceId, spanId: sc.spanId } : {}),
  };
}
