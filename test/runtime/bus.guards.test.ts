/**
 * The bus's guards, over the in-memory broker: contract headers (checked before sending and
 * on receipt, runtime-owned ones filled), the payload's event id, ids and headers that flow
 * from a handled event into what its handler publishes, depth limits, and a dead-letter
 * publish that fails.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  childTraceparent,
  createEventBus,
  deadLetterHeaders,
  fitDeadLetter,
  OMITTED_BODY,
  OMITTED_BODY_SHA256,
  OMITTED_HEADERS,
  EventIdCollisionError,
  HeaderValidationError,
  MemoryTransport,
  STRIPPED_HEADERS,
  withinDepth,
  type DeadLetter,
  type DedupeStore,
  type Delivery,
  type Envelope,
  type EventBus,
  type EventDescriptor,
  type HeaderContract,
  type OutboundMessage,
  type RuntimeNotice,
  type SubscribeSpec,
  type Transport,
  type ValidationResult,
} from '../../src/runtime/index.js';
import { rand, waitFor } from './helpers.js';

interface Order {
  eventId: string;
  n: number;
}
const orderValidator = (d: unknown): ValidationResult<Order> => {
  const o = d as Order;
  return typeof o === 'object' && o !== null && typeof o.eventId === 'string' && typeof o.n === 'number' ? { ok: true, value: o } : { ok: false, errors: [{ path: '/', message: 'not an order' }] };
};

/** A headers validator as the generator emits one for StandardHeaders-like schemas. */
const headersValidator = (d: unknown): ValidationResult<unknown> => {
  const h = d as Record<string, unknown>;
  const errors = [];
  if (typeof h['x-tenant'] !== 'string' || !/^[a-z][a-z0-9-]{1,62}$/.test(h['x-tenant'])) errors.push({ path: '/x-tenant', message: 'must be a tenant slug' });
  if (typeof h['x-correlation-id'] !== 'string') errors.push({ path: '/x-correlation-id', message: 'is required' });
  if (h['x-priority'] !== undefined && typeof h['x-priority'] !== 'number') errors.push({ path: '/x-priority', message: 'must be number' });
  return errors.length ? { ok: false, errors } : { ok: true, value: h };
};
const headers: HeaderContract = {
  validate: headersValidator,
  names: ['x-correlation-id', 'x-causation-id', 'x-tenant', 'x-priority', 'traceparent', 'Nats-Msg-Id'],
  json: ['x-priority'],
};

function order(prefix: string, type = 'order.placed'): EventDescriptor<Order> {
  return { type, version: '1.0.0', address: `${prefix}.${type}`, parameters: [], validate: orderValidator, headers, eventIdField: 'eventId' };
}

/** Records what reaches the transport, and can make dead-letter publishes fail or mark deliveries malformed. */
class Recording implements Transport {
  readonly name = 'recording';
  readonly sent: OutboundMessage[] = [];
  failDeadLetters = false;
  malformed: Delivery['malformed'];
  /** What the bus did with each delivery, by ce-id: 'ack', 'retry:<ms>', 'working'. */
  readonly settled: Array<[string, string]> = [];
  onWorking: (() => void) | undefined;
  constructor(private readonly inner: MemoryTransport) {}
  maxMessageBytes() {
    return this.inner.maxMessageBytes();
  }
  publish(m: OutboundMessage) {
    this.sent.push(m);
    return this.inner.publish(m);
  }
  publishTransient(m: OutboundMessage) {
    this.sent.push(m);
    return this.inner.publishTransient(m);
  }
  consume(spec: Parameters<Transport['consume']>[0], on: Parameters<Transport['consume']>[1]) {
    return this.inner.consume(spec, (d) => {
      const failing = this.failDeadLetters;
      const malformed = this.malformed;
      const id = d.headers.get('ce-id') ?? '?';
      const log = this.settled;
      on({
        subject: d.subject,
        headers: d.headers,
        body: d.body,
        get deliveryCount() {
          return d.deliveryCount;
        },
        ack: () => (log.push([id, 'ack']), d.ack()),
        retry: (ms) => (log.push([id, `retry:${ms}`]), d.retry(ms)),
        working: () => (log.push([id, 'working']), d.working?.(), this.onWorking?.()),
        deadLetter: (info) => (failing ? Promise.reject(new Error('no stream stores the dead-letter subject')) : d.deadLetter(info)),
        ...(malformed ? { malformed } : {}),
      });
    });
  }
  request(m: OutboundMessage, t: number) {
    return this.inner.request(m, t);
  }
  serve(spec: Parameters<Transport['serve']>[0], h: Parameters<Transport['serve']>[1]) {
    return this.inner.serve(spec, h);
  }
  close() {
    return this.inner.close();
  }
}

describe('bus guards', () => {
  const broker = new MemoryTransport();
  const buses: EventBus[] = [];
  const bus = (transport: Transport, notices?: RuntimeNotice[]) => {
    const b = createEventBus({ transport, source: 'test/guards', ...(notices ? { middleware: [{ name: 'notices', notice: (n) => void notices.push(n) }] } : {}) });
    buses.push(b);
    return b;
  };
  afterEach(async () => {
    await Promise.allSettled(buses.splice(0).map((b) => b.close()));
  });

  it('refuses a publish whose headers break the contract, sending nothing', async () => {
    const t = new Recording(broker.connection());
    const b = bus(t);
    const ev = order(`g${rand()}`);
    await expect(b.publish(ev, { eventId: 'e1', n: 1 })).rejects.toThrow(HeaderValidationError);
    await expect(b.publish(ev, { eventId: 'e1', n: 1 }, { headers: { 'x-tenant': 'Not A Slug' } })).rejects.toThrow(/x-tenant must be a tenant slug/);
    await expect(b.publish(ev, { eventId: 'e1', n: 1 }, { headers: { 'x-tenant': 'acme', 'ce-type': 'forged' } })).rejects.toThrow(/ce-type is set by the runtime/);
    await expect(b.publish(ev, { eventId: 'e1', n: 1 }, { headers: { 'x-tenant': 'acme', 'Nats-Msg-Id': 'other' } })).rejects.toThrow(/Nats-Msg-Id is the event id/);
    expect(t.sent).toHaveLength(0);
  });

  it("fills the runtime's headers; the payload's event id is the envelope id; non-string headers travel as JSON", async () => {
    const t = new Recording(broker.connection());
    const b = bus(t);
    const ev = order(`g${rand()}`);
    const r = await b.publish(ev, { eventId: 'evt-42', n: 1 }, { headers: { 'x-tenant': 'acme', 'x-priority': 3 } });
    expect(r.id).toBe('evt-42');
    const m = t.sent[0]!;
    expect(m.id).toBe('evt-42');
    expect(m.headers['ce-id']).toBe('evt-42');
    expect(m.headers['x-tenant']).toBe('acme');
    expect(m.headers['x-priority']).toBe('3');
    // An event that starts a conversation is its own correlation id.
    expect(m.headers['x-correlation-id']).toBe('evt-42');
    expect(m.headers['traceparent']).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    // The transport sets Nats-Msg-Id from the id; it is not a second header.
    expect(m.headers['Nats-Msg-Id']).toBeUndefined();
    // options.id still wins over the payload's field.
    expect((await b.publish(ev, { eventId: 'evt-42', n: 1 }, { id: 'explicit', headers: { 'x-tenant': 'acme' } })).id).toBe('explicit');
  });

  it('the same event id on another subject is refused, not dropped as a duplicate', async () => {
    const b = bus(broker.connection());
    const prefix = `g${rand()}`;
    const v1 = { ...order(prefix, 'thing.v1'), headers: undefined };
    const v2 = { ...order(prefix, 'thing.v2'), headers: undefined };
    await b.publish(v1, { eventId: 'same', n: 1 });
    expect((await b.publish(v1, { eventId: 'same', n: 1 })).duplicate).toBe(true);
    const err = await b.publish(v2, { eventId: 'same', n: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EventIdCollisionError);
    expect((err as EventIdCollisionError).storedSubject).toBe(v1.address);
  });

  it('a handler publishing through any client passes on causation, correlation and trace, not its data headers', async () => {
    const t = new Recording(broker.connection());
    const b = bus(t);
    const prefix = `g${rand()}`;
    const placed = order(prefix, 'order.placed');
    const shipped = order(prefix, 'order.shipped');
    const got: Envelope<Order>[] = [];
    let later: Promise<unknown> | undefined;
    await b.subscribe({
      group: `shipper_${rand()}`,
      handlers: [
        // bus.publish, not ctx.publish: generated clients call the bus. Data headers (the
        // tenant) are the handler's to set: per-message ones (an idempotency key) must not be copied.
        {
          type: 'order.placed',
          accepts: [placed],
          handle: async (e) => {
            await b.publish(shipped, { eventId: `ship-${e.data.eventId}`, n: e.data.n }, { headers: { 'x-tenant': 'acme' } });
            // Something the handler starts that outlives it keeps the async context, not the cause.
            later = new Promise((resolve) => setTimeout(() => resolve(b.publish(shipped, { eventId: 'later', n: 0 }, { headers: { 'x-tenant': 'other' } })), 30));
          },
        },
      ],
    });
    await b.subscribe({ group: `audit_${rand()}`, handlers: [{ type: 'order.shipped', accepts: [shipped], handle: async (e) => void got.push(e) }] });
    await b.publish(placed, { eventId: 'p1', n: 7 }, { headers: { 'x-tenant': 'acme' }, correlationId: 'conv-1' });
    await waitFor(() => got.length === 2, 10_000, 'the follow-up event and the later one');
    const follow = got.find((e) => e.id === 'ship-p1')!;
    expect(follow.causationId).toBe('p1');
    expect(follow.correlationId).toBe('conv-1');
    const out = t.sent.find((m) => m.id === 'ship-p1')!;
    const inTrace = t.sent.find((m) => m.id === 'p1')!.headers['traceparent']!;
    expect(out.headers['x-correlation-id']).toBe('conv-1');
    expect(out.headers['x-causation-id']).toBe('p1');
    expect(out.headers['traceparent']!.split('-')[1]).toBe(inTrace.split('-')[1]);
    expect(out.headers['traceparent']).not.toBe(inTrace);
    await later;
    const after = t.sent.find((m) => m.id === 'later')!;
    expect(after.headers['ce-causationid']).toBeUndefined();
    expect(after.headers['x-correlation-id']).toBe('later');
    expect(after.headers['traceparent']!.split('-')[1]).not.toBe(inTrace.split('-')[1]);
    // A root event is its own conversation, in the envelope and in the contract's header alike.
    const root = t.sent.find((m) => m.id === 'p1')!;
    expect([root.headers['ce-correlationid'], root.headers['x-correlation-id']]).toEqual(['conv-1', 'conv-1']);
    await b.publish(shipped, { eventId: 'free', n: 1 }, { headers: { 'x-tenant': 'other' } });
    const free = t.sent.find((m) => m.id === 'free')!;
    expect([free.headers['ce-correlationid'], free.headers['x-correlation-id']]).toEqual(['free', 'free']);
  });

  it("follows the contract's x-correlation-id, and never sends an inherited id the contract refuses", async () => {
    const t = new Recording(broker.connection());
    const b = bus(t);
    const prefix = `g${rand()}`;
    const placed = order(prefix, 'order.placed');
    // This contract wants uuids for its ids.
    const uuidHeaders: HeaderContract = {
      names: ['x-correlation-id', 'x-causation-id', 'x-tenant'],
      validate: (d) => {
        const h = d as Record<string, unknown>;
        const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
        const errors = [];
        if (typeof h['x-correlation-id'] !== 'string') errors.push({ path: '/x-correlation-id', message: "must have required property 'x-correlation-id'" });
        else if (!uuid.test(h['x-correlation-id'])) errors.push({ path: '/x-correlation-id', message: 'must match format "uuid"' });
        if (h['x-causation-id'] !== undefined && !uuid.test(String(h['x-causation-id']))) errors.push({ path: '/x-causation-id', message: 'must match format "uuid"' });
        return errors.length ? { ok: false, errors } : { ok: true, value: h };
      },
    };
    const shipped: EventDescriptor<Order> = { ...order(prefix, 'order.shipped'), headers: uuidHeaders };
    const results: Array<[string, string]> = [];
    await b.subscribe({
      group: `s_${rand()}`,
      handlers: [
        {
          type: 'order.placed',
          accepts: [{ ...placed, headers: undefined }],
          handle: async (e) => {
            try {
              await b.publish(shipped, { eventId: `ship-${e.id}`, n: 1 });
              results.push([e.id, 'sent']);
            } catch (err) {
              results.push([e.id, (err as Error).message]);
            }
          },
        },
      ],
    });
    const raw = broker.connection();
    const ce = (id: string, extra: Record<string, string> = {}) => ({ 'ce-specversion': '1.0', 'ce-id': id, 'ce-type': 'order.placed', 'ce-source': 'raw', 'ce-time': new Date().toISOString(), 'ce-eventversion': '1.0.0', 'content-type': 'application/json', ...extra });
    const conv = '9b2f3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d';
    // A producer that follows the contract: the conversation in x-correlation-id, any string as ce-id.
    await raw.publish({ subject: placed.address, id: 'r1', headers: ce('order-42-created', { 'x-correlation-id': conv }), body: Buffer.from('{"eventId":"x","n":1}') });
    // Neither a correlation nor a uuid id: the inherited value does not fit, and the error says so.
    await raw.publish({ subject: placed.address, id: 'r2', headers: ce('order-43-created'), body: Buffer.from('{"eventId":"y","n":1}') });
    await waitFor(() => results.length === 2, 10_000, 'both handled');
    expect(results[0]).toEqual(['order-42-created', 'sent']);
    const out = t.sent.find((m) => m.id === 'ship-order-42-created')!;
    expect(out.headers['x-correlation-id']).toBe(conv);
    expect(out.headers['ce-correlationid']).toBe(conv);
    // The causation id (the handled event's ce-id) is not a uuid: left out, not sent invalid.
    expect(out.headers['x-causation-id']).toBeUndefined();
    expect(out.headers['ce-causationid']).toBe('order-42-created');
    expect(results[1]![1]).toMatch(/x-correlation-id must have required property 'x-correlation-id' \(the runtime's value "order-43-created", from the event being handled, does not fit the contract: pass one in headers\)/);
  });

  it('headers a broker acts on cannot be set by a caller', async () => {
    const b = bus(broker.connection());
    const ev = order(`g${rand()}`);
    for (const name of ['CC', 'BCC', 'x-death', 'x-first-death-queue', 'content-language', 'Nats-Expected-Stream']) {
      await expect(b.publish(ev, { eventId: 'r', n: 1 }, { headers: { 'x-tenant': 'acme', [name]: 'x' } }), name).rejects.toThrow(/is set by the runtime/);
    }
  });

  it('a contract that requires Nats-Msg-Id is satisfied on receipt whatever the transport carries', async () => {
    const prefix = `g${rand()}`;
    const requiresMsgId: HeaderContract = {
      names: ['Nats-Msg-Id', 'x-tenant'],
      validate: (d) => ((d as Record<string, unknown>)['Nats-Msg-Id'] === undefined ? { ok: false, errors: [{ path: '/Nats-Msg-Id', message: 'is required' }] } : { ok: true, value: d }),
    };
    const ev: EventDescriptor<Order> = { ...order(prefix), headers: requiresMsgId };
    const b = bus(broker.connection());
    const handled: string[] = [];
    const dls: DeadLetter[] = [];
    await b.subscribeDeadLetters({ subject: `${prefix}.dlq`, group: `r_${rand()}` }, async (dl) => void dls.push(dl));
    await b.subscribe({ group: `c_${rand()}`, deadLetter: { subject: `${prefix}.dlq` }, handlers: [{ type: ev.type, accepts: [ev], handle: async (e) => void handled.push(e.id) }] });
    await b.publish(ev, { eventId: 'msgid-1', n: 1 }, { headers: { 'x-tenant': 'acme' } });
    await waitFor(() => handled.length + dls.length === 1, 10_000, 'settled');
    expect([handled, dls.map((d) => d.detail)]).toEqual([['msgid-1'], []]);
  });

  it('dead-letters an event whose headers break the contract on receipt, and one nested too deep', async () => {
    const prefix = `g${rand()}`;
    const ev = order(prefix);
    const raw = broker.connection();
    const b = bus(broker.connection());
    const dls: DeadLetter[] = [];
    await b.subscribeDeadLetters({ subject: `${prefix}.dlq`, group: `r_${rand()}` }, async (dl) => void dls.push(dl));
    const handled: string[] = [];
    await b.subscribe({ group: `c_${rand()}`, deadLetter: { subject: `${prefix}.dlq` }, handlers: [{ type: ev.type, accepts: [ev], handle: async (e) => void handled.push(e.id) }] });
    const ce = (id: string) => ({ 'ce-specversion': '1.0', 'ce-id': id, 'ce-type': ev.type, 'ce-source': 'raw', 'ce-time': new Date().toISOString(), 'ce-eventversion': '1.0.0', 'content-type': 'application/json' });
    await raw.publish({ subject: ev.address, id: 'h1', headers: { ...ce('h1'), 'x-correlation-id': 'c' }, body: Buffer.from('{"eventId":"h1","n":1}') });
    await raw.publish({ subject: ev.address, id: 'h2', headers: { ...ce('h2'), 'x-correlation-id': 'c', 'x-tenant': 'acme', 'x-priority': 'high' }, body: Buffer.from('{"eventId":"h2","n":1}') });
    await raw.publish({ subject: ev.address, id: 'h3', headers: { ...ce('h3'), 'x-correlation-id': 'c', 'x-tenant': 'acme', 'x-priority': '2' }, body: Buffer.from('{"eventId":"h3","n":1}') });
    await waitFor(() => dls.length === 2 && handled.length === 1, 10_000, 'two dead letters, one handled');
    expect(dls.map((d) => [d.headers.get('ce-id'), d.reason])).toEqual([
      ['h1', 'headers-invalid'],
      ['h2', 'headers-invalid'],
    ]);
    expect(dls[0]!.detail).toContain('/x-tenant');
    expect(handled).toEqual(['h3']);
  });

  it('bounds payload depth before validating (maxDepth)', async () => {
    const prefix = `g${rand()}`;
    const anything: EventDescriptor<unknown> = { type: 'any.thing', version: '1.0.0', address: `${prefix}.any`, parameters: [], validate: (d) => ({ ok: true, value: d }) };
    const b = createEventBus({ transport: broker.connection(), source: 't', maxDepth: 3 });
    buses.push(b);
    const dls: DeadLetter[] = [];
    await b.subscribeDeadLetters({ subject: `${prefix}.dlq`, group: `r_${rand()}` }, async (dl) => void dls.push(dl));
    const handled: unknown[] = [];
    await b.subscribe({ group: `c_${rand()}`, deadLetter: { subject: `${prefix}.dlq` }, handlers: [{ type: 'any.thing', accepts: [anything], handle: async (e) => void handled.push(e.data) }] });
    await b.publish(anything, { a: { b: [1] } });
    await b.publish(anything, { a: { b: [[1]] } });
    await waitFor(() => handled.length === 1 && dls.length === 1, 10_000, 'one handled, one dead letter');
    expect(dls[0]!.reason).toBe('too-large');
    expect(dls[0]!.detail).toMatch(/deeper than 3 levels/);
  });

  it('a dead-letter publish that fails leaves the message with the broker, after the backoff, with a notice', async () => {
    const prefix = `g${rand()}`;
    const ev = order(prefix);
    const t = new Recording(broker.connection());
    t.failDeadLetters = true;
    const notices: RuntimeNotice[] = [];
    const b = bus(t, notices);
    await b.subscribe({ group: `c_${rand()}`, backoff: { initialMs: 30, maxMs: 60, jitter: 0 }, handlers: [{ type: ev.type, accepts: [ev], handle: async () => undefined }] });
    const raw = broker.connection();
    await raw.publish({ subject: ev.address, id: 'x', headers: { 'ce-specversion': '1.0' }, body: Buffer.from('{}') });
    await waitFor(() => notices.filter((n) => n.kind === 'dead-letter-failed').length >= 3, 10_000, 'three failed dead-letter attempts');
    const failed = notices.filter((n): n is Extract<RuntimeNotice, { kind: 'dead-letter-failed' }> => n.kind === 'dead-letter-failed');
    expect(failed.slice(0, 3).map((n) => [n.reason, n.deliveryCount, n.delayMs])).toEqual([
      ['missing-attributes', 1, 30],
      ['missing-attributes', 2, 60],
      ['missing-attributes', 3, 60],
    ]);
    // Once the dead-letter subject is writable again, it lands there and the retries stop.
    t.failDeadLetters = false;
    await waitFor(() => notices.some((n) => n.kind === 'dead-letter'), 10_000, 'the dead letter written');
  });

  it('dead-letters a delivery the transport could not read, with the reason it gave', async () => {
    const prefix = `g${rand()}`;
    const ev = order(prefix);
    const t = new Recording(broker.connection());
    t.malformed = { reason: 'undecodable', detail: 'header block refused: lone LF' };
    const b = bus(t);
    const reader = bus(broker.connection());
    const dls: DeadLetter[] = [];
    await reader.subscribeDeadLetters({ subject: `${prefix}.dlq`, group: `r_${rand()}` }, async (dl) => void dls.push(dl));
    const handled: string[] = [];
    await b.subscribe({ group: `c_${rand()}`, deadLetter: { subject: `${prefix}.dlq` }, handlers: [{ type: ev.type, accepts: [ev], handle: async (e) => void handled.push(e.id) }] });
    await reader.publish(ev, { eventId: 'm1', n: 1 }, { headers: { 'x-tenant': 'acme' } });
    await waitFor(() => dls.length === 1, 10_000, 'the dead letter');
    expect([dls[0]!.reason, dls[0]!.detail]).toEqual(['undecodable', 'header block refused: lone LF']);
    expect(handled).toEqual([]);
  });
});

describe('consumer bookkeeping', () => {
  const broker = new MemoryTransport();
  const buses: EventBus[] = [];
  afterEach(async () => {
    await Promise.allSettled(buses.splice(0).map((b) => b.close()));
  });
  const setup = async (store: DedupeStore, handle: (e: Envelope<Order>) => Promise<void>, extra: Partial<SubscribeSpec> = {}) => {
    const t = new Recording(broker.connection());
    const notices: RuntimeNotice[] = [];
    const b = createEventBus({ transport: t, source: 't', middleware: [{ name: 'n', notice: (n) => void notices.push(n) }] });
    buses.push(b);
    const ev = { ...order(`g${rand()}`), headers: undefined };
    await b.subscribe({ group: `c_${rand()}`, dedupe: store, backoff: { initialMs: 10, maxMs: 1000, factor: 2, jitter: 0 }, handlers: [{ type: ev.type, accepts: [ev], handle }], ...extra });
    return { t, notices, b, ev };
  };

  it('settles a message whatever the dedupe store does, and says so', async () => {
    const store: DedupeStore = {
      claim: async () => 'claimed',
      complete: async () => Promise.reject(new Error('kv down')),
      release: async () => Promise.reject(new Error('kv down')),
    };
    const { t, notices, b, ev } = await setup(store, async (e) => {
      if (e.data.eventId === 'bad') throw new Error('handler failed');
    });
    await b.publish(ev, { eventId: 'ok', n: 1 });
    await b.publish(ev, { eventId: 'bad', n: 2 });
    await waitFor(() => t.settled.some(([id, what]) => id === 'ok' && what === 'ack') && t.settled.some(([id, what]) => id === 'bad' && what.startsWith('retry')), 10_000, 'both settled');
    // 'bad' is retried and fails again meanwhile: each failure is one more release notice.
    expect(new Set(notices.filter((n) => n.kind === 'dedupe-failed').map((n) => (n as { operation: string }).operation))).toEqual(new Set(['complete', 'release']));
  });

  it('a busy claim waits longer with each delivery', async () => {
    const store: DedupeStore = { claim: async () => 'busy', complete: async () => undefined, release: async () => undefined };
    const { t, b, ev } = await setup(store, async () => undefined);
    await b.publish(ev, { eventId: 'busy', n: 1 });
    await waitFor(() => t.settled.filter(([id]) => id === 'busy').length >= 3, 10_000, 'three busy retries');
    expect(t.settled.filter(([id]) => id === 'busy').slice(0, 3).map(([, w]) => w)).toEqual(['retry:10', 'retry:20', 'retry:40']);
  });

  it('tells the broker a long handler is still working, so it is not redelivered meanwhile', async () => {
    let release: () => void = () => undefined;
    const twice = new Promise<void>((r) => (release = r));
    let beats = 0;
    const { t, b, ev } = await setup(null as unknown as DedupeStore, async () => twice, { dedupe: null, ackWaitMs: 150 });
    t.onWorking = () => {
      if (++beats === 2) release();
    };
    await b.publish(ev, { eventId: 'slow', n: 1 });
    await waitFor(() => t.settled.some(([id, w]) => id === 'slow' && w === 'ack'), 10_000, 'the slow event acked');
    const slow = t.settled.filter(([id]) => id === 'slow').map(([, w]) => w);
    expect(slow.filter((w) => w === 'working').length).toBeGreaterThanOrEqual(2);
    expect(slow.filter((w) => w.startsWith('retry'))).toEqual([]);
  });
});

describe('guard units', () => {
  it.each([
    [1, 1, true],
    [{}, 1, true],
    [{ a: {} }, 1, false],
    [{ a: {} }, 2, true],
    [[[[]]], 3, true],
    [[[[]]], 2, false],
    [{ a: 1, b: 'x', c: null }, 1, true],
    [{ a: [1, { b: 2 }] }, 2, false],
    [{ a: [1, { b: 2 }] }, 3, true],
  ])('withinDepth(%j, %i) is %s', (value, max, want) => expect(withinDepth(value, max)).toBe(want));

  it('withinDepth stops early on 100,000 levels without overflowing the stack', () => {
    const deep = JSON.parse('['.repeat(100_000) + ']'.repeat(100_000));
    expect(withinDepth(deep, 100)).toBe(false);
  });

  it('childTraceparent keeps the trace id and flags, new span; a bad parent starts a new trace', () => {
    const parent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00';
    const child = childTraceparent(parent);
    expect(child).toMatch(/^00-0af7651916cd43dd8448eb211c80319c-[0-9a-f]{16}-00$/);
    expect(child.split('-')[2]).not.toBe('b7ad6b7169203331');
    for (const bad of ['garbage', '00-00000000000000000000000000000000-b7ad6b7169203331-01', undefined]) {
      expect(childTraceparent(bad)).toMatch(/^00-(?!0{32})[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    }
  });

  it('fitDeadLetter leaves the body out when the copy would not fit, then the original headers', () => {
    const size = (h: Record<string, string>, b: Uint8Array) => b.byteLength + Object.entries(h).reduce((n, [k, v]) => n + k.length + v.length, 0);
    const h = { 'ce-id': 'a', 'ec-dead-letter-reason': 'validation-failed', big: 'x'.repeat(500) };
    const body = new Uint8Array(1000);
    expect(fitDeadLetter(h, body, 5000, size)).toEqual({ headers: h, body });
    expect(fitDeadLetter(h, body, undefined, size)).toEqual({ headers: h, body });
    const noBody = fitDeadLetter(h, body, 1200, size);
    expect([noBody.body.byteLength, noBody.headers[OMITTED_BODY], noBody.headers['big']]).toEqual([0, '1000', 'x'.repeat(500)]);
    expect(noBody.headers[OMITTED_BODY_SHA256]).toMatch(/^[0-9a-f]{64}$/);
    const bare = fitDeadLetter(h, body, 300, size);
    expect(Object.keys(bare.headers).sort()).toEqual(['ce-id', 'ec-dead-letter-body-omitted', 'ec-dead-letter-body-sha256', 'ec-dead-letter-headers-omitted', 'ec-dead-letter-reason']);
    expect(bare.headers[OMITTED_HEADERS]).toBe('1');
  });

  it('dead-letter headers strip what would break or forge the republish and keep it as data', () => {
    const h = deadLetterHeaders(
      { 'ce-id': 'a', 'Nats-Expected-Stream': 'X', 'Nats-Msg-Id': 'dup', 'ec-dead-letter-reason': 'forged', 'x-ec-attempt': '99', 'bad name': 'v', ok: 'line\nbreak' },
      'orders.placed',
      { subject: 'deadletter.g', reason: 'validation-failed', detail: 'two\r\nlines', group: 'g' },
      2,
    );
    expect(h['ce-id']).toBe('a');
    for (const k of ['Nats-Expected-Stream', 'Nats-Msg-Id', 'x-ec-attempt', 'bad name', 'ok']) expect(h[k], k).toBeUndefined();
    expect(h['ec-dead-letter-reason']).toBe('validation-failed');
    expect(h['ec-dead-letter-detail']).toBe('two lines');
    expect(JSON.parse(h[STRIPPED_HEADERS]!)).toEqual({ 'Nats-Expected-Stream': 'X', 'Nats-Msg-Id': 'dup', 'ec-dead-letter-reason': 'forged', 'x-ec-attempt': '99', 'bad name': 'v', ok: 'line\nbreak' });
  });
});
