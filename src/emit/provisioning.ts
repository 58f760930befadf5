/** `provisioning.ts`: the broker topology the contract implies (NATS, RabbitMQ and Kafka), for services to apply at start-up. */
import type { Catalog } from '../catalog/model.js';
import type { Diagnostic } from '../diagnostics.js';
import { amqpPlan } from '../provision/amqp-plan.js';
import { kafkaPlan } from '../provision/kafka-plan.js';
import { natsPlan } from '../provision/nats-plan.js';
import type { AuditStreamSettings } from '../security/audit-stream.js';
import type { GeneratedFile } from './files.js';
import { CodeFile } from './printer.js';

export function emitProvisioning(catalog: Catalog, runtime: string, options: { audit?: AuditStreamSettings } = {}): { file: GeneratedFile; diagnostics: Diagnostic[] } {
  const nats = natsPlan(catalog, options.audit ? { audit: options.audit } : {});
  const amqp = amqpPlan(catalog);
  const kafka = kafkaPlan(catalog);
  const file = new CodeFile('provisioning.ts');
  file.line('/**');
  file.line(' * NATS JetStream: streams (from `x-stream`) and durable consumers (from receive operations).');
  file.line(' * Apply at start-up with `provisionNats(transport, natsProvisioning)`; it is idempotent.');
  file.line(' */');
  file.line(`export const natsProvisioning: ${file.type('NatsProvisionPlan', runtime)} = ${JSON.stringify(nats.plan, null, 2)};`);
  file.line();
  file.line('/**');
  file.line(' * RabbitMQ: exchanges (from `amqp` channel bindings), a durable queue per consumer group and');
  file.line(' * its bindings. Apply with `provisionAmqp(transport, amqpProvisioning)`; it is idempotent.');
  file.line(' */');
  file.line(`export const amqpProvisioning: ${file.type('AmqpProvisionPlan', runtime)} = ${JSON.stringify(amqp.plan, null, 2)};`);
  file.line();
  file.line('/** Where the contract routes each subject over RabbitMQ: pass as `bindings` to the AMQP transport. */');
  file.line(`export const amqpBindings: Record<string, ${file.type('AmqpSubjectBinding', runtime)}> = ${JSON.stringify(amqp.subjects, null, 2)};`);
  file.line();
  file.line('/**');
  file.line(' * Kafka: a topic per channel (from `kafka` channel bindings or `x-kafka`) listing the subjects it');
  file.line(' * carries, a dead-letter topic per consumer group, and in `internalTopics` each group\'s retry topics.');
  file.line(' * Apply with `provisionKafka({ bootstrap }, kafkaProvisioning)`; it is idempotent.');
  file.line(' */');
  file.line(`export const kafkaProvisioning: ${file.type('KafkaProvisionPlan', runtime)} = ${JSON.stringify(kafka.plan, null, 2)};`);
  return { file: { path: file.path, content: file.render() }, diagnostics: [...nats.diagnostics, ...amqp.diagnostics, ...kafka.diagnostics] };
}
