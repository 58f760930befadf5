/**
 * The OpenTelemetry middleware on a real RabbitMQ: the trace crosses the broker in the
 * `traceparent` application property; queue depth is the group queue's ready count; the
 * connection gauge and reconnect counter follow a cut connection (a proxy the test cuts).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createEventBus, type EventBus } from '../../src/runtime/index.js';
import { AmqpTransport } from '../../src/runtime/amqp/index.js';
import { ATTR, createObservability, INSTRUMENTS, observeAmqp } from '../../src/runtime/otel/index.js';
import { AMQP_URL, CuttableProxy, TopologyTracker } from '../runtime/amqp-helpers.js';
import { rand, userCreated, waitFor } from '../runtime/helpers.js';
import { byName, point, points, sdk } from './otel-helpers.js';

describe('OpenTelemetry on RabbitMQ', () => {
  const tracker = new TopologyTracker();
  const buses: EventBus[] = [];
  const proxies: CuttableProxy[] = [];
  const prefix = `eco${rand()}`;
  const connect = async (url = AMQP_URL) => tracker.track(await AmqpTransport.connect({ url, exchange: prefix, queuePrefix: `${prefix}.` }));
  afterAll(async () => {
    await Promise.allSettled(buses.map((b) => b.close()));
    await tracker.cleanup();
    await Promise.allSettled(proxies.map((p) => p.close()));
  });

  it('a trace crosses RabbitMQ; depth is the queue ready count; the connection gauge follows a cut and a reconnect', async () => {
    const { spans, tracerProvider, reader, meterProvider } = sdk();
    const ev = userCreated(`${prefix}.o`);
    const proxy = await CuttableProxy.start();
    proxies.push(proxy);
    const consumerT = await connect(proxy.url);
    const obs = createObservability({ service: 'svc-q', system: 'rabbitmq', tracerProvider, meterProvider });
    const consumer = createEventBus({ transport: consumerT, source: 'svc-q', middleware: [obs.middleware] });
    const producer = createEventBus({ transport: await connect(), source: 'svc-p', middleware: [createObservability({ service: 'svc-p', system: 'rabbitmq', tracerProvider, meterProvider }).middleware] });
    buses.push(consumer, producer);
    const group = 'q1';
    let handled = 0;
    const sub = await consumer.subscribe({ group, handlers: [{ type: ev.type, accepts: [ev], handle: async () => void handled++ }] });
    await producer.publish(ev, { userId: 'u1', email: 'a@b.c' }, { params: { userId: 'u1' } });
    await waitFor(() => handled === 1, 10_000, 'handled');
    await waitFor(() => byName(spans.getFinishedSpans(), 'process user.created').length === 1, 5000, 'consumer span');
    const pub = byName(spans.getFinishedSpans(), `publish ${ev.address}`)[0]!;
    const proc = byName(spans.getFinishedSpans(), 'process user.created')[0]!;
    expect(proc.parentSpanContext?.spanId).toBe(pub.spanContext().spanId);
    expect(proc.attributes['messaging.system']).toBe('rabbitmq');

    // The group's queue outlives its consumer: what is published now waits there.
    await sub.close();
    const lines: string[] = [];
    const logger = { error: (_f: Record<string, unknown>, m: string) => void lines.push(m), warn: (_f: Record<string, unknown>, m: string) => void lines.push(m), info: (_f: Record<string, unknown>, m: string) => void lines.push(m) };
    const observer = observeAmqp(obs, consumerT, [{ group }], logger);
    for (let i = 0; i < 7; i++) await producer.publish(ev, { userId: `u${i}`, email: 'a@b.c' }, { params: { userId: `u${i}` } });
    await waitFor(async () => point(await points(reader), INSTRUMENTS.pending, { [ATTR.group]: group })?.value === 7, 5000, 'pending 7');
    let m = await points(reader);
    expect(point(m, INSTRUMENTS.ackPending, { [ATTR.group]: group })).toBeUndefined();
    expect(point(m, INSTRUMENTS.connectionUp, { [ATTR.service]: 'svc-q' })?.value).toBe(1);
    expect(point(m, INSTRUMENTS.reconnects, { [ATTR.service]: 'svc-q' })?.value).toBe(0);

    // Cut the consumer's connection: down, then up again with one reconnect.
    await proxy.cut(300);
    await waitFor(async () => point(await points(reader), INSTRUMENTS.connectionUp, { [ATTR.service]: 'svc-q' })?.value === 0, 5000, 'connection down');
    await consumerT.connection();
    m = await points(reader);
    expect(point(m, INSTRUMENTS.connectionUp, { [ATTR.service]: 'svc-q' })?.value).toBe(1);
    expect(point(m, INSTRUMENTS.reconnects, { [ATTR.service]: 'svc-q' })?.value).toBe(1);
    expect(lines).toEqual(['broker connection lost; reconnecting']);
    observer.stop();
  });
});
