// SDK vs raw Kafka clients on the same broker, side by side.
//
// Produce: acks=all, idempotent, 1,000 records per produce request, one request in flight.
// That is what the SDK's transport does with 1,000 publishes in flight (it batches what
// arrives while a request is out, one request at a time, which keeps per-key order across
// retries), so the raw clients send the SDK's exact record (key, CloudEvents Kafka binding
// headers, body) in chunks of 1,000, one chunk at a time: @platformatic/kafka (the SDK's
// client) and kafkajs 2.2.4. p99 is per record, from its send to its acknowledgement.
//
// Consume: a new consumer group reads CON_N records the SDK published (unique event ids);
// timing starts once the group is joined (consume() or subscribe() resolved; kafkajs's
// GROUP_JOIN event), so the first fetch and its decoding are timed too. (Timing from the
// first record left them out: the client decodes a whole fetch response before it hands
// out the first record, and one 10 MiB response held most of a 20,000-record run.) Both
// @platformatic/kafka consumers fetch at most 1 MiB at a time, the SDK's default.
// Raw @platformatic/kafka counts and commits every 1,000 records; "+ JSON.parse" parses each
// body too; kafkajs runs eachMessage with its default auto-commit. The SDK decodes,
// validates, dedupes and handles each event (concurrency 64, maxInFlight 1,000) and commits
// settled records in order.
//
// Latency: one at a time, publish → handler, for the SDK and raw @platformatic/kafka.
//
// Each round runs the contenders back to back, order alternating; the best round is kept.
// `run()` returns rows { name, value, unit }; `node bench/kafka.mjs` prints them.
// Needs `npm run build` (imports ../dist/runtime) and a broker: EC_KAFKA_BOOTSTRAP, else one
// started by test/services/kafka.mjs for the run. Its topics and groups are deleted at the end.
import { Admin, Consumer, Producer } from '@platformatic/kafka';
import { Kafka, logLevel } from 'kafkajs';
import { sharedKafka } from '../test/services/kafka.mjs';
import { data, validate } from './event.mjs';

const DIST = process.env.BENCH_DIST ?? '../dist';
const { createEventBus, MemoryTransport } = await import(`${DIST}/runtime/index.js`);
const { KafkaTransport, toKafkaHeaders, recordKey } = await import(`${DIST}/runtime/kafka/index.js`);

const WINDOW = 1000;
const PUB_N = Number(process.env.BENCH_KAFKA_PUB_N ?? 20_000);
const CON_N = Number(process.env.BENCH_KAFKA_CON_N ?? 50_000);
/** The SDK's default fetch size (KafkaTransportOptions.fetchMaxBytes), for the raw consumers too. */
const FETCH_MAX_BYTES = 1024 * 1024;
const LAT_N = Number(process.env.BENCH_KAFKA_LAT_N ?? 300);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);

const debug = (...a) => process.env.BENCH_DEBUG && console.error(...a);
const rate = (n, ms) => Math.round((n / ms) * 1000);
const p99 = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.floor(s.length * 0.99))] * 10) / 10;
};

/** Keeps `window` operations in flight; resolves when `n` have completed. */
async function windowed(n, window, op) {
  let next = 0;
  const worker = async () => {
    while (next < n) await op(next++);
  };
  await Promise.all(Array.from({ length: Math.min(window, n) }, worker));
}

/** Sends `n` records in chunks of WINDOW, one chunk at a time; per-record latencies. */
async function chunked(n, sendChunk) {
  const lat = [];
  for (let i = 0; i < n; i += WINDOW) {
    const size = Math.min(WINDOW, n - i);
    const t0 = performance.now();
    await sendChunk(size);
    const ms = performance.now() - t0;
    for (let j = 0; j < size; j++) lat.push(ms);
  }
  return lat;
}

export async function run() {
  const { bootstrap } = await sharedKafka();
  const brokers = bootstrap.split(',');
  const id = Math.random().toString(36).slice(2, 8);
  const prefix = `bench${id}`;
  const internal = `_bench${id}.`;
  const pubTopic = `${prefix}.pub`;
  const conTopic = `${prefix}.con`;
  const latTopic = `${prefix}.lat`;
  const topology = [
    { name: pubTopic, subjects: [`${prefix}.pub.>`] },
    { name: conTopic, subjects: [`${prefix}.con.>`] },
    { name: latTopic, subjects: [`${prefix}.lat.>`] },
  ];
  const admin = new Admin({ clientId: 'bench', bootstrapBrokers: brokers });
  const closers = [];
  const groups = [];
  try {
    await admin.createTopics({ topics: topology.map((t) => t.name), partitions: 1, replicas: 1 });
    const transport = await KafkaTransport.connect({ bootstrap, topology, internalTopicPrefix: internal, clientId: 'bench-sdk' });
    const bus = createEventBus({ transport, source: 'bench/producer' });
    closers.push(() => bus.close());
    const ev = { type: 'user.created', version: '2.0.0', address: `${prefix}.pub.users.{userId}`, parameters: ['userId'], validate };
    const conEv = { ...ev, address: `${prefix}.con.users.{userId}` };
    const latEv = { ...ev, address: `${prefix}.lat.users.{userId}` };
    const params = { userId: 'u1' };

    // The exact record the SDK writes, for the raw clients to send.
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
    const subject = `${prefix}.pub.users.u1`;
    const headerPairs = [...toKafkaHeaders(record, subject)];
    const key = recordKey({ subject, headers: record });
    const rows = [{ name: 'event body', value: body.byteLength, unit: 'bytes' }];

    const best = {};
    const keep = (name, value, better = Math.max) => (best[name] = best[name] === undefined ? value : better(best[name], value));

    // --- produce -------------------------------------------------------------------------
    const plat = new Producer({ clientId: 'bench-raw', bootstrapBrokers: brokers, idempotent: true, acks: -1 });
    closers.push(() => plat.close());
    const kjs = new Kafka({ clientId: 'bench-kafkajs', brokers, logLevel: logLevel.NOTHING });
    const kprod = kjs.producer({ idempotent: true, maxInFlightRequests: 1 });
    await kprod.connect();
    closers.push(() => kprod.disconnect());
    const platHeaders = () => new Map(headerPairs.map(([k, v]) => [Buffer.from(k), Buffer.from(v)]));
    const kjsHeaders = Object.fromEntries(headerPairs);

    const contenders = {
      'publish raw @platformatic/kafka': async () =>
        chunked(PUB_N, (size) => plat.send({ messages: Array.from({ length: size }, () => ({ topic: pubTopic, key: Buffer.from(key), headers: platHeaders(), value: body })) })),
      'publish raw kafkajs': async () =>
        chunked(PUB_N, (size) => kprod.send({ topic: pubTopic, acks: -1, messages: Array.from({ length: size }, () => ({ key, headers: kjsHeaders, value: body })) })),
      'publish sdk': async () => {
        const lat = [];
        await windowed(PUB_N, WINDOW, async () => {
          const t0 = performance.now();
          await bus.publish(ev, data, { params });
          lat.push(performance.now() - t0);
        });
        return lat;
      },
    };
    const order = Object.keys(contenders);
    for (let r = 0; r < ROUNDS; r++) {
      for (const name of r % 2 === 0 ? order : [...order].reverse()) {
        const t0 = performance.now();
        const lat = await contenders[name]();
        keep(`${name} (acks=all, idempotent)`, rate(PUB_N, performance.now() - t0));
        keep(`${name} p99 ms`, p99(lat), Math.min);
      }
      debug(best);
    }

    // --- consume -------------------------------------------------------------------------
    await windowed(CON_N, WINDOW, () => bus.publish(conEv, data, { params }));
    const group = (name) => {
      const g = `${prefix}.${name}`;
      groups.push(g);
      return g;
    };
    /** Raw @platformatic/kafka: count (and maybe parse) every record, commit every 1,000. */
    const rawConsume = async (name, parse) => {
      const c = new Consumer({ clientId: 'bench-raw-c', groupId: group(name), bootstrapBrokers: brokers, maxBytes: FETCH_MAX_BYTES });
      const stream = await c.consume({ topics: [conTopic], autocommit: false, mode: 'committed', fallbackMode: 'earliest', maxWaitTime: 500 });
      const t0 = performance.now();
      let n = 0;
      await new Promise((resolve) => {
        stream.on('data', (m) => {
          if (parse) JSON.parse(m.value.toString('utf8'));
          if (++n % 1000 === 0 || n === CON_N) void m.commit();
          if (n === CON_N) resolve();
        });
      });
      const ms = performance.now() - t0;
      await stream.close();
      await c.close(true);
      return rate(CON_N, ms);
    };
    const kjsConsume = async (name) => {
      const c = kjs.consumer({ groupId: group(name), maxWaitTimeInMs: 500 });
      await c.connect();
      await c.subscribe({ topic: conTopic, fromBeginning: true });
      let n = 0;
      let t0 = 0;
      c.on(c.events.GROUP_JOIN, () => (t0 = performance.now()));
      await new Promise((resolve) => {
        void c.run({
          eachMessage: async () => {
            if (++n === CON_N) resolve();
          },
        });
      });
      const ms = performance.now() - t0;
      await c.disconnect();
      return rate(CON_N, ms);
    };
    const consumerTransport = await KafkaTransport.connect({ bootstrap, topology, internalTopicPrefix: internal, clientId: 'bench-sdk-c' });
    const consumer = createEventBus({ transport: consumerTransport, source: 'bench/consumer' });
    closers.push(() => consumer.close());
    const sdkConsume = async (name) => {
      let handled = 0;
      let done;
      const finished = new Promise((res) => (done = res));
      const sub = await consumer.subscribe({
        group: name.replace(/\./g, '_'),
        subjects: [`${prefix}.con.users.*`],
        concurrency: 64,
        maxInFlight: 1000,
        handlers: [
          {
            type: ev.type,
            accepts: [conEv],
            handle: async () => {
              if (++handled === CON_N) done();
            },
          },
        ],
      });
      const t0 = performance.now();
      groups.push(name.replace(/\./g, '_'));
      await finished;
      const ms = performance.now() - t0;
      await sub.close();
      return rate(CON_N, ms);
    };
    for (let r = 0; r < ROUNDS; r++) {
      const runs = [
        ['consume raw @platformatic/kafka (commit per 1,000)', () => rawConsume(`raw${r}`, false)],
        ['consume raw @platformatic/kafka + JSON.parse', () => rawConsume(`rawjson${r}`, true)],
        ['consume raw kafkajs (eachMessage, auto-commit)', () => kjsConsume(`kjs${r}`)],
        ['consume sdk (maxInFlight 1,000)', () => sdkConsume(`${prefix}_sdk${r}`)],
      ];
      for (const [name, fn] of r % 2 === 0 ? runs : [...runs].reverse()) keep(name, await fn());
      debug(best);
    }

    // --- latency, one at a time ------------------------------------------------------------
    {
      const got = new Map();
      const c = new Consumer({ clientId: 'bench-lat', groupId: group('lat'), bootstrapBrokers: brokers });
      const stream = await c.consume({ topics: [latTopic], autocommit: 1000, mode: 'latest', maxWaitTime: 500 });
      stream.on('data', (m) => got.get(m.key?.toString())?.());
      const sdkWaiters = new Map();
      const sub = await consumer.subscribe({
        group: `${prefix}_lat`,
        subjects: [`${prefix}.lat.users.*`],
        handlers: [{ type: ev.type, accepts: [latEv], handle: async (e) => sdkWaiters.get(e.id)?.() }],
      });
      groups.push(`${prefix}_lat`, `${prefix}.lat`);
      for (let r = 0; r < ROUNDS; r++) {
        const raw = [];
        const sdk = [];
        for (let i = 0; i < LAT_N; i++) {
          const k = `raw-${r}-${i}`;
          const t0 = performance.now();
          const seen = new Promise((res) => got.set(k, res));
          await plat.send({ messages: [{ topic: latTopic, key: Buffer.from(k), headers: platHeaders(), value: body }] });
          await seen;
          raw.push(performance.now() - t0);
          got.delete(k);
          const eid = `sdk-${r}-${i}-${id}`;
          const t1 = performance.now();
          const handled = new Promise((res) => sdkWaiters.set(eid, res));
          await bus.publish(latEv, data, { params, id: eid });
          await handled;
          sdk.push(performance.now() - t1);
          sdkWaiters.delete(eid);
        }
        keep('end-to-end raw @platformatic/kafka p99 ms', p99(raw), Math.min);
        keep('end-to-end sdk p99 ms', p99(sdk), Math.min);
      }
      await sub.close();
      await stream.close();
      await c.close(true);
    }

    for (const [name, value] of Object.entries(best)) rows.push({ name, value, unit: name.endsWith('ms') ? 'ms' : 'msgs/s' });
    const ratio = (a, b) => Math.round((best[a] / best[b]) * 1000) / 1000;
    rows.push({ name: 'ratio publish sdk/raw @platformatic/kafka', value: ratio('publish sdk (acks=all, idempotent)', 'publish raw @platformatic/kafka (acks=all, idempotent)'), unit: 'ratio' });
    rows.push({ name: 'ratio publish raw kafkajs/@platformatic/kafka', value: ratio('publish raw kafkajs (acks=all, idempotent)', 'publish raw @platformatic/kafka (acks=all, idempotent)'), unit: 'ratio' });
    rows.push({ name: 'ratio consume sdk/raw @platformatic/kafka', value: ratio('consume sdk (maxInFlight 1,000)', 'consume raw @platformatic/kafka (commit per 1,000)'), unit: 'ratio' });
    rows.push({ name: 'ratio consume sdk/(raw + JSON.parse)', value: ratio('consume sdk (maxInFlight 1,000)', 'consume raw @platformatic/kafka + JSON.parse'), unit: 'ratio' });
    rows.push({ name: 'ratio consume raw kafkajs/@platformatic/kafka', value: ratio('consume raw kafkajs (eachMessage, auto-commit)', 'consume raw @platformatic/kafka (commit per 1,000)'), unit: 'ratio' });
    return rows;
  } finally {
    // Whatever happened, leave nothing behind on the shared broker.
    for (const close of closers.reverse()) await Promise.resolve().then(close).catch(() => undefined);
    await admin.deleteGroups({ groups }).catch(() => undefined);
    const topics = (await admin.listTopics().catch(() => [])).filter((t) => t.startsWith(prefix) || t.startsWith(internal));
    if (topics.length > 0) await admin.deleteTopics({ topics }).catch(() => undefined);
    await admin.close().catch(() => undefined);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const rows = await run();
  for (const r of rows) console.log(`${r.name.padEnd(56)} ${String(r.value).padStart(10)} ${r.unit}`);
  process.exit(0);
}
