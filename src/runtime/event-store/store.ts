/**
 * createEventStore: the typed layer every backend shares. Appends are checked against the
 * contract (declared type, aggregate matching the stream id, valid payload) and get their
 * envelope filled as the bus fills it; reads are decoded and upcast (decode.ts).
 */
import { randomUUID } from 'node:crypto';
import { EventValidationError } from '../errors.js';
import type { EventDescriptor } from '../types.js';
import type { EventRecord, EventStoreBackend, StreamAddress } from './backend.js';
import { buildCatalog, type Catalog } from './catalog.js';
import { decodeRecord, recordType } from './decode.js';
import { badRecordError, EventStoreClosedError, UnknownEventTypeError, WrongAggregateError } from './errors.js';
import { parseStreamId } from './stream-id.js';
import type { AppendResult, BadRecord, EventFilter, EventHandler, EventStore, EventSubscription, ExpectedVersion, NewEvent, ReadOptions, StoredEvent, SubscribeOptions, Upcasters } from './types.js';
import { checkExpectedVersion, checkFilter, checkReadOptions } from './options.js';
import { eventIdOf } from '../event-id.js';

export interface EventStoreOptions {
  readonly backend: EventStoreBackend;
  /** Every event type and version the store may hold (the generated descriptors). */
  readonly events: readonly EventDescriptor[];
  /** Per `type@major`: turns that major's payload into the next one's. */
  readonly upcasters?: Upcasters;
  /** CloudEvents `source` of what this store appends. */
  readonly source: string;
  /** Id generator, default crypto.randomUUID. */
  readonly newId?: () => string;
  /**
   * 'always' (default): every event read is validated against its descriptor, so a record
   * written past the store is reported. 'upcast-only': an event stored at a declared version
   * is trusted (it was validated on append); upcast events are still validated.
   */
  readonly validateOnRead?: 'always' | 'upcast-only';
}

export async function createEventStore(options: EventStoreOptions): Promise<EventStore> {
  const catalog = buildCatalog(options.events, options.upcasters);
  await options.backend.prepare?.(catalog.aggregates);
  return new TypedEventStore(options.backend, catalog, options.source, options.newId ?? randomUUID, options.validateOnRead === 'upcast-only');
}

class TypedEventStore implements EventStore {
  private closed = false;
  private readonly subscriptions = new Set<EventSubscription>();

  constructor(
    private readonly backend: EventStoreBackend,
    private readonly catalog: Catalog,
    private readonly source: string,
    private readonly newId: () => string,
    private readonly trustStored: boolean,
  ) {}

  async append(streamId: string, events: readonly NewEvent[], options?: { expectedVersion?: ExpectedVersion }): Promise<AppendResult> {
    this.open();
    const stream = parseStreamId(streamId);
    const expected = checkExpectedVersion(options?.expectedVersion ?? 'any');
    // Every event is checked before anything is written: an append is all or nothing.
    const records = events.map((e) => this.toRecord(stream, e));
    return this.backend.append(stream, records, expected);
  }

  async *read(streamId: string, options: ReadOptions = {}): AsyncIterable<StoredEvent> {
    this.open();
    const stream = parseStreamId(streamId);
    const range = checkReadOptions(options);
    if (range.limit === 0) return;
    for await (const br of this.backend.read(stream, range)) {
      const d = decodeRecord(this.catalog, br, this.trustStored);
      if (!d.ok) throw badRecordError(d.bad, d.type, d.version);
      yield d.event;
    }
  }

  async version(streamId: string): Promise<number> {
    this.open();
    return this.backend.version(parseStreamId(streamId));
  }

  async *readAll(filter: EventFilter = {}, options: { from?: string; limit?: number } = {}): AsyncIterable<StoredEvent> {
    this.open();
    checkFilter(filter);
    const types = filter.types && filter.types.length > 0 ? new Set(filter.types) : undefined;
    let left = options.limit ?? Infinity;
    if (left <= 0) return;
    for await (const br of this.backend.readAll(filter, { ...(options.from !== undefined ? { from: options.from } : {}) })) {
      const type = recordType(br);
      if (types && type !== undefined && !types.has(type)) continue;
      const d = decodeRecord(this.catalog, br, this.trustStored);
      if (!d.ok) throw badRecordError(d.bad, d.type, d.version);
      yield d.event;
      if (--left <= 0) return;
    }
  }

  async subscribe(filter: EventFilter, handler: EventHandler, options: SubscribeOptions = {}): Promise<EventSubscription> {
    this.open();
    checkFilter(filter);
    const types = filter.types && filter.types.length > 0 ? new Set(filter.types) : undefined;
    const onBad = options.onBadRecord ?? warnBadRecord;
    const sub = await this.backend.subscribe(
      filter,
      async (br) => {
        const type = recordType(br);
        if (types && type !== undefined && !types.has(type)) return;
        const d = decodeRecord(this.catalog, br, this.trustStored);
        if (d.ok) await handler(d.event);
        else await onBad(d.bad);
      },
      { ...(options.from !== undefined ? { from: options.from } : {}) },
    );
    const tracked: EventSubscription = {
      caughtUp: sub.caughtUp,
      stop: async () => {
        this.subscriptions.delete(tracked);
        await sub.stop();
      },
    };
    this.subscriptions.add(tracked);
    return tracked;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([...this.subscriptions].map((s) => s.stop()));
    await this.backend.close();
  }

  private open(): void {
    if (this.closed) throw new EventStoreClosedError();
  }

  private toRecord(stream: StreamAddress, e: NewEvent): EventRecord {
    const d = e.event;
    if (this.catalog.declared(d.type, d.version) === undefined) {
      throw new UnknownEventTypeError(d.type, d.version, "is not among the store's events");
    }
    const id = e.id ?? eventIdOf(d, e.data) ?? this.newId();
    const result = d.validate(e.data);
    if (!result.ok) throw new EventValidationError(id, d.type, d.version, result.errors);
    checkAggregate(stream, d, result.value);
    const correlationId = e.correlationId ?? (d.headers?.names.includes('x-correlation-id') ? id : undefined);
    return {
      id,
      type: d.type,
      version: d.version,
      source: this.source,
      time: (e.timestamp ?? new Date()).toISOString(),
      data: result.value,
      metadata: e.metadata ?? {},
      ...(correlationId !== undefined ? { correlationId } : {}),
      ...(e.causationId !== undefined ? { causationId: e.causationId } : {}),
    };
  }
}

function checkAggregate(stream: StreamAddress, d: EventDescriptor, data: unknown): void {
  const a = d.aggregate;
  if (!a) return;
  if (a.domain !== stream.domain || a.type !== stream.aggregate) {
    throw new WrongAggregateError(stream.streamId, d.type, `it belongs to '${a.domain}.${a.type}', the stream is '${stream.domain}.${stream.aggregate}'`);
  }
  const v = typeof data === 'object' && data !== null && Object.prototype.hasOwnProperty.call(data, a.idField) ? (data as Record<string, unknown>)[a.idField] : undefined;
  if (typeof v !== 'string' && typeof v !== 'number') throw new WrongAggregateError(stream.streamId, d.type, `the payload has no ${a.idField}`);
  if (String(v) !== stream.entityId) throw new WrongAggregateError(stream.streamId, d.type, `its ${a.idField} is '${String(v).slice(0, 100)}', the stream's entity is '${stream.entityId.slice(0, 100)}'`);
}

function warnBadRecord(bad: BadRecord): void {
  process.emitWarning(`event store: skipped a ${bad.reason} record at ${bad.checkpoint}${bad.streamId ? ` in '${bad.streamId}'` : ''}: ${bad.detail}`, 'EventStoreBadRecord');
}
