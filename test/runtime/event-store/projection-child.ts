/**
 * A projection runner in a process of its own, for the crash test in projection.test.ts:
 * it follows a PostgreSQL event store into a read model that is NOT idempotent (a plain
 * INSERT per event), printing "applied <n>" every 7 events, until it is killed. With a
 * fourth argument n, its handler stops inside the transaction at the n-th event and says
 * "hanging": the kill then lands with that batch's writes made but not committed.
 * argv: <store schema> <runner schema> <domain> [n]
 */
import pg from 'pg';
import { createEventStore, PostgresEventStoreBackend } from '../../../src/runtime/event-store/index.js';
import { createProjectionRunner } from '../../../src/runtime/event-store/projection.js';
import { accountContract } from './contract.js';
import { PG } from './pg-helpers.js';

const [storeSchema, runnerSchema, domain, hangAt] = process.argv.slice(2) as [string, string, string, string | undefined];
const c = accountContract(domain);
const store = await createEventStore({ backend: await PostgresEventStoreBackend.connect({ connection: PG, schema: storeSchema, migrate: false }), events: c.all, upcasters: c.upcasters, source: 'child' });
const pool = new pg.Pool({ ...PG, max: 2 });
let applied = 0;
const runner = createProjectionRunner({
  store,
  pool,
  name: 'crash',
  schema: runnerSchema,
  readModelSchema: runnerSchema,
  batchSize: 7,
  prepare: async (tx) => {
    await tx.query(`CREATE TABLE ${tx.table('applied')} (event_id text NOT NULL, amount integer NOT NULL)`);
  },
  handle: async (event, tx) => {
    await tx.query(`INSERT INTO ${tx.table('applied')} (event_id, amount) VALUES ($1, $2)`, [event.id, (event.data as { amount: number }).amount]);
    applied++;
    if (applied % 7 === 0) process.stdout.write(`applied ${applied}\n`);
    if (hangAt !== undefined && applied === Number(hangAt)) {
      process.stdout.write('hanging\n');
      await new Promise(() => undefined);
    }
  },
});
await runner.migrate();
await runner.start();
process.stdout.write('live\n');
