/**
 * Queue depth and connection state of a NATS transport: each consumer group's durable
 * JetStream consumer (`num_pending`, `num_ack_pending` from its consumer info) and the
 * connection's status stream (disconnects, reconnects).
 */
import type { NatsTransport } from '../nats/transport.js';
import { durableName } from '../nats/names.js';
import { observeDepth, type ConnectionSource, type DepthObserver, type DepthSource } from './depth.js';
import type { ObservabilityLog } from './log.js';
import type { Observability } from './middleware.js';

export interface NatsDepthSpec {
  group: string;
  /** The stream the group's durable consumer reads. */
  stream: string;
  /** Durable consumer name. Default: the group's name (a group that filters one subject). */
  durable?: string;
  /** Or: the group's subjects and the one to observe, to derive the name as the transport does. */
  subjects?: readonly string[];
  subject?: string;
}

export function natsDepthSource(transport: NatsTransport, spec: NatsDepthSpec): DepthSource {
  const durable = spec.durable ?? (spec.subjects && spec.subject ? durableName(spec.group, spec.subjects, spec.subject) : spec.group);
  return {
    group: spec.group,
    async read() {
      const jsm = await transport.jsm();
      const info = await jsm.consumers.info(spec.stream, durable);
      return { pending: info.num_pending, ackPending: info.num_ack_pending };
    },
  };
}

/** Connection state from the transport's connection: up unless disconnected or closed; reconnects counted. */
export function natsConnectionSource(transport: NatsTransport, logger?: ObservabilityLog): ConnectionSource {
  let up = !transport.nc.isClosed();
  let reconnects = 0;
  const say = (level: 'warn' | 'info', message: string): void => {
    try {
      logger?.[level]({ system: 'nats', server: transport.nc.getServer(), reconnects }, message);
    } catch {
      // A logger that throws must not stop the watch.
    }
  };
  void (async () => {
    for await (const s of transport.nc.status()) {
      if (s.type === 'disconnect') {
        if (up) say('warn', 'broker connection lost; reconnecting');
        up = false;
      } else if (s.type === 'reconnect') {
        up = true;
        reconnects++;
        say('info', 'broker connection re-established');
      }
    }
  })().catch(() => undefined);
  return {
    isUp: () => up && !transport.nc.isClosed(),
    reconnects: () => reconnects,
  };
}

/** Queue-depth gauges for `consumers` plus connection state, on the observability's meter. */
export function observeNats(obs: Observability, transport: NatsTransport, consumers: readonly NatsDepthSpec[], logger?: ObservabilityLog): DepthObserver {
  return observeDepth(
    obs,
    consumers.map((c) => natsDepthSource(transport, c)),
    natsConnectionSource(transport, logger),
    logger,
  );
}
