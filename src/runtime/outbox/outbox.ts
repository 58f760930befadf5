/**
 * The writing half: `outbox.add(tx, descriptor, data)` inside the caller's transaction.
 * It checks everything the bus would check before sending (payload, address parameters,
 * contract headers), so an event that could never be published is refused before anything
 * is written, then stores the publish call with the envelope fields fixed (id, time,
 * correlation, causation, trace), so the relay's publish builds the same envelope.
 */
import { randomUUID } from 'node:crypto';
import { addressOf } from '../address.js';
import { EventContractsError, EventValidationError, HeaderValidationError } from '../errors.js';
import { prepareHeaders } from '../headers.js';
import type { EventDescriptor, PublishOptions } from '../types.js';
import type { OutboxTableOptions } from './migrate.js';
import { OutboxConfigError, outboxLocation, type OutboxLocation } from './names.js';
import type { Queryable } from './sql-client.js';
import { eventIdOf } from '../event-id.js';

export interface OutboxOptions extends OutboxTableOptions {
  /** The descriptors this service publishes; add() refuses others (the relay could not publish them). */
  events: readonly EventDescriptor<any>[];
  /** CloudEvents `source` of the events added; the relay's bus should have the same. */
  source: string;
  /** Event id generator when neither options.id nor the payload's event-id field gives one. Default crypto.randomUUID. */
  newId?: () => string;
  /**
   * pg_notify in the adding transaction, so the relay wakes at its commit. Default true.
   * PostgreSQL serialises the commits of transactions that notified (a database-wide lock
   * at commit): many concurrent writers commit faster with `false`, and the relay then
   * finds their rows by polling (its pollIntervalMs is the added latency).
   */
  notify?: boolean;
}

/** What a publish takes, less `transient`: an outbox event is always durable. */
export type OutboxAddOptions = Omit<PublishOptions, 'transient'>;

export interface OutboxReceipt {
  /** The event id: envelope id, broker dedupe id, consumer dedupe key. */
  id: string;
  subject: string;
  /** The outbox row's id (insert order), as text: bigint. */
  row: string;
  /** True when this event id was already in the outbox with the same type, subject and payload (nothing written). */
  duplicate: boolean;
}

/** The event id is in the outbox already, for another event (other type, subject or payload). */
export class OutboxEventIdConflictError extends EventContractsError {
  constructor(
    readonly eventId: string,
    readonly subject: string,
    readonly storedSubject: string,
  ) {
    super(`event id ${eventId} is already in the outbox for another event (stored on '${storedSubject}', this one on '${subject}'); each event needs its own id`);
  }
}

export interface Outbox {
  readonly location: OutboxLocation;
  readonly source: string;
  /** The descriptors given to createOutbox: the relay publishes with these. */
  readonly events: readonly EventDescriptor<any>[];
  /**
   * Adds the event inside the caller's transaction (`tx`: the pg client on which BEGIN ran).
   * Throws EventValidationError, HeaderValidationError or AddressParameterError before writing.
   * Nothing is published unless the transaction commits; the relay is woken at commit.
   */
  add<T>(tx: Queryable, event: EventDescriptor<T>, data: T, options?: OutboxAddOptions): Promise<OutboxReceipt>;
}

export const eventKey = (type: string, version: string): string => `${type}@${version}`;

export function createOutbox(options: OutboxOptions): Outbox {
  if (!options.source) throw new OutboxConfigError('createOutbox: source is required');
  if (!Array.isArray(options.events)) throw new OutboxConfigError('createOutbox: events (the descriptors this service publishes) are required');
  const location = outboxLocation(options.schema, options.table);
  const known = new Set(options.events.map((e) => eventKey(e.type, e.version)));
  const newId = options.newId ?? randomUUID;
  const source = options.source;
  const insert = `WITH ins AS (
      INSERT INTO ${location.qualified} (event_id, type, version, source, subject, params, headers, metadata, correlation_id, causation_id, partition_key, occurred_at, body)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
      ON CONFLICT (event_id) DO NOTHING RETURNING id)
    SELECT id::text AS id${options.notify === false ? '' : ", pg_notify($14, '')"} FROM ins`;
  const existing = `SELECT id::text AS id, type, version, subject, body = $2 AS same FROM ${location.qualified} WHERE event_id = $1`;

  return {
    location,
    source,
    events: options.events,
    async add<T>(tx: Queryable, event: EventDescriptor<T>, data: T, o: OutboxAddOptions = {}): Promise<OutboxReceipt> {
      // A pool would run the insert in a transaction of its own: the event would be stored
      // whether or not the caller's business writes commit.
      if ('totalCount' in tx && 'idleCount' in tx) {
        throw new OutboxConfigError("outbox.add: pass the client your transaction runs on (after BEGIN), not the pool");
      }
      if (!known.has(eventKey(event.type, event.version))) {
        throw new OutboxConfigError(`outbox.add: ${eventKey(event.type, event.version)} is not among the outbox's events, so no relay could publish it`);
      }
      const id = o.id ?? eventIdOf(event as EventDescriptor<unknown>, data) ?? newId();
      const result = event.validate(data);
      if (!result.ok) throw new EventValidationError(id, event.type, event.version, result.errors);
      const params = o.params ?? {};
      const subject = addressOf(event as EventDescriptor<unknown>).fill(params);
      const given = o.headers?.['x-correlation-id'];
      let correlationId = o.correlationId ?? (typeof given === 'string' ? given : undefined);
      if (correlationId === undefined && event.headers?.names.includes('x-correlation-id')) correlationId = id;
      const causationId = o.causationId;
      let headers: Record<string, unknown> = {};
      if (event.headers !== undefined || o.headers !== undefined) {
        const h = prepareHeaders(event.headers, o.headers, { id, correlationId, causationId, parentTrace: undefined });
        if (!h.ok) throw new HeaderValidationError(id, event.type, event.version, h.issues);
        headers = { ...o.headers };
        // The trace the event was added in, not the relay's: fixed now, sent as given later.
        if (h.wire['traceparent'] !== undefined && headers['traceparent'] === undefined) headers['traceparent'] = h.wire['traceparent'];
      }
      const body = Buffer.from(JSON.stringify(result.value), 'utf8');
      const values = [
        id,
        event.type,
        event.version,
        source,
        subject,
        JSON.stringify(params),
        JSON.stringify(headers),
        JSON.stringify(o.metadata ?? {}),
        correlationId ?? null,
        causationId ?? null,
        o.orderingKey ?? null,
        o.timestamp ?? new Date(),
        body,
        ...(options.notify === false ? [] : [location.channel]),
      ];
      const r = await tx.query<{ id: string }>(insert, values);
      const row = r.rows[0];
      if (row) return { id, subject, row: row.id, duplicate: false };
      const prior = await tx.query<{ id: string; type: string; version: string; subject: string; same: boolean }>(existing, [id, body]);
      const p = prior.rows[0];
      if (p && p.type === event.type && p.version === event.version && p.subject === subject && p.same) return { id, subject, row: p.id, duplicate: true };
      throw new OutboxEventIdConflictError(id, subject, p?.subject ?? '?');
    },
  };
}
