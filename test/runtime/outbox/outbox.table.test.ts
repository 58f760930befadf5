/**
 * The outbox table and add(): the migration is idempotent and quotes every name it is
 * given; positions are drawn at commit, so they follow commit order; add() refuses what
 * the bus would refuse before writing anything, writes nothing that is rolled back, and
 * stores what the relay needs to send the very envelope the bus would have sent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { createEventBus, EventValidationError, HeaderValidationError, AddressParameterError, MemoryTransport } from '../../../src/runtime/index.js';
import { createOutbox, createOutboxRelay, migrateOutbox, OutboxConfigError, OutboxEventIdConflictError } from '../../../src/runtime/outbox/index.js';
import { rand, waitFor } from '../helpers.js';
import { orderPlaced, orderShipped } from './fixture.js';
import { dropSchema, inTransaction, newPool, schemaName } from './pg-helpers.js';

describe('outbox table', () => {
  let pool: pg.Pool;
  const schemas: string[] = [];
  const fresh = (tag: string) => {
    const s = schemaName(tag);
    schemas.push(s);
    return s;
  };
  beforeAll(() => {
    pool = newPool();
  });
  afterAll(async () => {
    for (const s of schemas) await dropSchema(pool, s);
    await pool.end();
  });

  it('migrates idempotently, also when instances run it at once', async () => {
    const schema = fresh('mig');
    await Promise.all([migrateOutbox(pool, { schema }), migrateOutbox(pool, { schema }), migrateOutbox(pool, { schema })]);
    await migrateOutbox(pool, { schema });
    const cols = await pool.query(`SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'event_outbox' ORDER BY ordinal_position`, [schema]);
    expect(cols.rows.map((r) => r.column_name)).toEqual(expect.arrayContaining(['id', 'position', 'event_id', 'type', 'version', 'subject', 'headers', 'body', 'created_at', 'committed_at', 'failed_at', 'error']));
    expect(cols.rows.map((r) => r.column_name)).not.toContain('published_at');
    const triggers = await pool.query(`SELECT count(*)::int AS n FROM pg_trigger WHERE tgrelid = $1::regclass AND NOT tgisinternal`, [`"${schema}"."event_outbox"`]);
    expect(triggers.rows[0].n).toBe(1);
    // One progress row, however many instances migrated.
    const progress = await pool.query(`SELECT published_through::text AS p FROM "${schema}"."event_outbox_progress"`);
    expect(progress.rows).toEqual([{ p: '0' }]);
  });

  it('a hostile schema or table name is quoted, never run: the table gets that odd name and nothing else happens', async () => {
    // Short, so that code built from it still fits PostgreSQL's 63-byte names.
    const schema = `h${rand()}`;
    schemas.push(schema);
    await pool.query(`CREATE SCHEMA "${schema}"`);
    await pool.query(`CREATE TABLE "${schema}".victim (x int)`);
    const table = `x"; DROP TABLE "${schema}".victim; --`;
    const loc = await migrateOutbox(pool, { schema, table });
    await migrateOutbox(pool, { schema, table });
    const names = await pool.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1`, [schema]);
    expect(names.rows.map((r) => r.table_name).sort()).toEqual([table, `${table}_progress`, 'victim'].sort());
    // And the odd table works as an outbox: add, commit, a position at commit.
    const ev = orderPlaced(`h${rand()}`);
    const outbox = createOutbox({ events: [ev], source: 'test/outbox', schema, table });
    await inTransaction(pool, (tx) => outbox.add(tx, ev, { orderId: 'o1', seq: 1 }, { params: { orderId: 'o1' } }));
    const rows = await pool.query(`SELECT position FROM ${loc.qualified}`);
    expect(rows.rows).toHaveLength(1);
    expect(rows.rows[0].position).not.toBeNull();
    // A schema name that is code, too.
    const evilSchema = `${schema}"; DROP TABLE "${schema}".victim; --`;
    schemas.push(evilSchema);
    await migrateOutbox(pool, { schema: evilSchema });
    expect((await pool.query(`SELECT count(*)::int AS n FROM "${schema}".victim`)).rows[0].n).toBe(0);
  });

  it.each([
    ['empty', ''],
    ['NUL', 'a\u0000b'],
    ['a newline', 'a\nb'],
    ['too long to derive names from', 'x'.repeat(60)],
  ])('a table name with %s is refused with OutboxConfigError', async (_what, table) => {
    await expect(migrateOutbox(pool, { schema: 'public', table })).rejects.toBeInstanceOf(OutboxConfigError);
    expect(() => createOutbox({ events: [], source: 's', table })).toThrow(OutboxConfigError);
  });

  it('positions follow commit order, not insert order: the transaction that inserts first but commits last gets the higher position', async () => {
    const schema = fresh('order');
    await migrateOutbox(pool, { schema });
    const ev = orderPlaced(`o${rand()}`);
    const outbox = createOutbox({ events: [ev], source: 'test/outbox', schema });
    const first = await pool.connect();
    const second = await pool.connect();
    try {
      await first.query('BEGIN');
      await second.query('BEGIN');
      const a = await outbox.add(first, ev, { orderId: 'a', seq: 1 }, { params: { orderId: 'a' } });
      const b = await outbox.add(second, ev, { orderId: 'b', seq: 2 }, { params: { orderId: 'b' } });
      expect(Number(a.row)).toBeLessThan(Number(b.row));
      await second.query('COMMIT');
      // Committed: visible, with its position. The first is invisible until it commits.
      const mid = await pool.query(`SELECT event_id, position FROM "${schema}".event_outbox`);
      expect(mid.rows.map((r) => r.event_id)).toEqual([b.id]);
      await first.query('COMMIT');
      const rows = await pool.query(`SELECT event_id FROM "${schema}".event_outbox ORDER BY position`);
      expect(rows.rows.map((r) => r.event_id)).toEqual([b.id, a.id]);
    } finally {
      first.release();
      second.release();
    }
  });

  it('refuses before writing: invalid payload, headers, parameters; an unknown descriptor; a pool in place of the transaction', async () => {
    const schema = fresh('refuse');
    await migrateOutbox(pool, { schema });
    const prefix = `r${rand()}`;
    const ev = orderPlaced(prefix);
    const shipped = orderShipped(prefix);
    const outbox = createOutbox({ events: [ev, shipped], source: 'test/outbox', schema });
    const tx = await pool.connect();
    try {
      await tx.query('BEGIN');
      await expect(outbox.add(tx, ev, { orderId: '', seq: 1 }, { params: { orderId: 'x' } })).rejects.toBeInstanceOf(EventValidationError);
      await expect(outbox.add(tx, ev, { orderId: 'x', seq: 1 }, { params: { orderId: 'a.b' } })).rejects.toBeInstanceOf(AddressParameterError);
      await expect(outbox.add(tx, ev, { orderId: 'x', seq: 1 }, { params: {} })).rejects.toBeInstanceOf(AddressParameterError);
      await expect(outbox.add(tx, shipped, { eventId: rand(), orderId: 'x' }, { params: { orderId: 'x' }, headers: { 'x-tenant': 'NOT VALID' } })).rejects.toBeInstanceOf(HeaderValidationError);
      await expect(outbox.add(tx, shipped, { eventId: rand(), orderId: 'x' }, { params: { orderId: 'x' }, headers: { 'x-tenant': 'acme', 'ce-type': 'forged' } })).rejects.toBeInstanceOf(HeaderValidationError);
      await expect(outbox.add(tx, orderPlaced('other'), { orderId: 'x', seq: 1 }, { params: { orderId: 'x' } })).resolves.toBeDefined();
      const stranger = { ...ev, type: 'order.unknown' };
      await expect(outbox.add(tx, stranger, { orderId: 'x', seq: 1 }, { params: { orderId: 'x' } })).rejects.toBeInstanceOf(OutboxConfigError);
      // The refusals left the transaction usable (no SQL error happened): it still commits.
      await tx.query('COMMIT');
    } finally {
      tx.release();
    }
    await expect(outbox.add(pool, ev, { orderId: 'x', seq: 1 }, { params: { orderId: 'x' } })).rejects.toBeInstanceOf(OutboxConfigError);
    // Only the one valid add (same type@version, another prefix: the descriptor's address is its own) was written.
    expect((await pool.query(`SELECT count(*)::int AS n FROM "${schema}".event_outbox`)).rows[0].n).toBe(1);
  });

  it('a rolled-back transaction leaves no row; the same event id added twice is one row; another event under that id is refused', async () => {
    const schema = fresh('tx');
    await migrateOutbox(pool, { schema });
    const ev = orderPlaced(`t${rand()}`);
    const outbox = createOutbox({ events: [ev], source: 'test/outbox', schema });
    await expect(
      inTransaction(pool, async (tx) => {
        await outbox.add(tx, ev, { orderId: 'a', seq: 1 }, { params: { orderId: 'a' }, id: 'rolled-back' });
        throw new Error('business rule failed');
      }),
    ).rejects.toThrow('business rule failed');
    expect((await pool.query(`SELECT count(*)::int AS n FROM "${schema}".event_outbox`)).rows[0].n).toBe(0);

    const first = await inTransaction(pool, (tx) => outbox.add(tx, ev, { orderId: 'a', seq: 1 }, { params: { orderId: 'a' }, id: 'e-1' }));
    const again = await inTransaction(pool, (tx) => outbox.add(tx, ev, { orderId: 'a', seq: 1 }, { params: { orderId: 'a' }, id: 'e-1' }));
    expect(first.duplicate).toBe(false);
    expect(again).toMatchObject({ id: 'e-1', duplicate: true, row: first.row });
    await expect(inTransaction(pool, (tx) => outbox.add(tx, ev, { orderId: 'a', seq: 2 }, { params: { orderId: 'a' }, id: 'e-1' }))).rejects.toBeInstanceOf(OutboxEventIdConflictError);
    expect((await pool.query(`SELECT count(*)::int AS n FROM "${schema}".event_outbox`)).rows[0].n).toBe(1);
  });

  it('an add notifies the relay channel at commit, once per transaction; with notify: false it does not', async () => {
    const schema = fresh('notify');
    await migrateOutbox(pool, { schema });
    const ev = orderPlaced(`n${rand()}`);
    const loud = createOutbox({ events: [ev], source: 'test/outbox', schema });
    const quiet = createOutbox({ events: [ev], source: 'test/outbox', schema, notify: false });
    const listener = await pool.connect();
    const heard: string[] = [];
    listener.on('notification', (n) => heard.push(n.channel));
    try {
      await listener.query(`LISTEN ${loud.location.channel}`);
      await inTransaction(pool, (tx) => quiet.add(tx, ev, { orderId: 'a', seq: 1 }, { params: { orderId: 'a' } }));
      await inTransaction(pool, async (tx) => {
        await loud.add(tx, ev, { orderId: 'a', seq: 2 }, { params: { orderId: 'a' } });
        await loud.add(tx, ev, { orderId: 'a', seq: 3 }, { params: { orderId: 'a' } });
      });
      await expect(inTransaction(pool, async (tx) => {
        await loud.add(tx, ev, { orderId: 'a', seq: 4 }, { params: { orderId: 'a' } });
        throw new Error('rolled back');
      })).rejects.toThrow('rolled back');
      await inTransaction(pool, (tx) => loud.add(tx, ev, { orderId: 'a', seq: 5 }, { params: { orderId: 'a' } }));
      // Notifications arrive in commit order: once the last commit's is here, any earlier one would be too.
      await waitFor(() => heard.length >= 2, 10_000, 'two notifications');
      expect(heard).toEqual([loud.location.channel, loud.location.channel]);
    } finally {
      await listener.query('UNLISTEN *');
      listener.release();
    }
  });

  it('the relay sends the envelope the bus would have sent at add time (id, time, correlation, causation, headers, trace, body)', async () => {
    const schema = fresh('env');
    await migrateOutbox(pool, { schema });
    const prefix = `e${rand()}`;
    const shipped = orderShipped(prefix);
    const outbox = createOutbox({ events: [shipped], source: 'test/outbox', schema });
    const when = new Date('2026-01-02T03:04:05.678Z');
    const options = { params: { orderId: 'o7' }, headers: { 'x-tenant': 'acme' }, causationId: 'cause-1', metadata: { by: 'test' }, timestamp: when, orderingKey: 'o7' };
    const data = { eventId: `ship-${rand()}`, orderId: 'o7' };

    const direct = new MemoryTransport();
    const bus = createEventBus({ transport: direct, source: 'test/outbox' });
    await bus.publish(shipped, data, options);

    await inTransaction(pool, (tx) => outbox.add(tx, shipped, data, options));
    const relayed = new MemoryTransport();
    const relay = createOutboxRelay({ pool, outbox, transport: relayed, pollIntervalMs: 50 });
    await relay.start();
    try {
      await waitFor(() => relayed.messages('>').length === 1, 10_000, 'the relayed event');
    } finally {
      await relay.stop();
    }
    const [a] = direct.messages('>');
    const [b] = relayed.messages('>');
    const headers = (m: typeof a) => Object.fromEntries([...m!.headers.keys()].map((k) => [k, m!.headers.get(k)]));
    const ha = headers(a);
    const hb = headers(b);
    // The trace: each was started where the event was made (a new trace per publish here).
    expect(hb['traceparent']).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    delete ha['traceparent'];
    delete hb['traceparent'];
    expect(hb).toEqual(ha);
    expect(hb['ce-id']).toBe(data.eventId);
    expect(hb['ce-time']).toBe(when.toISOString());
    expect(b!.subject).toBe(a!.subject);
    expect(Buffer.from(b!.body).toString()).toBe(Buffer.from(a!.body).toString());
    await bus.close();
  });
});
