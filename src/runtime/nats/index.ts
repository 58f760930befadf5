/**
 * event-contracts/runtime/nats: the NATS JetStream transport and its provisioning. A
 * separate entry point, so users of another broker never load nats.js.
 */
export { NatsTransport, connectNats } from './transport.js';
export type { NatsTransportOptions, NatsTransportStats } from './transport.js';
export { provisionNats } from './provision.js';
export type { NatsStreamSpec, NatsConsumerSpec, NatsProvisionOptions, NatsProvisionPlan, NatsProvisionResult, ProvisionAction } from './provision.js';
export { durableName, deadLetterSubject, deadLetterStreamName } from './names.js';
export { RAW_HEADERS } from './headers.js';
export { JetStreamUnavailableError } from './publisher.js';
export { KvDedupeStore } from './kv-dedupe.js';
export type { KvDedupeOptions } from './kv-dedupe.js';
export { natsSecurityOptions, classifyNatsConnectError } from './security.js';
export type { NatsSecurityOptions, NatsAuth } from './security.js';
