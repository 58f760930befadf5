/**
 * event-contracts/runtime/prometheus: one call that exposes the bus's OpenTelemetry metrics
 * on `/metrics` for Prometheus to scrape. It uses @opentelemetry/exporter-prometheus as a
 * MetricReader on an SDK MeterProvider, so the instruments the middleware records are the
 * only ones: nothing is counted twice, and the same provider can feed other readers.
 *
 * A port in use (or any listen error) never throws into the caller and never stops the
 * bus: the returned server says why it is not serving, and the logger hears it once.
 */
import { createServer, type Server } from 'node:http';
import { metrics } from '@opentelemetry/api';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { MeterProvider, type MetricReader } from '@opentelemetry/sdk-metrics';
import { OnceLog, errorLabel, type ObservabilityLog } from '../otel/log.js';
import { HistogramProducer, bindHistogramProducer } from '../otel/histograms.js';

export interface ServeMetricsOptions {
  /** TCP port; 0 picks a free one. Default 9464 (OpenTelemetry's Prometheus port). */
  port?: number;
  /** Interface to listen on. Default '0.0.0.0'. */
  host?: string;
  /** Default '/metrics'. */
  path?: string;
  /** Also register the provider as the global MeterProvider. Default true. */
  global?: boolean;
  /**
   * More readers on the same provider (a periodic OTLP exporter, an in-memory one in tests).
   * They cannot be given the middleware's histogram producer after they were made, so with
   * any reader here the middleware records SDK histograms (every reader sees them).
   */
  readers?: MetricReader[];
  logger?: ObservabilityLog;
}

export interface MetricsServer {
  /** Pass it to createObservability({ meterProvider }) (or rely on the global one). */
  readonly meterProvider: MeterProvider;
  /**
   * The middleware's histograms, reported through the Prometheus reader (bound to
   * `meterProvider`: createObservability finds it); undefined when other readers were given.
   */
  readonly histograms: HistogramProducer | undefined;
  /** Where Prometheus scrapes, or undefined when the server could not listen. */
  readonly url: string | undefined;
  readonly port: number | undefined;
  /** Why the server is not listening, when it is not. */
  readonly error: Error | undefined;
  /** Stops serving and shuts the provider down. */
  close(): Promise<void>;
}

export async function serveMetrics(o: ServeMetricsOptions = {}): Promise<MetricsServer> {
  const path = o.path ?? '/metrics';
  const host = o.host ?? '0.0.0.0';
  const once = new OnceLog(o.logger);
  // With the Prometheus reader alone, the histograms skip the SDK's per-record attribute
  // hashing (see otel/histograms.ts); another reader would not see them, so not then.
  const histograms = (o.readers ?? []).length === 0 ? new HistogramProducer() : undefined;
  const exporter = new PrometheusExporter({ preventServerStart: true, ...(histograms ? { metricProducers: [histograms] } : {}) });
  const meterProvider = new MeterProvider({ readers: [exporter, ...(o.readers ?? [])] });
  if (histograms) bindHistogramProducer(meterProvider, histograms);
  if (o.global !== false) metrics.setGlobalMeterProvider(meterProvider);

  const server: Server = createServer((req, res) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    if ((q < 0 ? url : url.slice(0, q)) !== path) {
      res.statusCode = 404;
      res.end(`see ${path}\n`);
      return;
    }
    try {
      exporter.getMetricsRequestHandler(req, res);
    } catch (err) {
      once.error('export', { err: errorLabel(err) }, 'metrics could not be exported');
      if (!res.headersSent) res.statusCode = 500;
      res.end();
    }
  });
  // An error after listening (a socket problem) is logged once; it never reaches the bus.
  server.on('clientError', (_err, socket) => socket.destroy());

  let error: Error | undefined;
  let port: number | undefined;
  await new Promise<void>((resolve) => {
    const onError = (err: Error): void => {
      error = err;
      once.error('listen', { port: o.port ?? 9464, host, err: errorLabel(err) }, 'metrics endpoint could not listen; the bus goes on without it');
      resolve();
    };
    server.once('error', onError);
    server.listen(o.port ?? 9464, host, () => {
      server.off('error', onError);
      server.on('error', (err) => once.error('server', { err: errorLabel(err) }, 'metrics endpoint failed'));
      const a = server.address();
      port = typeof a === 'object' && a ? a.port : undefined;
      resolve();
    });
  });
  const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  return {
    meterProvider,
    histograms,
    url: error ? undefined : `http://${shownHost}:${port}${path}`,
    port,
    error,
    async close() {
      if (!error) await new Promise<void>((r) => server.close(() => r()));
      await meterProvider.shutdown().catch(() => undefined);
    },
  };
}
