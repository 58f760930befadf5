/**
 * The transport conformance suite. Every transport (in-memory, NATS, next RabbitMQ and
 * Kafka) must pass it unchanged: it drives the public EventBus over the transport and
 * checks the delivery guarantees users rely on.
 *
 * A harness provides a fresh connection to a broker where durable storage exists for
 * every subject under `prefix` (NATS: a stream on `<prefix>.>`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createEventBus,
  createMetrics,
  EventTooLargeError,
  EventValidationError,
  NoResponderError,
  RemoteHandlerError,
  RequestTimeoutError,
  type DeadLetter,
  type Envelope,
  type EventBus,
  type EventBusOptions,
  type Transport,
} from '../../src/runtime/index.js';
import { descriptor, pingValidator, rand, sleep, userCreated, userValidator, waitFor, type Ping, type UserCreated } from './helpers.js';

export interface ConformanceHarness {
  /** Unique subject root for this harness; durable storage covers `<prefix>.>`. */
  prefix: string;
  /**
   * Unique root NOT covered by durable storage, for request/reply: on NATS a stream that
   * captured a request subject would answer the request itself with a publish ack.
   */
  rpcPrefix: string;
  /** A new connection to the broker (each bus closes its own). */
  connect(): Promise<Transport>;
  cleanup(): Promise<void>;
  /** What the broker can do; absent means yes (JetStream and the in-memory transport can). */
  capabilities?: {
    /**
     * The broker drops a second publish of the same id (JetStream `Nats-Msg-Id`). RabbitMQ
     * stores every copy: there the duplicate must still be handled once, by the consumer's
     * dedupe store alone.
     */
    brokerDedupe?: boolean;
  };
}

const fastBackoff = { initialMs: 20, maxMs: 200, factor: 2, jitter: 0.2 };

export function describeTransportConformance(name: string, makeHarness: () => Promise<ConformanceHarness>): void {
  describe(`transport conformance: ${name}`, () => {
    let h: ConformanceHarness;
    const buses: EventBus[] = [];
    const bus = async (o: Partial<EventBusOptions> = {}): Promise<EventBus> => {
      const b = createEventBus({ transport: await h.connect(), source: 'test/conformance', ...o });
      buses.push(b);
      return b;
    };
    const dlq = () => `${h.prefix}.dlq`;
    /** Collects dead letters written by `group`. */
    const deadLetters = async (b: EventBus): Promise<DeadLetter[]> => {
      const out: DeadLetter[] = [];
      await b.subscribeDeadLetters({ subject: dlq(), group: `dlq_${rand()}` }, async (dl) => void out.push(dl));
      return out;
    };

    beforeAll(async () => {
      h = await makeHarness();
    });
    afterAll(async () => {
      await Promise.allSettled(buses.map((b) => b.close()));
      await h.cleanup();
    });

    it('publishes and consumes the whole envelope with address parameters', async () => {
      const scope = `${h.prefix}.t${rand()}`;
      const ev = userCreated(scope);
      const b = await bus();
      const got: Array<{ e: Envelope<UserCreated>; params: Record<string, string>; deliveryCount: number }> = [];
      await b.subscribe({
        group: `g_${rand()}`,
        handlers: [{ type: ev.type, accepts: [ev], handle: async (e, ctx) => void got.push({ e, params: { ...ctx.params }, deliveryCount: ctx.deliveryCount }) }],
      });
      const ts = new Date('2025-01-27T10:00:00.000Z');
      const r = await b.publish(ev, { userId: 'u1', email: 'a@x.io' }, { params: { userId: 'u1' }, id: 'evt-1', correlationId: 'corr-1', causationId: 'cause-1', metadata: { tenant: 't1', n: 2 }, timestamp: ts });
      expect(r).toMatchObject({ id: 'evt-1', subject: `${scope}.users.u1.created`, duplicate: false });
      await waitFor(() => got.length === 1, 10_000, 'the event');
      const { e, params, deliveryCount } = got[0]!;
      expect(e).toMatchObject({
        id: 'evt-1',
        type: 'user.created',
        source: 'test/conformance',
        version: '1.0.0',
        data: { userId: 'u1', email: 'a@x.io' },
        metadata: { tenant: 't1', n: 2 },
        correlationId: 'corr-1',
        causationId: 'cause-1',
        subject: `${scope}.users.u1.created`,
      });
      expect(e.timestamp.toISOString()).toBe(ts.toISOString());
      expect(params).toEqual({ userId: 'u1' });
      expect(deliveryCount).toBe(1);
    });

    it('fans out to every consumer group and shares work inside a group', async () => {
      const scope = `${h.prefix}.t${rand()}`;
      const ev = userCreated(scope);
      const b1 = await bus();
      const b2 = await bus();
      const a: string[] = [];
      const shared: Array<[string, number]> = [];
      const groupA = `fanA_${rand()}`;
      const groupB = `fanB_${rand()}`;
      await b1.subscribe({ group: groupA, handlers: [{ type: ev.type, accepts: [ev], handle: async (e) => void a.push(e.id) }] });
      // Two instances of the same group (two buses = two processes' worth of connections).
      for (const [i, b] of [b1, b2].entries()) {
        await b.subscribe({
          group: groupB,
          concurrency: 2,
          maxInFlight: 2,
          handlers: [{ type: ev.type, accepts: [ev], handle: async (e) => void (shared.push([e.id, i]), await sleep(5)) }],
        });
      }
      const ids: string[] = [];
      for (let i = 0; i < 40; i++) ids.push((await b1.publish(ev, { userId: `u${i}`, email: 'a@x.io' }, { params: { userId: `u${i}` } })).id);
      await waitFor(() => a.length === 40 && shared.length === 40, 15_000, 'both groups to get all events');
      expect([...a].sort()).toEqual([...ids].sort());
      expect(shared.map(([id]) => id).sort()).toEqual([...ids].sort());
      // Both instances took part.
      expect(new Set(shared.map(([, i]) => i)).size).toBe(2);
    });

    it('request/reply with typed reply, correlation, causation; timeout; no responder; remote error', async () => {
      const scope = `${h.prefix}.t${rand()}`;
      const req = descriptor<Ping>('ping.requested', '1.0.0', `${h.rpcPrefix}.${rand()}.rpc.{svc}.ping`, pingValidator);
      const rep = descriptor<Ping>('ping.replied', '1.0.0', `${h.rpcPrefix}.${rand()}.rpc.{svc}.pong`, pingValidator);
      const b = await bus();
      await b.respond(req, rep, async (e) => {
        if (e.data.n < 0) throw new Error('negative');
        if (e.data.n === 999) await sleep(1500);
        return { n: e.data.n * 2 };
      }, { group: `r_${rand()}` });
      const r = await b.request(req, { n: 21 }, rep, { params: { svc: 'a' }, id: 'req-1' });
      expect(r.data).toEqual({ n: 42 });
      expect(r.type).toBe('ping.replied');
      expect(r.causationId).toBe('req-1');
      expect(r.correlationId).toBe('req-1');
      await expect(b.request(req, { n: 999 }, rep, { params: { svc: 'a' }, timeoutMs: 300 })).rejects.toBeInstanceOf(RequestTimeoutError);
      await expect(b.request(req, { n: -1 }, rep, { params: { svc: 'a' } })).rejects.toBeInstanceOf(RemoteHandlerError);
      const nobody = descriptor<Ping>('ping.requested', '1.0.0', `${h.rpcPrefix}.nobody.ping`, pingValidator);
      await expect(b.request(nobody, { n: 1 }, rep, { timeoutMs: 2000 })).rejects.toBeInstanceOf(NoResponderError);
      await expect(b.request(req, { n: 'x' } as unknown as Ping, rep, { params: { svc: 'a' } })).rejects.toBeInstanceOf(EventValidationError);
    });

    it('keeps order per ordering key while other keys run concurrently', async () => {
      const scope = `${h.prefix}.t${rand()}`;
      const ev = userCreated(scope);
      const b = await bus();
      const seen = new Map<string, number[]>();
      let running = 0;
      let maxRunning = 0;
      const perKeyRunning = new Map<string, number>();
      let overlapSameKey = false;
      await b.subscribe({
        group: `ord_${rand()}`,
        concurrency: 8,
        handlers: [
          {
            type: ev.type,
            accepts: [ev],
            handle: async (e) => {
              const k = e.data.userId;
              running++;
              maxRunning = Math.max(maxRunning, running);
              perKeyRunning.set(k, (perKeyRunning.get(k) ?? 0) + 1);
              if (perKeyRunning.get(k)! > 1) overlapSameKey = true;
              await sleep(Math.random() * 6);
              seen.set(k, [...(seen.get(k) ?? []), e.data.seq!]);
              perKeyRunning.set(k, perKeyRunning.get(k)! - 1);
              running--;
            },
          },
        ],
      });
      const items = [];
      for (let i = 0; i < 30; i++) for (const k of ['k1', 'k2', 'k3', 'k4']) items.push({ event: ev, data: { userId: k, email: 'a@x.io', seq: i }, options: { params: { userId: k }, orderingKey: k } });
      await b.publishBatch(items);
      await waitFor(() => [...seen.values()].reduce((n, l) => n + l.length, 0) === 120, 15_000, 'all ordered events');
      for (const k of ['k1', 'k2', 'k3', 'k4']) expect(seen.get(k)).toEqual([...Array(30).keys()]);
      expect(overlapSameKey).toBe(false);
      expect(maxRunning).toBeGreaterThan(1);
    });

    it('redelivers after a handler error, with backoff, until it succeeds', async () => {
      const scope = `${h.prefix}.t${rand()}`;
      const ev = userCreated(scope);
      const metrics = createMetrics();
      const b = await bus({ middleware: [metrics.middleware] });
      const attempts: Array<{ n: number; at: number }> = [];
      await b.subscribe({
        group: `retry_${rand()}`,
        maxDeliver: 5,
        backoff: { initialMs: 100, maxMs: 1000, factor: 2, jitter: 0 },
        handlers: [
          {
            type: ev.type,
            accepts: [ev],
            handle: async (_e, ctx) => {
              attempts.push({ n: ctx.deliveryCount, at: Date.now() });
              if (ctx.deliveryCount < 3) throw new Error('transient');
            },
          },
        ],
      });
      await b.publish(ev, { userId: 'r', email: 'a@x.io' }, { params: { userId: 'r' } });
      await waitFor(() => attempts.length === 3, 10_000, 'three attempts');
      expect(attempts.map((a) => a.n)).toEqual([1, 2, 3]);
      // Exponential: ~100 ms then ~200 ms (no jitter), measured loosely.
      expect(attempts[1]!.at - attempts[0]!.at).toBeGreaterThanOrEqual(90);
      expect(attempts[2]!.at - attempts[1]!.at).toBeGreaterThanOrEqual(180);
      await waitFor(() => metrics.snapshot().consumed === 1, 5000, 'metrics');
      expect(metrics.snapshot()).toMatchObject({ consumed: 1, failed: 2, retried: 2, deadLettered: 0 });
    });

    it('dead-letters after the last delivery with original bytes, headers and reason; keeps consuming', async () => {
      const scope = `${h.prefix}.t${rand()}`;
      const ev = userCreated(scope);
      const b = await bus();
      const dls = await deadLetters(b);
      const group = `dl_${rand()}`;
      const ok: string[] = [];
      await b.subscribe({
        group,
        maxDeliver: 3,
        backoff: fastBackoff,
        deadLetter: { subject: dlq() },
        handlers: [
          {
            type: ev.type,
            accepts: [ev],
            handle: async (e) => {
              if (e.data.userId === 'bad') throw new Error('boom');
              ok.push(e.id);
            },
          },
        ],
      });
      const bad = await b.publish(ev, { userId: 'bad', email: 'a@x.io' }, { params: { userId: 'bad' } });
      const good = await b.publish(ev, { userId: 'good', email: 'a@x.io' }, { params: { userId: 'good' } });
      await waitFor(() => dls.some((d) => d.group === group) && ok.length === 1, 10_000, 'dead letter and good event');
      const dl = dls.find((d) => d.group === group)!;
      expect(dl.reason).toBe('handler-failed');
      expect(dl.detail).toContain('boom');
      expect(dl.deliveryCount).toBe(3);
      expect(dl.originalSubject).toBe(`${scope}.users.bad.created`);
      expect(dl.headers.get('ce-id')).toBe(bad.id);
      expect(JSON.parse(Buffer.from(dl.body).toString())).toEqual({ userId: 'bad', email: 'a@x.io' });
      expect(ok).toEqual([good.id]);
    });

    it('handles an event id once: broker-level duplicate publish and consumer-level dedupe', async () => {
      const scope = `${h.prefix}.t${rand()}`;
      const ev = userCreated(scope);
      const b = await bus();
      const handled: string[] = [];
      await b.subscribe({ group: `dd_${rand()}`, handlers: [{ type: ev.type, accepts: [ev], handle: async (e) => void handled.push(e.id) }] });
      const first = await b.publish(ev, { userId: 'd', email: 'a@x.io' }, { params: { userId: 'd' }, id: 'dup-1' });
      const again = await b.publish(ev, { userId: 'd', email: 'a@x.io' }, { params: { userId: 'd' }, id: 'dup-1' });
      expect(first.duplicate).toBe(false);
      expect(again.duplicate).toBe(h.capabilities?.brokerDedupe !== false);
      // Same event id but a different broker message id: only the consumer's store can catch it.
      const t = await h.connect();
      const headers = { 'ce-specversion': '1.0', 'ce-id': 'dup-1', 'ce-type': 'user.created', 'ce-source': 'x', 'ce-time': new Date().toISOString(), 'ce-eventversion': '1.0.0', 'content-type': 'application/json' };
      await t.publish({ subject: `${scope}.users.d.created`, id: `other-${rand()}`, headers, body: Buffer.from('{"userId":"d","email":"a@x.io"}') });
      await b.publish(ev, { userId: 'e', email: 'a@x.io' }, { params: { userId: 'e' }, id: 'after-dup' });
      await waitFor(() => handled.includes('after-dup'), 10_000, 'the marker event');
      await sleep(100);
      await t.close();
      expect(handled.filter((id) => id === 'dup-1')).toHaveLength(1);
    });

    it('rejects an invalid payload before sending; dead-letters an invalid one from the wire', async () => {
      const scope = `${h.prefix}.t${rand()}`;
      const ev = userCreated(scope);
      const b = await bus();
      const dls = await deadLetters(b);
      const group = `inv_${rand()}`;
      const handled: string[] = [];
      await b.subscribe({ group, deadLetter: { subject: dlq() }, handlers: [{ type: ev.type, accepts: [ev], handle: async (e) => void handled.push(e.id) }] });
      const err = await b.publish(ev, { userId: 'i', email: 'nope' }, { params: { userId: 'i' }, id: 'invalid-1' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(EventValidationError);
      expect((err as EventValidationError).eventId).toBe('invalid-1');
      expect((err as EventValidationError).issues).toEqual([{ path: '/email', message: 'must be an email' }]);
      // Nothing sent for an invalid batch either, even for its valid items.
      await expect(
        b.publishBatch([
          { event: ev, data: { userId: 'i', email: 'ok@x.io' }, options: { params: { userId: 'i' }, id: 'batch-valid' } },
          { event: ev, data: { userId: 'i', email: 'bad' }, options: { params: { userId: 'i' } } },
        ]),
      ).rejects.toBeInstanceOf(EventValidationError);
      const t = await h.connect();
      const headers = { 'ce-specversion': '1.0', 'ce-id': 'wire-invalid', 'ce-type': 'user.created', 'ce-source': 'x', 'ce-time': new Date().toISOString(), 'ce-eventversion': '1.0.0', 'content-type': 'application/json' };
      await t.publish({ subject: `${scope}.users.i.created`, id: 'wire-invalid', headers, body: Buffer.from('{"userId":"i","email":"nope"}') });
      await t.close();
      await b.publish(ev, { userId: 'i', email: 'ok@x.io' }, { params: { userId: 'i' }, id: 'valid-after' });
      await waitFor(() => handled.includes('valid-after') && dls.some((d) => d.group === group), 10_000, 'dead letter and valid event');
      expect(handled).toEqual(['valid-after']);
      const dl = dls.find((d) => d.group === group)!;
      expect(dl.reason).toBe('validation-failed');
      expect(dl.detail).toContain('/email');
    });

    it('refuses an oversized event before sending; compression makes a large event fit', async () => {
      const scope = `${h.prefix}.t${rand()}`;
      const ev = userCreated(scope);
      const t = await h.connect();
      const limit = t.maxMessageBytes();
      await t.close();
      expect(limit).toBeGreaterThan(0);
      const big = 'x'.repeat(limit! + 10);
      const b = await bus();
      const handled: Array<Envelope<UserCreated>> = [];
      await b.subscribe({ group: `big_${rand()}`, handlers: [{ type: ev.type, accepts: [ev], handle: async (e) => void handled.push(e) }] });
      const err = await b.publish(ev, { userId: 'b', email: 'a@x.io', note: big }, { params: { userId: 'b' }, id: 'too-big' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(EventTooLargeError);
      expect((err as EventTooLargeError).limitBytes).toBe(limit);
      const zb = await bus({ compression: { thresholdBytes: 1024 } });
      await zb.publish(ev, { userId: 'b', email: 'a@x.io', note: big }, { params: { userId: 'b' }, id: 'zipped' });
      await waitFor(() => handled.length === 1, 10_000, 'the compressed event');
      expect(handled[0]!.id).toBe('zipped');
      expect(handled[0]!.data.note).toBe(big);
    });

    it('accepts a newer minor, validates with the newest known schema of the major; dead-letters an unknown major', async () => {
      const scope = `${h.prefix}.t${rand()}`;
      const v1 = userCreated(scope, '1.0.0');
      const v11 = userCreated(scope, '1.1.0', (d) => {
        const r = userValidator(d);
        return r.ok && r.value.seq === undefined ? { ok: false, errors: [{ path: '/seq', message: 'required since 1.1' }] } : r;
      });
      const v13 = userCreated(scope, '1.3.0');
      const v2 = userCreated(scope, '2.0.0');
      const b = await bus();
      const dls = await deadLetters(b);
      const group = `ver_${rand()}`;
      const got: string[] = [];
      await b.subscribe({ group, deadLetter: { subject: dlq() }, handlers: [{ type: 'user.created', accepts: [v1, v11], handle: async (e) => void got.push(`${e.version}:${e.id}`) }] });
      await b.publish(v13, { userId: 'v', email: 'a@x.io', seq: 1 }, { params: { userId: 'v' }, id: 'minor-ok' });
      // Valid for 1.3 as published (no seq) but the newest known 1.x schema (1.1) requires seq.
      await b.publish(v13, { userId: 'v', email: 'a@x.io' }, { params: { userId: 'v' }, id: 'minor-invalid' });
      await b.publish(v2, { userId: 'v', email: 'a@x.io' }, { params: { userId: 'v' }, id: 'major-2' });
      await b.publish(v1, { userId: 'v', email: 'a@x.io' }, { params: { userId: 'v' }, id: 'old-minor' });
      await waitFor(() => got.length === 2 && dls.filter((d) => d.group === group).length === 2, 10_000, 'events and dead letters');
      expect(got).toEqual(['1.3.0:minor-ok', '1.0.0:old-minor']);
      const mine = dls.filter((d) => d.group === group);
      const byId = Object.fromEntries(mine.map((d) => [d.headers.get('ce-id'), d]));
      expect(byId['major-2']!.reason).toBe('unknown-version');
      expect(byId['major-2']!.detail).toContain('major 2 is not accepted');
      expect(byId['minor-invalid']!.reason).toBe('validation-failed');
    });

    it('structured mode round-trips the envelope', async () => {
      const scope = `${h.prefix}.t${rand()}`;
      const ev = userCreated(scope);
      const b = await bus({ mode: 'structured' });
      const got: Array<Envelope<UserCreated>> = [];
      await b.subscribe({ group: `st_${rand()}`, handlers: [{ type: ev.type, accepts: [ev], handle: async (e) => void got.push(e) }] });
      await b.publish(ev, { userId: 's', email: 'a@x.io' }, { params: { userId: 's' }, id: 'structured-1', correlationId: 'c', metadata: { a: 1 } });
      await waitFor(() => got.length === 1, 10_000, 'structured event');
      expect(got[0]).toMatchObject({ id: 'structured-1', correlationId: 'c', metadata: { a: 1 }, data: { userId: 's', email: 'a@x.io' } });
    });

    it('shuts down with messages in flight: running handlers finish and ack, the rest go to the next instance', async () => {
      const scope = `${h.prefix}.t${rand()}`;
      const ev = userCreated(scope);
      const group = `shut_${rand()}`;
      const first = await bus();
      const started: string[] = [];
      const finished: string[] = [];
      await first.subscribe({
        group,
        concurrency: 3,
        handlers: [
          {
            type: ev.type,
            accepts: [ev],
            handle: async (e) => {
              started.push(e.id);
              await sleep(150);
              finished.push(e.id);
            },
          },
        ],
      });
      const producer = await bus();
      const ids = (await producer.publishBatch(Array.from({ length: 30 }, (_, i) => ({ event: ev, data: { userId: `s${i}`, email: 'a@x.io' }, options: { params: { userId: `s${i}` } } })))).map((r) => r.id);
      await waitFor(() => finished.length >= 3, 10_000, 'some handled');
      await first.close();
      // Every handler that started also finished before close() resolved.
      expect([...finished].sort()).toEqual([...started].sort());
      const second = await bus();
      const rest: string[] = [];
      await second.subscribe({ group, concurrency: 8, handlers: [{ type: ev.type, accepts: [ev], handle: async (e) => void rest.push(e.id) }] });
      await waitFor(() => finished.length + rest.length >= 30, 15_000, 'the remaining events');
      await sleep(200);
      expect([...finished, ...rest].sort()).toEqual([...ids].sort());
    });

    it('publishBatch returns receipts in order and every item arrives', async () => {
      const scope = `${h.prefix}.t${rand()}`;
      const ev = userCreated(scope);
      const b = await bus();
      const got = new Set<string>();
      await b.subscribe({ group: `batch_${rand()}`, concurrency: 4, handlers: [{ type: ev.type, accepts: [ev], handle: async (e) => void got.add(e.id) }] });
      const receipts = await b.publishBatch(Array.from({ length: 200 }, (_, i) => ({ event: ev, data: { userId: `b${i}`, email: 'a@x.io', seq: i }, options: { params: { userId: `b${i}` }, id: `batch-${i}-${rand()}` } })));
      expect(receipts.map((r) => r.subject)).toEqual(Array.from({ length: 200 }, (_, i) => `${scope}.users.b${i}.created`));
      await waitFor(() => got.size === 200, 15_000, 'the batch');
      expect([...got].sort()).toEqual(receipts.map((r) => r.id).sort());
    });
  });
}
