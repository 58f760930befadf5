/**
 * `npm run demo -- --observe`: the demo's services with OpenTelemetry metrics and tracing.
 * Metrics are served for Prometheus by serveMetrics() (its URL is printed); spans are
 * collected in memory and printed as a tree per trace when the demo ends, so one trace is
 * seen going from a producer through the broker to a consumer and on to what it publishes.
 */
import { context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type { Middleware } from 'event-contracts/runtime';
import { createObservability } from 'event-contracts/runtime/otel';
import { serveMetrics } from 'event-contracts/runtime/prometheus';

export interface DemoObservability {
  /** `system`: messaging.system, 'nats' or 'rabbitmq'. */
  middleware(service: string, system: string): Middleware[];
  /** Prints the span trees and a few of the served series, then stops serving. */
  finish(): Promise<void>;
}

export async function startObservability(log: (who: string, text: string) => void): Promise<DemoObservability> {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  const spans = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
  const logger = {
    error: (f: Record<string, unknown>, m: string) => log('log error', `${m} ${JSON.stringify(f)}`),
    warn: (f: Record<string, unknown>, m: string) => log('log warn', `${m} ${JSON.stringify(f)}`),
    info: (f: Record<string, unknown>, m: string) => log('log info', `${m} ${JSON.stringify(f)}`),
  };
  const metrics = await serveMetrics({ port: Number(process.env['METRICS_PORT'] ?? 0), host: '127.0.0.1', logger });
  log('observe', metrics.url ? `metrics for Prometheus at ${metrics.url}` : `metrics not served: ${metrics.error?.message}`);
  return {
    middleware: (service, system) => [createObservability({ service, system, meterProvider: metrics.meterProvider, tracerProvider, logger }).middleware],
    async finish() {
      for (const line of spanTrees(spans.getFinishedSpans())) log('trace', line);
      if (metrics.url) {
        const text = await (await fetch(metrics.url)).text();
        const sent = text.split('\n').filter((l) => l.startsWith('messaging_client_sent_messages_total{'));
        log('observe', `${metrics.url}: ${text.split('\n').filter((l) => l && !l.startsWith('#')).length} samples, e.g.`);
        for (const l of sent.slice(0, 3)) log('observe', `  ${l}`);
      }
      await metrics.close();
      await tracerProvider.shutdown();
    },
  };
}

/** Spans as indented trees, one per trace, children under their parent in start order. */
export function spanTrees(all: readonly ReadableSpan[]): string[] {
  const ids = new Set(all.map((s) => s.spanContext().spanId));
  const children = new Map<string, ReadableSpan[]>();
  const roots: ReadableSpan[] = [];
  const start = (s: ReadableSpan) => s.startTime[0] * 1e9 + s.startTime[1];
  for (const s of [...all].sort((a, b) => start(a) - start(b))) {
    const parent = s.parentSpanContext?.spanId;
    if (parent && ids.has(parent)) children.set(parent, [...(children.get(parent) ?? []), s]);
    else roots.push(s);
  }
  const out: string[] = [];
  const walk = (s: ReadableSpan, depth: number): void => {
    const ms = s.duration[0] * 1000 + s.duration[1] / 1e6;
    const group = s.attributes['messaging.consumer.group.name'];
    const events = s.events.filter((e) => e.name !== 'exception').map((e) => e.name);
    out.push(`${'  '.repeat(depth)}${s.name}${group ? ` [${String(group)}]` : ''} ${ms.toFixed(1)} ms${events.length ? ` (${events.join(', ')})` : ''}`);
    for (const c of children.get(s.spanContext().spanId) ?? []) walk(c, depth + 1);
  };
  for (const r of roots) {
    out.push(`trace ${r.spanContext().traceId}`);
    walk(r, 1);
  }
  return out;
}
