/**
 * Built-in counters as a middleware. A snapshot is plain data so any exporter (Prometheus,
 * OpenTelemetry, logs) can read it without this runtime depending on one.
 */
import type { DeadLetterReason, Middleware } from './types.js';

/** Upper bounds (ms) of the handler latency histogram buckets; the last bucket is open. */
export const LATENCY_BUCKETS_MS = [1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000] as const;

export interface MetricsSnapshot {
  published: number;
  publishFailed: number;
  consumed: number;
  failed: number;
  retried: number;
  deadLettered: number;
  deadLetteredByReason: Partial<Record<DeadLetterReason, number>>;
  duplicates: number;
  handlerLatency: { count: number; sumMs: number; maxMs: number; buckets: Array<{ leMs: number; count: number }> };
  byType: Record<string, { published: number; consumed: number; failed: number }>;
}

export interface Metrics {
  readonly middleware: Middleware;
  snapshot(): MetricsSnapshot;
  reset(): void;
}

/**
 * @deprecated Use the OpenTelemetry middleware (`event-contracts/runtime/otel`:
 * createObservability) and, for this snapshot shape, readMetricsSnapshot(reader) over the
 * same instruments. Kept for code without OpenTelemetry; do not use both on one bus, or
 * every event is counted twice.
 */
export function createMetrics(): Metrics {
  let s = empty();
  const perType = (t: string) => (s.byType[t] ??= { published: 0, consumed: 0, failed: 0 });
  const middleware: Middleware = {
    name: 'metrics',
    async publish(ctx, next) {
      const r = await next();
      s.published++;
      perType(ctx.envelope.type).published++;
      return r;
    },
    async handle(ctx, next) {
      const t0 = performance.now();
      try {
        await next();
        s.consumed++;
        perType(ctx.envelope.type).consumed++;
      } catch (err) {
        s.failed++;
        perType(ctx.envelope.type).failed++;
        throw err;
      } finally {
        const ms = performance.now() - t0;
        const h = s.handlerLatency;
        h.count++;
        h.sumMs += ms;
        if (ms > h.maxMs) h.maxMs = ms;
        const b = h.buckets.find((x) => ms <= x.leMs) ?? h.buckets[h.buckets.length - 1]!;
        b.count++;
      }
    },
    notice(n) {
      if (n.kind === 'retry') s.retried++;
      else if (n.kind === 'duplicate') s.duplicates++;
      else if (n.kind === 'publish-failed') s.publishFailed++;
      else if (n.kind === 'dead-letter') {
        s.deadLettered++;
        s.deadLetteredByReason[n.reason] = (s.deadLetteredByReason[n.reason] ?? 0) + 1;
      }
    },
  };
  return {
    middleware,
    snapshot: () => structuredClone(s),
    reset: () => void (s = empty()),
  };
}

function empty(): MetricsSnapshot {
  return {
    published: 0,
    publishFailed: 0,
    consumed: 0,
    failed: 0,
    retried: 0,
    deadLettered: 0,
    deadLetteredByReason: {},
    duplicates: 0,
    handlerLatency: { count: 0, sumMs: 0, maxMs: 0, buckets: [...LATENCY_BUCKETS_MS.map((leMs) => ({ leMs, count: 0 })), { leMs: Infinity, count: 0 }] },
    byType: {},
  };
}
