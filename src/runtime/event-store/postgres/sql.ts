/**
 * SQL text for the PostgreSQL backend. Every name that comes from configuration (the schema)
 * is quoted by quoteIdent; every value travels as a parameter, except two constants computed
 * here from the schema name (the advisory lock key, digits only, and the NOTIFY channel,
 * hex only), which are quoted anyway.
 */
import { millisSql } from '../../pg-time.js';
import { createHash } from 'node:crypto';

/** `"name"` with embedded quotes doubled: any text is a safe identifier this way. NUL is refused (PostgreSQL cannot hold it). */
export function quoteIdent(name: string): string {
  if (typeof name !== 'string' || name === '' || name.includes('\u0000') || name.length > 63) {
    throw new TypeError(`'${String(name).slice(0, 80)}' cannot be a PostgreSQL identifier (1 to 63 characters, no NUL)`);
  }
  return '"' + name.replace(/"/g, '""') + '"';
}

export function quoteLiteral(value: string): string {
  if (value.includes('\u0000')) throw new TypeError('a PostgreSQL literal cannot hold NUL');
  return "'" + value.replace(/'/g, "''") + "'";
}

/** Per-schema constants: two stores in two schemas never share a lock or a channel. */
export function schemaConstants(schema: string): { lockKey: string; channel: string } {
  const h = createHash('sha256').update(schema).digest();
  return { lockKey: h.readBigInt64BE(0).toString(), channel: 'event_store_' + h.subarray(8, 16).toString('hex') };
}

/** Migrations in order; `migrate()` applies those above the version table's highest. */
export function migrations(schema: string): ReadonlyArray<{ version: number; sql: string }> {
  const s = quoteIdent(schema);
  const { lockKey, channel } = schemaConstants(schema);
  return [
    {
      version: 1,
      sql: `
CREATE TABLE ${s}.events (
  position       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  stream_id      text NOT NULL,
  version        integer NOT NULL,
  domain         text NOT NULL,
  aggregate      text NOT NULL,
  event_id       text NOT NULL,
  type           text NOT NULL,
  type_version   text NOT NULL,
  source         text NOT NULL,
  time           timestamptz NOT NULL,
  correlation_id text,
  causation_id   text,
  data           jsonb NOT NULL,
  metadata       jsonb NOT NULL,
  CONSTRAINT events_stream_version UNIQUE (stream_id, version)
);
CREATE INDEX events_aggregate_position ON ${s}.events (aggregate, position);

-- One append: lock, check the expected version, insert in order, notify. The transaction-scoped
-- advisory lock serialises appends of this schema, so positions become visible in order and a
-- subscriber reading "position > N" never skips a lower position that commits later.
CREATE FUNCTION ${s}.append_events(p_stream text, p_domain text, p_aggregate text, p_expected integer, p_events jsonb)
RETURNS TABLE (appended boolean, stream_version integer, last_position bigint)
LANGUAGE plpgsql VOLATILE AS $fn$
DECLARE
  cur integer;
  n integer;
  last bigint;
BEGIN
  PERFORM pg_advisory_xact_lock(${lockKey});
  SELECT coalesce(max(e.version), 0) INTO cur FROM ${s}.events e WHERE e.stream_id = p_stream;
  IF p_expected IS NOT NULL AND p_expected <> cur THEN
    RETURN QUERY SELECT false, cur, NULL::bigint;
    RETURN;
  END IF;
  WITH inserted AS (
    INSERT INTO ${s}.events (stream_id, version, domain, aggregate, event_id, type, type_version, source, time, correlation_id, causation_id, data, metadata)
    SELECT p_stream, cur + t.ord::integer, p_domain, p_aggregate, t.e->>'id', t.e->>'type', t.e->>'version', t.e->>'source',
           (t.e->>'time')::timestamptz, t.e->>'correlationId', t.e->>'causationId', t.e->'data', coalesce(t.e->'metadata', '{}'::jsonb)
    FROM jsonb_array_elements(p_events) WITH ORDINALITY AS t(e, ord)
    ORDER BY t.ord
    RETURNING position
  )
  SELECT count(*), max(position) INTO n, last FROM inserted;
  IF n > 0 THEN
    PERFORM pg_notify(${quoteLiteral(channel)}, '');
  END IF;
  RETURN QUERY SELECT true, cur + n, last;
END
$fn$;
`,
    },
  ];
}

/**
 * The columns every read selects, in the order rowToRecord expects (rowMode 'array'); the
 * time in whole milliseconds, NULL when infinite (decoded as corrupt; see pg-time.ts).
 */
export const COLUMNS = `position, stream_id, version, event_id, type, type_version, source, ${millisSql('time')} AS time_ms, correlation_id, causation_id, data, metadata`;
