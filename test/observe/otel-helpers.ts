/**
 * OpenTelemetry SDK pieces for the observability tests: an in-memory span exporter, an
 * on-demand metric reader, the AsyncLocalStorage context manager, and lookups over what
 * they collected.
 */
import { context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { AggregationTemporality, MeterProvider, MetricReader, type DataPoint, type MetricProducer, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';

/** Collects when asked (cumulative), like a Prometheus scrape. */
export class OnDemandReader extends MetricReader {
  constructor(metricProducers: MetricProducer[] = []) {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE, metricProducers });
  }
  protected async onShutdown(): Promise<void> {}
  protected async onForceFlush(): Promise<void> {}
}

let contextManager: AsyncLocalStorageContextManager | undefined;
/** Registers the context manager an SDK's NodeTracerProvider would (once per test file). */
export function enableContext(): void {
  if (contextManager) return;
  contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
}

export function sdk(): { spans: InMemorySpanExporter; tracerProvider: BasicTracerProvider; reader: OnDemandReader; meterProvider: MeterProvider } {
  enableContext();
  const spans = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
  const reader = new OnDemandReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  return { spans, tracerProvider, reader, meterProvider };
}

export interface Point {
  name: string;
  attributes: Record<string, unknown>;
  value: unknown;
}

/** Every data point collected, flattened. */
export async function points(reader: MetricReader): Promise<Point[]> {
  const { resourceMetrics } = await reader.collect();
  return flatten(resourceMetrics);
}

export function flatten(rm: ResourceMetrics): Point[] {
  const out: Point[] = [];
  for (const sm of rm.scopeMetrics)
    for (const m of sm.metrics) for (const dp of m.dataPoints as DataPoint<unknown>[]) out.push({ name: m.descriptor.name, attributes: dp.attributes, value: dp.value });
  return out;
}

/** The one point named `name` whose attributes include `attrs`. */
export function point(all: Point[], name: string, attrs: Record<string, unknown> = {}): Point | undefined {
  const found = all.filter((p) => p.name === name && Object.entries(attrs).every(([k, v]) => p.attributes[k] === v));
  if (found.length > 1) throw new Error(`${found.length} points for ${name} ${JSON.stringify(attrs)}`);
  return found[0];
}

export function byName(spans: readonly ReadableSpan[], name: string): ReadableSpan[] {
  return spans.filter((s) => s.name === name);
}
