/**
 * `event-contracts history` and `event-contracts replay` against real stores: PostgreSQL
 * and JetStream for history (including a hostile payload full of terminal control
 * sequences), PostgreSQL for replay with a projection module named in the config.
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diffViews, formatHistory, mergePayload, printable } from '../src/cli/history-command.js';
import { createEventStore, JetStreamEventStoreBackend, PostgresEventStoreBackend, type EventStore } from '../src/runtime/event-store/index.js';
import { runCli } from './helpers/cli.js';
import { useScratchWorkspace } from './helpers/scratch.js';
import { rand } from './runtime/helpers.js';
import { accountContract } from './runtime/event-store/contract.js';
import { PG } from './runtime/event-store/pg-helpers.js';

const URL = `postgres://${PG.user}@${PG.host}:${PG.port}/${PG.database}`;
// Every character that must never reach a terminal raw (newline aside, which the CLI writes itself).
// eslint-disable-next-line no-control-regex
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
const HOSTILE = 'evil\u001b[2J\u001b]0;pwned\u0007\u009b31m\u202eesrever\r\nFAKE v9  account.closed@1.0.0';

const schema = `hist_${rand()}`;
const c = accountContract(`h${rand()}`);
let store: EventStore;
let admin: pg.Pool;

beforeAll(async () => {
  admin = new pg.Pool({ ...PG, max: 2 });
  store = await createEventStore({ backend: await PostgresEventStoreBackend.connect({ connection: PG, schema }), events: c.all, upcasters: c.upcasters, source: 'payments-service' });
  await store.append(c.stream('acc1'), [{ event: c.opened, data: { accountId: 'acc1', owner: 'ada' }, correlationId: 'corr-1' }]);
  await store.append(c.stream('acc1'), [{ event: c.deposited, data: { accountId: 'acc1', amount: 5, n: 1 } }]);
  await store.append(c.stream('acc1'), [{ event: c.deposited, data: { accountId: 'acc1', amount: 7 } }]);
  await store.append(c.stream('evil'), [{ event: c.opened, data: { accountId: 'evil', owner: HOSTILE }, correlationId: HOSTILE }]);
});
afterAll(async () => {
  await store.close();
  await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await admin.end();
});

describe('the view diff', () => {
  it('merges payloads (null removes) and lists added, changed and removed fields as JSON pointers', () => {
    const v1 = mergePayload({}, { a: 1, o: { x: 1 } });
    const v2 = mergePayload(v1, { a: 2, o: { y: 'n' }, 'k/~': true, gone: null });
    const v3 = mergePayload(v2, { a: null });
    expect(diffViews({}, v1)).toEqual([
      { op: 'add', path: '/a', to: 1 },
      { op: 'add', path: '/o', to: { x: 1 } },
    ]);
    expect(diffViews(v1, v2)).toEqual([
      { op: 'change', path: '/a', from: 1, to: 2 },
      { op: 'add', path: '/k~1~0', to: true },
      { op: 'add', path: '/o/y', to: 'n' },
    ]);
    expect(diffViews(v2, v3)).toEqual([{ op: 'remove', path: '/a', from: 2 }]);
  });

  it('survives a payload nested deeper than any stack', () => {
    let deep: Record<string, unknown> = {};
    for (let i = 0; i < 100_000; i++) deep = { d: deep };
    const before = mergePayload({}, deep);
    const after = mergePayload(before, { ...deep, x: 1 });
    expect(diffViews({}, after)).toHaveLength(2);
    expect(diffViews(before, after)).toEqual([{ op: 'add', path: '/x', to: 1 }]);
    const listing = formatHistory('d.a.e', [{ streamVersion: 1, checkpoint: '1', type: 't', version: '1.0.0', source: 's', time: 'now', changes: diffViews({}, after) }]);
    expect(listing).toContain('+ /d: (too deeply nested to show)');
  });

  it('printable escapes controls, C1 and bidi characters and leaves other text alone', () => {
    expect(printable('a\u001b[1mb\u009b\u202ec\ud83d\ude00é\n')).toBe('a\\x1b[1mb\\x9b\\u202ec\ud83d\ude00é\\x0a');
  });
});

describe('event-contracts history', () => {
  it('lists an entity’s events with time, type@version, source, correlation and what each changed', async () => {
    const run = await runCli(['history', c.stream('acc1'), '--store', 'pg', '--database', URL, '--schema', schema]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const out = run.stdout;
    expect(out).toContain(`${c.stream('acc1')}: 3 events`);
    expect(out).toMatch(new RegExp(`v1  \\d{4}-\\d\\d-\\d\\dT[^ ]+Z  ${c.opened.type}@1\\.0\\.0  source payments-service  correlation corr-1`));
    expect(out).toContain('    + /owner: "ada"');
    expect(out).toContain('    ~ /amount: 5 → 7');
    // v2 added amount and n; v3 changed amount only.
    expect(out.split('\n\n')[3]).not.toContain('/n');
  });

  it('--format json gives the same as data', async () => {
    const run = await runCli(['history', c.stream('acc1'), '--database', URL, '--schema', schema, '--format', 'json']);
    expect(run.code).toBe(0);
    const doc = JSON.parse(run.stdout) as { events: Array<{ streamVersion: number; type: string; changes: unknown[]; correlationId?: string }> };
    expect(doc.events.map((e) => e.streamVersion)).toEqual([1, 2, 3]);
    expect(doc.events[2]!.changes).toEqual([{ op: 'change', path: '/amount', from: 5, to: 7 }]);
    expect(doc.events[0]!.correlationId).toBe('corr-1');
  });

  it('never writes terminal control characters from the store raw, in either format', async () => {
    // The typed store refuses none of these (they are valid strings); a raw record adds a hostile type and source too.
    const backend = await PostgresEventStoreBackend.connect({ connection: PG, schema, migrate: false });
    await backend.append({ streamId: c.stream('evil'), domain: c.domain, aggregate: c.aggregate, entityId: 'evil' }, [
      { id: HOSTILE, type: HOSTILE, version: HOSTILE, source: HOSTILE, time: new Date().toISOString(), data: { [HOSTILE]: HOSTILE }, metadata: {}, correlationId: HOSTILE },
    ], 'any');
    await backend.close();
    for (const format of ['human', 'json']) {
      const run = await runCli(['history', c.stream('evil'), '--database', URL, '--schema', schema, '--format', format]);
      expect(run.code).toBe(0);
      expect(run.stdout).not.toMatch(RAW_CONTROL);
      expect(run.stderr).not.toMatch(RAW_CONTROL);
      if (format === 'json') expect((JSON.parse(run.stdout) as { events: Array<{ source: string }> }).events[1]!.source).toBe(HOSTILE);
      // The forged "FAKE v9" line stays inside the escaped text, never on a line of its own.
      else expect(run.stdout.split('\n').some((line) => line.startsWith('FAKE'))).toBe(false);
    }
  });

  it('shows an empty history for a stream with no events', async () => {
    const run = await runCli(['history', c.stream('nobody'), '--database', URL, '--schema', schema]);
    expect(run).toMatchObject({ code: 0, stdout: `${c.stream('nobody')}: 0 events\n` });
  });

  it('refuses a malformed stream id, and says so without echoing control characters', async () => {
    const run = await runCli(['history', 'not-a-stream\u001b[2J', '--database', URL]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/history: invalid stream id/);
    expect(run.stderr).not.toMatch(RAW_CONTROL);
  });

  it('says when the store is unreachable or not there, without the password', async () => {
    const down = await runCli(['history', c.stream('acc1'), '--database', 'postgres://postgres:s3cret@127.0.0.1:1/test']);
    expect(down.code).toBe(2);
    expect(down.stderr).toMatch(/cannot read from PostgreSQL postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:1\/test: .*ECONNREFUSED/);
    expect(down.stderr).not.toContain('s3cret');
    const missing = await runCli(['history', c.stream('acc1'), '--database', URL, '--schema', `nothing_${rand()}`]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/no event store in PostgreSQL .*--schema names another/);
  });

  it('reads a JetStream event store with --store nats', async () => {
    const jc = accountContract(`n${rand()}`);
    const backend = await JetStreamEventStoreBackend.connect({ servers: '127.0.0.1:4222', storage: 'memory' });
    const js = await createEventStore({ backend, events: jc.all, upcasters: jc.upcasters, source: 'js-test' });
    try {
      await js.append(jc.stream('j1'), [{ event: jc.opened, data: { accountId: 'j1', owner: 'bo' } }]);
      await js.append(jc.stream('j1'), [{ event: jc.deposited, data: { accountId: 'j1', amount: 3 } }]);
      const run = await runCli(['history', jc.stream('j1'), '--store', 'nats', '--server', '127.0.0.1:4222']);
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(run.stdout).toContain(`${jc.stream('j1')}: 2 events`);
      expect(run.stdout).toContain('source js-test');
      expect(run.stdout).toContain('    + /amount: 3');
    } finally {
      await deleteStreams(jc.domain);
      await js.close();
    }
  });
});

/** Removes the test's JetStream streams (their names carry the test's unique domain). */
async function deleteStreams(domain: string): Promise<void> {
  const { connect } = await import('@nats-io/transport-node');
  const { jetstreamManager } = await import('@nats-io/jetstream');
  const nc = await connect({ servers: '127.0.0.1:4222' });
  const jsm = await jetstreamManager(nc);
  for await (const s of jsm.streams.list()) if (s.config.name.toLowerCase().includes(domain.toLowerCase())) await jsm.streams.delete(s.config.name);
  await nc.close();
}

describe('event-contracts replay', () => {
  let dir = '';
  useScratchWorkspace('cli-replay', (d) => (dir = d));
  const runnerSchema = `replay_${rand()}`;
  beforeAll(async () => {
    await admin.query(`CREATE SCHEMA "${runnerSchema}"`);
  });
  afterAll(async () => {
    await admin.query(`DROP SCHEMA IF EXISTS "${runnerSchema}" CASCADE`);
  });

  /** A projection module as a user writes it: its own store and pool, a factory as default export. */
  function writeProjection(file: string, options: { database?: string } = {}): void {
    const src = path.resolve(__dirname, '../src/runtime/event-store');
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    writeFileSync(
      path.join(dir, file),
      `import pg from 'pg';
import { createEventStore, PostgresEventStoreBackend } from ${JSON.stringify(path.join(src, 'index.ts'))};
import { createProjectionRunner } from ${JSON.stringify(path.join(src, 'projection.ts'))};
import { accountContract } from ${JSON.stringify(path.resolve(__dirname, 'runtime/event-store/contract.ts'))};
export default async function () {
  const c = accountContract(${JSON.stringify(c.domain)});
  const connection = ${options.database ? JSON.stringify({ connectionString: options.database }) : JSON.stringify(PG)};
  const pool = new pg.Pool(connection);
  const store = await createEventStore({ backend: await PostgresEventStoreBackend.connect({ connection, schema: ${JSON.stringify(schema)}, migrate: false }), events: c.all, upcasters: c.upcasters, source: 'replay' });
  const runner = createProjectionRunner({
    store, pool, name: 'owners', schema: ${JSON.stringify(runnerSchema)}, readModelSchema: ${JSON.stringify(runnerSchema)}, batchSize: 2,
    prepare: async (tx) => { await tx.query('CREATE TABLE ' + tx.table('owners') + ' (account text, owner text)'); },
    handle: async (event, tx) => {
      if (event.type !== c.opened.type) return;
      if (event.data.owner.includes('\\u001b')) throw new Error('refusing ' + event.data.owner);
      await tx.query('INSERT INTO ' + tx.table('owners') + ' VALUES ($1, $2)', [event.data.accountId, event.data.owner]);
    },
  });
  return { runner, close: async () => { await store.close(); await pool.end(); } };
}
`,
    );
  }

  function writeConfig(projections: Record<string, string>): void {
    writeFileSync(path.join(dir, 'event-contracts.config.json'), JSON.stringify({ projections }));
  }

  it('rebuilds the projection the config names, with progress on stderr, and again into the next generation', async () => {
    writeProjection('projections/owners.mts');
    writeConfig({ owners: './projections/owners.mts' });
    const first = await runCli(['replay', '--projection', 'owners']);
    expect(first.code).toBe(0);
    // The hostile owner is refused by the handler (and, when the history tests ran first, their raw record has an unknown type).
    const summary = /^rebuilt projection owners: generation 1, \d+ events, (\d+) dead letters\n$/.exec(first.stdout);
    expect(summary).not.toBeNull();
    expect(first.stderr).toMatch(/owners: generation 1 is active \(\d+ events\)/);
    expect(first.stderr).toContain(`${summary![1]} events went to the dead-letter table`);
    expect(first.stderr).not.toMatch(RAW_CONTROL);
    const letters = await admin.query(`SELECT reason, detail FROM "${runnerSchema}"."event_projection_dead_letters" WHERE generation = 1`);
    expect(letters.rows).toHaveLength(Number(summary![1]));
    expect(letters.rows).toContainEqual({ reason: 'handler-failed', detail: expect.stringMatching(/^Error: refusing evil/) });
    const { rows } = await admin.query(`SELECT account, owner FROM "${runnerSchema}"."owners_g1" ORDER BY account`);
    expect(rows).toEqual([{ account: 'acc1', owner: 'ada' }]);

    const second = await runCli(['replay', '--projection', 'owners', '--format', 'json']);
    expect(second.code).toBe(0);
    expect(JSON.parse(second.stdout)).toMatchObject({ projection: 'owners', generation: 2, deadLetters: Number(summary![1]) });
    const active = await admin.query(`SELECT generation FROM "${runnerSchema}"."event_projections" WHERE projection = 'owners' AND status = 'active'`);
    expect(active.rows).toEqual([{ generation: 2 }]);
  });

  it('names the projections there are when asked for an unknown one', async () => {
    writeConfig({ owners: './projections/owners.mts', balances: './b.js' });
    const run = await runCli(['replay', '--projection', 'nope\u001b[2J']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/unknown projection 'nope\\x1b\[2J'; the config names owners, balances/);
  });

  it('says how to declare projections when the config has none, and when a module is missing or exports no factory', async () => {
    writeFileSync(path.join(dir, 'event-contracts.config.json'), '{}');
    expect((await runCli(['replay', '--projection', 'owners'])).stderr).toMatch(/add it to event-contracts.config.json: "projections": \{ "owners"/);
    writeConfig({ owners: './missing.js' });
    expect((await runCli(['replay', '--projection', 'owners'])).stderr).toMatch(/missing\.js does not exist/);
    writeFileSync(path.join(dir, 'nofactory.mjs'), 'export const x = 1;\n');
    writeConfig({ owners: './nofactory.mjs' });
    const run = await runCli(['replay', '--projection', 'owners']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/must export a factory/);
  });

  it('says when the database cannot be reached', async () => {
    writeProjection('projections/down.mts', { database: 'postgres://postgres@127.0.0.1:1/test' });
    writeConfig({ owners: './projections/down.mts' });
    const run = await runCli(['replay', '--projection', 'owners']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/replay owners: the database or event store cannot be reached: .*ECONNREFUSED/);
  });
});
