/**
 * The one place that reaches into @platformatic/kafka's behaviour beyond its documented API,
 * which is why package.json pins its exact version; test/runtime/kafka.internals.test.ts is
 * the canary that fails when an upgrade changes what is relied on here.
 *
 * A consumer caches its group coordinator's node id and, for every group operation
 * (heartbeat, commit, join), looks that id up in fresh cluster metadata and asks the
 * connection pool for a connection to the result. Once the coordinator's broker has left the
 * cluster (killed, not yet back), the lookup finds nothing and `ConnectionPool.get(undefined)`
 * throws a TypeError from inside a socket callback: an uncaught exception that ends the
 * process. Here an absent broker becomes a retriable NetworkError handed to the callback
 * instead, so the failure reaches the operation's caller (a failed commit, which the
 * transport answers by starting a new group member that looks the coordinator up again).
 */
import { ConnectionPool, NetworkError } from '@platformatic/kafka';

/** Message of the error an absent broker becomes; the consumer recognises it. */
export const BROKER_GONE = 'the broker this operation needs is not in the cluster metadata (it left the cluster)';

const GUARDED = Symbol.for('event-contracts.kafka.pool-guard');

type Callback = (error: Error | null, value?: unknown) => void;

/** Idempotent: patches ConnectionPool.prototype.get once per loaded copy of the library. */
export function guardConnectionPool(): void {
  const proto = ConnectionPool.prototype as unknown as Record<PropertyKey, unknown> & { get: (broker: unknown, callback?: Callback) => unknown };
  if (proto[GUARDED]) return;
  const original = proto.get;
  if (typeof original !== 'function') throw new Error('@platformatic/kafka: ConnectionPool.prototype.get is gone; see src/runtime/kafka/internals.ts');
  proto.get = function guardedGet(this: unknown, broker: unknown, callback?: Callback): unknown {
    if (broker === undefined || broker === null) {
      const error = new NetworkError(BROKER_GONE);
      if (callback) {
        queueMicrotask(() => callback(error));
        return undefined;
      }
      return Promise.reject(error);
    }
    return original.call(this, broker, callback);
  };
  proto[GUARDED] = true;
}

/** True for the error guardConnectionPool hands out, however the client wrapped it. */
export function isBrokerGone(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; depth++) {
    if (e.message.includes(BROKER_GONE)) return true;
    if (e instanceof AggregateError && e.errors.some((x) => isBrokerGone(x))) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}
