// SDK vs raw amqplib on the same RabbitMQ, side by side: publish with publisher confirms,
// 1,000 in flight, persistent and mandatory, and consume with prefetch 1,000 and a manual
// ack per message. The SDK validates the event (bench/event.mjs, with its generated
// validator), builds the CloudEvents envelope and maps it
// to AMQP properties; on consume it maps them back, decodes, validates, dedupes and acks.
// Raw amqplib sends the very bytes and properties the SDK sends.
//
// `run()` returns rows { name, value, unit }; `node bench/amqp.mjs` prints them.
// Needs `npm run build` (imports ../dist/runtime/index.js and ../dist/runtime/amqp/index.js) and RabbitMQ at AMQP_URL or
// amqp://guest:guest@127.0.0.1:5672. Everything it declares is deleted at the end.
import amqp from 'amqplib';
import { AmqpTransport, toAmqpProperties } from '../dist/runtime/amqp/index.js';
import { createEventBus, MemoryTransport } from '../dist/runtime/index.js';
import { data, validate } from './event.mjs';

const URL = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const WINDOW = 1000;
const PUB_N = Number(process.env.BENCH_AMQP_PUB_N ?? 20_000);
const CON_N = Number(process.env.BENCH_AMQP_CON_N ?? 20_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);

/** Keeps `window` operations in flight; resolves when `n` have completed. */
async function windowed(n, window, op) {
  let next = 0;
  const worker = async () => {
    while (next < n) await op(next++);
  };
  await Promise.all(Array.from({ length: Math.min(window, n) }, worker));
}

const debug = (...a) => process.env.BENCH_DEBUG && console.error(...a);
const rate = (n, ms) => Math.round((n / ms) * 1000);

export async function run() {
  const id = Math.random().toString(36).slice(2, 8);
  const prefix = `bench${id}`;
  const exchange = prefix;
  const queues = [];
  const raw = await amqp.connect(URL);
  raw.on('error', () => undefined);
  const admin = await raw.createChannel();
  let transport;
  let bus;
  let consumer;
  try {
    transport = await AmqpTransport.connect({ url: URL, exchange, queuePrefix: `${prefix}.` });
    bus = createEventBus({ transport, source: 'bench/producer' });
    const ev = { type: 'user.created', version: '2.0.0', address: `${prefix}.pub.users.{userId}`, parameters: ['userId'], validate };
    const conEv = { ...ev, address: `${prefix}.con.users.{userId}` };
    const params = { userId: 'u1' };

    // The exact bytes and properties the SDK puts on the wire, for raw amqplib to send.
    const sample = await (async () => {
      const t = new MemoryTransport();
      const b = createEventBus({ transport: t, source: 'bench/producer' });
      await b.publish(ev, data, { params });
      const [m] = t.messages('>');
      await b.close();
      return m;
    })();
    const body = Buffer.from(sample.body);
    const record = Object.fromEntries([...sample.headers.keys()].map((k) => [k, sample.headers.get(k)]));
    const rows = [{ name: 'event body', value: body.byteLength, unit: 'bytes' }];

    await admin.assertExchange(exchange, 'topic', { durable: true });
    // A durable sink for the publish rounds (the SDK publishes with mandatory: it needs a queue).
    const sink = `${prefix}.sink`;
    queues.push(sink);
    await admin.assertQueue(sink, { durable: true });
    await admin.bindQueue(sink, exchange, `${prefix}.pub.#`);

    const best = {};
    const keep = (name, value) => (best[name] = Math.max(best[name] ?? 0, value));

    const pub = await raw.createConfirmChannel();
    pub.on('error', () => undefined);
    let seq = 0;
    const rawPublish = async (r) => {
      const t0 = performance.now();
      await windowed(PUB_N, WINDOW, () => {
        const props = toAmqpProperties(record, `raw-${r}-${seq++}`, true);
        props.mandatory = true;
        return new Promise((res, rej) => pub.publish(exchange, `${prefix}.pub.users.u1`, body, props, (err) => (err ? rej(err) : res())));
      });
      keep('publish raw (confirms, 1000 in flight)', rate(PUB_N, performance.now() - t0));
    };
    const sdkPublish = async () => {
      const t0 = performance.now();
      await windowed(PUB_N, WINDOW, () => bus.publish(ev, data, { params }));
      keep('publish sdk (confirms, 1000 in flight)', rate(PUB_N, performance.now() - t0));
    };
    for (let r = 0; r < ROUNDS; r++) {
      // Alternate who goes first; the sink is emptied so both meet the same queue depth.
      if (r % 2 === 0) {
        await rawPublish(r);
        await admin.purgeQueue(sink);
        await sdkPublish();
      } else {
        await sdkPublish();
        await admin.purgeQueue(sink);
        await rawPublish(r);
      }
      await admin.purgeQueue(sink);
      debug(best);
    }

    // Consume: one queue per contender and round, all filled by one SDK publish run (unique
    // event ids, as in production), so each reads the same CON_N messages.
    const filter = `${prefix}.con.users.*`;
    const names = [];
    for (let r = 0; r < ROUNDS; r++) names.push(`raw${r}`, `rawjson${r}`, `sdk${r}`);
    for (const n of names) {
      const q = `${prefix}.${n}`;
      queues.push(q);
      await admin.assertQueue(q, { durable: true });
      await admin.bindQueue(q, exchange, filter);
    }
    await windowed(CON_N, WINDOW, () => bus.publish(conEv, data, { params }));

    const rawConsume = async (queue, parse) => {
      const ch = await raw.createChannel();
      await ch.prefetch(1000);
      let n = 0;
      const t0 = performance.now();
      await new Promise((res) => {
        ch.consume(queue, (m) => {
          if (!m) return;
          if (parse) JSON.parse(m.content.toString('utf8'));
          ch.ack(m);
          if (++n === CON_N) res();
        });
      });
      const ms = performance.now() - t0;
      await ch.close();
      return rate(CON_N, ms);
    };
    consumer = createEventBus({ transport: await AmqpTransport.connect({ url: URL, exchange, queuePrefix: `${prefix}.` }), source: 'bench/consumer' });
    for (let r = 0; r < ROUNDS; r++) {
      keep('consume raw (prefetch 1000, ack each)', await rawConsume(`${prefix}.raw${r}`, false));
      keep('consume raw + JSON.parse', await rawConsume(`${prefix}.rawjson${r}`, true));
      let handled = 0;
      let done;
      const finished = new Promise((res) => (done = res));
      const t0 = performance.now();
      const sub = await consumer.subscribe({
        group: `sdk${r}`,
        subjects: [filter],
        concurrency: 64,
        maxInFlight: 1000,
        handlers: [{ type: ev.type, accepts: [conEv], handle: async () => void (++handled === CON_N && done()) }],
      });
      await finished;
      keep('consume sdk (prefetch 1000)', rate(CON_N, performance.now() - t0));
      await sub.close();
      debug(best);
    }

    for (const [name, value] of Object.entries(best)) rows.push({ name, value, unit: 'msgs/s' });
    const ratio = (sdk, raw) => Math.round((best[sdk] / best[raw]) * 1000) / 1000;
    rows.push({ name: 'ratio publish sdk/raw', value: ratio('publish sdk (confirms, 1000 in flight)', 'publish raw (confirms, 1000 in flight)'), unit: 'ratio' });
    rows.push({ name: 'ratio consume sdk/raw', value: ratio('consume sdk (prefetch 1000)', 'consume raw (prefetch 1000, ack each)'), unit: 'ratio' });
    rows.push({ name: 'ratio consume sdk/(raw + JSON.parse)', value: ratio('consume sdk (prefetch 1000)', 'consume raw + JSON.parse'), unit: 'ratio' });
    return rows;
  } finally {
    // Whatever happened, leave nothing behind on the shared broker.
    await consumer?.close().catch(() => undefined);
    await bus?.close().catch(() => undefined);
    const topo = transport?.topology() ?? { queues: [], exchanges: [] };
    for (const q of new Set([...queues, ...topo.queues])) {
      const ch = await raw.createChannel();
      ch.on('error', () => undefined);
      await ch.deleteQueue(q).catch(() => undefined);
      await ch.close().catch(() => undefined);
    }
    for (const e of new Set([exchange, ...topo.exchanges])) {
      const ch = await raw.createChannel();
      ch.on('error', () => undefined);
      await ch.deleteExchange(e).catch(() => undefined);
      await ch.close().catch(() => undefined);
    }
    await raw.close().catch(() => undefined);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const rows = await run();
  for (const r of rows) console.log(`${r.name.padEnd(44)} ${String(r.value).padStart(10)} ${r.unit}`);
}
