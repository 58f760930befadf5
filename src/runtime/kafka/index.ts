/**
 * event-contracts/runtime/kafka: the Apache Kafka transport. Loads @platformatic/kafka;
 * code that does not use Kafka imports `event-contracts/runtime` only and never loads it.
 */
export { KafkaTransport, connectKafka, bootstrapList, recordKey } from './transport.js';
export { TopicRouter, UnroutedSubjectError, patternsOverlap, delayBucket, DELAY_BUCKETS_MS, retryTopic, retryTopics, replyTopic } from './names.js';
export { KafkaHeaders, toKafkaHeaders, hidden, recordBytes, KAFKA_CE_PREFIX, SUBJECT_HEADER, ATTEMPT_HEADER, DUE_HEADER } from './headers.js';
export { PartitionOffsets } from './offsets.js';
export { kafkaConnectionOptions, classifyKafkaConnectError } from './security.js';
export type { KafkaTransportOptions, KafkaSecurityOptions, KafkaTransportStats } from './types.js';
export type { KafkaTopicSpec, KafkaProvisionPlan, KafkaProvisionAction, KafkaProvisionResult } from './plan.js';
export { provisionKafka, KafkaPlanError, KafkaProvisionError, kafkaPlanProblems } from './provision.js';
export type { KafkaProvisionTarget } from './provision.js';
