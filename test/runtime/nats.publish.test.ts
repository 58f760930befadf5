/**
 * JetStream publish acks, tracked by the transport itself (one reply subscription): what
 * happens when no stream answers, when the server refuses, when an ack is late or missing,
 * and when the transport closes with publishes awaiting their acks.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { JetStreamApiError } from '@nats-io/jetstream';
import { NatsTransport, provisionNats } from '../../src/runtime/nats/index.js';
import { NATS_URL, rand } from './helpers.js';
import { RawNatsClient } from './nats-helpers.js';

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
      // Nothing ever acks: close() returns only because the ack timeout ends the wait.
      await t.close();
      expect(await outcome).toBe('TimeoutError');
    } finally {
      silent.unsubscribe();
    }
  });

  it('close() called twice at once: both return; nothing is published after close() returned', async () => {
    const subject = `late${rand()}.x`;
    const seen: string[] = [];
    let closedAt = Infinity;
    // Never acks; records when each attempt arrived.
    const silent = nc.subscribe(subject, { callback: () => void seen.push(Date.now() > closedAt ? 'after close' : 'before close') });
    await nc.flush();
    const t = await NatsTransport.connect({ connection: nc, publishTimeoutMs: 150, publishDeadlineMs: 10_000 });
    try {
      const outcome = t.publish(message(subject, 'e1')).then(() => 'acked', (e: Error) => e.name);
      await new Promise((r) => setTimeout(r, 200)); // the first attempt timed out: a retry is sleeping
      const both = Promise.all([t.close(), t.close()]).then(() => 'closed');
      const watchdog = new Promise((r) => setTimeout(() => r('hung'), 3000));
      expect(await Promise.race([both, watchdog])).toBe('closed');
      closedAt = Date.now();
      expect(await outcome).not.toBe('acked');
      await new Promise((r) => setTimeout(r, 2500)); // longer than any retry back-off
      await nc.flush();
      expect(seen.filter((s) => s === 'after close')).toEqual([]);
      // A transport that is closing takes no more publishes.
      await expect(t.publish(message(subject, 'e2'))).rejects.toThrow();
    } finally {
      silent.unsubscribe();
    }
  });

  it('an ack whose header block nats.js refuses rejects that publish and leaves the connection alone', async () => {
    const subject = `rawack${rand()}.x`;
    const fake = await RawNatsClient.open(NATS_URL);
    const t = await NatsTransport.connect({ connect: { servers: NATS_URL }, publishTimeoutMs: 60_000, publishDeadlineMs: 120_000 });
    try {
      fake.sub(subject, 1);
      await fake.ping();
      const outcome = t.publish(message(subject, 'e1')).then(() => 'acked', (e: Error) => e.message);
      const request = await fake.received(/HMSG \S+ 1 (\S+) \d+ \d+/);
      const reply = request.split(' ')[3]!;
      fake.hpub(reply, 'NATS/1.0\r\nbad name: x\r\n\r\n', '');
      await fake.ping();
      expect(await outcome).toMatch(/unreadable publish ack/);
      expect(t.nc.isClosed()).toBe(false);
      await t.nc.flush();
    } finally {
      fake.close();
      await t.close();
    }
  });

  it('"JetStream not enabled" answers are retried like a JetStream still starting', async () => {
    const subject = `notenabled${rand()}.x`;
    let calls = 0;
    const fake = nc.subscribe(subject, {
      callback: (_err, m) => {
        calls++;
        m.respond(calls === 1 ? JSON.stringify({ error: { code: 503, err_code: 10039, description: 'jetstream not enabled for account' } }) : JSON.stringify({ stream: 'FAKE', seq: 7 }));
      },
    });
    await nc.flush();
    const t = await NatsTransport.connect({ connect: { servers: NATS_URL }, publishDeadlineMs: 5000 });
    try {
      expect(await t.publish(message(subject, 'e1'))).toMatchObject({ stream: 'FAKE', sequence: 7 });
      expect(t.stats.publishRetries).toBe(1);
    } finally {
      fake.unsubscribe();
      await t.close();
    }
  });
});
