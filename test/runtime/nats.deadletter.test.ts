/**
 * Dead letters on NATS, checked against the server: a dead-lettered message is settled
 * (nothing pending, at or below the ack floor, so it is never redelivered), the dead letter
 * is stored once, and a dead-letter subject that no stream stores fails fast (the bus
 * retries with its backoff) and recovers once the stream exists.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { createEventBus, type EventBus, type RuntimeNotice } from '../../src/runtime/index.js';
import { deadLetterStreamName, deadLetterSubject, NatsTransport, provisionNats } from '../../src/runtime/nats/index.js';
import { NATS_URL, rand, userCreated, waitFor } from './helpers.js';

describe('NATS dead letters', () => {
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
  const bus = async (source: string): Promise<EventBus> => {
    const b = createEventBus({ transport: await NatsTransport.connect({ connect: { servers: NATS_URL } }), source });
    buses.push(b);
    return b;
  };

  it('a dead-lettered message is settled on the server and stored once in the provisioned dead-letter stream', async () => {
    const id = rand();
    const prefix = `dls${id}`;
    const group = `dls-${id}`;
    streams.push(`DLS_${id}`, deadLetterStreamName(group));
    await provisionNats(nc, {
      streams: [
        { name: `DLS_${id}`, subjects: [`${prefix}.>`], storage: 'memory' },
        { name: deadLetterStreamName(group), subjects: [deadLetterSubject(group)], storage: 'memory' },
      ],
    });
    const ev = userCreated(prefix);
    const consumer = await bus('dls/consumer');
    // A short ack wait: had the dead letter not settled it, the server would redeliver it within a second.
    await consumer.subscribe({ group, ackWaitMs: 1000, handlers: [{ type: ev.type, accepts: [ev], handle: async () => undefined }] });
    const producer = await bus('dls/producer');
    // Invalid on receipt (the producer's validator let it through): dead-lettered as validation-failed.
    const lax = { ...ev, validate: (d: unknown) => ({ ok: true as const, value: d as never }) };
    await producer.publish(lax, { userId: 'u1', email: 'not-an-email' }, { params: { userId: 'u1' } });

    const stream = `DLS_${id}`;
    await waitFor(async () => (await jsm.streams.info(deadLetterStreamName(group))).state.messages === 1, 10_000, 'the dead letter stored');
    await waitFor(async () => {
      const info = await jsm.consumers.info(stream, group);
      return info.num_ack_pending === 0 && info.ack_floor.stream_seq === 1;
    }, 10_000, 'the message settled on the server');
    const dl = (await jsm.streams.getMessage(deadLetterStreamName(group), { seq: 1 }))!;
    expect(dl.header.get('ec-dead-letter-reason')).toBe('validation-failed');
    expect(dl.header.get('ec-dead-letter-delivery-count')).toBe('1');
    // Settled means below the ack floor: the server never hands it out again.
    const info = await jsm.consumers.info(stream, group);
    expect(info.num_redelivered).toBe(0);
    expect(info.num_pending).toBe(0);
  });

  it('no stream for the dead-letter subject: fails at once (no retry loop underneath), the message stays, and is dead-lettered once the stream exists', async () => {
    const id = rand();
    const prefix = `dln${id}`;
    const group = `dln-${id}`;
    streams.push(`DLN_${id}`);
    await provisionNats(nc, { streams: [{ name: `DLN_${id}`, subjects: [`${prefix}.>`], storage: 'memory' }] });
    const ev = userCreated(prefix);
    const transport = await NatsTransport.connect({ connect: { servers: NATS_URL } });
    const notices: RuntimeNotice[] = [];
    const consumer = createEventBus({ transport, source: 'dln/consumer', middleware: [{ name: 'notices', notice: (n) => void notices.push(n) }] });
    buses.push(consumer);
    await consumer.subscribe({ group, ackWaitMs: 30_000, backoff: { initialMs: 50, maxMs: 200 }, handlers: [{ type: ev.type, accepts: [ev], handle: async () => undefined }] });
    const producer = await bus('dln/producer');
    const lax = { ...ev, validate: (d: unknown) => ({ ok: true as const, value: d as never }) };
    await producer.publish(lax, { userId: 'u1', email: 'not-an-email' }, { params: { userId: 'u1' } });

    // Each failed dead-letter publish hands the message back to the broker (redelivered after
    // the bus's backoff): the delivery count grows, the transport never retries underneath.
    await waitFor(async () => (await jsm.consumers.info(`DLN_${id}`, group)).delivered.consumer_seq >= 3, 15_000, 'three deliveries');
    expect(transport.stats.deadLetterFailures).toBeGreaterThanOrEqual(2);
    expect(transport.stats.publishRetries).toBe(0);
    // Each failure is reported, naming the subject that has no stream.
    const failed = notices.filter((n): n is Extract<RuntimeNotice, { kind: 'dead-letter-failed' }> => n.kind === 'dead-letter-failed');
    expect(failed.length).toBeGreaterThanOrEqual(2);
    expect(String((failed[0]!.error as Error).message)).toContain(`no JetStream stream stores the dead-letter subject '${deadLetterSubject(group)}'`);

    streams.push(deadLetterStreamName(group));
    await provisionNats(nc, { streams: [{ name: deadLetterStreamName(group), subjects: [deadLetterSubject(group)], storage: 'memory' }] });
    await waitFor(async () => (await jsm.streams.info(deadLetterStreamName(group))).state.messages === 1, 15_000, 'the dead letter stored once the stream exists');
    await waitFor(async () => (await jsm.consumers.info(`DLN_${id}`, group)).num_ack_pending === 0, 10_000, 'settled');
    expect(notices.filter((n) => n.kind === 'dead-letter')).toHaveLength(1);
  });
});
