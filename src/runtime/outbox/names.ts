/**
 * Where an outbox lives, resolved once: every SQL text the outbox runs takes its table,
 * sequence, function and trigger names from here, quoted, so a schema or table name from
 * configuration is never pasted into SQL raw (a name like `x"; DROP TABLE users; --` is an
 * odd but harmless identifier).
 */
import { createHash } from 'node:crypto';
import { EventContractsError } from '../errors.js';

/** The outbox configuration is unusable (a name PostgreSQL cannot hold, a missing option). */
export class OutboxConfigError extends EventContractsError {}

export interface OutboxLocation {
  readonly schema: string;
  readonly table: string;
  /** `"schema"`, ready for SQL text. */
  readonly quotedSchema: string;
  /** `"schema"."table"`, ready for SQL text. */
  readonly qualified: string;
  /** The commit-order sequence (positions are drawn at commit; see migrate.ts). */
  readonly positionSequence: string;
  /** The function behind the commit trigger, and the trigger's own (unqualified) name. */
  readonly commitFunction: string;
  readonly commitTrigger: string;
  /** Partial index on the positions of the rows not marked failed (the relay reads by position). */
  readonly pendingIndex: string;
  /** One row: the position up to which every committed row is published or marked failed. */
  readonly progressTable: string;
  /** Unqualified names, for catalog look-ups made with bound parameters. */
  readonly raw: { readonly commitTrigger: string };
  /** LISTEN/NOTIFY channel: a digest of the location, so it is short and needs no quoting. */
  readonly channel: string;
}

export const DEFAULT_SCHEMA = 'public';
export const DEFAULT_TABLE = 'event_outbox';

/** PostgreSQL keeps 63 bytes of a name; longer ones are cut, and two cut names could clash. */
const MAX_NAME_BYTES = 63;
/** The longest suffix a derived name adds (`_commit_position`). */
const LONGEST_SUFFIX = '_commit_position';

/** `"name"` with inner quotes doubled: the one way a name reaches SQL text. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function checkName(kind: string, name: string, room: number): void {
  if (typeof name !== 'string' || name.length === 0) throw new OutboxConfigError(`outbox ${kind} name must be a non-empty string`);
  // NUL cannot be stored in a PostgreSQL name; other control characters are refused so a
  // name always prints legibly in errors and logs.
  if (/[\u0000-\u001f\u007f]/.test(name)) throw new OutboxConfigError(`outbox ${kind} name ${JSON.stringify(name)} contains a control character`);
  const bytes = Buffer.byteLength(name, 'utf8');
  if (bytes > room) throw new OutboxConfigError(`outbox ${kind} name ${JSON.stringify(name)} is ${bytes} bytes; at most ${room} fit (PostgreSQL keeps ${MAX_NAME_BYTES} bytes of a name, and the outbox derives names from it)`);
}

export function outboxLocation(schema = DEFAULT_SCHEMA, table = DEFAULT_TABLE): OutboxLocation {
  checkName('schema', schema, MAX_NAME_BYTES);
  checkName('table', table, MAX_NAME_BYTES - LONGEST_SUFFIX.length);
  const s = quoteIdent(schema);
  const derived = (suffix: string) => `${s}.${quoteIdent(table + suffix)}`;
  const digest = createHash('sha256').update(`${schema}\u0000${table}`).digest('hex').slice(0, 24);
  return {
    schema,
    table,
    quotedSchema: s,
    qualified: `${s}.${quoteIdent(table)}`,
    positionSequence: derived('_position'),
    commitFunction: derived('_commit_position'),
    commitTrigger: quoteIdent(table + '_commit'),
    pendingIndex: quoteIdent(table + '_pending'),
    progressTable: derived('_progress'),
    raw: { commitTrigger: table + '_commit' },
    channel: `outbox_${digest}`,
  };
}

/**
 * Advisory lock namespaces (the first key of the two-key form; the second is the table's
 * oid). COMMIT is taken, shared, by each writing transaction at commit (the relay reads who
 * holds it); RELAY by the leading relay, for as long as it leads; MIGRATE by a migration.
 */
export const LOCK = { COMMIT: 0x0b0c_0001, RELAY: 0x0b0c_0002, MIGRATE: 0x0b0c_0003 } as const;

/** SQL for the second lock key from an oid expression: oids are unsigned 32-bit, lock keys signed. */
export const oidLockKey = (oidExpr: string): string => `((${oidExpr})::bigint - 2147483648)::int4`;
