/**
 * The JetStream backend: one stream per aggregate type, one subject per entity (layout.ts).
 *
 * One append is one message: a JSON array of the appended events, so an append of several
 * events is all or nothing. Its headers say where the events sit: `Es-Version` is the stream
 * version after the message's last event, `Es-Count` how many events it holds; read checks
 * that each message starts right after the previous one. An append publishes with
 * `Nats-Expected-Last-Subject-Sequence` set to the sequence of the subject's last message,
 * so of two writers at one version exactly one is stored, and `Nats-Msg-Id` set to the event
 * id (one event) or a digest of the ids (several), so a retried append is recognised as a
 * duplicate and answered with what was stored. The NATS client is imported when the backend
 * connects, never by the entry point.
 */
import { createHash } from 'node:crypto';
import type { NatsConnection } from '@nats-io/transport-node';
import type { JetStreamClient, JetStreamManager, JsMsg, StoredMsg } from '@nats-io/jetstream';
import type { BackendReadRange, BackendRecord, BackendRecordHandler, EventRecord, EventStoreBackend, StreamAddress } from '../backend.js';
import { CorruptRecordError, InvalidCheckpointError, WrongExpectedVersionError } from '../errors.js';
import { EventTooLargeError } from '../../errors.js';
import { expectationHolds, inRange } from '../options.js';
import { aggregateMatcher } from '../stream-id.js';
import type { AppendResult, EventFilter, EventSubscription, ExpectedVersion } from '../types.js';
import { startSubscription } from './subscription.js';
import { categoryOfStream, decodeCheckpoint, encodeCheckpoint, streamIdOfSubject, streamName, streamSubjects, subjectOf, type Layout, type StreamPosition } from './layout.js';

export const VERSION_HEADER = 'Es-Version';
export const COUNT_HEADER = 'Es-Count';
/** JetStream API errors the backend reacts to. */
const WRONG_LAST_SEQUENCE = 10071;
const STREAM_NOT_FOUND = 10059;
const COUNT = /^[1-9][0-9]{0,9}$/;

export interface JetStreamEventStoreOptions {
  /** A connection the caller owns (not closed on close), or `servers` to open one. */
  readonly connection?: NatsConnection;
  readonly servers?: string | string[];
  /** Default '$ES'. */
  readonly subjectPrefix?: string;
  /** Default 'ES'. */
  readonly streamPrefix?: string;
  readonly storage?: 'file' | 'memory';
  readonly replicas?: number;
  /** How often a subscription looks for aggregate streams created after it started. Default 5000 ms. */
  readonly discoverMs?: number;
}

/** A message as both a consumer and a direct get return it. */
export interface EventMessage {
  readonly subject: string;
  readonly seq: number;
  readonly data: Uint8Array;
  header(name: string): string | undefined;
}

type Mod = { jsm: JetStreamManager; js: JetStreamClient; headers: typeof import('@nats-io/transport-node').headers };

const dec = new TextDecoder();
const enc = new TextEncoder();

export class JetStreamEventStoreBackend implements EventStoreBackend {
  readonly name = 'jetstream';
  private readonly known = new Set<string>();
  private closed = false;
  private readonly subs = new Set<EventSubscription>();

  private constructor(
    private readonly nc: NatsConnection,
    private readonly ownsConnection: boolean,
    private readonly m: Mod,
    readonly layout: Layout,
    private readonly options: JetStreamEventStoreOptions,
  ) {}

  static async connect(options: JetStreamEventStoreOptions = {}): Promise<JetStreamEventStoreBackend> {
    const layout = { subjectPrefix: options.subjectPrefix ?? '$ES', streamPrefix: options.streamPrefix ?? 'ES' };
    if (!/^\$?[A-Za-z0-9_-]+$/.test(layout.subjectPrefix) || !/^[A-Za-z0-9-]+$/.test(layout.streamPrefix)) {
      throw new TypeError('subjectPrefix must be one subject token ([$]letters, digits, _ -) and streamPrefix letters, digits and -');
    }
    // Loaded here, not at the top: the entry point must not need the NATS client unless this backend is used.
    const [{ connect, headers }, { jetstream, jetstreamManager }] = await Promise.all([import('@nats-io/transport-node'), import('@nats-io/jetstream')]);
    const nc = options.connection ?? (await connect({ servers: options.servers ?? '127.0.0.1:4222', noAsyncTraces: true }));
    const jsm = await jetstreamManager(nc);
    const js = jetstream(nc, { timeout: 10_000 });
    return new JetStreamEventStoreBackend(nc, options.connection === undefined, { jsm, js, headers }, layout, options);
  }

  async prepare(aggregates: ReadonlyArray<{ domain: string; aggregate: string }>): Promise<void> {
    for (const a of aggregates) await this.ensureStream(a.domain, a.aggregate);
  }

  /** Creates the aggregate's stream when missing: append-only (no message delete, no purge). */
  async ensureStream(domain: string, aggregate: string): Promise<string> {
    const name = streamName(this.layout, domain, aggregate);
    if (this.known.has(name)) return name;
    try {
      await this.m.jsm.streams.info(name);
    } catch (err) {
      if (apiCode(err) !== STREAM_NOT_FOUND) throw err;
      try {
        await this.m.jsm.streams.add({
          name,
          subjects: [streamSubjects(this.layout, domain, aggregate)],
          storage: (this.options.storage ?? 'file') as never,
          num_replicas: this.options.replicas ?? 1,
          deny_delete: true,
          deny_purge: true,
          allow_direct: true,
        });
      } catch (addErr) {
        // Created by another process meanwhile: fine.
        if (!/already in use|exists/i.test(String((addErr as Error).message))) throw addErr;
      }
    }
    this.known.add(name);
    return name;
  }

  async append(stream: StreamAddress, records: readonly EventRecord[], expected: ExpectedVersion): Promise<AppendResult> {
    const name = await this.ensureStream(stream.domain, stream.aggregate);
    const subject = subjectOf(this.layout, stream);
    const body = enc.encode(JSON.stringify(records));
    const limit = this.nc.info?.max_payload;
    if (limit !== undefined && body.length + 256 > limit) throw new EventTooLargeError(records[0]?.id ?? '', body.length, limit - 256);
    const msgID = records.length === 1 ? records[0]!.id : 'es-' + createHash('sha256').update(records.map((r) => r.id).join('\n')).digest('base64url');
    // 'any' retries a lost race against the new last message; an exact expectation reports it.
    for (let attempt = 0; attempt < 100; attempt++) {
      const last = await this.last(name, subject, stream.streamId);
      if (!expectationHolds(expected, last.version)) throw new WrongExpectedVersionError(stream.streamId, expected, last.version);
      if (records.length === 0) return { version: last.version, checkpoint: last.seq ? encodeCheckpoint(new Map([[name, [last.seq, last.count - 1] as const]])) : '' };
      const h = this.m.headers();
      h.set(VERSION_HEADER, String(last.version + records.length));
      h.set(COUNT_HEADER, String(records.length));
      try {
        const ack = await this.m.js.publish(subject, body, { msgID, headers: h, expect: { lastSubjectSequence: last.seq } });
        if (ack.duplicate) return this.stored(name, ack.seq, stream.streamId);
        return { version: last.version + records.length, checkpoint: encodeCheckpoint(new Map([[name, [ack.seq, records.length - 1] as const]])) };
      } catch (err) {
        if (apiCode(err) !== WRONG_LAST_SEQUENCE) throw err;
        if (expected !== 'any') throw new WrongExpectedVersionError(stream.streamId, expected, (await this.last(name, subject, stream.streamId)).version);
      }
    }
    throw new WrongExpectedVersionError(stream.streamId, expected, (await this.last(name, subject, stream.streamId)).version);
  }

  async version(stream: StreamAddress): Promise<number> {
    const name = streamName(this.layout, stream.domain, stream.aggregate);
    return (await this.last(name, subjectOf(this.layout, stream), stream.streamId)).version;
  }

  async *read(stream: StreamAddress, range: BackendReadRange): AsyncIterable<BackendRecord> {
    const name = streamName(this.layout, stream.domain, stream.aggregate);
    const subject = subjectOf(this.layout, stream);
    const last = await this.last(name, subject, stream.streamId);
    if (last.seq === 0) return;
    const forwards = range.direction === 'forwards';
    // JetStream has no index from a stream version to a sequence: walk the subject from its first message.
    const buffered: BackendRecord[] = [];
    let left = forwards ? (range.limit ?? Infinity) : Infinity;
    let next = 1;
    for await (const m of this.walk(name, subject, 1, last.seq)) {
      const events = this.expand(name, m, next);
      next = (events.at(-1)?.streamVersion ?? next - 1) + 1;
      for (const r of events) {
        if (!inRange(range, r.streamVersion)) {
          if (forwards && range.to !== undefined && r.streamVersion > range.to) return;
          continue;
        }
        if (forwards) {
          yield r;
          if (--left <= 0) return;
        } else {
          buffered.push(r);
          if (range.limit !== undefined && range.from === undefined && buffered.length > range.limit) buffered.shift();
        }
      }
    }
    if (!forwards) {
      let n = range.limit ?? Infinity;
      for (let i = buffered.length - 1; i >= 0 && n-- > 0; i--) yield buffered[i]!;
    }
  }

  async *readAll(filter: EventFilter, options: { from?: string }): AsyncIterable<BackendRecord> {
    const from = this.positions(options.from);
    const positions = new Map(from);
    for (const name of await this.streams(filter)) {
      const info = await this.m.jsm.streams.info(name);
      const after = from.get(name);
      const start = after ? after[0] : 1;
      if (info.state.messages === 0 || info.state.last_seq < start) continue;
      for await (const m of this.walk(name, undefined, start, info.state.last_seq)) {
        for (const r of this.expand(name, m, undefined, positions, after)) yield r;
      }
    }
  }

  async subscribe(filter: EventFilter, handler: BackendRecordHandler, options: { from?: string }): Promise<EventSubscription> {
    const sub = await startSubscription(this, filter, handler, this.positions(options.from), this.options.discoverMs ?? 5000);
    const tracked: EventSubscription = {
      caughtUp: sub.caughtUp,
      stop: async () => {
        this.subs.delete(tracked);
        await sub.stop();
      },
    };
    this.subs.add(tracked);
    return tracked;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([...this.subs].map((s) => s.stop()));
    if (this.ownsConnection) await this.nc.close();
  }

  // ------------------------------------------------------------------------------------
  // Shared with the subscription (subscription.ts).

  /** The store's aggregate streams the filter selects, by name. */
  async streams(filter: EventFilter): Promise<string[]> {
    const matches = aggregateMatcher(filter.aggregates);
    const out: string[] = [];
    for await (const name of this.m.jsm.streams.names(`${this.layout.subjectPrefix}.>`)) {
      const cat = categoryOfStream(this.layout, name);
      if (cat && (!matches || matches(cat.domain, cat.aggregate))) out.push(name);
    }
    return out.sort();
  }

  get jsm(): JetStreamManager {
    return this.m.jsm;
  }

  get js(): JetStreamClient {
    return this.m.js;
  }

  /**
   * The events of one message. `firstVersion`: the version its first event must have (a
   * read from the stream's start checks continuity). `positions`: the running positions of
   * a readAll or subscription, advanced per event and encoded into each checkpoint; events at
   * or before `after` (a resumed position inside this message) are skipped.
   */
  expand(name: string, m: EventMessage, firstVersion?: number, positions?: Map<string, StreamPosition>, after?: StreamPosition): BackendRecord[] {
    const streamId = streamIdOfSubject(this.layout, m.subject);
    const vh = m.header(VERSION_HEADER);
    const ch = m.header(COUNT_HEADER) ?? '1';
    const last = vh !== undefined && COUNT.test(vh) ? Number(vh) : undefined;
    const count = COUNT.test(ch) ? Number(ch) : undefined;
    const skip = after && after[0] === m.seq ? after[1] + 1 : 0;
    const checkpoint = (index: number) => {
      const p = positions ?? new Map<string, StreamPosition>();
      p.set(name, [m.seq, index]);
      return encodeCheckpoint(p);
    };
    const corrupt = (detail: string): BackendRecord[] => {
      if (skip > 0) return [];
      return [{ streamId, streamVersion: firstVersion ?? (last !== undefined && count !== undefined ? last - count + 1 : 0), checkpoint: checkpoint((count ?? 1) - 1), corrupt: `${detail} (${name} sequence ${m.seq})` }];
    };
    if (streamId === undefined) return corrupt(`subject '${m.subject.slice(0, 200)}' is not an event-store subject`);
    if (last === undefined || count === undefined || count > last) return corrupt(`no valid ${VERSION_HEADER}/${COUNT_HEADER} headers`);
    const first = last - count + 1;
    if (firstVersion !== undefined && first !== firstVersion) return corrupt(`the message holds versions ${first}-${last} where ${firstVersion} comes next`);
    let body: unknown;
    try {
      body = JSON.parse(dec.decode(m.data));
    } catch (err) {
      return corrupt(`the body is not JSON (${(err as Error).message})`);
    }
    if (!Array.isArray(body) || body.length !== count) return corrupt(`the body is not an array of ${count} events`);
    const out: BackendRecord[] = [];
    for (let i = skip; i < count; i++) out.push({ streamId, streamVersion: first + i, checkpoint: checkpoint(i), record: body[i] });
    return out;
  }

  /** Messages of `name` (on `subject`, or all) from sequence `start` through `end`, by an ordered consumer. */
  async *walk(name: string, subject: string | undefined, start: number, end: number): AsyncIterable<EventMessage> {
    const consumer = await this.m.js.consumers.get(name, {
      ...(subject !== undefined ? { filter_subjects: subject } : {}),
      ...(start > 1 ? { deliver_policy: 'by_start_sequence' as never, opt_start_seq: start } : {}),
    });
    const messages = await consumer.consume({ max_messages: 1000 });
    try {
      for await (const m of messages) {
        if (m.seq > end) break;
        yield fromJsMsg(m);
        if (m.seq >= end || m.info.pending === 0) break;
      }
    } finally {
      messages.stop();
    }
  }

  // ------------------------------------------------------------------------------------

  /** The subject's last message: its sequence, the version it ends at and its event count (all 0 when none). */
  private async last(name: string, subject: string, streamId: string): Promise<{ seq: number; version: number; count: number }> {
    let m: StoredMsg | null;
    try {
      m = await this.m.jsm.streams.getMessage(name, { last_by_subj: subject });
    } catch (err) {
      if (apiCode(err) === STREAM_NOT_FOUND) return { seq: 0, version: 0, count: 0 };
      throw err;
    }
    if (!m) return { seq: 0, version: 0, count: 0 };
    const v = m.header?.get(VERSION_HEADER);
    const c = m.header?.get(COUNT_HEADER) || '1';
    if (v === undefined || !COUNT.test(v) || !COUNT.test(c)) {
      throw new CorruptRecordError(encodeCheckpoint(new Map([[name, [m.seq, 0] as const]])), streamId, `the stream's last message has no valid ${VERSION_HEADER}/${COUNT_HEADER} headers; it cannot be appended to`);
    }
    return { seq: m.seq, version: Number(v), count: Number(c) };
  }

  /** What a duplicate publish had stored the first time. */
  private async stored(name: string, seq: number, streamId: string): Promise<AppendResult> {
    const m = await this.m.jsm.streams.getMessage(name, { seq });
    const v = m?.header?.get(VERSION_HEADER);
    const c = m?.header?.get(COUNT_HEADER) || '1';
    if (!m || v === undefined || !COUNT.test(v) || !COUNT.test(c)) throw new CorruptRecordError(encodeCheckpoint(new Map([[name, [seq, 0] as const]])), streamId, 'the duplicate\'s original message cannot be read');
    return { version: Number(v), checkpoint: encodeCheckpoint(new Map([[name, [seq, Number(c) - 1] as const]])) };
  }

  private positions(checkpoint: string | undefined): Map<string, StreamPosition> {
    if (checkpoint === undefined || checkpoint === '') return new Map();
    const p = decodeCheckpoint(checkpoint);
    if (!p) throw new InvalidCheckpointError(checkpoint, this.name);
    return p;
  }
}

export function fromJsMsg(m: JsMsg): EventMessage {
  return { subject: m.subject, seq: m.seq, data: m.data, header: (n) => m.headers?.get(n) || undefined };
}

function apiCode(err: unknown): number | undefined {
  const e = err as { code?: unknown; apiError?: () => { err_code?: number } };
  if (typeof e?.apiError === 'function') return e.apiError().err_code;
  return typeof e?.code === 'number' ? e.code : undefined;
}
