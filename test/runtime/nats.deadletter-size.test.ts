/**
 * A failing message close to the server's max_payload: the reason headers make its dead
 * letter larger than the message, so the copy goes without its body (its size and hash say
 * which it was) instead of failing to publish and being redelivered forever.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jetstreamManager } from '@nats-io/jetstream';
import { createEventBus, OMITTED_BODY, OMITTED_BODY_SHA256, type DeadLetter, type EventBus } from '../../src/runtime/index.js';
import { NatsTransport, provisionNats } from '../../src/runtime/nats/index.js';
import { NATS_URL, rand, userCreated, waitFor } from './helpers.js';

describe('NATS: a dead letter near max_payload', () => {
  const id = rand();
  const prefix = `dls${id}`;
  let t: NatsTransport;
  let bus: EventBus;
  beforeAll(async () => {
    t = await NatsTransport.connect({ connect: { servers: NATS_URL } });
    await provisionNats(t, { streams: [{ name: `DLS_${id}`, subjects: [`${prefix}.>`], storage: 'memory' }] });
    bus = createEventBus({ transport: await NatsTransport.connect({ connect: { servers: NATS_URL } }), source: 'test' });
  });
  afterAll(async () => {
    await bus.close();
    await (await jetstreamManager(t.nc)).streams.delete(`DLS_${id}`);
    await t.close();
  });

  it('is dead-lettered once, without its body, and the consumer goes on', async () => {
    const ev = userCreated(prefix);
    const dls: DeadLetter[] = [];
    await bus.subscribeDeadLetters({ subject: `${prefix}.dlq`, group: 'reader' }, async (dl) => void dls.push(dl));
    const handled: string[] = [];
    await bus.subscribe({ group: 'svc', deadLetter: { subject: `${prefix}.dlq` }, handlers: [{ type: ev.type, accepts: [ev], handle: async (e) => void handled.push(e.id) }] });
    const headers = { 'ce-specversion': '1.0', 'ce-id': 'huge', 'ce-type': ev.type, 'ce-source': 'raw', 'ce-time': new Date().toISOString(), 'ce-eventversion': '1.0.0', 'content-type': 'application/json' };
    const max = t.maxMessageBytes()!;
    // Invalid (no email), and as large as the server takes with these headers.
    const pad = max - 400 - t.messageBytes({ subject: '', headers, body: new Uint8Array(0), id: '' });
    const body = Buffer.from(JSON.stringify({ userId: 'u', note: 'x'.repeat(pad) }));
    await t.publish({ subject: `${prefix}.users.u.created`, id: 'huge', headers, body });
    await t.publish({ subject: `${prefix}.users.v.created`, id: 'after', headers: { ...headers, 'ce-id': 'after' }, body: Buffer.from('{"userId":"v","email":"v@x.io"}') });
    await waitFor(() => dls.length === 1 && handled.length === 1, 30_000, 'the dead letter and the next event');
    const dl = dls[0]!;
    expect([dl.reason, dl.headers.get('ce-id'), dl.body.byteLength]).toEqual(['validation-failed', 'huge', 0]);
    expect(dl.headers.get(OMITTED_BODY)).toBe(String(body.byteLength));
    expect(dl.headers.get(OMITTED_BODY_SHA256)).toBe(createHash('sha256').update(body).digest('hex'));
    expect(handled).toEqual(['after']);
  });
});
