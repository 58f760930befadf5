// Event store: PostgreSQL append through the store (batches of 10 events, expected version
// checked, advisory lock, NOTIFY) against raw INSERTs of the same rows with the same batching,
// and replay (read) rate from PostgreSQL and from JetStream, each beside the raw client doing
// the least the store must do, so where the time goes is visible.
//
// The event is bench/event.mjs's 300-byte user.created@2.0.0, validated by its generated
// validator on append and again on read (the store validates what it hands out).
// Fairness: store and raw append batches alternate one by one on the same server (one
// connection each, sequential, 10 rows per statement); the ratio is the median over rounds
// of raw time / store time, the rates the best round of each.
//
// `run()` returns rows { name, value, unit }; `node bench/event-store.mjs` prints them.
// Needs `npm run build` (imports ../dist/runtime/event-store/index.js), PostgreSQL at
// PGHOST/127.0.0.1:5432 (user postgres, database test) and NATS at NATS_URL or 127.0.0.1:4222.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { connect } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { createEventStore, PostgresEventStoreBackend, JetStreamEventStoreBackend } from '../dist/runtime/event-store/index.js';
import { data, validate } from './event.mjs';

const PG = { host: process.env.PGHOST ?? '127.0.0.1', port: Number(process.env.PGPORT ?? 5432), user: process.env.PGUSER ?? 'postgres', database: process.env.PGDATABASE ?? 'test' };
const NATS = process.env.NATS_URL ?? '127.0.0.1:4222';
const APPEND_BATCHES = Number(process.env.BENCH_ES_BATCHES ?? 500);
const REPLAY_N = Number(process.env.BENCH_ES_REPLAY ?? 50_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const BATCH = 10;

const userCreated = { type: 'user.created', version: '2.0.0', address: 'identity.user.{userId}', parameters: ['userId'], validate, aggregate: { domain: 'identity', type: 'user', idField: 'userId' } };
const rate = (n, ms) => Math.round((n / ms) * 1000);
const debug = (...a) => process.env.BENCH_DEBUG && console.error(...a);
// userId is a uuid in the contract: stream entities are uuids, made once.
const USERS = Array.from({ length: 50 * 10 }, () => randomUUID());
const REPLAY_USER = randomUUID();
const eventsFor = (userId, n) => Array.from({ length: n }, () => ({ event: userCreated, data: { ...data, userId } }));

async function timed(fn) {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

async function pgAppend(schema) {
  const store = await createEventStore({ backend: await PostgresEventStoreBackend.connect({ connection: { ...PG, max: 1 }, schema }), events: [userCreated], source: 'bench' });
  const raw = new pg.Client(PG);
  await raw.connect();
  const t = `"${schema}".raw_events`;
  await raw.query(`CREATE TABLE ${t} (LIKE "${schema}".events INCLUDING ALL)`);
  const cols = 'stream_id, version, domain, aggregate, event_id, type, type_version, source, time, correlation_id, causation_id, data, metadata';
  const insert = `INSERT INTO ${t} (${cols}) VALUES ` + Array.from({ length: BATCH }, (_, r) => `(${Array.from({ length: 13 }, (_, c) => `$${r * 13 + c + 1}`).join(', ')})`).join(', ');
  const storeBatch = async (round, b) => {
    const id = USERS[(round % 10) * 50 + (b % 50)];
    await store.append(`identity.user.${id}`, eventsFor(id, BATCH), { expectedVersion: Math.floor(b / 50) * BATCH });
  };
  const rawBatch = async (round, b) => {
    const id = USERS[(round % 10) * 50 + (b % 50)];
    const first = Math.floor(b / 50) * BATCH;
    const values = [];
    for (let i = 0; i < BATCH; i++) {
      // The same work per row the store does before its INSERT: validate, build the envelope, encode.
      const d = { ...data, userId: id };
      validate(d);
      values.push(`identity.user.${id}`, first + i + 1, 'identity', 'user', randomUUID(), 'user.created', '2.0.0', 'bench', new Date().toISOString(), null, null, JSON.stringify(d), '{}');
    }
    await raw.query({ name: 'raw-insert', text: insert, values });
  };
  // Store and raw batches alternate one by one, so a load change on the machine hits both alike.
  const ratios = [];
  let best = { store: 0, raw: 0 };
  for (let round = 0; round < ROUNDS; round++) {
    let storeMs = 0;
    let rawMs = 0;
    for (let b = 0; b < APPEND_BATCHES; b++) {
      if (b % 2 === 0) {
        storeMs += await timed(() => storeBatch(round, b));
        rawMs += await timed(() => rawBatch(round, b));
      } else {
        rawMs += await timed(() => rawBatch(round, b));
        storeMs += await timed(() => storeBatch(round, b));
      }
    }
    debug('pg append round', round, { storeMs, rawMs });
    ratios.push(rawMs / storeMs);
    best = { store: Math.max(best.store, rate(APPEND_BATCHES * BATCH, storeMs)), raw: Math.max(best.raw, rate(APPEND_BATCHES * BATCH, rawMs)) };
  }
  best.ratio = ratios.sort((a, b) => a - b)[Math.floor(ratios.length / 2)];
  await raw.end();
  await store.close();
  return best;
}

async function pgReplay(schema) {
  const store = await createEventStore({ backend: await PostgresEventStoreBackend.connect({ connection: { ...PG, max: 2 }, schema, pageSize: 5000 }), events: [userCreated], source: 'bench' });
  for (let v = 0; v < REPLAY_N; v += 1000) await store.append(`identity.user.${REPLAY_USER}`, eventsFor(REPLAY_USER, 1000), { expectedVersion: v });
  const trusting = await createEventStore({ backend: await PostgresEventStoreBackend.connect({ connection: { ...PG, max: 2 }, schema, pageSize: 5000 }), events: [userCreated], source: 'bench', validateOnRead: 'upcast-only' });
  const raw = new pg.Client(PG);
  await raw.connect();
  let best = { store: 0, storeAll: 0, trusting: 0, raw: 0 };
  for (let round = 0; round < ROUNDS; round++) {
    let n = 0;
    const storeMs = await timed(async () => {
      for await (const e of store.read(`identity.user.${REPLAY_USER}`)) n += e.streamVersion > 0 ? 1 : 0;
    });
    let t = 0;
    const trustMs = await timed(async () => {
      for await (const e of trusting.read(`identity.user.${REPLAY_USER}`)) t += e.streamVersion > 0 ? 1 : 0;
    });
    let m = 0;
    const allMs = await timed(async () => {
      for await (const e of store.readAll({ aggregates: ['user'] })) m += e.streamVersion > 0 ? 1 : 0;
    });
    // Raw: the same pages of rows, pg parsing the jsonb and timestamps, nothing else.
    let k = 0;
    const rawMs = await timed(async () => {
      for (let from = 1; from <= REPLAY_N; from += 5000) {
        const r = await raw.query({ text: `SELECT position, stream_id, version, event_id, type, type_version, source, time, correlation_id, causation_id, data, metadata FROM "${schema}".events WHERE stream_id = $1 AND version >= $2 ORDER BY version LIMIT 5000`, values: [`identity.user.${REPLAY_USER}`, from], rowMode: 'array' });
        k += r.rows.length;
      }
    });
    if (n !== REPLAY_N || k !== REPLAY_N) throw new Error(`pg replay read ${n}/${k} of ${REPLAY_N}`);
    debug('pg replay round', round, { storeMs, trustMs, allMs, rawMs });
    best = { store: Math.max(best.store, rate(n, storeMs)), storeAll: Math.max(best.storeAll, rate(m, allMs)), trusting: Math.max(best.trusting, rate(t, trustMs)), raw: Math.max(best.raw, rate(k, rawMs)) };
  }
  await raw.end();
  await store.close();
  await trusting.close();
  return best;
}

async function jsReplay(layout) {
  const store = await createEventStore({ backend: await JetStreamEventStoreBackend.connect({ servers: NATS, ...layout, storage: 'memory' }), events: [userCreated], source: 'bench' });
  for (let v = 0; v < REPLAY_N; v += 500) await store.append(`identity.user.${REPLAY_USER}`, eventsFor(REPLAY_USER, 500), { expectedVersion: v });
  const trusting = await createEventStore({ backend: await JetStreamEventStoreBackend.connect({ servers: NATS, ...layout, storage: 'memory' }), events: [userCreated], source: 'bench', validateOnRead: 'upcast-only' });
  const nc = await connect({ servers: NATS, noAsyncTraces: true });
  const js = jetstream(nc);
  const name = `${layout.streamPrefix}_identity__user`;
  let best = { store: 0, trusting: 0, raw: 0, rawParse: 0 };
  for (let round = 0; round < ROUNDS; round++) {
    let n = 0;
    const storeMs = await timed(async () => {
      for await (const e of store.read(`identity.user.${REPLAY_USER}`)) n += e.streamVersion > 0 ? 1 : 0;
    });
    let t = 0;
    const trustMs = await timed(async () => {
      for await (const e of trusting.read(`identity.user.${REPLAY_USER}`)) t += e.streamVersion > 0 ? 1 : 0;
    });
    // Raw: the same messages by an ordered consumer (each holds 500 events), without and with JSON.parse.
    const walk = async (parse) => {
      let k = 0;
      const c = await js.consumers.get(name, {});
      const msgs = await c.consume({ max_messages: 1000 });
      for await (const m of msgs) {
        k += parse ? JSON.parse(new TextDecoder().decode(m.data)).length : Number(m.headers.get('Es-Count'));
        if (m.info.pending === 0) break;
      }
      msgs.stop();
      return k;
    };
    let k = 0;
    const rawMs = await timed(async () => {
      k = await walk(false);
    });
    const rawParseMs = await timed(async () => {
      k = await walk(true);
    });
    if (n !== REPLAY_N || k !== REPLAY_N) throw new Error(`jetstream replay read ${n}/${k} of ${REPLAY_N}`);
    debug('js replay round', round, { storeMs, trustMs, rawMs, rawParseMs });
    best = { store: Math.max(best.store, rate(n, storeMs)), trusting: Math.max(best.trusting, rate(t, trustMs)), raw: Math.max(best.raw, rate(k, rawMs)), rawParse: Math.max(best.rawParse, rate(k, rawParseMs)) };
  }
  const jsm = await jetstreamManager(nc);
  await jsm.streams.delete(name);
  await nc.close();
  await store.close();
  await trusting.close();
  return best;
}

export async function run() {
  const id = Math.random().toString(36).slice(2, 8);
  const schema = `es_bench_${id}`;
  const admin = new pg.Client(PG);
  await admin.connect();
  try {
    const append = await pgAppend(schema);
    const replay = await pgReplay(schema);
    const js = await jsReplay({ subjectPrefix: `$ESB${id}`, streamPrefix: `ESB${id}` });
    return [
      { name: 'postgres append, store (batches of 10)', value: append.store, unit: 'events/s' },
      { name: 'postgres append, raw INSERT (batches of 10)', value: append.raw, unit: 'events/s' },
      { name: 'postgres append, store / raw (median of rounds, batches interleaved)', value: append.ratio, unit: 'x' },
      { name: `postgres replay, store.read (${REPLAY_N} events)`, value: replay.store, unit: 'events/s' },
      { name: "postgres replay, store.read, validateOnRead 'upcast-only'", value: replay.trusting, unit: 'events/s' },
      { name: 'postgres replay, store.readAll', value: replay.storeAll, unit: 'events/s' },
      { name: 'postgres replay, raw SELECT pages', value: replay.raw, unit: 'events/s' },
      { name: `jetstream replay, store.read (${REPLAY_N} events, appended 500 per message)`, value: js.store, unit: 'events/s' },
      { name: "jetstream replay, store.read, validateOnRead 'upcast-only'", value: js.trusting, unit: 'events/s' },
      { name: 'jetstream replay, raw ordered consumer (no decode)', value: js.raw, unit: 'events/s' },
      { name: 'jetstream replay, raw ordered consumer + JSON.parse', value: js.rawParse, unit: 'events/s' },
    ];
  } finally {
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const row of await run()) console.log(`${row.name.padEnd(72)} ${typeof row.value === 'number' ? (row.unit === 'x' ? row.value.toFixed(2) : Math.round(row.value).toLocaleString('en-US')) : row.value} ${row.unit}`);
}
