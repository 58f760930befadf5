/**
 * The NATS connection: how the transport connects (a list of servers, or one string of
 * comma-separated URLs), the one watcher of the connection's status stream (disconnects,
 * reconnects, permission violations) that the publisher, consumers, responders and the
 * transport's notices listen to, and how nats.js errors are classified.
 */
import { connect, errors, type NatsConnection, type NodeConnectionOptions, type Status } from '@nats-io/transport-node';
import { JetStreamApiError } from '@nats-io/jetstream';
import { PermissionDeniedError, type BrokerOperation } from '../errors.js';

/**
 * Connects with the transport's defaults: reconnect forever, and `noAsyncTraces` (nats.js
 * otherwise builds two Error objects with stack traces for every request, each JetStream
 * publish, in case it fails: 40 % of the CPU of publishing here; those traces would lead
 * into this transport, not to the code that published). The caller's options win.
 */
export function connectNatsClient(options: NodeConnectionOptions = {}): Promise<NatsConnection> {
  const servers = serverList(options.servers);
  return connect({ maxReconnectAttempts: -1, reconnectTimeWait: 250, noAsyncTraces: true, ...options, ...(servers ? { servers } : {}) });
}

/**
 * `servers` as nats.js takes it, with a comma-separated string split into its URLs: nats.js
 * reads a string as one URL (keeping only the last of `nats://a:4222,nats://b:4222`), while
 * the NATS CLI and the Go client, and a NATS_URL variable written for them, list a cluster
 * that way. Refuses servers that name none (an empty string or list).
 */
export function serverList(servers: string | readonly string[] | undefined): string[] | undefined {
  if (servers === undefined) return undefined;
  const list = (typeof servers === 'string' ? servers.split(',') : [...servers]).map((s) => s.trim()).filter((s) => s !== '');
  // nats.js would connect to 127.0.0.1:4222: an unset variable must not reach another server.
  if (list.length === 0) throw new Error(`NATS servers ${JSON.stringify(servers)} names no server to connect to`);
  return list;
}

/** A change of the connection as the transport reports it (see TransportNotice). */
export interface ConnectionChange {
  state: 'disconnected' | 'reconnected';
  /** `host:port` of the server lost, or of the one reached. */
  server: string;
}

/** What nats-server refused: `publish` or `subscription`, on `subject`. */
export interface PermissionViolation {
  operation: 'publish' | 'subscription';
  subject: string;
  queue?: string;
  message: string;
}

type Listener<T> = (value: T) => void;

/**
 * One iterator over `nc.status()` for the transport. nats.js reports a permission violation
 * (`-ERR 'Permissions Violation for Publish to "x"'`) only there and to the subscription
 * it concerns: a JetStream publish awaiting its ack or a pull request would otherwise just
 * time out. Listeners are called synchronously, in registration order.
 */
export class ConnectionEvents {
  private readonly permission = new Set<Listener<PermissionViolation>>();
  private readonly disconnect = new Set<Listener<void>>();
  private readonly closed = new Set<Listener<void>>();
  private readonly changes = new Set<Listener<ConnectionChange>>();
  private readonly status: AsyncIterable<Status> & { stop?(): void };
  /** Permission violations seen, for stats and tests. */
  violations = 0;

  constructor(nc: NatsConnection) {
    this.status = nc.status();
    void this.watch();
  }

  onPermission(fn: Listener<PermissionViolation>): () => void {
    this.permission.add(fn);
    return () => void this.permission.delete(fn);
  }

  onDisconnect(fn: Listener<void>): () => void {
    this.disconnect.add(fn);
    return () => void this.disconnect.delete(fn);
  }

  /**
   * Lost (nats.js then dials the servers it knows, the cluster's gossiped ones included)
   * and reconnected, with the server. nats.js also reports each dial attempt
   * ('reconnecting'); those are not passed on: one outage is one change each way.
   */
  onChange(fn: Listener<ConnectionChange>): () => void {
    this.changes.add(fn);
    return () => void this.changes.delete(fn);
  }

  /** The connection closed for good, or stop() was called. */
  onClosed(fn: Listener<void>): () => void {
    this.closed.add(fn);
    return () => void this.closed.delete(fn);
  }

  stop(): void {
    this.status.stop?.();
  }

  private async watch(): Promise<void> {
    try {
      for await (const s of this.status) {
        if (s.type === 'disconnect') {
          for (const fn of [...this.disconnect]) fn();
          for (const fn of [...this.changes]) fn({ state: 'disconnected', server: s.server });
        } else if (s.type === 'reconnect') {
          for (const fn of [...this.changes]) fn({ state: 'reconnected', server: s.server });
        } else if (s.type === 'error') {
          const v = asViolation(s.error);
          if (v) {
            this.violations++;
            for (const fn of [...this.permission]) fn(v);
          }
        }
      }
    } finally {
      for (const fn of [...this.closed]) fn();
    }
  }
}

/**
 * Resolves once the server has processed everything sent so far and what it answered
 * (an -ERR for a refused publish or subscription comes before the PONG) has reached the
 * status listeners: nats.js hands status events over through an async iterator, several
 * microtasks after the PONG resolves a flush, so this waits one macrotask more.
 */
export async function serverCaughtUp(nc: NatsConnection): Promise<void> {
  await nc.flush();
  await new Promise<void>((r) => setImmediate(r));
}

/** A nats.js PermissionViolationError (from the status stream or a rejected request) as data. */
export function asViolation(err: unknown): PermissionViolation | undefined {
  if (!(err instanceof errors.PermissionViolationError)) return undefined;
  const op = err.operation === 'subscription' ? 'subscription' : 'publish';
  return { operation: op, subject: err.subject, ...(err.queue ? { queue: err.queue } : {}), message: err.message };
}

/**
 * `err` (or its cause) as PermissionDeniedError if nats-server refused on permissions:
 * `operation` and `subject` are what the caller was doing; the detail names what the
 * server refused (a JetStream API subject, say).
 */
export function permissionDenied(err: unknown, operation: BrokerOperation, subject: string): PermissionDeniedError | undefined {
  if (err instanceof PermissionDeniedError) return err;
  const v = asViolation(err) ?? asViolation((err as { cause?: unknown } | undefined)?.cause);
  if (!v) return undefined;
  return fromViolation(v, operation, subject);
}

export function fromViolation(v: PermissionViolation, operation: BrokerOperation, subject: string): PermissionDeniedError {
  const what = `nats-server refused ${v.operation === 'publish' ? 'publishing to' : 'subscribing to'} '${v.subject}'`;
  return new PermissionDeniedError(operation, subject, 'nats', v.subject === subject ? `${what}: ${v.message}` : what);
}

/** Errors worth retrying with the same msg id: the broker may or may not have stored it. */
export function isTransient(err: unknown): boolean {
  if (err instanceof JetStreamApiError) return false; // the server answered: not a connectivity issue
  if (err instanceof PermissionDeniedError) return false;
  if (err instanceof errors.TimeoutError) return true;
  if (err instanceof errors.RequestError) return true;
  if (err instanceof errors.ConnectionError) return true;
  if ((err as Error)?.name === 'JetStreamNotEnabled') return true; // JetStream still recovering after a restart
  return false;
}
