/**
 * Queue depth and connection state of a RabbitMQ transport. AMQP 0-9-1 itself reports a
 * queue's ready messages (queue.declare passive: `messageCount`) but not its
 * unacknowledged ones: only the management plugin's HTTP API does. So ack-pending is
 * observed only when a management URL is given; the ready count then comes from the same
 * answer, and over AMQP again while the management API cannot be read. The plugin's
 * figures are as fresh as its statistics interval (`collect_statistics_interval`, 5 s by
 * default).
 */
import type { AmqpTransport } from '../amqp/transport.js';
import { observeDepth, type ConnectionSource, type Depth, type DepthObserver, type DepthSource } from './depth.js';
import { OnceLog, errorLabel, type ObservabilityLog } from './log.js';
import type { Observability } from './middleware.js';

export interface AmqpDepthSpec {
  group: string;
  /** Default: the transport's queue for the group (queue prefix + group). */
  queue?: string;
}

export interface AmqpManagement {
  /** The management plugin's base URL, credentials in it: `http://user:password@127.0.0.1:15672`. */
  url: string;
  /** Default '/'. */
  vhost?: string;
}

/** A queue the plugin has not sampled yet (just declared): no counts, and nothing wrong. */
class NotSampledYet extends Error {}

/** Reads at most this long; a slower answer counts as a failed read. */
const MANAGEMENT_TIMEOUT_MS = 1500;

/** `GET /api/queues/<vhost>/<queue>`: ready and unacknowledged counts. */
export function managementDepthReader(m: AmqpManagement): (queue: string) => Promise<Depth> {
  const u = new URL(m.url);
  // fetch refuses credentials in the URL: they go in the Authorization header (and never in an error).
  const auth = u.username !== '' ? `Basic ${Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64')}` : undefined;
  u.username = '';
  u.password = '';
  const base = u.href.replace(/\/+$/, '');
  const vhost = encodeURIComponent(m.vhost ?? '/');
  return async (queue) => {
    const res = await fetch(`${base}/api/queues/${vhost}/${encodeURIComponent(queue)}?columns=messages_ready,messages_unacknowledged`, {
      headers: auth ? { authorization: auth } : {},
      signal: AbortSignal.timeout(MANAGEMENT_TIMEOUT_MS),
    });
    if (!res.ok) throw new Error(`RabbitMQ management API answered ${res.status} for queue '${queue}'`);
    const q = (await res.json()) as { messages_ready?: unknown; messages_unacknowledged?: unknown };
    // A queue the plugin has not sampled yet has no counts: not a zero.
    if (typeof q.messages_ready !== 'number' || typeof q.messages_unacknowledged !== 'number') throw new NotSampledYet(`RabbitMQ management API has no counts for queue '${queue}' yet`);
    return { pending: q.messages_ready, ackPending: q.messages_unacknowledged };
  };
}

export function amqpDepthSource(transport: AmqpTransport, spec: AmqpDepthSpec, management?: AmqpManagement, logger?: ObservabilityLog): DepthSource {
  const queue = spec.queue ?? `${transport.topo.prefix}${spec.group}`;
  // A short-lived channel: a missing queue closes the channel it was checked on.
  const overAmqp = (): Promise<Depth> => transport.link.withChannel(async (ch) => ({ pending: (await ch.checkQueue(queue)).messageCount }));
  if (!management) return { group: spec.group, read: overAmqp };
  const viaManagement = managementDepthReader(management);
  const once = new OnceLog(logger);
  return {
    group: spec.group,
    read: async () => {
      try {
        const d = await viaManagement(queue);
        once.clear(queue);
        return d;
      } catch (err) {
        // The ready count is still there over AMQP; unacknowledged goes unreported meanwhile.
        if (!(err instanceof NotSampledYet)) once.error(queue, { group: spec.group, queue, err: errorLabel(err) }, 'RabbitMQ management API could not be read; unacknowledged count not reported');
        return overAmqp();
      }
    },
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

/** `management`: read ready and unacknowledged counts from the management plugin (else ready only, over AMQP). */
export function observeAmqp(obs: Observability, transport: AmqpTransport, queues: readonly AmqpDepthSpec[], logger?: ObservabilityLog, management?: AmqpManagement): DepthObserver {
  return observeDepth(
    obs,
    queues.map((q) => amqpDepthSource(transport, q, management, logger)),
    amqpConnectionSource(transport, logger),
    logger,
  );
}
