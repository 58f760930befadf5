/**
 * The middleware's three histograms (publish duration, process duration, lag) kept here and
 * handed to the SDK's readers as a MetricProducer, instead of synchronous SDK histograms.
 *
 * Why: the SDK has no bound instruments; every `Histogram.record(value, attributes)` sorts
 * and JSON-stringifies the attributes to find its series (about half of what metrics cost
 * per event). Here a label set's series is found once, by the middleware's label cache, and
 * a record is a bucket scan and four additions. At collection the series are reported as
 * ordinary cumulative HISTOGRAM data (same names, unit, buckets, descriptions), so
 * Prometheus and the snapshot read the same thing either way.
 *
 * The cost of the shortcut: only readers given the producer (`metricProducers`) see these
 * histograms, they are cumulative whatever the reader's temporality, and MeterProvider
 * views do not apply to them. `serveMetrics()` wires it for its Prometheus reader; a reader
 * of your own takes `metricProducers: [producer]`. Without a producer the middleware records
 * SDK histograms as before.
 *
 * Types only are imported from the SDK (an optional peer dependency): nothing is loaded.
 */
import type { Attributes, HrTime, MeterProvider } from '@opentelemetry/api';
import type { CollectionResult, HistogramMetricData, MetricProducer, ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { INSTRUMENTS, SECONDS_BUCKETS } from './names.js';

export type HistogramName = 'publishDuration' | 'processDuration' | 'lag';

export const HISTOGRAM_DESCRIPTIONS: Readonly<Record<HistogramName, string>> = {
  publishDuration: 'Publish until the broker stored the message',
  processDuration: 'Handler time per event',
  lag: "From the event's time to the start of its handling",
};

const NAMES: readonly HistogramName[] = ['publishDuration', 'processDuration', 'lag'];
/** As the SDK's default cardinality limit: past it, one overflow series per histogram. */
const MAX_SERIES = 2000;
const OVERFLOW: Attributes = { 'otel.metric.overflow': true };
// The SDK's enum values (DataPointType.HISTOGRAM, AggregationTemporality.CUMULATIVE,
// ValueType.DOUBLE), written out so that this module loads nothing from the SDK.
const HISTOGRAM_POINT = 0;
const CUMULATIVE = 1;
const DOUBLE = 1;

function hrNow(): HrTime {
  const ms = Date.now();
  return [Math.floor(ms / 1000), (ms % 1000) * 1e6];
}

/** One label set of one histogram: what a record touches. */
export class HistogramSeries {
  /** counts[i]: values ≤ SECONDS_BUCKETS[i] (and above the bound before); the last, above all. */
  readonly counts = new Array<number>(SECONDS_BUCKETS.length + 1).fill(0);
  sum = 0;
  count = 0;
  min = Infinity;
  max = -Infinity;
  readonly startTime: HrTime = hrNow();
  constructor(readonly attributes: Attributes) {}

  record(value: number): void {
    // As the SDK's histogram: a negative value or NaN is not a measurement.
    if (!(value >= 0)) return;
    // Linear from the smallest bound: nearly every duration falls in the first few buckets.
    let i = 0;
    while (i < SECONDS_BUCKETS.length && value > SECONDS_BUCKETS[i]!) i++;
    this.counts[i]!++;
    this.sum += value;
    this.count++;
    if (value < this.min) this.min = value;
    if (value > this.max) this.max = value;
  }
}

export class HistogramProducer implements MetricProducer {
  private readonly series: Record<HistogramName, Map<string, HistogramSeries>> = { publishDuration: new Map(), processDuration: new Map(), lag: new Map() };
  /** The scope the middleware's own instruments are reported under. */
  constructor(private readonly scope = { name: 'event-contracts' }) {}

  /** The series of `attributes` (identified by `key`); made once, then kept by the caller. */
  seriesFor(name: HistogramName, key: string, attributes: Attributes): HistogramSeries {
    const m = this.series[name];
    let s = m.get(key);
    if (s === undefined) {
      if (m.size < MAX_SERIES) m.set(key, (s = new HistogramSeries(attributes)));
      else {
        s = m.get('\u0000overflow');
        if (s === undefined) m.set('\u0000overflow', (s = new HistogramSeries(OVERFLOW)));
      }
    }
    return s;
  }

  async collect(): Promise<CollectionResult> {
    const endTime = hrNow();
    const metrics: HistogramMetricData[] = [];
    for (const name of NAMES) {
      const m = this.series[name];
      if (m.size === 0) continue;
      metrics.push({
        descriptor: { name: INSTRUMENTS[name], description: HISTOGRAM_DESCRIPTIONS[name], unit: 's', valueType: DOUBLE },
        aggregationTemporality: CUMULATIVE,
        dataPointType: HISTOGRAM_POINT,
        dataPoints: [...m.values()].map((s) => ({
          attributes: s.attributes,
          startTime: s.startTime,
          endTime,
          value: {
            buckets: { boundaries: [...SECONDS_BUCKETS], counts: [...s.counts] },
            sum: s.sum,
            count: s.count,
            ...(s.count > 0 ? { min: s.min, max: s.max } : {}),
          },
        })),
      } as HistogramMetricData);
    }
    // The reader keeps its SDK producer's resource and appends only these scope metrics.
    const resourceMetrics = { resource: {}, scopeMetrics: [{ scope: this.scope, metrics }] } as unknown as ResourceMetrics;
    return { resourceMetrics, errors: [] };
  }
}

/** A producer made for a MeterProvider whose readers all carry it (serveMetrics does this). */
const bound = new WeakMap<MeterProvider, HistogramProducer>();

export function bindHistogramProducer(provider: MeterProvider, producer: HistogramProducer): void {
  bound.set(provider, producer);
}

export function histogramProducerFor(provider: MeterProvider): HistogramProducer | undefined {
  return bound.get(provider);
}
