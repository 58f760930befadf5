/** The conformance suite on PostgreSQL (127.0.0.1:5432, database test), in a schema of its own per run, dropped at the end. */
import pg from 'pg';
import { PostgresEventStoreBackend } from '../../../src/runtime/event-store/postgres/index.js';
import { rand } from '../helpers.js';
import { PG } from './pg-helpers.js';
import { describeEventStoreConformance } from './conformance.js';


describeEventStoreConformance('postgres', async () => {
  const schema = `es_test_${rand()}`;
  const admin = new pg.Client(PG);
  await admin.connect();
  const s = `"${schema}"`;
  return {
    backend: () => PostgresEventStoreBackend.connect({ connection: { ...PG, max: 4 }, schema, pollMs: 500 }),
    writeRaw: async (streamId, raw) => {
      const [domain = '', aggregate = ''] = streamId.split('.');
      const r = 'garbage' in raw ? { id: '', type: 'x', version: 'not-a-version', source: '', time: new Date().toISOString(), data: 'x', metadata: 'not an object' } : raw.record;
      await admin.query(
        `INSERT INTO ${s}.events (stream_id, version, domain, aggregate, event_id, type, type_version, source, time, data, metadata)
         SELECT $1, coalesce(max(version), 0) + 1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10::jsonb FROM ${s}.events WHERE stream_id = $1`,
        [streamId, domain, aggregate, r['id'], r['type'], r['version'], r['source'], r['time'], JSON.stringify(r['data']), JSON.stringify(r['metadata'])],
      );
    },
    cleanup: async () => {
      await admin.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
      await admin.end();
    },
  };
});
