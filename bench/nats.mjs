// SDK vs raw nats.js on the same server, side by side: core publish, JetStream publish with
// 1,000 in flight, JetStream pull consume. A 300-byte JSON event (bench/event.mjs); the SDK
// validates it with its generated validator, builds the CloudEvents envelope and, on consume, decodes,
// validates, dedupes and acks each event. Raw nats.js sends the same bytes and headers.
//
// Fairness: each round runs raw and SDK back to back on the same server and stream, with the
// order alternating between rounds (the stream and its dedupe window grow during the run);
// the best round of each is kept. Raw publishes the SDK's exact body and headers with a msg id
// as long as the SDK's (a UUID); raw consumers ack every message like the SDK does. Raw
// nats.js connects with the option the SDK's transport sets (noAsyncTraces); raw with nats.js's
// default options, which cost publishes about 40 % of their throughput, is printed beside it.
// The SDK publishes to JetStream with its acks on one reply subscription, not js.publish();
// the same technique written by hand over raw nats.js is printed too, so the SDK's own cost
// over its technique stays visible.
// Besides the headline raw consumer (an async iterator that only acks), two more baselines
// are printed, never replacing it: raw + JSON.parse (the least any real consumer does), and
// raw with nats.js's callback API, which acks in batches per socket read and is much faster
// than its iterator (each iterator ack is a socket write of its own).
//
// `run()` returns rows { name, value, unit }; `node bench/nats.mjs` prints them.
// Needs `npm run build` (imports ../dist/runtime/index.js and ../dist/runtime/nats/index.js) and NATS at NATS_URL or 127.0.0.1:4222.
import { randomUUID } from 'node:crypto';
import { connect, headers as natsHeaders } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, AckPolicy } from '@nats-io/jetstream';
import { createEventBus } from '../dist/runtime/index.js';
import { NatsTransport, provisionNats } from '../dist/runtime/nats/index.js';
import { data, validate } from './event.mjs';

const SERVER = process.env.NATS_URL ?? '127.0.0.1:4222';
const WINDOW = 1000;
const CORE_N = Number(process.env.BENCH_CORE_N ?? 100_000);
const JS_N = Number(process.env.BENCH_JS_N ?? 20_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);

/** Keeps `window` operations in flight; resolves when `n` have completed. */
async function windowed(n, window, op) {
  let next = 0;
  const worker = async () => {
    while (next < n) await op(next++);
  };
  await Promise.all(Array.from({ length: Math.min(window, n) }, worker));
}

const debug = (...a) => process.env.BENCH_DEBUG && console.error(...a);
function rate(n, ms) {
  return Math.round((n / ms) * 1000);
}

export async function run() {
  const id = Math.random().toString(36).slice(2, 8);
  const prefix = `bench${id}`;
  const stream = `BENCH_${id}`;
  // Raw nats.js with the client settings the SDK's transport uses (noAsyncTraces), so the
  // ratios measure the SDK's own work; a second raw client keeps nats.js's defaults.
  const nc = await connect({ servers: SERVER, noAsyncTraces: true });
  const js = jetstream(nc, { timeout: 10_000 });
  const ncDefaults = await connect({ servers: SERVER });
  const jsDefaults = jetstream(ncDefaults, { timeout: 10_000 });
  const jsm = await jetstreamManager(nc);
  const transport = await NatsTransport.connect({ connect: { servers: SERVER }, maxAckPending: 50_000 });
  await provisionNats(transport, { streams: [{ name: stream, subjects: [`${prefix}.js.>`], storage: 'file' }] });
  let bus;
  try {
    bus = createEventBus({ transport, source: 'bench/producer' });
    const ev = { type: 'user.created', version: '2.0.0', address: `${prefix}.js.users.{userId}`, parameters: ['userId'], validate };
    const coreEv = { ...ev, address: `${prefix}.core.users.{userId}` };
    const params = { userId: 'u1' };

    // The exact bytes and headers the SDK puts on the wire, for raw nats.js to send.
    const sample = await (async () => {
      const t = new (await import('../dist/runtime/index.js')).MemoryTransport();
      const b = createEventBus({ transport: t, source: 'bench/producer' });
      await b.publish(ev, data, { params });
      const [m] = t.messages('>');
      await b.close();
      return m;
    })();
    const body = sample.body;
    const rawHeaders = natsHeaders();
    for (const k of sample.headers.keys()) rawHeaders.set(k, sample.headers.get(k));
    const rows = [{ name: 'event body', value: body.byteLength, unit: 'bytes' }];

    const best = {};
    const keep = (name, value) => (best[name] = Math.max(best[name] ?? 0, value));

    // Core NATS: fire-and-forget, then flush.
    const coreSink = nc.subscribe(`${prefix}.core.>`); // a subscriber, so the server routes the bytes
    (async () => {
      for await (const _ of coreSink);
    })();
    for (let r = 0; r < ROUNDS; r++) {
      let t0 = performance.now();
      for (let i = 0; i < CORE_N; i++) nc.publish(`${prefix}.core.users.u1`, body, { headers: rawHeaders });
      await nc.flush();
      keep('core publish raw', rate(CORE_N, performance.now() - t0)); debug('core publish raw', best['core publish raw']);

      t0 = performance.now();
      await windowed(CORE_N, WINDOW, () => bus.publish(coreEv, data, { params, transient: true }));
      await transport.nc.flush();
      keep('core publish sdk', rate(CORE_N, performance.now() - t0)); debug('core publish sdk', best['core publish sdk']);
    }
    coreSink.unsubscribe();

    // JetStream publish, 1,000 in flight, each awaiting its ack; all dedupe by msg id.
    let seq = 0;
    let seqSdk = 0;
    // Same length as the SDK's UUID ids, so every side sends the same number of bytes.
    const msgId = (tag, r) => `${tag}-${r}-${seq++}`.padEnd(36, '0');
    // The SDK's own technique written by hand: nc.publish() with a reply subject, all acks on
    // one wildcard subscription, no timeouts (informational: the SDK's cost over its technique).
    const ackInbox = `_INBOX.bench${id}.`;
    const waiting = new Map();
    let token = 0;
    const ackSub = nc.subscribe(`${ackInbox}*`, { callback: (_e, m) => {
      const t = m.subject.slice(ackInbox.length);
      const done = waiting.get(t);
      waiting.delete(t);
      done?.(JSON.parse(new TextDecoder().decode(m.data)));
    } });
    const publishers = [
      ['jetstream publish raw (1000 in flight)', (r) => js.publish(`${prefix}.js.raw.u1`, body, { headers: rawHeaders, msgID: msgId('raw', r) })],
      ['jetstream publish sdk (1000 in flight)', () => (seqSdk++, bus.publish(ev, data, { params }))],
      // What a hand-written raw publisher of the same events does per message: its own id,
      // time, headers and JSON (informational; the headline raw sends one pre-built message).
      ['jetstream publish raw + per-message headers, JSON (1000 in flight)', () => {
        const eventId = randomUUID();
        const h = natsHeaders();
        for (const k of sample.headers.keys()) h.set(k, sample.headers.get(k));
        h.set('ce-id', eventId);
        h.set('ce-time', new Date().toISOString());
        return js.publish(`${prefix}.js.raw.u1`, Buffer.from(JSON.stringify(data)), { headers: h, msgID: eventId });
      }],
      // nats.js as it comes: it builds two Errors with stack traces per request.
      ['jetstream publish raw, nats.js default options (1000 in flight)', (r) => jsDefaults.publish(`${prefix}.js.raw.u1`, body, { headers: rawHeaders, msgID: msgId('rawd', r) })],
      ['jetstream publish raw, acks on one reply subscription (1000 in flight)', (r) => new Promise((resolve) => {
        const t = (token++).toString(36);
        waiting.set(t, resolve);
        const h = natsHeaders();
        for (const k of sample.headers.keys()) h.set(k, sample.headers.get(k));
        h.set('Nats-Msg-Id', msgId('rawa', r));
        nc.publish(`${prefix}.js.raw.u1`, body, { headers: h, reply: ackInbox + t });
      })],
    ];
    // Alternate who goes first: the stream (and its dedupe window) grows during the run.
    for (let r = 0; r < ROUNDS; r++) {
      for (const [name, op] of r % 2 === 0 ? publishers : [...publishers].reverse()) {
        const t0 = performance.now();
        await windowed(JS_N, WINDOW, () => op(r));
        keep(name, rate(JS_N, performance.now() - t0));
      }
      debug(best);
    }
    ackSub.unsubscribe();
    // Consumers read what the SDK published (unique event ids, as in production), raw and SDK alike.
    const filter = `${prefix}.js.users.*`;
    const stored = seqSdk;

    // JetStream pull consume of the whole stream, ack each; the order rotates between rounds.
    const consumer = createEventBus({ transport: await NatsTransport.connect({ connect: { servers: SERVER }, maxAckPending: 50_000 }), source: 'bench/consumer' });
    let durable = 0;
    const rawConsumer = async () => {
      const name = `raw${durable++}`;
      await jsm.consumers.add(stream, { durable_name: name, ack_policy: AckPolicy.Explicit, max_ack_pending: 50_000, filter_subject: filter });
      return js.consumers.get(stream, name);
    };
    const parse = (m) => JSON.parse(Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength).toString('utf8'));
    const rawIterate = (json) => async () => {
      const c = await rawConsumer();
      const t0 = performance.now();
      const iter = await c.consume({ max_messages: 1000 });
      let n = 0;
      for await (const m of iter) {
        if (json) parse(m);
        m.ack();
        if (++n === stored) break;
      }
      return rate(stored, performance.now() - t0);
    };
    const rawCallback = async () => {
      const c = await rawConsumer();
      let n = 0;
      let done;
      const finished = new Promise((res) => (done = res));
      const t0 = performance.now();
      const msgs = await c.consume({
        max_messages: 1000,
        callback: (m) => {
          m.ack();
          if (++n === stored) done();
        },
      });
      await finished;
      const value = rate(stored, performance.now() - t0);
      await msgs.close();
      return value;
    };
    const sdkConsume = async () => {
      let handled = 0;
      let done;
      const finished = new Promise((res) => (done = res));
      const t0 = performance.now();
      const sub = await consumer.subscribe({
        group: `sdk${durable++}`,
        subjects: [filter],
        concurrency: 64,
        maxInFlight: 1000,
        handlers: [{ type: ev.type, accepts: [ev], handle: async () => void (++handled === stored && done()) }],
      });
      await finished;
      const value = rate(stored, performance.now() - t0);
      await sub.close();
      return value;
    };
    const consumers = [
      ['jetstream consume raw', rawIterate(false)],
      // The least a real consumer does: parse the JSON it received, then ack.
      ['jetstream consume raw + JSON.parse', rawIterate(true)],
      ['jetstream consume raw (callback API)', rawCallback],
      ['jetstream consume sdk', sdkConsume],
    ];
    for (let r = 0; r < ROUNDS; r++) {
      for (let i = 0; i < consumers.length; i++) {
        const [name, measure] = consumers[(i + r) % consumers.length];
        keep(name, await measure());
        debug(name, best[name]);
      }
    }

    for (const [name, value] of Object.entries(best)) rows.push({ name, value, unit: 'msgs/s' });
    const ratio = (sdk, raw) => Math.round((best[sdk] / best[raw]) * 1000) / 1000;
    rows.push({ name: 'ratio core publish sdk/raw', value: ratio('core publish sdk', 'core publish raw'), unit: 'ratio' });
    rows.push({ name: 'ratio jetstream publish sdk/raw (target >= 0.85)', value: ratio('jetstream publish sdk (1000 in flight)', 'jetstream publish raw (1000 in flight)'), unit: 'ratio' });
    rows.push({ name: 'ratio jetstream publish sdk/(raw, acks on one reply subscription)', value: ratio('jetstream publish sdk (1000 in flight)', 'jetstream publish raw, acks on one reply subscription (1000 in flight)'), unit: 'ratio' });
    rows.push({ name: 'ratio jetstream publish sdk/(raw, nats.js default options)', value: ratio('jetstream publish sdk (1000 in flight)', 'jetstream publish raw, nats.js default options (1000 in flight)'), unit: 'ratio' });
    rows.push({ name: 'ratio jetstream publish sdk/(raw + per-message headers, JSON)', value: ratio('jetstream publish sdk (1000 in flight)', 'jetstream publish raw + per-message headers, JSON (1000 in flight)'), unit: 'ratio' });
    rows.push({ name: 'ratio jetstream consume sdk/raw (target >= 0.90)', value: ratio('jetstream consume sdk', 'jetstream consume raw'), unit: 'ratio' });
    rows.push({ name: 'ratio jetstream consume sdk/(raw + JSON.parse)', value: ratio('jetstream consume sdk', 'jetstream consume raw + JSON.parse'), unit: 'ratio' });
    rows.push({ name: 'ratio jetstream consume sdk/(raw callback API)', value: ratio('jetstream consume sdk', 'jetstream consume raw (callback API)'), unit: 'ratio' });

    await consumer.close();
    return rows;
  } finally {
    // Whatever happened, leave nothing behind on the shared server.
    await bus?.close().catch(() => undefined);
    await jsm.streams.delete(stream).catch(() => undefined);
    await nc.close();
    await ncDefaults.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const rows = await run();
  const width = Math.max(...rows.map((r) => r.name.length));
  for (const r of rows) console.log(`${r.name.padEnd(width)} ${String(r.value).padStart(10)} ${r.unit}`);
}
