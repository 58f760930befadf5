/**
 * The middleware's histograms kept in a HistogramProducer (no per-record attribute hashing)
 * must read exactly as the SDK's own histograms would: same buckets, counts, sum, min, max,
 * names, unit, descriptions and labels, through a reader and on /metrics. In-process
 * (MemoryTransport); the real Prometheus scrape of serveMetrics() is prometheus.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { createEventBus, MemoryTransport } from '../../src/runtime/index.js';
import { createObservability, HISTOGRAM_DESCRIPTIONS, HistogramProducer, INSTRUMENTS, PROM, SECONDS_BUCKETS } from '../../src/runtime/otel/index.js';
import { serveMetrics } from '../../src/runtime/prometheus/index.js';
import { rand, userCreated, waitFor } from '../runtime/helpers.js';
import { OnDemandReader } from './otel-helpers.js';

/** Each bound exactly (Prometheus' `le` is inclusive), just above it, 0, far above all, and what is no measurement. */
const VALUES = [0, 0.0005, ...SECONDS_BUCKETS, ...SECONDS_BUCKETS.map((b) => b * 1.0000001), 11, 1e6, Infinity, -1, NaN];

async function histogramsOf(reader: OnDemandReader) {
  const { resourceMetrics } = await reader.collect();
  return resourceMetrics.scopeMetrics.flatMap((sm) => sm.metrics.filter((m) => m.dataPointType === 0).map((m) => ({ scope: sm.scope.name, m })));
}

describe('HistogramProducer', () => {
  it('reports the same data as an SDK histogram fed the same values', async () => {
    const sdkReader = new OnDemandReader();
    const sdkMeter = new MeterProvider({ readers: [sdkReader] }).getMeter('event-contracts');
    const h = sdkMeter.createHistogram(INSTRUMENTS.processDuration, { unit: 's', description: HISTOGRAM_DESCRIPTIONS.processDuration, advice: { explicitBucketBoundaries: [...SECONDS_BUCKETS] } });
    const producer = new HistogramProducer();
    const ownReader = new OnDemandReader([producer]);
    new MeterProvider({ readers: [ownReader] });
    const attrs = { 'event.type': 'user.created', 'messaging.consumer.group.name': 'g' };
    const series = producer.seriesFor('processDuration', 'k', attrs);
    for (const v of VALUES) {
      h.record(v, attrs);
      series.record(v);
    }
    const [sdkH] = await histogramsOf(sdkReader);
    const [own] = await histogramsOf(ownReader);
    expect(own!.scope).toBe(sdkH!.scope);
    expect(own!.m.descriptor).toMatchObject({ name: sdkH!.m.descriptor.name, unit: 's', description: sdkH!.m.descriptor.description, valueType: sdkH!.m.descriptor.valueType });
    expect(own!.m.aggregationTemporality).toBe(sdkH!.m.aggregationTemporality);
    expect(own!.m.dataPoints).toHaveLength(1);
    const a = own!.m.dataPoints[0]!;
    const b = sdkH!.m.dataPoints[0]!;
    expect(a.attributes).toEqual(b.attributes);
    expect(a.value).toEqual(b.value);
    // Not vacuous: every bucket but the +Inf one got two values (its bound and 0 or the one below).
    expect((a.value as { count: number }).count).toBe(VALUES.length - 2);
  });

  it('through the middleware: the same series and counts as SDK histograms, none reported twice', async () => {
    const sdkReader = new OnDemandReader();
    const sdkProvider = new MeterProvider({ readers: [sdkReader] });
    const producer = new HistogramProducer();
    const ownReader = new OnDemandReader([producer]);
    const ownProvider = new MeterProvider({ readers: [ownReader] });
    const transport = new MemoryTransport();
    const middleware = [
      createObservability({ service: 'svc', meterProvider: sdkProvider, traces: false }).middleware,
      createObservability({ service: 'svc', meterProvider: ownProvider, histograms: producer, traces: false }).middleware,
    ];
    const bus = createEventBus({ transport, source: 'svc', middleware });
    const ev = userCreated(`h${rand()}`);
    let handled = 0;
    await bus.subscribe({ group: 'hist', handlers: [{ type: ev.type, accepts: [ev], handle: async () => void handled++ }] });
    for (let i = 0; i < 7; i++) await bus.publish(ev, { userId: `u${i}`, email: 'a@b.c' }, { params: { userId: `u${i}` } });
    await waitFor(() => handled === 7, 5000, 'handled');
    const shape = async (r: OnDemandReader) =>
      (await histogramsOf(r))
        .flatMap(({ m }) => m.dataPoints.map((dp) => ({ name: m.descriptor.name, attributes: dp.attributes, count: (dp.value as { count: number }).count })))
        .sort((x, y) => x.name.localeCompare(y.name));
    const own = await shape(ownReader);
    expect(own).toEqual(await shape(sdkReader));
    expect(own.map((p) => p.name)).toEqual([INSTRUMENTS.lag, INSTRUMENTS.publishDuration, INSTRUMENTS.processDuration].sort());
    expect(own.every((p) => p.count === 7)).toBe(true);
    await bus.close();
  });

  it('past 2 000 label sets a histogram reports one overflow series, as the SDK does', () => {
    const producer = new HistogramProducer();
    for (let i = 0; i < 2100; i++) producer.seriesFor('lag', `k${i}`, { 'event.type': `t${i}` }).record(0.002);
    return producer.collect().then(({ resourceMetrics }) => {
      const points = resourceMetrics.scopeMetrics[0]!.metrics[0]!.dataPoints;
      expect(points).toHaveLength(2001);
      const overflow = points.find((p) => p.attributes['otel.metric.overflow'] === true)!;
      expect((overflow.value as { count: number }).count).toBe(100);
    });
  });
});

describe('serveMetrics and the histogram producer', () => {
  it('alone, its Prometheus reader serves the producer histograms (one TYPE line each); with other readers the SDK histograms are used', async () => {
    const metrics = await serveMetrics({ port: 0, host: '127.0.0.1', global: false });
    const reader = new OnDemandReader();
    const withReader = await serveMetrics({ port: 0, host: '127.0.0.1', global: false, readers: [reader] });
    try {
      expect(metrics.histograms).toBeInstanceOf(HistogramProducer);
      expect(withReader.histograms).toBeUndefined();
      const transport = new MemoryTransport();
      const bus = createEventBus({
        transport,
        source: 'svc',
        middleware: [
          createObservability({ service: 'svc', meterProvider: metrics.meterProvider, traces: false }).middleware,
          createObservability({ service: 'svc', meterProvider: withReader.meterProvider, traces: false }).middleware,
        ],
      });
      const ev = userCreated(`p${rand()}`);
      let handled = 0;
      await bus.subscribe({ group: 'prom', handlers: [{ type: ev.type, accepts: [ev], handle: async () => void handled++ }] });
      for (let i = 0; i < 3; i++) await bus.publish(ev, { userId: `u${i}`, email: 'a@b.c' }, { params: { userId: `u${i}` } });
      await waitFor(() => handled === 3, 5000, 'handled');
      const text = await (await fetch(metrics.url!)).text();
      for (const name of [PROM.processDuration, PROM.publishDuration, PROM.lag]) {
        expect(text.split('\n').filter((l) => l.startsWith(`# TYPE ${name} histogram`))).toHaveLength(1);
        expect(text).toMatch(new RegExp(`^${name}_count\\{[^}]*event_type="user.created"[^}]*\\} 3$`, 'm'));
        expect(text).toMatch(new RegExp(`^${name}_bucket\\{[^}]*le="\\+Inf"[^}]*\\} 3$`, 'm'));
      }
      expect(text).toContain(`# HELP ${PROM.processDuration} ${HISTOGRAM_DESCRIPTIONS.processDuration}`);
      // The other server's reader sees SDK histograms.
      expect((await histogramsOf(reader)).map(({ m }) => m.descriptor.name).sort()).toEqual([INSTRUMENTS.lag, INSTRUMENTS.publishDuration, INSTRUMENTS.processDuration].sort());
      await bus.close();
    } finally {
      await metrics.close();
      await withReader.close();
    }
  });
});
