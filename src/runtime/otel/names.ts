/**
 * Names of the instruments and attributes the runtime's OpenTelemetry middleware records,
 * with the names Prometheus gives them. Pure data: the generator's alert rules and
 * dashboards read them from here, without loading @opentelemetry/api.
 *
 * Instruments follow OpenTelemetry's messaging semantic conventions where they name one
 * (`messaging.client.sent.messages`, `messaging.client.consumed.messages`,
 * `messaging.client.operation.duration`, `messaging.process.duration`); the rest are ours,
 * under `event_contracts.`. A failed operation carries `error.type` (the error's class name).
 */

export const INSTRUMENTS = {
  /** Counter: publishes (and requests) finished; failed ones carry error.type. */
  sent: 'messaging.client.sent.messages',
  /** Counter: events handed to a handler; failed handlings carry error.type. */
  consumed: 'messaging.client.consumed.messages',
  /** Histogram (s): publish until the broker stored the message (or refused). */
  publishDuration: 'messaging.client.operation.duration',
  /** Histogram (s): handler time per event. */
  processDuration: 'messaging.process.duration',
  /** Histogram (s): end-to-end lag, from the event's time to the start of its handling. */
  lag: 'event_contracts.lag',
  /** Counter: failed handlings given back to the broker for a later redelivery. */
  retries: 'event_contracts.retries',
  /** Counter: events dead-lettered, by `error.type` = the dead-letter reason. */
  deadLetters: 'event_contracts.dead_letters',
  /** Counter: dead-letter publishes that failed (the message stays with the broker). */
  deadLetterFailures: 'event_contracts.dead_letter_failures',
  /** Counter: events acknowledged without handling because they were handled before. */
  duplicates: 'event_contracts.duplicates',
  /** Observable gauge: messages the consumer group has not been sent yet (JetStream num_pending, RabbitMQ ready). */
  pending: 'event_contracts.queue.pending',
  /** Observable gauge: messages delivered and not yet acknowledged (JetStream num_ack_pending; RabbitMQ messages_unacknowledged, from the management API only). */
  ackPending: 'event_contracts.queue.ack_pending',
  /** Observable gauge: 1 while the transport is connected, else 0. */
  connectionUp: 'event_contracts.connection.up',
  /** Observable counter: reconnects since the transport started. */
  reconnects: 'event_contracts.connection.reconnects',
  /** Observable counter: failed reads of queue depth from the broker. */
  depthErrors: 'event_contracts.queue.depth_errors',
} as const;

/** Metric attributes (labels). Bounded: never an event id or a subject's parameters. */
export const ATTR = {
  system: 'messaging.system',
  operationName: 'messaging.operation.name',
  operationType: 'messaging.operation.type',
  group: 'messaging.consumer.group.name',
  destinationTemplate: 'messaging.destination.template',
  eventType: 'event.type',
  eventMajor: 'event.major',
  service: 'service',
  errorType: 'error.type',
} as const;

/** An OpenTelemetry name as the Prometheus exporter writes it (dots to underscores). */
export function promName(otelName: string): string {
  return otelName.replace(/[^a-zA-Z0-9_:]/g, '_');
}

/** Series names on /metrics (counters get `_total`; the exporter appends no unit). */
export const PROM = {
  sent: `${promName(INSTRUMENTS.sent)}_total`,
  consumed: `${promName(INSTRUMENTS.consumed)}_total`,
  publishDuration: `${promName(INSTRUMENTS.publishDuration)}`,
  processDuration: `${promName(INSTRUMENTS.processDuration)}`,
  lag: `${promName(INSTRUMENTS.lag)}`,
  retries: `${promName(INSTRUMENTS.retries)}_total`,
  deadLetters: `${promName(INSTRUMENTS.deadLetters)}_total`,
  deadLetterFailures: `${promName(INSTRUMENTS.deadLetterFailures)}_total`,
  duplicates: `${promName(INSTRUMENTS.duplicates)}_total`,
  pending: promName(INSTRUMENTS.pending),
  ackPending: promName(INSTRUMENTS.ackPending),
  connectionUp: promName(INSTRUMENTS.connectionUp),
  reconnects: `${promName(INSTRUMENTS.reconnects)}_total`,
  label: {
    system: promName(ATTR.system),
    group: promName(ATTR.group),
    eventType: promName(ATTR.eventType),
    eventMajor: promName(ATTR.eventMajor),
    service: ATTR.service,
    errorType: promName(ATTR.errorType),
  },
} as const;

/** Histogram bucket bounds in seconds (1 ms … 10 s), shared by the durations and the lag. */
export const SECONDS_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;
