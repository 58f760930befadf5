/**
 * A bridge forwards chosen event types from one transport to another, byte for byte: the
 * same envelope (id, type, version, time, correlation and causation), the same subject, the
 * same body. That is what lets a system move from one broker to another one service at a
 * time (the design's "start with NATS, migrate to Kafka"): producers keep publishing where
 * they are, a consumer moves to the other broker and sees the same events with the same
 * ids, so a dedupe store the consumer shares across both (a JetStream KV bucket, say) makes
 * an event it already handled on the old broker a duplicate on the new one.
 *
 * Delivery: at least once, made effectively once by ids. The bridge acknowledges a message
 * on the source only after the target stored it; if it crashes in between, the source
 * redelivers and the target sees the same id again (JetStream drops it by `Nats-Msg-Id`;
 * on Kafka and RabbitMQ the consumer's dedupe store does).
 *
 * Loops: a forwarded message carries `ec-bridged` (the bridge's name), and no bridge
 * forwards a message that has it, so two bridges in opposite directions during a migration
 * do not echo events back and forth.
 */
import { backoffDelay, DEFAULT_BACKOFF } from './backoff.js';
import { decodeMessageSync } from './codec.js';
import { DecodeError } from './errors.js';
import { DEFAULT_LIMITS } from './limits.js';
import type { BackoffOptions, Delivery, HeaderRecord, Transport, TransportSubscription } from './types.js';

/** Set on every message a bridge forwarded; its value is the bridge's name. */
export const BRIDGED_HEADER = 'ec-bridged';

export interface BridgeOptions {
  /** Where events are read: a durable consumer group `group` on this transport. */
  readonly from: Transport;
  /** Where they are published, durably. */
  readonly to: Transport;
  /**
   * Event types to forward. `*` matches any run of characters, dots included: 'user.*' is
   * every user event, 'transaction.*.completed' would not be needed (types have no
   * parameters), '*' is everything.
   */
  readonly events: readonly string[];
  /** Subjects to read on `from` (NATS syntax). Default `['>']`, everything the source holds. */
  readonly subjects?: readonly string[];
  /** The bridge's consumer group on `from` and its name in `ec-bridged`. Default 'bridge'. */
  readonly name?: string;
  /** Messages in flight at once. Default 256. */
  readonly maxInFlight?: number;
  /** Delay before retrying a message whose publish on `to` failed. */
  readonly backoff?: Partial<BackoffOptions>;
  /** Where a message that cannot be read (no id, no type, bad framing) is dead-lettered. Default `deadletter.<name>`. */
  readonly deadLetterSubject?: string;
  /** Called for every failure that is retried or dead-lettered; never throws into the bridge. */
  readonly onError?: (error: unknown, context: { subject: string; id?: string; action: 'retry' | 'dead-letter' }) => void;
}

export interface BridgeStats {
  /** Stored on `to`. */
  forwarded: number;
  /** Acknowledged without forwarding: another type, or already bridged. */
  skipped: number;
  /** Publishes to `to` that failed and were left for redelivery. */
  retried: number;
  /** Unreadable messages, dead-lettered on `from`. */
  deadLettered: number;
}

export interface Bridge {
  readonly stats: Readonly<BridgeStats>;
  /** Stops reading; messages in flight finish (forwarded or returned to the source). */
  stop(): Promise<void>;
}

/** 'user.*' → /^user\..*$/ ; everything else in the pattern is literal. */
export function typeMatcher(patterns: readonly string[]): (type: string) => boolean {
  if (patterns.length === 0) throw new Error('bridge: name at least one event type or pattern to forward');
  const sources = patterns.map((p) => {
    if (p === '') throw new Error('bridge: an empty event type pattern matches nothing');
    return p.split('*').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*');
  });
  const re = new RegExp(`^(?:${sources.join('|')})$`);
  return (type) => re.test(type);
}

/**
 * Headers that belong to the source broker's bookkeeping, not to the event: JetStream's own
 * (`Nats-*`), RabbitMQ's dead-letter trail (`x-death`, `x-first-death-*`, `x-last-death-*`),
 * and the transports' retry and dead-letter headers (`x-ec-*`, `ec-dead-letter-*`). They
 * would mean something wrong, or something forged, on the target.
 */
function isSourceBookkeeping(name: string): boolean {
  const n = name.toLowerCase();
  return (
    n.startsWith('nats-') ||
    n === 'x-death' ||
    n.startsWith('x-first-death-') ||
    n.startsWith('x-last-death-') ||
    n.startsWith('x-ec-') ||
    n.startsWith('ec-dead-letter-') ||
    n.startsWith('ec-retry-')
  );
}

export async function startBridge(o: BridgeOptions): Promise<Bridge> {
  const name = o.name ?? 'bridge';
  const matches = typeMatcher(o.events);
  const backoff = { ...DEFAULT_BACKOFF, ...o.backoff };
  const deadLetterSubject = o.deadLetterSubject ?? `deadletter.${name}`;
  const stats: BridgeStats = { forwarded: 0, skipped: 0, retried: 0, deadLettered: 0 };
  const inFlight = new Set<Promise<void>>();
  const report = (error: unknown, context: { subject: string; id?: string; action: 'retry' | 'dead-letter' }): void => {
    try {
      o.onError?.(error, context);
    } catch {
      // An observer must never stop the bridge.
    }
  };

  const forward = async (d: Delivery): Promise<void> => {
    if (d.malformed) {
      await deadLetter(d, d.malformed.reason, d.malformed.detail);
      return;
    }
    if (d.headers.get(BRIDGED_HEADER) !== undefined) {
      stats.skipped++;
      await d.ack();
      return;
    }
    let id: string;
    let type: string;
    try {
      // Decoding (not just reading ce-type) also covers structured and compressed messages,
      // and refuses what no consumer could read either: it goes to the dead letter here.
      const e = decodeMessageSync(d, DEFAULT_LIMITS.maxDecodedBytes);
      id = e.id;
      type = e.type;
    } catch (error) {
      await deadLetter(d, error instanceof DecodeError ? error.reason : 'undecodable', (error as Error).message);
      return;
    }
    if (!matches(type)) {
      stats.skipped++;
      await d.ack();
      return;
    }
    const headers: HeaderRecord = {};
    for (const k of d.headers.keys()) {
      if (isSourceBookkeeping(k)) continue;
      const v = d.headers.get(k);
      if (v !== undefined) headers[k] = v;
    }
    headers[BRIDGED_HEADER] = name;
    try {
      await o.to.publish({ subject: d.subject, headers, body: d.body, id });
    } catch (error) {
      stats.retried++;
      report(error, { subject: d.subject, id, action: 'retry' });
      await d.retry(backoffDelay(backoff, d.deliveryCount)).catch(() => undefined);
      return;
    }
    stats.forwarded++;
    await d.ack();
  };

  const deadLetter = async (d: Delivery, reason: Parameters<Delivery['deadLetter']>[0]['reason'], detail: string): Promise<void> => {
    try {
      await d.deadLetter({ subject: deadLetterSubject, reason, detail, group: name });
      stats.deadLettered++;
      report(new Error(detail), { subject: d.subject, action: 'dead-letter' });
    } catch (error) {
      report(error, { subject: d.subject, action: 'retry' });
      await d.retry(backoffDelay(backoff, d.deliveryCount)).catch(() => undefined);
    }
  };

  const sub: TransportSubscription = await o.from.consume(
    { group: name, subjects: [...(o.subjects ?? ['>'])], maxInFlight: o.maxInFlight ?? 256 },
    (d) => {
      const p = forward(d).catch((error) => report(error, { subject: d.subject, action: 'retry' }));
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p));
    },
  );
  return {
    stats,
    async stop() {
      await sub.stop();
      await Promise.allSettled([...inFlight]);
    },
  };
}
