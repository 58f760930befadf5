/**
 * event-contracts/runtime/otel: OpenTelemetry traces and metrics for the bus, through
 * @opentelemetry/api only (an optional peer dependency). Loads no broker client: the NATS
 * and RabbitMQ depth readers take a transport the caller already has.
 */
export { createObservability } from './middleware.js';
export type { Observability, ObservabilityOptions } from './middleware.js';
export { observeDepth } from './depth.js';
export type { Depth, DepthSource, ConnectionSource, DepthObserver } from './depth.js';
export { observeNats, natsDepthSource, natsConnectionSource } from './nats.js';
export type { NatsDepthSpec } from './nats.js';
export { observeAmqp, amqpDepthSource, amqpConnectionSource, managementDepthReader } from './amqp.js';
export type { AmqpDepthSpec, AmqpManagement } from './amqp.js';
export { readTraceContext, writeTraceContext, TRACEPARENT, TRACESTATE } from './trace-context.js';
export { INSTRUMENTS, ATTR, PROM, SECONDS_BUCKETS, promName } from './names.js';
export type { ObservabilityLog } from './log.js';
export { readMetricsSnapshot } from './snapshot.js';
export { HistogramProducer, HistogramSeries, HISTOGRAM_DESCRIPTIONS } from './histograms.js';
export type { HistogramName } from './histograms.js';
export { logSdkErrorsOnce } from './sdk-errors.js';
