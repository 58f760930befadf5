/**
 * JetStream publish acks, tracked by the transport itself (one reply subscription): what
 * happens when no stream answers, when the server refuses, when an ack is late or missing,
 * and when the transport closes with publishes awaiting their acks.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { JetStreamApiError } from '@nats-io/jetstream';
import { NatsTransport, provisionNats } from '../../src/runtime/index.js';
import { NATS_URL, rand } from './helpers.js';

const body = new TextEncoder().encode('{"n":1}');
const message = (subject: string, id: string, headers: Record<string, string> = {}) => ({ subject, id, body, headers: { 'ce-id': id, ...headers } });

describe('NATS JetStream publish acks', () => {
  let nc: NatsConnection;
  beforeAll(async () => {
    nc = await connect({ servers: NATS_URL });
  });
  afterAll(async () => {
    await nc.close();
  });

  it('a subject no stream stores: retried until the deadline, then rejected naming the subject', async () => {
    const t = await NatsTransport.connect({ connect: { servers: NATS_URL }, publishDeadlineMs: 400 });
    try {
      const subject = `nostream${rand()}.x`;
      const started = Date.now();
      await expect(t.publish(message(subject, 'e1'))).rejects.toThrow(subject);
      expect(Date.now() - started).toBeGreaterThanOrEqual(350);
      expect(t.stats.publishRetries).toBeGreaterThanOrEqual(1);
    } finally {
      await t.close();
    }
  });

  it('a refusal by the server is not retried and keeps its JetStream error', async () => {
    const prefix = `acks${rand()}`;
    const t = await NatsTransport.connect({ connect: { servers: NATS_URL } });
    await provisionNats(t, { streams: [{ name: `A_${prefix}`, subjects: [`${prefix}.>`] }] });
    try {
      const refused = t.publish(message(`${prefix}.a`, 'e1', { 'Nats-Expected-Stream': 'NOT_THIS_ONE' }));
      await expect(refused).rejects.toBeInstanceOf(JetStreamApiError);
      expect(t.stats.publishRetries).toBe(0);
      const ok = await t.publish(message(`${prefix}.a`, 'e2'));
      expect(ok).toMatchObject({ stream: `A_${prefix}`, sequence: 1, duplicate: false });
      expect(await t.publish(message(`${prefix}.a`, 'e2'))).toMatchObject({ sequence: 1, duplicate: true });
    } finally {
      await (await t.jsm()).streams.delete(`A_${prefix}`);
      await t.close();
    }
  });

  it('a missing ack times out and the publish is retried with the same msg id; a late ack is ignored', async () => {
    // A responder that is not a stream: it drops the first attempt's ack and answers the second late.
    const subject = `fakejs${rand()}.x`;
    const seen: string[] = [];
    const replies: Array<() => void> = [];
    const fake = nc.subscribe(subject, {
      callback: (_err, m) => {
        seen.push(m.headers?.get('Nats-Msg-Id') ?? '');
        const ack = JSON.stringify({ stream: 'FAKE', seq: seen.length });
        if (seen.length === 1) replies.push(() => m.respond(ack)); // answered only after the retry went out
        else m.respond(ack);
      },
    });
    await nc.flush();
    const t = await NatsTransport.connect({ connect: { servers: NATS_URL }, publishTimeoutMs: 200, publishDeadlineMs: 5000 });
    try {
      const receipt = await t.publish(message(subject, 'same-id'));
      expect(receipt).toMatchObject({ stream: 'FAKE', sequence: 2 });
      expect(seen).toEqual(['same-id', 'same-id']);
      expect(t.stats.publishRetries).toBe(1);
      for (const reply of replies) reply();
      await nc.flush();
    } finally {
      fake.unsubscribe();
      await t.close();
    }
  });

  it('close() waits for publishes awaiting their ack, and is bounded by the ack timeout', async () => {
    const subject = `silent${rand()}.x`;
    const silent = nc.subscribe(subject, { callback: () => undefined }); // never acks
    await nc.flush();
    const t = await NatsTransport.connect({ connect: { servers: NATS_URL }, publishTimeoutMs: 300 });
    try {
      const pending = t.publish(message(subject, 'e1'));
      const outcome = pending.then(() => 'acked', (e: Error) => e.name);
      const started = Date.now();
      await t.close();
      expect(Date.now() - started).toBeLessThan(3000);
      expect(await outcome).toBe('TimeoutError');
    } finally {
      silent.unsubscribe();
    }
  });
});
