/**
 * The runtime's MetricsSnapshot (createMetrics' plain-data shape) read from the
 * OpenTelemetry instruments the middleware records, through an SDK MetricReader the caller
 * registered on the same MeterProvider: one set of instruments, read two ways, so nothing
 * is counted twice. Types only are imported from the SDK: nothing is loaded.
 */
import type { DataPoint, Histogram, MetricReader } from '@opentelemetry/sdk-metrics';
import type { MetricsSnapshot } from '../metrics.js';
import type { DeadLetterReason } from '../types.js';
import { ATTR, INSTRUMENTS, SECONDS_BUCKETS } from './names.js';

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** Collects `reader` (cumulative temporality, the SDK's default) into a MetricsSnapshot. */
export async function readMetricsSnapshot(reader: MetricReader): Promise<MetricsSnapshot> {
  const { resourceMetrics } = await reader.collect();
  const s: MetricsSnapshot = {
    published: 0,
    publishFailed: 0,
    consumed: 0,
    failed: 0,
    retried: 0,
    deadLettered: 0,
    deadLetteredByReason: {},
    duplicates: 0,
    handlerLatency: { count: 0, sumMs: 0, maxMs: 0, buckets: [...SECONDS_BUCKETS.map((b) => ({ leMs: b * 1000, count: 0 })), { leMs: Infinity, count: 0 }] },
    byType: {},
  };
  const perType = (t: string) => (s.byType[t] ??= { published: 0, consumed: 0, failed: 0 });
  for (const sm of resourceMetrics.scopeMetrics) {
    if (sm.scope.name !== 'event-contracts') continue;
    for (const m of sm.metrics) {
      for (const dp of m.dataPoints as DataPoint<unknown>[]) {
        const a = dp.attributes;
        const type = str(a[ATTR.eventType]);
        const failed = a[ATTR.errorType] !== undefined;
        const n = typeof dp.value === 'number' ? dp.value : 0;
        switch (m.descriptor.name) {
          case INSTRUMENTS.sent:
            if (failed) s.publishFailed += n;
            else {
              s.published += n;
              if (type) perType(type).published += n;
            }
            break;
          case INSTRUMENTS.consumed:
            if (failed) {
              s.failed += n;
              if (type) perType(type).failed += n;
            } else {
              s.consumed += n;
              if (type) perType(type).consumed += n;
            }
            break;
          case INSTRUMENTS.retries:
            s.retried += n;
            break;
          case INSTRUMENTS.deadLetters: {
            s.deadLettered += n;
            const reason = str(a[ATTR.errorType]) as DeadLetterReason | undefined;
            if (reason) s.deadLetteredByReason[reason] = (s.deadLetteredByReason[reason] ?? 0) + n;
            break;
          }
          case INSTRUMENTS.duplicates:
            s.duplicates += n;
            break;
          case INSTRUMENTS.processDuration: {
            const h = dp.value as Histogram;
            const l = s.handlerLatency;
            l.count += h.count;
            l.sumMs += (h.sum ?? 0) * 1000;
            if (h.max !== undefined) l.maxMs = Math.max(l.maxMs, h.max * 1000);
            h.buckets.counts.forEach((c, i) => {
              const bound = h.buckets.boundaries[i];
              const b = l.buckets.find((x) => (bound === undefined ? x.leMs === Infinity : Math.abs(x.leMs - bound * 1000) < 1e-9));
              if (b) b.count += c;
            });
            break;
          }
        }
      }
    }
  }
  return s;
}
