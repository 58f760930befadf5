/**
 * In-memory transport with JetStream-like semantics, for users' unit tests and ours: one
 * retained log, publish dedupe by id inside a window, durable consumer groups that start
 * at the beginning of the log and share work between instances, explicit acks, delayed
 * redelivery, ack-wait expiry, dead-letter publishing and request/reply with queue groups.
 * It passes the same conformance suite as the NATS transport.
 */
import { H, recordHeaders } from './codec.js';
import { deadLetterHeaders } from './dead-letter.js';
import { subjectMatches } from './address.js';
import { BusClosedError, EventIdCollisionError, NoResponderError, RequestTimeoutError } from './errors.js';
import type {
  ConsumeSpec,
  DeadLetterInfo,
  Delivery,
  DeliveryHandler,
  HeaderRecord,
  InboundMessage,
  OutboundMessage,
  RequestHandler,
  ServeSpec,
  Transport,
  TransportReceipt,
  TransportSubscription,
} from './types.js';

export interface MemoryTransportOptions {
  /** Share the broker of another MemoryTransport (another "connection" to it). */
  sharedWith?: MemoryTransport;
  /** Largest message (headers + body). Default 1 MiB, like nats-server. */
  maxMessageBytes?: number;
  /** Publish dedupe window. Default 2 minutes, like JetStream. */
  duplicateWindowMs?: number;
  /** Default ack wait. Default 30 s. */
  ackWaitMs?: number;
}

interface Stored {
  seq: number;
  subject: string;
  headers: HeaderRecord;
  body: Uint8Array;
}

interface Instance {
  onDelivery: DeliveryHandler;
  maxInFlight: number;
  inFlight: number;
  active: boolean;
}

interface Pending {
  count: number;
  instance: Instance | undefined;
  timer: NodeJS.Timeout | undefined;
}

class Group {
  cursor = 0;
  /** Sequences ready for redelivery, oldest first. */
  readonly redeliver: number[] = [];
  readonly pending = new Map<number, Pending>();
  readonly instances: Instance[] = [];
  private rr = 0;
  scheduled = false;

  constructor(
    readonly name: string,
    readonly subjects: string[],
    readonly ackWaitMs: number,
    readonly ephemeral: boolean,
  ) {}

  matches(subject: string): boolean {
    return this.subjects.some((p) => subjectMatches(p, subject));
  }

  pickInstance(): Instance | undefined {
    const n = this.instances.length;
    for (let i = 0; i < n; i++) {
      const inst = this.instances[(this.rr + i) % n]!;
      if (inst.active && inst.inFlight < inst.maxInFlight) {
        this.rr = (this.rr + i + 1) % n;
        return inst;
      }
    }
    return undefined;
  }
}

/** The broker: shared by every MemoryTransport connected to it. */
class Broker {
  readonly log: Stored[] = [];
  readonly ids = new Map<string, { seq: number; at: number }>();
  readonly groups = new Map<string, Group>();
  readonly responders = new Map<string, Array<{ subject: string; handler: RequestHandler; active: boolean }>>();
  readonly timers = new Set<NodeJS.Timeout>();
  constructor(
    readonly maxBytes: number,
    readonly windowMs: number,
    readonly ackWaitMs: number,
  ) {}
}

export class MemoryTransport implements Transport {
  readonly name = 'memory';
  private readonly b: Broker;
  private closed = false;
  private readonly stops = new Set<() => Promise<void>>();

  constructor(options: MemoryTransportOptions = {}) {
    this.b = options.sharedWith
      ? options.sharedWith.b
      : new Broker(options.maxMessageBytes ?? 1024 * 1024, options.duplicateWindowMs ?? 120_000, options.ackWaitMs ?? 30_000);
  }

  /** A second connection to the same broker (e.g. another service instance in a test). */
  connection(): MemoryTransport {
    return new MemoryTransport({ sharedWith: this });
  }

  private get log() {
    return this.b.log;
  }
  private get ids() {
    return this.b.ids;
  }
  private get groups() {
    return this.b.groups;
  }
  private get responders() {
    return this.b.responders;
  }
  private get timers() {
    return this.b.timers;
  }
  private get maxBytes() {
    return this.b.maxBytes;
  }
  private get windowMs() {
    return this.b.windowMs;
  }
  private get ackWaitMs() {
    return this.b.ackWaitMs;
  }

  maxMessageBytes(): number {
    return this.maxBytes;
  }

  /** Every stored message on a subject, for assertions in tests. */
  messages(subjectPattern = '>'): InboundMessage[] {
    return this.log.filter((m) => subjectMatches(subjectPattern, m.subject)).map((m) => ({ subject: m.subject, headers: recordHeaders(m.headers), body: m.body }));
  }

  private assertOpen(): void {
    if (this.closed) throw new BusClosedError();
  }

  private size(m: { headers: HeaderRecord; body: Uint8Array }): number {
    let n = m.body.byteLength + 12;
    for (const k in m.headers) n += k.length + (m.headers[k] as string).length + 4;
    return n;
  }

  private store(subject: string, headers: HeaderRecord, body: Uint8Array): number {
    const seq = this.log.length + 1;
    // Copies: the caller may reuse its buffers, a broker would not see later changes.
    this.log.push({ seq, subject, headers: { ...headers }, body: new Uint8Array(body) });
    for (const g of this.groups.values()) if (!g.ephemeral || g.instances.some((i) => i.active)) this.schedule(g);
    return seq;
  }

  async publish(m: OutboundMessage): Promise<TransportReceipt> {
    this.assertOpen();
    if (this.size(m) > this.maxBytes) throw new Error(`maximum payload exceeded (${this.size(m)} > ${this.maxBytes})`);
    const now = Date.now();
    const prev = this.ids.get(m.id);
    if (prev && now - prev.at < this.windowMs) {
      // As over NATS: an id reused on another subject is another event, refused loudly.
      const stored = this.log[prev.seq - 1]?.subject;
      if (stored !== undefined && stored !== m.subject) throw new EventIdCollisionError(m.id, m.subject, stored);
      return { stream: 'memory', sequence: prev.seq, duplicate: true };
    }
    const seq = this.store(m.subject, m.headers, m.body);
    this.ids.set(m.id, { seq, at: now });
    if (this.ids.size > 100_000) for (const [k, v] of this.ids) if (now - v.at >= this.windowMs) this.ids.delete(k);
    return { stream: 'memory', sequence: seq, duplicate: false };
  }

  async publishTransient(m: OutboundMessage): Promise<void> {
    this.assertOpen();
    if (this.size(m) > this.maxBytes) throw new Error(`maximum payload exceeded (${this.size(m)} > ${this.maxBytes})`);
    this.store(m.subject, m.headers, m.body);
  }

  async consume(spec: ConsumeSpec, onDelivery: DeliveryHandler): Promise<TransportSubscription> {
    this.assertOpen();
    let g = this.groups.get(spec.group);
    if (!g || (spec.ephemeral && !g.instances.some((i) => i.active))) {
      g = new Group(spec.group, [...spec.subjects], spec.ackWaitMs ?? this.ackWaitMs, spec.ephemeral === true);
      // An ephemeral (core) subscription sees only what is published from now on.
      if (g.ephemeral) g.cursor = this.log.length;
      this.groups.set(spec.group, g);
    } else if (g.subjects.join(' ') !== [...spec.subjects].join(' ')) {
      throw new Error(`consumer group ${spec.group} already filters ${g.subjects.join(', ')}`);
    }
    const inst: Instance = { onDelivery, maxInFlight: Math.max(1, spec.maxInFlight), inFlight: 0, active: true };
    g.instances.push(inst);
    this.schedule(g);
    const group = g;
    const stop = async () => {
      this.stops.delete(stop);
      inst.active = false;
      const i = group.instances.indexOf(inst);
      if (i >= 0) group.instances.splice(i, 1);
      this.schedule(group); // its share goes to the other instances
    };
    this.stops.add(stop);
    return { stop };
  }

  /** Deliveries happen on a later tick, never inside publish or settle. */
  private schedule(g: Group): void {
    if (g.scheduled) return;
    g.scheduled = true;
    setImmediate(() => {
      g.scheduled = false;
      this.dispatch(g);
    });
  }

  private dispatch(g: Group): void {
    for (;;) {
      const inst = g.pickInstance();
      if (!inst) return;
      let seq = g.redeliver.shift();
      if (seq === undefined) {
        while (g.cursor < this.log.length && !g.matches(this.log[g.cursor]!.subject)) g.cursor++;
        if (g.cursor >= this.log.length) return;
        seq = this.log[g.cursor]!.seq;
        g.cursor++;
      }
      this.deliver(g, inst, seq);
    }
  }

  private deliver(g: Group, inst: Instance, seq: number): void {
    const stored = this.log[seq - 1]!;
    const p = g.pending.get(seq) ?? { count: 0, instance: undefined, timer: undefined };
    p.count++;
    p.instance = inst;
    inst.inFlight++;
    g.pending.set(seq, p);
    let settled = false;
    const settle = (): boolean => {
      if (settled || g.pending.get(seq) !== p || p.instance !== inst) return false;
      settled = true;
      if (p.timer) {
        clearTimeout(p.timer);
        this.timers.delete(p.timer);
      }
      p.timer = undefined;
      p.instance = undefined;
      inst.inFlight--;
      this.schedule(g);
      return true;
    };
    const requeue = (delayMs: number) => {
      if (g.ephemeral) {
        g.pending.delete(seq); // core NATS cannot redeliver
        return;
      }
      if (delayMs <= 0) {
        g.redeliver.push(seq);
        this.schedule(g);
        return;
      }
      const t = setTimeout(() => {
        this.timers.delete(t);
        g.redeliver.push(seq);
        this.schedule(g);
      }, delayMs);
      t.unref();
      this.timers.add(t);
    };
    if (!g.ephemeral) {
      // Ack wait: an unsettled delivery is handed out again, as JetStream does.
      p.timer = setTimeout(() => {
        if (settle()) requeue(0);
      }, g.ackWaitMs);
      p.timer.unref();
      this.timers.add(p.timer);
    }
    const count = p.count;
    const delivery: Delivery = {
      subject: stored.subject,
      headers: recordHeaders(stored.headers),
      body: stored.body,
      deliveryCount: count,
      ack: async () => {
        if (settle()) g.pending.delete(seq);
      },
      retry: async (delayMs) => {
        if (settle()) requeue(delayMs);
      },
      deadLetter: async (info: DeadLetterInfo) => {
        if (settled) return;
        await this.publish({
          subject: info.subject,
          id: `dl:${g.name}:${seq}`,
          headers: deadLetterHeaders(stored.headers, stored.subject, info, count),
          body: stored.body,
        });
        if (settle()) g.pending.delete(seq);
      },
      working: () => {
        if (settled || !p.timer) return;
        p.timer.refresh();
      },
    };
    inst.onDelivery(delivery);
  }

  async request(m: OutboundMessage, timeoutMs: number): Promise<InboundMessage> {
    this.assertOpen();
    if (this.size(m) > this.maxBytes) throw new Error(`maximum payload exceeded`);
    const candidates: Array<{ handler: RequestHandler }> = [];
    for (const list of this.responders.values()) {
      const live = list.filter((r) => r.active && subjectMatches(r.subject, m.subject));
      if (live.length > 0) candidates.push(live[Math.floor(Math.random() * live.length)]!);
    }
    const chosen = candidates[0];
    if (!chosen) throw new NoResponderError(m.subject);
    const request: InboundMessage = { subject: m.subject, headers: recordHeaders({ ...m.headers }), body: new Uint8Array(m.body) };
    return new Promise<InboundMessage>((resolve, reject) => {
      const t = setTimeout(() => reject(new RequestTimeoutError(m.subject, timeoutMs)), timeoutMs);
      setImmediate(() => {
        chosen.handler(request).then(
          (r) => {
            clearTimeout(t);
            resolve({ subject: '_INBOX.memory', headers: recordHeaders(r.headers), body: r.body });
          },
          (err) => {
            clearTimeout(t);
            resolve({ subject: '_INBOX.memory', headers: recordHeaders({ [H.replyError]: 'handler-failed', [H.replyErrorDetail]: String(err) }), body: new Uint8Array(0) });
          },
        );
      });
    });
  }

  async serve(spec: ServeSpec, handler: RequestHandler): Promise<TransportSubscription> {
    this.assertOpen();
    const key = spec.group ?? `_solo_${Math.random()}`;
    const list = this.responders.get(key) ?? [];
    const entry = { subject: spec.subject, handler, active: true };
    list.push(entry);
    this.responders.set(key, list);
    const stop = async () => {
      this.stops.delete(stop);
      entry.active = false;
      const i = list.indexOf(entry);
      if (i >= 0) list.splice(i, 1);
    };
    this.stops.add(stop);
    return { stop };
  }

  /** Closes this connection; the broker and its retained messages live on for others. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.stops].map((s) => s()));
  }

  /** Clears every timer of the broker (end of a test). */
  destroy(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const g of this.groups.values()) for (const p of g.pending.values()) if (p.timer) clearTimeout(p.timer);
  }
}

