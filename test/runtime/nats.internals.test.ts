/**
 * Canary for src/runtime/nats/internals.ts, the one module that reads nats.js internals.
 * Each fast path must still be taken (its counter grows, its fallback's does not) and
 * give what the public API gives. When nats.js moves a field this fails, instead of the
 * runtime silently taking its slower fallback; then re-measure, adapt internals.ts, and
 * move the exact version pins in package.json together.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, headers as natsHeaders, MsgHdrsImpl, type Msg, type NatsConnection } from '@nats-io/transport-node';
import { AckPolicy, jetstream, jetstreamManager, type JetStreamManager, type JsMsg } from '@nats-io/jetstream';
import { createEventBus } from '../../src/runtime/index.js';
import { NatsTransport, provisionNats } from '../../src/runtime/nats/index.js';
import { buildHeaders, fetchEach, headerMap, inboxPrefixOf, innerMsg, internalsStats, outboundHeadersFast, rawHeaderBlock, sendAcks } from '../../src/runtime/nats/internals.js';
import { NATS_URL, rand, userCreated, waitFor } from './helpers.js';

const snapshot = () => ({ ...internalsStats });
type Counter = keyof typeof internalsStats;
const grew = (before: typeof internalsStats, name: Counter) => internalsStats[name] - before[name];

describe('nats.js internals: every fast path still taken', () => {
  const id = rand();
  const prefix = `int${id}`;
  const stream = `INT_${id}`;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  beforeAll(async () => {
    nc = await connect({ servers: NATS_URL });
    jsm = await jetstreamManager(nc);
    await provisionNats(nc, { streams: [{ name: stream, subjects: [`${prefix}.>`], storage: 'memory' }] });
  });
  afterAll(async () => {
    await jsm.streams.delete(stream).catch(() => undefined);
    await nc.close();
  });

  it('the installed @nats-io packages are the exact versions package.json pins, which internals.ts was written against', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { dependencies: Record<string, string> };
    for (const name of ['@nats-io/transport-node', '@nats-io/jetstream', '@nats-io/kv', '@nats-io/nats-core']) {
      const installed = (JSON.parse(readFileSync(new URL(`../../node_modules/${name}/package.json`, import.meta.url), 'utf8')) as { version: string }).version;
      expect([name, installed]).toEqual([name, '3.4.0']);
      if (pkg.dependencies[name] !== undefined) expect([name, pkg.dependencies[name]]).toEqual([name, installed]);
    }
  });

  it('raw header block of a received message (MsgImpl _msg.hdr / _rdata)', async () => {
    const subject = `${prefix}.core.hdr`;
    const received = new Promise<Msg>((resolve) => nc.subscribe(subject, { max: 1, callback: (_e, m) => resolve(m) }));
    await nc.flush();
    const h = natsHeaders();
    h.set('ce-id', 'x1');
    nc.publish(subject, 'body', { headers: h });
    const m = await received;
    const before = snapshot();
    const block = rawHeaderBlock(m);
    expect(grew(before, 'rawHeaderBlock')).toBe(1);
    expect(grew(before, 'rawHeaderBlockFallback')).toBe(0);
    expect(Buffer.from(block!).toString()).toBe(Buffer.from((m.headers as MsgHdrsImpl).encode()).toString());
  });

  it('MsgHdrsImpl headers map and the one-pass outbound encoder', () => {
    const before = snapshot();
    const theirs = natsHeaders();
    theirs.set('ce-id', 'a');
    theirs.set('Nats-Msg-Id', 'b');
    expect(headerMap(theirs)?.get('ce-id')).toEqual(['a']);
    expect(grew(before, 'headerMap')).toBe(1);
    expect(grew(before, 'headerMapFallback')).toBe(0);
    expect(outboundHeadersFast()).toBe(true);
    const ours = buildHeaders({ 'ce-id': 'a' }, ['Nats-Msg-Id', 'b']);
    expect(grew(before, 'outboundHeaders')).toBe(1);
    expect(grew(before, 'outboundHeadersFallback')).toBe(0);
    expect(Buffer.from((ours as MsgHdrsImpl).encode()).toString()).toBe(Buffer.from((theirs as MsgHdrsImpl).encode()).toString());
  });

  it('fetch callback option, JsMsg.msg, didAck and protocol.sendCommand for batched acks', async () => {
    const js = jetstream(nc);
    for (let i = 0; i < 3; i++) await js.publish(`${prefix}.js.${i}`, `m${i}`);
    await jsm.consumers.add(stream, { durable_name: 'canary', ack_policy: AckPolicy.Explicit, filter_subject: `${prefix}.js.>` });
    const c = await js.consumers.get(stream, 'canary');
    const got: JsMsg[] = [];
    const before = snapshot();
    let sent = 0;
    const msgs = await fetchEach(c, { max_messages: 3, expires: 2000 }, (m) => void got.push(m), () => void sent++);
    await msgs.closed();
    expect(sent).toBe(1);
    expect(grew(before, 'fetchCallback')).toBe(1);
    expect(grew(before, 'fetchIterator')).toBe(0);
    expect(got).toHaveLength(3);
    const inner = innerMsg(got[0]!);
    expect(grew(before, 'jsMsgInner')).toBe(1);
    expect(grew(before, 'jsMsgInnerFallback')).toBe(0);
    expect(inner.subject).toBe(got[0]!.subject);
    sendAcks(nc, got);
    expect(grew(before, 'ackCommand')).toBe(1);
    expect(grew(before, 'ackFallback')).toBe(0);
    await waitFor(async () => (await jsm.consumers.info(stream, 'canary')).num_ack_pending === 0, 5000, 'acks on the server');
    const info = await jsm.consumers.info(stream, 'canary');
    expect(info.ack_floor.stream_seq).toBe(info.delivered.stream_seq);
  });

  it('the connection option inboxPrefix', async () => {
    const own = await connect({ servers: NATS_URL, inboxPrefix: `_CANARY_${id}` });
    try {
      const before = snapshot();
      expect(inboxPrefixOf(own)).toBe(`_CANARY_${id}`);
      expect(grew(before, 'inboxPrefix')).toBe(1);
      expect(grew(before, 'inboxPrefixFallback')).toBe(0);
    } finally {
      await own.close();
    }
  });

  it('a round trip through the transport takes no fallback', async () => {
    const ev = userCreated(prefix);
    const producer = createEventBus({ transport: await NatsTransport.connect({ connect: { servers: NATS_URL } }), source: 'canary' });
    const consumer = createEventBus({ transport: await NatsTransport.connect({ connect: { servers: NATS_URL } }), source: 'canary' });
    try {
      let handled = 0;
      await consumer.subscribe({ group: 'canary-bus', concurrency: 8, handlers: [{ type: ev.type, accepts: [ev], handle: async () => void handled++ }] });
      const before = snapshot();
      await Promise.all(Array.from({ length: 50 }, (_, i) => producer.publish(ev, { userId: `u${i}`, email: 'a@x.io' }, { params: { userId: `u${i}` } })));
      await waitFor(() => handled === 50, 10_000, 'handled');
      const fallbacks = (Object.keys(internalsStats) as Counter[]).filter((k) => k.endsWith('Fallback') || k === 'fetchIterator').filter((k) => grew(before, k) > 0);
      expect(fallbacks).toEqual([]);
      expect(grew(before, 'rawHeaderBlock')).toBeGreaterThanOrEqual(50);
      expect(grew(before, 'outboundHeaders')).toBeGreaterThanOrEqual(50);
    } finally {
      await producer.close();
      await consumer.close();
    }
  });
});
