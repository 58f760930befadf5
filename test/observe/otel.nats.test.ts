/**
 * The OpenTelemetry middleware on a real NATS server: one trace from a producer through the
 * broker to a consumer and on to what its handler publishes; retries and dead letters as
 * span events; request/reply as one trace; metrics with bounded labels; queue depth read
 * from the JetStream consumer; and, with no SDK, the runtime's own traceparent untouched.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { SpanKind } from '@opentelemetry/api';
import { createEventBus, type EventBus, type EventBusOptions, type HeaderContract, type RuntimeNotice } from '../../src/runtime/index.js';
import { deadLetterStreamName, deadLetterSubject, NatsTransport, provisionNats } from '../../src/runtime/nats/index.js';
import { ATTR, createObservability, INSTRUMENTS, observeNats, type ObservabilityOptions } from '../../src/runtime/otel/index.js';
import { descriptor, NATS_URL, OwnNatsServer, pingValidator, rand, userCreated, waitFor, type Ping } from '../runtime/helpers.js';
import { byName, point, points, sdk } from './otel-helpers.js';

describe('OpenTelemetry on NATS', () => {
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  const streams: string[] = [];
  const buses: EventBus[] = [];
  beforeAll(async () => {
    nc = await connect({ servers: NATS_URL });
    jsm = await jetstreamManager(nc);
  });
  afterAll(async () => {
    await Promise.allSettled(buses.map((b) => b.close()));
    for (const s of streams) await jsm.streams.delete(s).catch(() => undefined);
    await nc.close();
  });
  const bus = async (source: string, o: ObservabilityOptions | undefined, extra: Partial<EventBusOptions> = {}): Promise<{ bus: EventBus; transport: NatsTransport }> => {
    const transport = await NatsTransport.connect({ connect: { servers: NATS_URL } });
    const middleware = o ? [createObservability({ service: source, system: 'nats', ...o }).middleware] : [];
    const b = createEventBus({ transport, source, middleware, ...extra });
    buses.push(b);
    return { bus: b, transport };
  };
  const stream = async (prefix: string, group?: string): Promise<void> => {
    const name = `OT_${prefix}`;
    streams.push(name);
    const all = [{ name, subjects: [`${prefix}.>`], storage: 'memory' as const }];
    if (group) {
      streams.push(deadLetterStreamName(group));
      all.push({ name: deadLetterStreamName(group), subjects: [deadLetterSubject(group)], storage: 'memory' });
    }
    await provisionNats(nc, { streams: all });
  };

  it('one trace spans producer → broker → consumer → what the handler publishes → its consumer', async () => {
    const { spans, tracerProvider, reader, meterProvider } = sdk();
    const prefix = `ot${rand()}`;
    await stream(prefix);
    const created = userCreated(prefix);
    const welcomed = descriptor<Ping>('user.welcomed', '1.0.0', `${prefix}.welcomed.{n}`, pingValidator);
    const o = { tracerProvider, meterProvider };
    const { bus: producer } = await bus('svc-a', o);
    const { bus: middle } = await bus('svc-b', o);
    const { bus: last } = await bus('svc-c', o);
    const seen: Array<{ traceparent: string | undefined }> = [];
    let done!: () => void;
    const finished = new Promise<void>((r) => (done = r));
    await middle.subscribe({
      group: `b${prefix}`,
      handlers: [{ type: created.type, accepts: [created], handle: async (e, ctx) => void (seen.push({ traceparent: ctx.headers.get('traceparent') }), await ctx.publish(welcomed, { n: 7 }, { params: { n: '7' } })) }],
    });
    await last.subscribe({ group: `c${prefix}`, handlers: [{ type: welcomed.type, accepts: [welcomed], handle: async () => done() }] });
    const receipt = await producer.publish(created, { userId: 'u1', email: 'a@b.c' }, { params: { userId: 'u1' } });
    await finished;
    await waitFor(() => spans.getFinishedSpans().length >= 4, 5000, 'four finished spans');

    const all = spans.getFinishedSpans();
    const pub = byName(all, `publish ${created.address}`)[0]!;
    const proc = byName(all, 'process user.created')[0]!;
    const pub2 = byName(all, `publish ${welcomed.address}`)[0]!;
    const proc2 = byName(all, 'process user.welcomed')[0]!;
    for (const s of [pub, proc, pub2, proc2]) expect(s.spanContext().traceId).toBe(pub.spanContext().traceId);
    expect(pub.parentSpanContext).toBeUndefined();
    expect(proc.parentSpanContext?.spanId).toBe(pub.spanContext().spanId);
    expect(pub2.parentSpanContext?.spanId).toBe(proc.spanContext().spanId);
    expect(proc2.parentSpanContext?.spanId).toBe(pub2.spanContext().spanId);
    // The wire carries the producer span's context, as W3C traceparent.
    expect(seen[0]!.traceparent).toBe(`00-${pub.spanContext().traceId}-${pub.spanContext().spanId}-01`);
    expect(pub.kind).toBe(SpanKind.PRODUCER);
    expect(proc.kind).toBe(SpanKind.CONSUMER);
    expect(pub.attributes).toMatchObject({
      'messaging.system': 'nats',
      'messaging.operation.type': 'send',
      'messaging.destination.name': `${prefix}.users.u1.created`,
      'messaging.message.id': receipt.id,
    });
    expect(proc.attributes).toMatchObject({ 'messaging.operation.type': 'process', 'messaging.consumer.group.name': `b${prefix}`, 'messaging.message.id': receipt.id });

    const m = await points(reader);
    const sent = point(m, INSTRUMENTS.sent, { [ATTR.eventType]: 'user.created', [ATTR.service]: 'svc-a' });
    expect(sent?.value).toBe(1);
    expect(sent?.attributes).toEqual({ [ATTR.system]: 'nats', [ATTR.operationName]: 'publish', [ATTR.eventType]: 'user.created', [ATTR.eventMajor]: '1', [ATTR.service]: 'svc-a' });
    expect(point(m, INSTRUMENTS.consumed, { [ATTR.eventType]: 'user.created', [ATTR.group]: `b${prefix}` })?.value).toBe(1);
    expect((point(m, INSTRUMENTS.lag, { [ATTR.group]: `c${prefix}` })?.value as { count: number }).count).toBe(1);
    expect((point(m, INSTRUMENTS.processDuration, { [ATTR.group]: `b${prefix}` })?.value as { count: number }).count).toBe(1);
    expect((point(m, INSTRUMENTS.publishDuration, { [ATTR.eventType]: 'user.welcomed' })?.value as { count: number }).count).toBe(1);
    // Bounded labels: nothing per event id or subject parameter.
    for (const p of m) for (const v of Object.values(p.attributes)) expect([receipt.id, 'u1', `${prefix}.users.u1.created`]).not.toContain(v);
  });

  it('retries and the dead letter are span events; failures, retries and dead letters are counted by reason', async () => {
    const { spans, tracerProvider, reader, meterProvider } = sdk();
    const prefix = `ot${rand()}`;
    const group = `r${prefix}`;
    await stream(prefix, group);
    const created = userCreated(prefix);
    const lines: Array<{ level: string; fields: Record<string, unknown>; msg: string }> = [];
    const logger = {
      error: (fields: Record<string, unknown>, msg: string) => void lines.push({ level: 'error', fields, msg }),
      warn: (fields: Record<string, unknown>, msg: string) => void lines.push({ level: 'warn', fields, msg }),
      info: (fields: Record<string, unknown>, msg: string) => void lines.push({ level: 'info', fields, msg }),
    };
    const notices: RuntimeNotice[] = [];
    const { bus: consumer } = await bus('svc-r', { tracerProvider, meterProvider, logger }, {});
    const { bus: producer } = await bus('svc-p', { tracerProvider, meterProvider });
    await consumer.subscribe({
      group,
      maxDeliver: 2,
      backoff: { initialMs: 10, maxMs: 10 },
      handlers: [{ type: created.type, accepts: [created], handle: async () => Promise.reject(new TypeError('boom')) }],
    });
    const tap = createEventBus({ transport: await NatsTransport.connect({ connect: { servers: NATS_URL } }), source: 'tap', middleware: [{ name: 'tap', notice: (n) => void notices.push(n) }] });
    buses.push(tap);
    const r = await producer.publish(created, { userId: 'u9', email: 'a@b.c' }, { params: { userId: 'u9' } });
    await waitFor(() => byName(spans.getFinishedSpans(), 'process user.created').length === 2, 10_000, 'two finished consumer spans');
    const [first, second] = byName(spans.getFinishedSpans(), 'process user.created').sort((a, b) => Number(a.attributes['event_contracts.delivery_count']) - Number(b.attributes['event_contracts.delivery_count']));
    expect(first!.events.map((e) => e.name)).toEqual(['exception', 'retry']);
    expect(second!.events.map((e) => e.name)).toEqual(['exception', 'dead-letter']);
    expect(second!.events[1]!.attributes).toMatchObject({ 'event_contracts.dead_letter.reason': 'handler-failed' });
    expect(second!.attributes['error.type']).toBe('TypeError');
    const pub = byName(spans.getFinishedSpans(), `publish ${created.address}`)[0]!;
    expect(first!.spanContext().traceId).toBe(pub.spanContext().traceId);

    const m = await points(reader);
    expect(point(m, INSTRUMENTS.consumed, { [ATTR.group]: group, [ATTR.errorType]: 'TypeError' })?.value).toBe(2);
    expect(point(m, INSTRUMENTS.retries, { [ATTR.group]: group })?.value).toBe(1);
    expect(point(m, INSTRUMENTS.deadLetters, { [ATTR.group]: group, [ATTR.errorType]: 'handler-failed' })?.value).toBe(1);

    // Structured logs: the retry and the dead letter, with trace id, event id, type and group.
    const retry = lines.find((l) => l.level === 'warn')!;
    expect(retry.fields).toMatchObject({ group, eventId: r.id, type: 'user.created', traceId: pub.spanContext().traceId, deliveryCount: 1 });
    const dl = lines.find((l) => l.level === 'error')!;
    expect(dl.fields).toMatchObject({ group, eventId: r.id, type: 'user.created', traceId: pub.spanContext().traceId, reason: 'handler-failed' });
    expect(notices).toEqual([]);
  });

  it('request/reply is one trace: the request span is the parent of the responder span', async () => {
    const { spans, tracerProvider, reader, meterProvider } = sdk();
    const prefix = `ot${rand()}`;
    const req = descriptor<Ping>('ping.requested', '1.0.0', `${prefix}.rpc.{svc}`, pingValidator);
    const rep = descriptor<Ping>('ping.replied', '1.0.0', `${prefix}.rpc.reply`, pingValidator);
    const { bus: server } = await bus('svc-s', { tracerProvider, meterProvider });
    const { bus: client } = await bus('svc-c', { tracerProvider, meterProvider });
    await server.respond(req, rep, async (e) => ({ n: e.data.n * 2 }));
    const reply = await client.request(req, { n: 21 }, rep, { params: { svc: 'a' } });
    expect(reply.data.n).toBe(42);
    await waitFor(() => spans.getFinishedSpans().length >= 2, 5000, 'two finished spans');
    const client1 = byName(spans.getFinishedSpans(), `request ${req.address}`)[0]!;
    const server1 = byName(spans.getFinishedSpans(), 'process ping.requested')[0]!;
    expect(client1.kind).toBe(SpanKind.CLIENT);
    expect(server1.spanContext().traceId).toBe(client1.spanContext().traceId);
    expect(server1.parentSpanContext?.spanId).toBe(client1.spanContext().spanId);
    const m = await points(reader);
    expect(point(m, INSTRUMENTS.sent, { [ATTR.eventType]: 'ping.requested' })?.attributes[ATTR.operationName]).toBe('publish');
  });

  it('queue depth comes from the JetStream consumer (num_pending, num_ack_pending); the connection is up', async () => {
    const { tracerProvider, reader, meterProvider } = sdk();
    const prefix = `ot${rand()}`;
    const group = `d${prefix}`;
    await stream(prefix);
    const created = userCreated(prefix);
    await provisionNats(nc, { consumers: [{ stream: `OT_${prefix}`, name: group, filterSubject: `${prefix}.users.*.created` }] });
    const transport = await NatsTransport.connect({ connect: { servers: NATS_URL } });
    const obs = createObservability({ service: 'svc-d', tracerProvider, meterProvider });
    const b = createEventBus({ transport, source: 'svc-d', middleware: [obs.middleware] });
    buses.push(b);
    const observer = observeNats(obs, transport, [{ group, stream: `OT_${prefix}` }, { group: 'missing', stream: `OT_${prefix}`, durable: 'nope' }]);
    await b.publishBatch(Array.from({ length: 25 }, (_, i) => ({ event: created, data: { userId: `u${i}`, email: 'a@b.c' }, options: { params: { userId: `u${i}` } } })));
    const m = await points(reader);
    expect(point(m, INSTRUMENTS.pending, { [ATTR.group]: group })?.value).toBe(25);
    expect(point(m, INSTRUMENTS.ackPending, { [ATTR.group]: group })?.value).toBe(0);
    // A consumer the broker does not know is counted as a failed read, not a zero.
    expect(point(m, INSTRUMENTS.pending, { [ATTR.group]: 'missing' })).toBeUndefined();
    expect(point(m, INSTRUMENTS.depthErrors, { [ATTR.group]: 'missing' })?.value).toBe(1);
    expect(point(m, INSTRUMENTS.connectionUp, { [ATTR.service]: 'svc-d' })?.value).toBe(1);
    expect(point(m, INSTRUMENTS.reconnects, { [ATTR.service]: 'svc-d' })?.value).toBe(0);
    // Handling them drains the gauge.
    let handled = 0;
    await b.subscribe({ group, handlers: [{ type: created.type, accepts: [created], handle: async () => void handled++ }] });
    await waitFor(() => handled === 25, 10_000, '25 handled');
    await waitFor(async () => point(await points(reader), INSTRUMENTS.pending, { [ATTR.group]: group })?.value === 0, 5000, 'pending 0');
    observer.stop();
  });

  it('the connection gauge and reconnect counter follow a nats-server restart, and the log says so', async () => {
    const { reader, meterProvider } = sdk();
    const server = await OwnNatsServer.start();
    try {
      const transport = await NatsTransport.connect({ connect: { servers: server.url, reconnectTimeWait: 100, maxReconnectAttempts: -1 } });
      const obs = createObservability({ service: 'svc-r', meterProvider });
      const b = createEventBus({ transport, source: 'svc-r', middleware: [obs.middleware] });
      buses.push(b);
      const lines: string[] = [];
      const logger = { error: (_f: Record<string, unknown>, m: string) => void lines.push(m), warn: (_f: Record<string, unknown>, m: string) => void lines.push(m), info: (_f: Record<string, unknown>, m: string) => void lines.push(m) };
      const observer = observeNats(obs, transport, [], logger);
      const up = async () => point(await points(reader), INSTRUMENTS.connectionUp, { [ATTR.service]: 'svc-r' })?.value;
      expect(await up()).toBe(1);
      await server.stop();
      await waitFor(async () => (await up()) === 0, 10_000, 'connection down');
      await server.spawn();
      await waitFor(async () => (await up()) === 1, 15_000, 'connection up again');
      expect(point(await points(reader), INSTRUMENTS.reconnects, { [ATTR.service]: 'svc-r' })?.value).toBe(1);
      expect(lines).toEqual(['broker connection lost; reconnecting', 'broker connection re-established']);
      observer.stop();
    } finally {
      await server.destroy();
    }
  });

  it('with no SDK registered, nothing is recorded and the runtime-filled traceparent continues its trace', async () => {
    const prefix = `ot${rand()}`;
    await stream(prefix);
    const headers: HeaderContract = { names: ['traceparent'], validate: (d) => ({ ok: true, value: d }) };
    const created = { ...userCreated(prefix), headers };
    const { bus: producer } = await bus('svc-n', {});
    const { bus: consumer } = await bus('svc-m', {});
    const got: string[] = [];
    await consumer.subscribe({ group: `n${prefix}`, handlers: [{ type: created.type, accepts: [created], handle: async (_e, ctx) => void got.push(ctx.headers.get('traceparent')!) }] });
    await producer.publish(created, { userId: 'u1', email: 'a@b.c' }, { params: { userId: 'u1' } });
    await waitFor(() => got.length === 1, 5000, 'handled');
    expect(got[0]).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  });
});
