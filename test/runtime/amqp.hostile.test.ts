/**
 * The hostile-input suite on RabbitMQ, from a raw amqplib producer on the events exchange;
 * then what only AMQP can carry: forged transport bookkeeping (`x-ec-*`, `x-death`) and
 * header values that are tables, arrays or void, against a bus as the README sets it up.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AmqpTransport, toAmqpProperties } from '../../src/runtime/amqp/index.js';
import { createEventBus, type DeadLetter, type EventBus, type HeaderRecord } from '../../src/runtime/index.js';
import { AMQP_URL, TopologyTracker } from './amqp-helpers.js';
import { describeHostileInput } from './hostile.js';
import { rand, userCreated, waitFor } from './helpers.js';

const run = promisify(execFile);

/** A raw producer: a confirm channel on its own connection, publishing to `exchange`. */
async function rawProducer(exchange: string) {
  const c = await amqp.connect(AMQP_URL);
  c.on('error', () => undefined);
  const ch = await c.createConfirmChannel();
  ch.on('error', () => undefined);
  await ch.assertExchange(exchange, 'topic', { durable: true });
  let n = 0;
  return {
    ch,
    publish(subject: string, props: amqp.Options.Publish, body: Uint8Array): void {
      ch.publish(exchange, subject, Buffer.from(body), { persistent: true, ...props });
    },
    /** The CloudEvents AMQP binding's mapping, as another AMQP client writes it. */
    props(headers: HeaderRecord): amqp.Options.Publish {
      return toAmqpProperties(headers, `raw-${n++}`, true);
    },
    close: () => c.close().catch(() => undefined),
  };
}

/** The shared suite's transports, kept to read their counters after it. */
const shared: AmqpTransport[] = [];

describeHostileInput('amqp', async () => {
  const prefix = `ech${rand()}`;
  const tracker = new TopologyTracker();
  const producer = await rawProducer(prefix);
  tracker.extraExchanges.add(prefix);
  return {
    prefix,
    connect: async () => {
      const t = await AmqpTransport.connect({
        url: AMQP_URL,
        exchange: prefix,
        queuePrefix: `${prefix}.`,
        // The suite's dead-letter subject; the default covers `deadletter.<group>`.
        deadLetterSubjects: [`${prefix}.dlq`],
      });
      shared.push(t);
      return tracker.track(t);
    },
    sendRaw: async (subject, headers, body) => {
      producer.publish(subject, producer.props(headers), body);
      await producer.ch.waitForConfirms();
    },
    sendMany: async (messages) => {
      for (let i = 0; i < messages.length; i++) {
        const m = messages[i]!;
        producer.publish(m.subject, producer.props(m.headers), m.body);
        if (i % 1000 === 999) await producer.ch.waitForConfirms();
      }
      await producer.ch.waitForConfirms();
    },
    // Ready plus unacknowledged messages of the group's queue, as the broker counts them.
    settledOnBroker: async (group) => {
      const { stdout } = await run('rabbitmqctl', ['-q', 'list_queues', 'name', 'messages'], { timeout: 30_000 });
      const line = stdout.split('\n').find((l) => l.split('\t')[0] === `${prefix}.${group}`);
      return line !== undefined && line.split('\t')[1] === '0';
    },
    cleanup: async () => {
      await producer.close();
      await tracker.cleanup();
    },
  };
});

describe('hostile wire input: amqp, afterwards', () => {
  // The deep JSON (20,000 levels) once made RabbitMQ consumer channels restart in a loop.
  it('no consumer channel of the suite restarted and no hand-off threw', () => {
    expect(shared.length).toBeGreaterThanOrEqual(2);
    for (const t of shared) expect(t.stats).toMatchObject({ consumerRestarts: 0, handoffErrors: 0 });
  });
});

describe('hostile wire input, AMQP only: forged bookkeeping and header values with no string form', () => {
  const prefix = `ecq${rand()}`;
  const tracker = new TopologyTracker();
  const group = `forged_${rand()}`;
  const ev = userCreated(prefix);
  let producer: Awaited<ReturnType<typeof rawProducer>>;
  let bus: EventBus;
  let reader: EventBus;
  let consumer: AmqpTransport;
  const attempts = new Map<string, Array<{ n: number; subject: string; params: Record<string, string> }>>();
  const dls: DeadLetter[] = [];
  const connect = async () =>
    tracker.track(await AmqpTransport.connect({ url: AMQP_URL, exchange: prefix, queuePrefix: `${prefix}.`, deadLetterSubjects: [`${prefix}.dlq`] }));
  const ce = (id: string): Record<string, unknown> => ({
    'cloudEvents:specversion': '1.0',
    'cloudEvents:id': id,
    'cloudEvents:type': 'user.created',
    'cloudEvents:source': 'hostile',
    'cloudEvents:time': new Date().toISOString(),
    'cloudEvents:eventversion': '1.0.0',
  });
  const send = async (userId: string, headers: Record<string, unknown>) => {
    producer.publish(`${prefix}.users.${userId}.created`, { contentType: 'application/json', headers }, Buffer.from(JSON.stringify({ userId, email: 'a@x.io' })));
    await producer.ch.waitForConfirms();
  };

  beforeAll(async () => {
    producer = await rawProducer(prefix);
    tracker.extraExchanges.add(prefix);
    reader = createEventBus({ transport: await connect(), source: 'test/hostile-reader' });
    await reader.subscribeDeadLetters({ subject: `${prefix}.dlq`, group: `${group}_dl` }, async (dl) => void dls.push(dl));
    consumer = await connect();
    bus = createEventBus({ transport: consumer, source: 'test/hostile' });
    await bus.subscribe({
      group,
      deadLetter: { subject: `${prefix}.dlq` },
      maxDeliver: 3,
      backoff: { initialMs: 20, maxMs: 50 },
      handlers: [
        {
          type: ev.type,
          accepts: [ev],
          handle: async (e, ctx) => {
            const seen = attempts.get(e.id) ?? [];
            seen.push({ n: ctx.deliveryCount, subject: ctx.subject, params: { ...ctx.params } });
            attempts.set(e.id, seen);
            // Fails once: a forged attempt count would make this first failure the last.
            if (ctx.deliveryCount === 1) throw new Error('first try fails');
          },
        },
      ],
    });
  });
  afterAll(async () => {
    await Promise.allSettled([bus?.close(), reader?.close()]);
    await producer?.close();
    await tracker.cleanup();
  });

  it('forged x-ec-attempt, x-ec-subject and x-death: retried as attempt 2 of 3 on the real subject, not dead-lettered', async () => {
    await send('real', {
      ...ce('forged'),
      'x-ec-attempt': 99,
      'x-ec-subject': `${prefix}.users.forged.created`,
      'x-death': [{ count: 99, reason: 'expired', queue: `${prefix}.${group}.retry.0`, exchange: `${prefix}.retry`, 'routing-keys': [`${prefix}.users.forged.created`] }],
    });
    await waitFor(() => (attempts.get('forged')?.length ?? 0) >= 2, 15_000, 'the retry');
    const want = { subject: `${prefix}.users.real.created`, params: { userId: 'real' } };
    expect(attempts.get('forged')).toEqual([{ n: 1, ...want }, { n: 2, ...want }]);
    expect(dls.filter((d) => d.headers.get('ce-id') === 'forged')).toEqual([]);
  });

  it.each([
    ['table', { 'cloudEvents:type': { a: { b: 1 } } }],
    ['array', { traceparent: ['00-a', '00-b'] }],
    ['void', { 'x-tenant': null }],
  ])('a header holding %s: dead-lettered once as headers-invalid, the consumer goes on', async (kind, bad) => {
    const id = `odd-${kind}`;
    await send(kind, { ...ce(id), ...bad });
    await send(`after-${kind}`, ce(`after-${kind}`));
    await waitFor(() => dls.some((d) => d.headers.get('ce-id') === id), 15_000, `the dead letter of ${id}`);
    await waitFor(() => (attempts.get(`after-${kind}`)?.length ?? 0) >= 2, 15_000, `the event after ${id}`);
    const mine = dls.filter((d) => d.headers.get('ce-id') === id);
    expect(mine.map((d) => d.reason)).toEqual(['headers-invalid']);
    expect(mine[0]!.detail).toContain(Object.keys(bad)[0]);
    expect(mine[0]!.originalSubject).toBe(`${prefix}.users.${kind}.created`);
    expect(attempts.has(id)).toBe(false);
  });

  it('after all of it the consumer channel never restarted and no hand-off threw', () => {
    expect(consumer.stats).toMatchObject({ consumerRestarts: 0, handoffErrors: 0, retryFallbacks: 0 });
  });
});
