/**
 * Queue depth and connection state of a RabbitMQ transport. AMQP itself reports a queue's
 * ready messages (queue.declare passive: `messageCount`) but not its unacknowledged ones
 * (only the management plugin's HTTP API does), so ack-pending is not observed here.
 */
import type { AmqpTransport } from '../amqp/transport.js';
import { observeDepth, type ConnectionSource, type DepthObserver, type DepthSource } from './depth.js';
import type { ObservabilityLog } from './log.js';
import type { Observability } from './middleware.js';

export interface AmqpDepthSpec {
  group: string;
  /** Default: the transport's queue for the group (queue prefix + group). */
  queue?: string;
}

export function amqpDepthSource(transport: AmqpTransport, spec: AmqpDepthSpec): DepthSource {
  const queue = spec.queue ?? `${transport.topo.prefix}${spec.group}`;
  return {
    group: spec.group,
    // A short-lived channel: a missing queue closes the channel it was checked on.
    read: () => transport.link.withChannel(async (ch) => ({ pending: (await ch.checkQueue(queue)).messageCount })),
  };
}

export function amqpConnectionSource(transport: AmqpTransport, logger?: ObservabilityLog): ConnectionSource {
  transport.link.onLost((reconnect) => {
    try {
      logger?.warn({ system: 'rabbitmq', reconnects: transport.link.reconnects }, reconnect ? 'broker connection lost; reconnecting' : 'broker connection closed');
    } catch {
      // A logger that throws must not reach the connection's listeners.
    }
  });
  return {
    isUp: () => transport.link.current !== undefined && !transport.isClosed,
    reconnects: () => transport.link.reconnects,
  };
}

export function observeAmqp(obs: Observability, transport: AmqpTransport, queues: readonly AmqpDepthSpec[], logger?: ObservabilityLog): DepthObserver {
  return observeDepth(
    obs,
    queues.map((q) => amqpDepthSource(transport, q)),
    amqpConnectionSource(transport, logger),
    logger,
  );
}
