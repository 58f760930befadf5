/**
 * Audit trail ("audit event access"): a middleware that records who (service account,
 * instance), what (event type, version, id, subject, consumer group), when and the outcome
 * (published, handled, failed, dead-lettered, denied) as structured records, to sinks of the
 * user's choice: JSON lines on a file, a broker subject (a JetStream stream that only the
 * audit reader may read; the generated permissions let each service write
 * `audit.<service>` and nothing else there), or anything implementing AuditSink.
 *
 * By default a slow or lost sink never blocks the bus: records wait in a bounded queue,
 * are written in the background, and what cannot be written is counted (and reported once
 * per failure streak to `onError`). With `required: true` every publish and handle waits
 * for its record, and fails with AuditUnavailableError when no sink took it: a consumer's
 * message is then redelivered, a publisher learns the event was sent but not audited.
 */
import { appendFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { EventContractsError, PermissionDeniedError } from './errors.js';
import type { HandleMiddlewareContext, Middleware, PublishMiddlewareContext, PublishReceipt, RuntimeNotice, Transport } from './types.js';

export type AuditOutcome = 'published' | 'handled' | 'failed' | 'dead-lettered' | 'denied';

export interface AuditRecord {
  /** ISO-8601 time the outcome was known. */
  readonly at: string;
  /** The broker account (service) the bus runs as. */
  readonly account: string;
  /** This process: also the connection name the broker logs show (see README, Security). */
  readonly instance: string;
  readonly outcome: AuditOutcome;
  readonly id?: string;
  readonly type?: string;
  readonly version?: string;
  readonly subject?: string;
  readonly group?: string;
  readonly deliveryCount?: number;
  /** An error's name and message, a dead letter's reason and detail. Never a payload. */
  readonly detail?: string;
}

export interface AuditSink {
  readonly name: string;
  write(records: readonly AuditRecord[]): Promise<void>;
}

export interface AuditOptions {
  account: string;
  /** Default `<hostname>/<pid>`. */
  instance?: string;
  sinks: readonly AuditSink[];
  /** Wait for every record, and fail the operation when it cannot be written. Default false. */
  required?: boolean;
  /** Records held while sinks are slow or down (default 10 000); the oldest are dropped beyond it. */
  maxQueued?: number;
  /** A sink failed (once per streak of failures of that sink). */
  onError?: (sink: string, error: unknown) => void;
}

/** `required: true` and no sink took the record. */
export class AuditUnavailableError extends EventContractsError {
  constructor(
    readonly outcome: AuditOutcome,
    readonly eventId: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(`the audit record of ${outcome} ${eventId ?? ''} could not be written and audit is required; the operation is reported as failed`, options);
  }
}

export interface AuditStats {
  written: number;
  /** Dropped from a full queue, or whose write failed on every sink. */
  lost: number;
  queued: number;
}

export interface AuditMiddleware extends Middleware {
  readonly stats: AuditStats;
  /** Resolves once every queued record was written or given up. */
  flush(): Promise<void>;
}

const errorText = (err: unknown) => (err instanceof Error ? `${err.name}: ${err.message}` : String(err)).slice(0, 1024);

export function auditMiddleware(o: AuditOptions): AuditMiddleware {
  const instance = o.instance ?? `${hostname()}/${process.pid}`;
  const maxQueued = o.maxQueued ?? 10_000;
  const queue: AuditRecord[] = [];
  const stats: AuditStats = { written: 0, lost: 0, queued: 0 };
  const failing = new Set<string>();
  let draining: Promise<void> | undefined;

  /** Writes to every sink; true if at least one took the records. */
  const writeAll = async (records: readonly AuditRecord[]): Promise<boolean> => {
    const results = await Promise.allSettled(o.sinks.map((s) => s.write(records)));
    let ok = false;
    results.forEach((r, i) => {
      const sink = o.sinks[i]!.name;
      if (r.status === 'fulfilled') {
        ok = true;
        failing.delete(sink);
      } else if (!failing.has(sink)) {
        failing.add(sink);
        try {
          o.onError?.(sink, r.reason);
        } catch {
          // a reporting hook must not break auditing
        }
      }
    });
    if (ok) stats.written += records.length;
    else stats.lost += records.length;
    return ok;
  };

  const drain = async (): Promise<void> => {
    while (queue.length > 0) {
      const batch = queue.splice(0, 256);
      stats.queued = queue.length;
      await writeAll(batch);
    }
  };

  const record = async (r: Omit<AuditRecord, 'at' | 'account' | 'instance'>): Promise<void> => {
    const full: AuditRecord = { at: new Date().toISOString(), account: o.account, instance, ...r };
    if (o.required) {
      if (!(await writeAll([full]))) throw new AuditUnavailableError(full.outcome, full.id);
      return;
    }
    if (queue.length >= maxQueued) {
      queue.shift();
      stats.lost++;
    }
    queue.push(full);
    stats.queued = queue.length;
    draining ??= drain().finally(() => (draining = undefined));
  };

  const ofPublish = (ctx: PublishMiddlewareContext) => ({ id: ctx.envelope.id, type: ctx.envelope.type, version: ctx.envelope.version, subject: ctx.envelope.subject });
  const ofHandle = (ctx: HandleMiddlewareContext) => ({
    id: ctx.envelope.id,
    type: ctx.envelope.type,
    version: ctx.envelope.version,
    subject: ctx.envelope.subject,
    group: ctx.group,
    deliveryCount: ctx.deliveryCount,
  });

  return {
    name: 'audit',
    stats,
    async publish(ctx: PublishMiddlewareContext, next: () => Promise<PublishReceipt>): Promise<PublishReceipt> {
      let receipt: PublishReceipt;
      try {
        receipt = await next();
      } catch (err) {
        await record({ ...ofPublish(ctx), outcome: err instanceof PermissionDeniedError ? 'denied' : 'failed', detail: errorText(err) });
        throw err;
      }
      await record({ ...ofPublish(ctx), outcome: 'published' });
      return receipt;
    },
    async handle(ctx: HandleMiddlewareContext, next: () => Promise<void>): Promise<void> {
      try {
        await next();
      } catch (err) {
        await record({ ...ofHandle(ctx), outcome: 'failed', detail: errorText(err) });
        throw err;
      }
      await record({ ...ofHandle(ctx), outcome: 'handled' });
    },
    notice(n: RuntimeNotice): void {
      if (n.kind !== 'dead-letter') return;
      // Notices cannot wait: even a required record is queued here.
      const full: AuditRecord = {
        at: new Date().toISOString(),
        account: o.account,
        instance,
        outcome: 'dead-lettered',
        group: n.group,
        ...(n.id ? { id: n.id } : {}),
        ...(n.type ? { type: n.type } : {}),
        detail: `${n.reason}: ${n.detail}`.slice(0, 1024),
      };
      queue.push(full);
      stats.queued = queue.length;
      draining ??= drain().finally(() => (draining = undefined));
    },
    async flush(): Promise<void> {
      for (let i = 0; i < 1000 && (draining || queue.length > 0); i++) await (draining ?? drain());
    },
  };
}

/** JSON lines appended to `path` (one record a line). */
export function jsonLinesAuditSink(path: string): AuditSink {
  return {
    name: `file ${path}`,
    write: (records) => appendFile(path, records.map((r) => JSON.stringify(r) + '\n').join(''), { encoding: 'utf8', mode: 0o600 }),
  };
}

/**
 * Records published with the transport's durable publish to `subject` (NATS: a JetStream
 * stream storing `audit.>`, readable by the audit reader only; the generated permissions
 * allow each service `audit.<service>`). A record's id is unique per record.
 */
export function transportAuditSink(transport: Transport, subject: string): AuditSink {
  let n = 0;
  const prefix = `${process.pid}-${Date.now().toString(36)}`;
  return {
    name: `${transport.name} ${subject}`,
    write: async (records) => {
      await Promise.all(
        records.map((r) =>
          transport.publish({
            subject,
            id: `audit-${prefix}-${++n}`,
            headers: { 'content-type': 'application/json' },
            body: new TextEncoder().encode(JSON.stringify(r)),
          }),
        ),
      );
    },
  };
}
