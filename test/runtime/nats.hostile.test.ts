/**
 * Hostile wire input on NATS: the shared suite (hostile.ts) from a raw nats.js producer, then
 * what only NATS framing allows: header blocks nats.js refuses (sent with a hand-written
 * HPUB), JetStream's own headers set by a producer, and settlement checked on the server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, headers as natsHeaders, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { createEventBus, type DeadLetter, type Delivery, type EventBus, type HeaderRecord } from '../../src/runtime/index.js';
import { NatsTransport, provisionNats, RAW_HEADERS } from '../../src/runtime/nats/index.js';
import { describeHostileInput } from './hostile.js';
import { NATS_URL, rand, userCreated, waitFor } from './helpers.js';
import { ceLines, headerBlock, RawNatsClient } from './nats-helpers.js';

describeHostileInput('nats', async () => {
  const id = rand();
  const prefix = `hst${id}`;
  const stream = `HST_${id}`;
  const nc = await connect({ servers: NATS_URL });
  const js = jetstream(nc);
  const jsm = await jetstreamManager(nc);
  await provisionNats(nc, { streams: [{ name: stream, subjects: [`${prefix}.>`], storage: 'memory' }] });
  const toHeaders = (record: HeaderRecord) => {
    const h = natsHeaders();
    for (const [k, v] of Object.entries(record)) {
      // JetStream stores a message with Nats-Expected-Stream only when it names the stream
      // that stores it (any other value is refused at publish): that is what a producer can
      // get past the broker, and the header the dead-letter republish must survive.
      h.set(k, k === 'Nats-Expected-Stream' ? stream : v);
    }
    return h;
  };
  return {
    prefix,
    connect: () => NatsTransport.connect({ connect: { servers: NATS_URL } }),
    sendRaw: async (subject, headers, body) => void (await js.publish(subject, body, { headers: toHeaders(headers) })),
    sendMany: async (messages) => {
      for (let i = 0; i < messages.length; i += 1000) {
        await Promise.all(messages.slice(i, i + 1000).map((m) => js.publish(m.subject, m.body, { headers: toHeaders(m.headers) })));
      }
    },
    settledOnBroker: async (group) => {
      const info = await jsm.consumers.info(stream, group);
      return info.num_ack_pending === 0 && info.num_pending === 0;
    },
    cleanup: async () => {
      await jsm.streams.delete(stream).catch(() => undefined);
      await nc.close();
    },
  };
});

/** Header blocks nats.js refuses to read, each as a producer's own client can send it. */
const refusedBlocks = (i: number): string => {
  const base = ceLines(`bad-${i}`);
  switch (i % 4) {
    case 0:
      return headerBlock([...base, 'x-note: lone\rCR']);
    case 1:
      return headerBlock([...base, 'x-note: lone\nLF']);
    case 2:
      return headerBlock([...base, 'x bad name: space in the name']);
    default:
      return headerBlock([...base, 'x-ñame: non-ASCII name']);
  }
};

describe('hostile wire input, NATS only', () => {
  const id = rand();
  const prefix = `hsn${id}`;
  const stream = `HSN_${id}`;
  const dlStream = `HSNDL_${id}`;
  const dlSubject = `hsndl${id}.dead`;
  const subject = `${prefix}.users.u1.created`;
  let nc: NatsConnection;
  let js: JetStreamClient;
  let jsm: JetStreamManager;
  let raw: RawNatsClient;
  const buses: EventBus[] = [];
  const transports: NatsTransport[] = [];
  const bus = async (source: string): Promise<EventBus> => {
    const b = createEventBus({ transport: await NatsTransport.connect({ connect: { servers: NATS_URL } }), source });
    buses.push(b);
    return b;
  };

  beforeAll(async () => {
    nc = await connect({ servers: NATS_URL });
    js = jetstream(nc);
    jsm = await jetstreamManager(nc);
    await provisionNats(nc, {
      streams: [
        { name: stream, subjects: [`${prefix}.>`], storage: 'memory' },
        { name: dlStream, subjects: [`hsndl${id}.>`], storage: 'memory' },
      ],
    });
    raw = await RawNatsClient.open(NATS_URL);
  });
  afterAll(async () => {
    raw?.close();
    await Promise.allSettled([...buses.map((b) => b.close()), ...transports.map((t) => t.close())]);
    await jsm.streams.delete(stream).catch(() => undefined);
    await jsm.streams.delete(dlStream).catch(() => undefined);
    await nc.close();
  });

  const settled = async (group: string): Promise<boolean> => {
    const info = await jsm.consumers.info(stream, group);
    return info.num_ack_pending === 0 && info.num_pending === 0;
  };

  it('70 header blocks nats.js refuses, then a valid event: the valid one is handled, each bad one dead-lettered once with its header block kept', async () => {
    const group = `frame-${id}`;
    const ev = userCreated(prefix);
    const handled: string[] = [];
    const dls: DeadLetter[] = [];
    const reader = await bus('hsn/reader');
    await reader.subscribeDeadLetters({ subject: `hsndl${id}.frame`, group: `${group}-dl` }, async (dl) => void dls.push(dl));
    const consumer = await bus('hsn/consumer');
    await consumer.subscribe({ group, deadLetter: { subject: `hsndl${id}.frame` }, concurrency: 4, maxInFlight: 16, handlers: [{ type: ev.type, accepts: [ev], handle: async (e) => void handled.push(e.id) }] });

    const sent = new Map<string, string>();
    for (let i = 0; i < 70; i++) {
      const block = refusedBlocks(i);
      const body = JSON.stringify({ userId: 'u1', email: 'a@x.io', case: i });
      sent.set(body, block);
      raw.hpub(subject, block, body);
    }
    raw.hpub(subject, headerBlock(ceLines('valid-after-70')), JSON.stringify({ userId: 'u1', email: 'a@x.io' }));
    await raw.ping();

    await waitFor(() => handled.includes('valid-after-70') && dls.length >= 70, 30_000, `the valid event and 70 dead letters (have ${dls.length})`);
    expect(handled).toEqual(['valid-after-70']);
    await waitFor(() => settled(group), 10_000, 'nothing unsettled on the server');
    const byBody = new Map(dls.map((d) => [Buffer.from(d.body).toString('utf8'), d]));
    expect(byBody.size).toBe(70);
    for (const [body, block] of sent) {
      const d = byBody.get(body);
      expect(d?.reason, body).toBe('headers-invalid');
      expect(d?.group).toBe(group);
      expect(d?.originalSubject).toBe(subject);
      // The refused block cannot travel as headers: it travels, byte for byte, as base64.
      expect(Buffer.from(d?.headers.get(RAW_HEADERS) ?? '', 'base64').toString('utf8')).toBe(block);
    }
    expect((await jsm.consumers.info(stream, group)).num_redelivered).toBe(0);
    expect(dls).toHaveLength(70);
  });

  it('other odd header blocks the server passes on (a status line, another protocol, no NATS/1.0 line, empty): each dead-lettered once, the consumer goes on', async () => {
    const group = `odd-${id}`;
    const ev = userCreated(prefix);
    const handled: string[] = [];
    const dls: DeadLetter[] = [];
    const reader = await bus('hsn/odd-reader');
    await reader.subscribeDeadLetters({ subject: `hsndl${id}.odd`, group: `${group}-dl` }, async (dl) => void dls.push(dl));
    const consumer = await bus('hsn/odd');
    await consumer.subscribe({ group, subjects: [`${prefix}.odd.*`], deadLetter: { subject: `hsndl${id}.odd` }, handlers: [{ type: ev.type, accepts: [{ ...ev, address: `${prefix}.odd.{userId}` }], handle: async (e) => void handled.push(e.id) }] });
    const blocks = [
      'NATS/1.0 503\r\n\r\n',
      'NATS/1.0 408 Request Timeout\r\nce-id: x\r\n\r\n',
      'HTTP/1.1 200 OK\r\nce-id: x\r\n\r\n',
      'ce-id: x\r\n\r\n',
      '\r\n\r\n',
      'NATS/1.0\r\n' + 'x'.repeat(10_000) + '\r\n\r\n',
    ];
    for (const [i, block] of blocks.entries()) raw.hpub(`${prefix}.odd.u1`, block, JSON.stringify({ userId: 'u1', email: 'a@x.io', odd: i }));
    raw.hpub(`${prefix}.odd.u1`, headerBlock(ceLines(`odd-valid-${id}`)), JSON.stringify({ userId: 'u1', email: 'a@x.io' }));
    await raw.ping();
    await waitFor(() => handled.length === 1 && dls.length >= blocks.length, 15_000, `the valid event and ${blocks.length} dead letters (have ${dls.length})`);
    expect(handled).toEqual([`odd-valid-${id}`]);
    expect(new Set(dls.map((d) => Buffer.from(d.body).toString())).size).toBe(blocks.length);
    for (const d of dls) expect(['headers-invalid', 'missing-attributes']).toContain(d.reason);
    await waitFor(() => settled(group), 10_000, 'settled on the server');
  });

  it('the transport hands the bus a refused header block as a malformed delivery (empty headers, raw body) whose deadLetter() settles it', async () => {
    const group = `malformed-${id}`;
    const t = await NatsTransport.connect({ connect: { servers: NATS_URL } });
    transports.push(t);
    const got: Delivery[] = [];
    const sub = await t.consume({ group, subjects: [`${prefix}.raw.>`], maxInFlight: 8 }, (d) => void got.push(d));
    const block = refusedBlocks(2);
    raw.hpub(`${prefix}.raw.x`, block, 'raw body');
    await raw.ping();
    await waitFor(() => got.length === 1, 10_000, 'the delivery');
    const d = got[0]!;
    expect(d.malformed?.reason).toBe('headers-invalid');
    expect(d.malformed?.detail).toMatch(/header/i);
    expect([...d.headers.keys()]).toEqual([]);
    expect(Buffer.from(d.body).toString()).toBe('raw body');
    expect(d.deliveryCount).toBe(1);
    await d.deadLetter({ subject: `hsndl${id}.malformed`, reason: d.malformed!.reason, detail: d.malformed!.detail, group });
    await waitFor(async () => {
      const info = await jsm.consumers.info(stream, group);
      return info.num_ack_pending === 0 && info.ack_floor.stream_seq === info.delivered.stream_seq;
    }, 10_000, 'settled on the server');
    const stored = (await jsm.streams.getMessage(dlStream, { last_by_subj: `hsndl${id}.malformed` }))!;
    expect(stored.header.get('ec-dead-letter-reason')).toBe('headers-invalid');
    expect(Buffer.from(stored.header.get(RAW_HEADERS), 'base64').toString()).toBe(block);
    await sub.stop();
  });

  it('a responder answers a request whose header block nats.js refuses with an error reply, and goes on serving', async () => {
    const t = await NatsTransport.connect({ connect: { servers: NATS_URL } });
    transports.push(t);
    const subject = `hsnrpc${id}.ping`;
    let served = 0;
    const s = await t.serve({ subject }, async () => ({ headers: { 'x-ok': '1' }, body: new TextEncoder().encode(`pong ${++served}`) }));
    const inbox = `_INBOX.hsnraw${id}`;
    raw.sub(`${inbox}.>`, 9);
    raw.hpub(subject, refusedBlocks(0), 'ping', `${inbox}.1`);
    const errorReply = await raw.received(/HMSG [^\r]*\.1 9 [^\r]*\r\n[\s\S]*?\r\n\r\n/);
    expect(errorReply).toContain('ec-reply-error: headers-invalid');
    raw.hpub(subject, headerBlock(['x-n: 1']), 'ping', `${inbox}.2`);
    expect(await raw.received(/HMSG [^\r]*\.2 9 [^\r]*\r\n[\s\S]*?pong 1/)).toContain('x-ok: 1');
    await s.stop();
  });

  it('a core (ephemeral) consumer gets a refused header block as a malformed delivery; its connection lives on', async () => {
    const t = await NatsTransport.connect({ connect: { servers: NATS_URL } });
    transports.push(t);
    const got: Delivery[] = [];
    const subject = `hsncore${id}.x`;
    const sub = await t.consume({ group: `core-${id}`, subjects: [subject], maxInFlight: 8, ephemeral: true }, (d) => void got.push(d));
    raw.hpub(subject, refusedBlocks(1), 'first');
    raw.hpub(subject, headerBlock(['x-n: 2']), 'second');
    await raw.ping();
    await waitFor(() => got.length === 2, 10_000, 'both deliveries');
    expect(got[0]!.malformed?.reason).toBe('headers-invalid');
    expect(got[1]!.malformed).toBeUndefined();
    expect(got[1]!.headers.get('x-n')).toBe('2');
    expect(t.nc.isClosed()).toBe(false);
    await sub.stop();
  });

  it('a hand-off that throws loses neither that message nor the rest of its batch', async () => {
    const group = `handoff-${id}`;
    const t = await NatsTransport.connect({ connect: { servers: NATS_URL } });
    transports.push(t);
    for (let i = 0; i < 5; i++) raw.hpub(`${prefix}.handoff.x`, headerBlock([`x-n: ${i}`]), `m${i}`);
    await raw.ping();
    const seen: string[] = [];
    let thrown = 0;
    const sub = await t.consume({ group, subjects: [`${prefix}.handoff.>`], maxInFlight: 16 }, (d) => {
      const body = Buffer.from(d.body).toString();
      seen.push(`${body}@${d.deliveryCount}`);
      if (body === 'm1' && d.deliveryCount === 1) {
        thrown++;
        throw new Error('a bug in the hand-off');
      }
      void d.ack();
    });
    // m1 comes back (delivery 2) after the transport's delay; the other four went on at once.
    await waitFor(() => seen.includes('m1@2'), 15_000, 'm1 redelivered');
    expect(thrown).toBe(1);
    expect(seen.filter((s) => s.endsWith('@1')).sort()).toEqual(['m0@1', 'm1@1', 'm2@1', 'm3@1', 'm4@1']);
    expect(t.stats.deliveryErrors).toBe(1);
    await waitFor(() => settled(group), 10_000, 'settled on the server');
    await sub.stop();
  });

  it('a producer-set Nats-Expected-Stream and a colliding Nats-Msg-Id never make the dead-letter republish fail', async () => {
    const group = `jsheaders-${id}`;
    const dead = `hsndl${id}.jsheaders`;
    const ev = userCreated(prefix);
    // Someone already stored a message under the msg id the producer will use.
    await js.publish(dead, 'earlier', { msgID: `collide-${id}` });
    const consumer = await bus('hsn/jsheaders');
    await consumer.subscribe({ group, subjects: [`${prefix}.js.*`], deadLetter: { subject: dead }, handlers: [{ type: ev.type, accepts: [ev], handle: async () => undefined }] });
    const h = natsHeaders();
    for (const line of ceLines(`jsh-${id}`)) h.set(line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 2));
    h.set('Nats-Expected-Stream', stream);
    h.set('Nats-Expected-Last-Subject-Sequence', '0');
    // Invalid payload: dead-lettered as validation-failed.
    await js.publish(`${prefix}.js.x`, JSON.stringify({ userId: 'u1', email: 'nope' }), { headers: h, msgID: `collide-${id}` });
    await waitFor(async () => (await countOn(jsm, dlStream, dead)) === 2, 15_000, 'the dead letter stored beside the earlier message');
    const stored = (await jsm.streams.getMessage(dlStream, { last_by_subj: dead }))!;
    expect(stored.header.get('ec-dead-letter-reason')).toBe('validation-failed');
    expect(stored.header.has('Nats-Expected-Stream')).toBe(false);
    expect(stored.header.get('Nats-Msg-Id')).not.toBe(`collide-${id}`);
    const kept = JSON.parse(stored.header.get('ec-dead-letter-stripped-headers')) as Record<string, string>;
    expect(kept['Nats-Expected-Stream']).toBe(stream);
    expect(kept['Nats-Msg-Id']).toBe(`collide-${id}`);
    await waitFor(() => settled(group), 10_000, 'settled on the server');
  });

  it('attempt count and channel parameters come from the broker and the subject, never from headers a producer sets', async () => {
    const group = `forged-${id}`;
    const ev = userCreated(prefix);
    const seen: Array<{ attempt: number; userId: string | undefined }> = [];
    const consumer = await bus('hsn/forged');
    await consumer.subscribe({
      group,
      subjects: [`${prefix}.users.*.forged`],
      backoff: { initialMs: 20, maxMs: 50 },
      handlers: [
        {
          type: ev.type,
          accepts: [{ ...ev, address: `${prefix}.users.{userId}.forged` }],
          handle: async (_e, ctx) => {
            seen.push({ attempt: ctx.deliveryCount, userId: ctx.params['userId'] });
            if (seen.length === 1) throw new Error('first attempt fails');
          },
        },
      ],
    });
    const forged = ['ec-dead-letter-delivery-count: 99', 'x-ec-attempt: 99', 'x-ec-subject: elsewhere.users.mallory.forged', 'Nats-Delivered: 99', 'Nats-Subject: elsewhere'];
    raw.hpub(`${prefix}.users.alice.forged`, headerBlock(ceLines(`forged-${id}`, forged)), JSON.stringify({ userId: 'alice', email: 'a@x.io' }));
    await raw.ping();
    await waitFor(() => seen.length === 2, 10_000, 'two attempts');
    expect(seen).toEqual([
      { attempt: 1, userId: 'alice' },
      { attempt: 2, userId: 'alice' },
    ]);
    await waitFor(() => settled(group), 10_000, 'settled on the server');
  });
});

async function countOn(jsm: JetStreamManager, stream: string, subject: string): Promise<number> {
  const info = await jsm.streams.info(stream, { subjects_filter: subject });
  return info.state.subjects?.[subject] ?? 0;
}
