/**
 * event-contracts/runtime/amqp: the RabbitMQ transport. Loads amqplib; code that does not
 * use RabbitMQ imports `event-contracts/runtime` only and never loads it.
 */
export { AmqpTransport, connectAmqp } from './transport.js';
export { provisionAmqp, delayBucket } from './topology.js';
export type { HasConnection } from './topology.js';
export { UnroutableError, PublishTimeoutError, REPLY, replyCodeOf } from './errors.js';
export { AmqpHeaders, toAmqpProperties, bindingKey, AMQP_CE_PREFIX } from './headers.js';
export { DEFAULT_AMQP_URL } from './types.js';
export type {
  AmqpTransportOptions,
  AmqpTransportStats,
  AmqpTopology,
  AmqpExchangeSpec,
  AmqpQueueSpec,
  AmqpSubjectBinding,
  AmqpProvisionPlan,
  AmqpProvisionQueue,
  AmqpProvisionBinding,
  AmqpProvisionAction,
  AmqpProvisionResult,
  AmqpSecurityOptions,
} from './types.js';
export { amqpSocketOptions, classifyAmqpConnectError } from './security.js';
