/**
 * AMQP 0-9-1 reply codes and the transport's own errors. A channel or connection error is
 * recognised by its reply code (amqplib sets `.code` on the error of the operation the broker
 * refused and on the channel's 'error' event), never by the wording of its message.
 */
import { EventContractsError, PermissionDeniedError, type BrokerOperation } from '../errors.js';

/** Reply codes of AMQP 0-9-1 (§1.2 of the spec's constants) that the transport acts on. */
export const REPLY = {
  CONNECTION_FORCED: 320,
  ACCESS_REFUSED: 403,
  NOT_FOUND: 404,
  RESOURCE_LOCKED: 405,
  PRECONDITION_FAILED: 406,
  INTERNAL_ERROR: 541,
} as const;

/** The reply code an amqplib error carries, if the broker (or amqplib for the broker) gave one. */
export function replyCodeOf(err: unknown): number | undefined {
  const code = (err as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'number' ? code : undefined;
}

/** A 403 turned into the runtime's typed error; anything else is returned as it is. */
export function typedRefusal(err: unknown, operation: BrokerOperation, subject: string): unknown {
  if (replyCodeOf(err) !== REPLY.ACCESS_REFUSED) return err;
  return new PermissionDeniedError(operation, subject, 'amqp', (err as Error).message ?? String(err));
}

/** An event (or dead letter) that no queue is bound for; RabbitMQ would have dropped it. */
export class UnroutableError extends EventContractsError {
  constructor(
    readonly exchange: string,
    readonly routingKey: string,
  ) {
    super(`no queue is bound for '${routingKey}' on exchange '${exchange || '(default)'}' (provision the consumer groups first)`);
  }
}

/** No publisher confirm before the publish deadline. */
export class PublishTimeoutError extends EventContractsError {
  constructor(readonly routingKey: string) {
    super(`RabbitMQ did not confirm the publish to '${routingKey}' before the deadline`);
  }
}
