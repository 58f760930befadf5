// The transactional outbox on PostgreSQL + JetStream, in one run on the same server and stream:
//  - relay throughput (rows added and committed beforehand, then drained by one relay: read a
//    batch, publish it through the bus, mark it, commit) against the SDK's own JetStream publish
//    throughput (bus.publish, 1,000 in flight) — the relay's ceiling;
//  - publish latency after commit: from a writer's COMMIT resolving to the relay's notice that
//    the event is acked by JetStream and its row marked (LISTEN/NOTIFY wake-up), p50/p99, with
//    one writer at a time and with 8 writers committing as fast as they can;
//  - what writers pay: commits/s of 8 writers adding one event per transaction (with and
//    without NOTIFY, which PostgreSQL serialises at commit), against the same inserts into a
//    table without the commit trigger; relay stopped.
// Same 300-byte event as bench/nats.mjs. Rounds alternate SDK and relay; the best of each is kept.
// Each also reports CPU per event, the lowest of its rounds: this process (user + system), and
// for the relay the PostgreSQL server's processes (read from /proc; absent elsewhere), so where
// the relay's time goes beside a bare publish is a figure, not a guess.
//
// `run()` returns rows { name, value, unit }; `node bench/outbox.mjs` prints them.
// Needs `npm run build`, NATS at NATS_URL or 127.0.0.1:4222, PostgreSQL at PG_URL
// (default postgres://postgres@127.0.0.1:5432/test).
import { readdirSync, readFileSync } from 'node:fs';
import pg from 'pg';
import { createEventBus } from '../dist/runtime/index.js';
import { NatsTransport, provisionNats } from '../dist/runtime/nats/index.js';
import { createOutbox, createOutboxRelay, migrateOutbox } from '../dist/runtime/outbox/index.js';
import { data, validate } from './event.mjs';

const SERVER = process.env.NATS_URL ?? '127.0.0.1:4222';
const PG_URL = process.env.PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const N = Number(process.env.BENCH_OUTBOX_N ?? 20_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const LATENCY_N = Number(process.env.BENCH_OUTBOX_LATENCY_N ?? 500);
const WINDOW = 1000;
const debug = (...a) => process.env.BENCH_DEBUG && console.error(...a);

async function windowed(n, window, op) {
  let next = 0;
  const worker = async () => {
    while (next < n) await op(next++);
  };
  await Promise.all(Array.from({ length: Math.min(window, n) }, worker));
}

const rate = (n, ms) => Math.round((n / ms) * 1000);

/** CPU seconds used so far by the PostgreSQL server's processes, or undefined without /proc. */
function postgresCpuSeconds() {
  let ticks = 0;
  try {
    for (const pid of readdirSync('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      try {
        if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('postgres')) continue;
        const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
        ticks += Number(f[11]) + Number(f[12]);
      } catch {
        // The process ended while being read.
      }
    }
  } catch {
    return undefined;
  }
  return ticks / 100; // USER_HZ
}

/** Runs op (which handles n events) and returns its CPU per event: this process, and PostgreSQL's. */
async function cpuPerEvent(n, op) {
  const pg0 = postgresCpuSeconds();
  const c0 = process.cpuUsage();
  const value = await op();
  const c = process.cpuUsage(c0);
  const pg1 = postgresCpuSeconds();
  return { value, self: (c.user + c.system) / n, postgres: pg0 === undefined || pg1 === undefined ? undefined : ((pg1 - pg0) * 1e6) / n };
}
const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

async function inTx(pool, fn) {
  const c = await pool.connect();
  try {
    await c.query('BEGIN');
    const out = await fn(c);
    await c.query('COMMIT');
    return out;
  } catch (err) {
    await c.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    c.release();
  }
}

export async function run() {
  const id = Math.random().toString(36).slice(2, 8);
  const prefix = `benchob${id}`;
  const stream = `BENCH_OB_${id}`;
  const schema = `bench_outbox_${id}`;
  // Idle connections are kept: a server process that ends takes its CPU time out of the sum.
  const pool = new pg.Pool({ connectionString: PG_URL, max: 16, idleTimeoutMillis: 0 });
  pool.on('error', () => undefined);
  const transport = await NatsTransport.connect({ connect: { servers: SERVER }, maxAckPending: 50_000 });
  await provisionNats(transport, { streams: [{ name: stream, subjects: [`${prefix}.>`], storage: 'file' }] });
  const bus = createEventBus({ transport, source: 'bench/producer' });
  const ev = { type: 'user.created', version: '2.0.0', address: `${prefix}.users.{userId}`, parameters: ['userId'], validate };
  const params = { userId: 'u1' };
  const rows = [];
  try {
    await migrateOutbox(pool, { schema });
    const outbox = createOutbox({ events: [ev], source: 'bench/producer', schema });
    const fill = async (n) => {
      for (let done = 0; done < n; done += 500) {
        await inTx(pool, async (tx) => {
          for (let k = 0; k < Math.min(500, n - done); k++) await outbox.add(tx, ev, data, { params });
        });
      }
    };
    /** Drains n committed rows with one relay; resolves with the rate. */
    const drain = async (n, options) => {
      let published = 0;
      let done;
      const finished = new Promise((r) => (done = r));
      const relay = createOutboxRelay({ pool, outbox, bus, onNotice: (x) => x.kind === 'published' && (published += x.count) >= n && done(), ...options });
      const t0 = performance.now();
      await relay.start();
      await finished;
      const value = rate(n, performance.now() - t0);
      await relay.stop();
      return value;
    };

    const best = {};
    const keep = (name, value) => (best[name] = Math.max(best[name] ?? 0, value));
    const cpu = {};
    const keepCpu = (name, x) => (cpu[name] = Math.min(cpu[name] ?? Infinity, x));
    // prepare (filling the outbox beforehand) is not the relay's work: it runs before the clock.
    const contenders = [
      ['jetstream publish sdk (1000 in flight)', undefined, async () => {
        const t0 = performance.now();
        await windowed(N, WINDOW, () => bus.publish(ev, data, { params }));
        return rate(N, performance.now() - t0);
      }],
      ['outbox relay, batch 1000, 1000 in flight', () => fill(N), () => drain(N, { batchSize: 1000, maxInFlight: 1000 })],
      ['outbox relay, defaults (batch 500, 256 in flight)', () => fill(N), () => drain(N, {})],
    ];
    for (let r = 0; r < ROUNDS; r++) {
      for (const [name, prepare, run] of r % 2 === 0 ? contenders : [...contenders].reverse()) {
        await prepare?.();
        const m = await cpuPerEvent(N, run);
        keep(name, m.value);
        keepCpu(`${name}: CPU per event, this process`, m.self);
        if (prepare && m.postgres !== undefined) keepCpu(`${name}: CPU per event, PostgreSQL server`, m.postgres);
      }
      debug(best, cpu);
    }
    for (const [name, value] of Object.entries(best)) rows.push({ name, value, unit: 'msgs/s' });
    for (const [name, value] of Object.entries(cpu)) rows.push({ name, value, unit: 'µs' });
    const sdk = best['jetstream publish sdk (1000 in flight)'];
    rows.push({ name: 'ratio relay/sdk publish (batch 1000, target >= 0.8)', value: best['outbox relay, batch 1000, 1000 in flight'] / sdk, unit: 'ratio' });
    rows.push({ name: 'ratio relay/sdk publish (defaults)', value: best['outbox relay, defaults (batch 500, 256 in flight)'] / sdk, unit: 'ratio' });

    // Latency after commit, relay running with its defaults.
    const committedAt = new Map();
    const latencies = [];
    const relay = createOutboxRelay({
      pool,
      outbox,
      bus,
      onNotice: (x) => {
        if (x.kind !== 'published') return;
        const now = performance.now();
        for (const eid of x.eventIds) {
          const t = committedAt.get(eid);
          if (t !== undefined) latencies.push(now - t);
        }
      },
    });
    await relay.start();
    const oneEvent = async () => {
      const c = await pool.connect();
      try {
        await c.query('BEGIN');
        const r = await outbox.add(c, ev, data, { params });
        await c.query('COMMIT');
        committedAt.set(r.id, performance.now());
      } finally {
        c.release();
      }
    };
    const waitForLatencies = async (n) => {
      while (latencies.length < n) await new Promise((r) => setTimeout(r, 10));
    };
    for (let i = 0; i < LATENCY_N; i++) {
      await oneEvent();
      await new Promise((r) => setTimeout(r, 2));
    }
    await waitForLatencies(LATENCY_N);
    let sorted = [...latencies].sort((a, b) => a - b);
    rows.push({ name: 'latency commit → published, one writer, p50', value: percentile(sorted, 50), unit: 'ms' });
    rows.push({ name: 'latency commit → published, one writer, p99', value: percentile(sorted, 99), unit: 'ms' });

    latencies.length = 0;
    const LOADED = LATENCY_N * 4;
    let started = 0;
    await Promise.all(Array.from({ length: 8 }, async () => {
      while (started++ < LOADED) await oneEvent();
    }));
    await waitForLatencies(LOADED);
    sorted = [...latencies].sort((a, b) => a - b);
    rows.push({ name: 'latency commit → published, 8 writers, p50', value: percentile(sorted, 50), unit: 'ms' });
    rows.push({ name: 'latency commit → published, 8 writers, p99', value: percentile(sorted, 99), unit: 'ms' });
    await relay.stop();

    // What writers pay, relay stopped: 8 writers, one event per transaction, into the outbox
    // (with and without NOTIFY) and the same rows into a table without the commit trigger.
    await pool.query(`CREATE TABLE "${schema}".plain (LIKE "${schema}".event_outbox INCLUDING DEFAULTS INCLUDING IDENTITY)`);
    await pool.query(`ALTER TABLE "${schema}".plain ADD UNIQUE (event_id)`);
    const quiet = createOutbox({ events: [ev], source: 'bench/producer', schema, notify: false });
    const body = Buffer.from(JSON.stringify(data));
    const commitRate = async (op) => {
      let n = 0;
      const t = performance.now();
      await Promise.all(Array.from({ length: 8 }, async () => {
        while (n++ < LOADED) await inTx(pool, op);
      }));
      return rate(LOADED, performance.now() - t);
    };
    const writers = [
      ['commits/s, 8 writers, one outbox add each', (c) => outbox.add(c, ev, data, { params })],
      ['commits/s, 8 writers, one outbox add each, notify: false', (c) => quiet.add(c, ev, data, { params })],
      ['commits/s, 8 writers, one insert each into a table without the commit trigger', (c) =>
        c.query(`INSERT INTO "${schema}".plain (event_id, type, version, source, subject, params, occurred_at, body) VALUES (gen_random_uuid()::text, 'user.created', '2.0.0', 'bench', $1, '{}', now(), $2)`, [`${prefix}.users.u1`, body])],
    ];
    const commits = {};
    for (let r = 0; r < 2; r++) for (const [name, op] of r % 2 === 0 ? writers : [...writers].reverse()) commits[name] = Math.max(commits[name] ?? 0, await commitRate(op));
    for (const [name, value] of Object.entries(commits)) rows.push({ name, value, unit: 'ops/s' });
    const plain = commits['commits/s, 8 writers, one insert each into a table without the commit trigger'];
    rows.push({ name: 'ratio outbox commits/plain commits', value: commits['commits/s, 8 writers, one outbox add each'] / plain, unit: 'ratio' });
    rows.push({ name: 'ratio outbox commits (notify: false)/plain commits', value: commits['commits/s, 8 writers, one outbox add each, notify: false'] / plain, unit: 'ratio' });
  } finally {
    await bus.close();
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
    const cleanup = await NatsTransport.connect({ connect: { servers: SERVER } });
    await (await cleanup.jsm()).streams.delete(stream).catch(() => undefined);
    await cleanup.close();
    await pool.end();
  }
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const r of await run()) console.log(`${r.name.padEnd(90)} ${typeof r.value === 'number' ? Math.round(r.value * 100) / 100 : r.value} ${r.unit}`);
}
