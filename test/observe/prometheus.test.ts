/**
 * serveMetrics() scraped by a real Prometheus: a service on NATS publishes and consumes, and
 * Prometheus's HTTP API answers with its publish and consume rates and the queue depth read
 * from JetStream. And what must never stop the bus: a metrics port in use, a span exporter
 * that throws, a depth read that fails (each logged once).
 */
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { BasicTracerProvider, SimpleSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { createEventBus, type EventBus } from '../../src/runtime/index.js';
import { NatsTransport, provisionNats } from '../../src/runtime/nats/index.js';
import { createObservability, logSdkErrorsOnce, observeNats, PROM } from '../../src/runtime/otel/index.js';
import { PeriodicExportingMetricReader, type PushMetricExporter } from '@opentelemetry/sdk-metrics';
import { serveMetrics, type MetricsServer } from '../../src/runtime/prometheus/index.js';
import { NATS_URL, rand, userCreated, waitFor } from '../runtime/helpers.js';
import { enableContext, OnDemandReader } from './otel-helpers.js';
import { PrometheusServer } from './prometheus-server.js';

describe('Prometheus', () => {
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  const streams: string[] = [];
  const buses: EventBus[] = [];
  const servers: MetricsServer[] = [];
  let prom: PrometheusServer | undefined;
  beforeAll(async () => {
    nc = await connect({ servers: NATS_URL });
    jsm = await jetstreamManager(nc);
  });
  afterAll(async () => {
    await prom?.stop();
    await Promise.allSettled(buses.map((b) => b.close()));
    await Promise.allSettled(servers.map((s) => s.close()));
    for (const s of streams) await jsm.streams.delete(s).catch(() => undefined);
    await nc.close();
  });

  it('a real Prometheus scrapes /metrics and answers with publish and consume rates and the queue depth', async () => {
    const metrics = await serveMetrics({ port: 0, host: '127.0.0.1', global: false });
    servers.push(metrics);
    expect(metrics.error).toBeUndefined();
    const prefix = `pm${rand()}`;
    const stream = `PM_${prefix}`;
    const group = `g${prefix}`;
    const backlog = `b${prefix}`;
    streams.push(stream);
    await provisionNats(nc, {
      streams: [{ name: stream, subjects: [`${prefix}.>`], storage: 'memory' }],
      // Nobody reads `backlog`: its pending count is the queue depth Prometheus should see.
      consumers: [{ stream, name: backlog, filterSubject: `${prefix}.users.*.created` }],
    });
    const ev = userCreated(prefix);
    const transport = await NatsTransport.connect({ connect: { servers: NATS_URL } });
    const obs = createObservability({ service: 'users', meterProvider: metrics.meterProvider });
    const bus = createEventBus({ transport, source: 'users', middleware: [obs.middleware] });
    buses.push(bus);
    observeNats(obs, transport, [{ group: backlog, stream }]);
    let handled = 0;
    await bus.subscribe({ group, handlers: [{ type: ev.type, accepts: [ev], handle: async () => void handled++ }] });

    prom = await PrometheusServer.start([new URL(metrics.url!).host]);
    const sent = `${PROM.sent}{service="users",event_type="user.created"}`;
    const publish = (from: number, n: number) =>
      bus.publishBatch(Array.from({ length: n }, (_, i) => ({ event: ev, data: { userId: `u${from + i}`, email: 'a@b.c' }, options: { params: { userId: `u${from + i}` } } })));
    // Two scraped values of each counter, so rate() has an increase to see.
    await publish(0, 20);
    await waitFor(() => handled === 20, 10_000, '20 handled');
    await prom.until(sent, (s) => s[0]?.value === 20);
    await publish(20, 30);
    await waitFor(() => handled === 50, 10_000, '50 handled');
    await prom.until(sent, (s) => s[0]?.value === 50);

    const up = await prom.query('up{job="service"}');
    expect(up[0]?.value).toBe(1);
    const sentRate = await prom.query(`sum by (event_type) (rate(${PROM.sent}{service="users"}[1m]))`);
    expect(sentRate[0]?.metric['event_type']).toBe('user.created');
    expect(sentRate[0]!.value).toBeGreaterThan(0);
    const consumed = await prom.until(`sum by (${PROM.label.group}) (rate(${PROM.consumed}{${PROM.label.group}="${group}"}[1m]))`, (s) => (s[0]?.value ?? 0) > 0);
    expect(consumed[0]!.metric[PROM.label.group]).toBe(group);
    const p95 = await prom.query(`histogram_quantile(0.95, sum by (le) (rate(${PROM.processDuration}_bucket{${PROM.label.group}="${group}"}[1m])))`);
    expect(p95[0]!.value).toBeGreaterThan(0);
    const depth = await prom.until(`${PROM.pending}{${PROM.label.group}="${backlog}"}`, (s) => s[0]?.value === 50);
    expect(depth[0]!.metric[PROM.label.system]).toBe('nats');
    expect((await prom.query(`${PROM.ackPending}{${PROM.label.group}="${backlog}"}`))[0]?.value).toBe(0);
    expect((await prom.query(`${PROM.connectionUp}{service="users"}`))[0]?.value).toBe(1);
  });

  it('a metrics port in use, a span exporter that throws, a metrics exporter whose backend is down and a failing depth read never stop the bus; each is logged once', async () => {
    enableContext();
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', () => r()));
    const port = (taken.address() as { port: number }).port;
    const lines: Array<{ fields: Record<string, unknown>; msg: string }> = [];
    const logger = { error: (fields: Record<string, unknown>, msg: string) => void lines.push({ fields, msg }), warn: () => undefined, info: () => undefined };
    logSdkErrorsOnce(logger);
    const reader = new OnDemandReader();
    // A metrics exporter whose backend is down, every 50 ms.
    let metricExports = 0;
    const down: PushMetricExporter = {
      export: (_m, done) => {
        metricExports++;
        done({ code: 1 /* ExportResultCode.FAILED */, error: new Error('collector unreachable') });
      },
      forceFlush: async () => undefined,
      shutdown: async () => undefined,
    };
    const periodic = new PeriodicExportingMetricReader({ exporter: down, exportIntervalMillis: 50, exportTimeoutMillis: 40 });
    const metrics = await serveMetrics({ port, host: '127.0.0.1', global: false, logger, readers: [reader, periodic] });
    servers.push(metrics);
    taken.close();
    expect(metrics.url).toBeUndefined();
    expect((metrics.error as NodeJS.ErrnoException).code).toBe('EADDRINUSE');
    expect(lines.filter((l) => /could not listen/.test(l.msg))).toHaveLength(1);

    let exports = 0;
    const broken: SpanExporter = {
      export: () => {
        exports++;
        throw new Error('exporter down');
      },
      shutdown: async () => undefined,
    };
    const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(broken)] });
    const prefix = `pf${rand()}`;
    const stream = `PF_${prefix}`;
    streams.push(stream);
    await provisionNats(nc, { streams: [{ name: stream, subjects: [`${prefix}.>`], storage: 'memory' }] });
    const ev = userCreated(prefix);
    const transport = await NatsTransport.connect({ connect: { servers: NATS_URL } });
    const obs = createObservability({ service: 'svc', meterProvider: metrics.meterProvider, tracerProvider, logger });
    const bus = createEventBus({ transport, source: 'svc', middleware: [obs.middleware] });
    buses.push(bus);
    observeNats(obs, transport, [{ group: 'nobody', stream, durable: 'nobody' }], logger);
    let handled = 0;
    await bus.subscribe({ group: `g${prefix}`, handlers: [{ type: ev.type, accepts: [ev], handle: async () => void handled++ }] });
    for (let i = 0; i < 5; i++) await bus.publish(ev, { userId: `u${i}`, email: 'a@b.c' }, { params: { userId: `u${i}` } });
    await waitFor(() => handled === 5, 10_000, '5 handled');
    expect(exports).toBeGreaterThanOrEqual(5);
    // Three collections, three failed reads of a consumer that does not exist: one log line.
    for (let i = 0; i < 3; i++) await reader.collect();
    expect(lines.filter((l) => /queue depth could not be read/.test(l.msg))).toHaveLength(1);
    // The SDK's own failures (the span exporter throwing per span, the metrics exporter per
    // interval) reach the log once each, however often they happen.
    await waitFor(() => metricExports >= 3, 10_000, 'three failed metric exports');
    expect(lines.filter((l) => /OpenTelemetry SDK: .*exporter down/.test(l.msg))).toHaveLength(1);
    expect(lines.filter((l) => /OpenTelemetry SDK: .*collector unreachable/.test(l.msg))).toHaveLength(1);
    expect(lines.filter((l) => /queue depth could not be read/.test(l.msg))[0]!.fields).toMatchObject({ group: 'nobody' });
  });
});
