/**
 * event-contracts/runtime: what generated clients import. Never imports the generator or
 * anything outside src/runtime.
 */
export type * from './types.js';
export { createEventBus } from './bus.js';
export { backoffDelay, DEFAULT_BACKOFF } from './backoff.js';
export { CLOUDEVENTS_MAPPING, H as HEADERS, SPEC_VERSION, JSON_CONTENT_TYPE, STRUCTURED_CONTENT_TYPE, decodeMessage, recordHeaders } from './codec.js';
export type { AttributeMapping, DecodedEnvelope } from './codec.js';
export { compileAddress, subjectMatches } from './address.js';
export type { CompiledAddress } from './address.js';
export { parseSemver, VersionResolver } from './versions.js';
export { checkWith, lazyValidator, toIssues } from './validation.js';
export type { AjvError, CompiledValidator } from './validation.js';
export { RUNTIME_HEADERS, childTraceparent } from './headers.js';
export { DEFAULT_LIMITS, withinDepth } from './limits.js';
export type { InboundLimits } from './limits.js';
export { MemoryDedupeStore } from './dedupe.js';
export { PgDedupeStore } from './pg-dedupe.js';
export type { PgDedupeOptions, SqlQueryable } from './pg-dedupe.js';
export { MemoryTransport } from './memory.js';
export { deadLetterHeaders, fitDeadLetter, STRIPPED_HEADERS, OMITTED_BODY, OMITTED_BODY_SHA256, OMITTED_HEADERS } from './dead-letter.js';
export type { MemoryTransportOptions } from './memory.js';
export {
  EventContractsError,
  EventValidationError,
  EventTooLargeError,
  AddressParameterError,
  RequestTimeoutError,
  NoResponderError,
  RemoteHandlerError,
  DecodeError,
  PublishBatchError,
  BusClosedError,
  PermissionDeniedError,
  HeaderValidationError,
  EventIdCollisionError,
  TlsHandshakeError,
  AuthenticationError,
  SecretUnavailableError,
} from './errors.js';
export type { BrokerOperation } from './errors.js';
export type { Secret, TlsClientOptions } from './security/secrets.js';
export { createMetrics, LATENCY_BUCKETS_MS } from './metrics.js';
export { auditMiddleware, jsonLinesAuditSink, transportAuditSink, AuditUnavailableError } from './audit.js';
export type { AuditRecord, AuditSink, AuditOptions, AuditOutcome, AuditStats, AuditMiddleware } from './audit.js';
export { signedTransport, loadSigningKeys, publicKeyOf, signedBytes, SignatureError, SIGNATURE_HEADER, SIGNER_HEADER } from './signing.js';
export type { SigningOptions } from './signing.js';
export type { Metrics, MetricsSnapshot } from './metrics.js';
// The transports have entry points of their own (event-contracts/runtime/nats, /runtime/amqp),
// so this one loads no broker client. The provisioning plans' types are here as well, for
// the generated provisioning.ts; type exports load nothing.
export type { NatsStreamSpec, NatsConsumerSpec, NatsProvisionPlan, NatsProvisionResult, ProvisionAction } from './nats/plan.js';
export type { KafkaTopicSpec, KafkaProvisionPlan, KafkaProvisionAction, KafkaProvisionResult } from './kafka/plan.js';
export type {
  AmqpTopology,
  AmqpExchangeSpec,
  AmqpQueueSpec,
  AmqpSubjectBinding,
  AmqpProvisionPlan,
  AmqpProvisionQueue,
  AmqpProvisionBinding,
  AmqpProvisionAction,
  AmqpProvisionResult,
} from './amqp/types.js';
export { startBridge, typeMatcher, BRIDGED_HEADER } from './bridge.js';
export type { Bridge, BridgeOptions, BridgeStats } from './bridge.js';
