/**
 * Queue depth and connection state as observable instruments, read from the broker when a
 * reader collects (a Prometheus scrape, a periodic export). Broker-neutral: a transport's
 * module (otel/nats.ts, otel/amqp.ts) supplies the reads. A read that fails is counted and
 * logged once per consumer group until it succeeds again; it never throws into the bus.
 */
import type { Attributes, BatchObservableResult, ObservableResult } from '@opentelemetry/api';
import { ATTR, INSTRUMENTS } from './names.js';
import { OnceLog, errorLabel, type ObservabilityLog } from './log.js';
import type { Observability } from './middleware.js';

export interface Depth {
  /** Messages not yet delivered to the group. */
  pending: number;
  /** Delivered and not acknowledged; undefined where the broker does not say (AMQP). */
  ackPending?: number;
}

export interface DepthSource {
  /** Consumer group the depth belongs to (a label). */
  readonly group: string;
  read(): Promise<Depth>;
}

export interface ConnectionSource {
  isUp(): boolean;
  reconnects(): number;
}

export interface DepthObserver {
  /** Stops reporting (the instruments' callbacks are removed). */
  stop(): void;
}

/** Reads at most this long per source and collection; a slow broker yields no sample. */
const READ_TIMEOUT_MS = 2000;

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer from the broker within ${ms} ms`)), ms);
    timer.unref?.();
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

export function observeDepth(obs: Observability, sources: readonly DepthSource[], connection?: ConnectionSource, logger?: ObservabilityLog): DepthObserver {
  const meter = obs.meter;
  const once = new OnceLog(logger);
  const base = (group: string): Attributes => ({ [ATTR.system]: obs.system, [ATTR.service]: obs.service, [ATTR.group]: group });
  const pending = meter.createObservableGauge(INSTRUMENTS.pending, { description: 'Messages not yet delivered to the consumer group' });
  const ackPending = meter.createObservableGauge(INSTRUMENTS.ackPending, { description: 'Messages delivered and not yet acknowledged' });
  const errors = meter.createObservableCounter(INSTRUMENTS.depthErrors, { description: 'Failed reads of queue depth' });
  const errorCount = new Map<string, number>();
  // One broker read per source and collection feeds both gauges.
  const onDepth = async (r: BatchObservableResult): Promise<void> => {
    await Promise.all(
      sources.map(async (s) => {
        try {
          const d = await withTimeout(s.read(), READ_TIMEOUT_MS);
          r.observe(pending, d.pending, base(s.group));
          if (d.ackPending !== undefined) r.observe(ackPending, d.ackPending, base(s.group));
          once.clear(s.group);
        } catch (err) {
          errorCount.set(s.group, (errorCount.get(s.group) ?? 0) + 1);
          once.error(s.group, { group: s.group, err: errorLabel(err) }, 'queue depth could not be read from the broker');
        }
      }),
    );
    for (const [group, n] of errorCount) r.observe(errors, n, base(group));
  };
  meter.addBatchObservableCallback(onDepth, [pending, ackPending, errors]);

  let up: ReturnType<typeof meter.createObservableGauge> | undefined;
  let reconnects: ReturnType<typeof meter.createObservableCounter> | undefined;
  const conAttrs: Attributes = { [ATTR.system]: obs.system, [ATTR.service]: obs.service };
  const onUp = (r: ObservableResult): void => r.observe(connection!.isUp() ? 1 : 0, conAttrs);
  const onReconnects = (r: ObservableResult): void => r.observe(connection!.reconnects(), conAttrs);
  if (connection) {
    up = meter.createObservableGauge(INSTRUMENTS.connectionUp, { description: '1 while the transport is connected' });
    reconnects = meter.createObservableCounter(INSTRUMENTS.reconnects, { description: 'Reconnects since the transport started' });
    up.addCallback(onUp);
    reconnects.addCallback(onReconnects);
  }
  return {
    stop() {
      meter.removeBatchObservableCallback(onDepth, [pending, ackPending, errors]);
      up?.removeCallback(onUp);
      reconnects?.removeCallback(onReconnects);
    },
  };
}
