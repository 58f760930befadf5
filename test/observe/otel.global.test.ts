/**
 * The middleware follows the global tracer provider: with no SDK it records nothing and
 * leaves the runtime's own traceparent alone; once an SDK registers (after the bus was
 * made), spans start. Uses the in-process MemoryTransport; the broker paths are in
 * otel.nats.test.ts and otel.amqp.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { trace } from '@opentelemetry/api';
import { createEventBus, MemoryTransport } from '../../src/runtime/index.js';
import { ATTR, createObservability, INSTRUMENTS, readMetricsSnapshot } from '../../src/runtime/otel/index.js';
import { rand, userCreated, waitFor } from '../runtime/helpers.js';
import { points, sdk } from './otel-helpers.js';

describe('OpenTelemetry middleware and the global provider', () => {
  it('with no SDK at creation the middleware adds no layers (the bus keeps its direct path), only its notice listener', () => {
    const m = createObservability({ service: 'svc' }).middleware;
    expect(m.publish).toBeUndefined();
    expect(m.handle).toBeUndefined();
    expect(typeof m.notice).toBe('function');
  });

  it('with lateRegistration, records nothing before an SDK registers and traces after, without a new bus', async () => {
    const { spans, tracerProvider } = sdk();
    const transport = new MemoryTransport();
    const bus = createEventBus({ transport, source: 'svc', middleware: [createObservability({ service: 'svc', lateRegistration: true }).middleware] });
    const ev = userCreated(`g${rand()}`);
    await bus.publish(ev, { userId: 'u1', email: 'a@b.c' }, { params: { userId: 'u1' } });
    expect(transport.messages('>')[0]!.headers.get('traceparent')).toBeUndefined();
    expect(spans.getFinishedSpans()).toHaveLength(0);

    trace.setGlobalTracerProvider(tracerProvider);
    await bus.publish(ev, { userId: 'u2', email: 'a@b.c' }, { params: { userId: 'u2' } });
    await waitFor(() => spans.getFinishedSpans().length === 1, 2000, 'one span');
    const span = spans.getFinishedSpans()[0]!;
    expect(span.name).toBe(`publish ${ev.address}`);
    expect(transport.messages('>')[1]!.headers.get('traceparent')).toBe(`00-${span.spanContext().traceId}-${span.spanContext().spanId}-01`);
    await bus.close();
  });
});

describe('readMetricsSnapshot', () => {
  it("reads createMetrics' snapshot shape from the same OpenTelemetry instruments", async () => {
    const { reader, meterProvider } = sdk();
    const transport = new MemoryTransport();
    const obs = createObservability({ service: 'svc', meterProvider, traces: false });
    const bus = createEventBus({ transport, source: 'svc', middleware: [obs.middleware] });
    const ev = userCreated(`s${rand()}`);
    let calls = 0;
    await bus.subscribe({
      group: 'snap',
      maxDeliver: 2,
      backoff: { initialMs: 1, maxMs: 1 },
      handlers: [{ type: ev.type, accepts: [ev], handle: async (e) => void (calls++, e.data.userId === 'bad' && Promise.reject(new Error('no'))) }],
    });
    await bus.publish(ev, { userId: 'u1', email: 'a@b.c' }, { params: { userId: 'u1' } });
    await bus.publish(ev, { userId: 'u1', email: 'a@b.c' }, { params: { userId: 'u1' }, id: 'same' });
    await bus.publish(ev, { userId: 'u1', email: 'a@b.c' }, { params: { userId: 'u1' }, id: 'same' });
    // The broker recognises the second 'same' as a duplicate publish: two events to handle.
    await waitFor(async () => (await readMetricsSnapshot(reader)).consumed === 2, 5000, 'handled');
    const s = await readMetricsSnapshot(reader);
    expect(s).toMatchObject({ published: 3, publishFailed: 0, consumed: 2, failed: 0, retried: 0, deadLettered: 0 });
    expect(s.byType['user.created']).toEqual({ published: 3, consumed: 2, failed: 0 });
    expect(s.handlerLatency.count).toBe(2);
    expect(s.handlerLatency.buckets.reduce((n, b) => n + b.count, 0)).toBe(2);
    expect(calls).toBe(2);
    await bus.close();
  });
});

describe('bounded labels under a hostile producer', () => {
  it('dead letters of types the consumer does not know are counted under _unknown, not one series per invented type', async () => {
    const { reader, meterProvider } = sdk();
    const transport = new MemoryTransport();
    const bus = createEventBus({ transport, source: 'svc', middleware: [createObservability({ service: 'svc', meterProvider, traces: false }).middleware] });
    const ev = userCreated(`h${rand()}`);
    await bus.subscribe({ group: 'hostile', handlers: [{ type: ev.type, accepts: [ev], handle: async () => undefined }] });
    for (let i = 0; i < 20; i++) {
      await transport.publish({
        subject: ev.address.replace('{userId}', `u${i}`),
        id: `evil-${i}`,
        body: new TextEncoder().encode('{}'),
        headers: { 'ce-specversion': '1.0', 'ce-id': `evil-${i}`, 'ce-type': `invented.${i}`, 'ce-source': 'x', 'ce-time': new Date().toISOString(), 'ce-eventversion': '1.0.0', 'content-type': 'application/json' },
      });
    }
    await waitFor(async () => (await readMetricsSnapshot(reader)).deadLettered === 20, 5000, '20 dead letters');
    const dl = (await points(reader)).filter((p) => p.name === INSTRUMENTS.deadLetters);
    expect(dl).toHaveLength(1);
    expect(dl[0]!.attributes).toMatchObject({ [ATTR.eventType]: '_unknown', [ATTR.errorType]: 'unknown-type', [ATTR.group]: 'hostile' });
    expect(dl[0]!.value).toBe(20);
    await bus.close();
  });
});
