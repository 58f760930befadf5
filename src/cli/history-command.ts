/**
 * `event-contracts history <streamId>`: an entity's events for a person to read, oldest
 * first: time, stream version, type@version, source, correlation id, and what each event
 * changed in the entity's view (its payloads merged in order; a null removes a field).
 *
 * Records are read from the backend as stored, without the contract: no upcasting, no
 * validation, and a record that cannot be decoded is shown as such instead of stopping the
 * listing. Everything printed comes from the store, so it is untrusted: control characters
 * (C0, DEL, C1), bidirectional overrides and line separators are shown as escapes, never
 * written raw to the terminal. Exit 0 listed (also when empty), 2 bad stream id or store
 * unreachable.
 */
import type { EventStoreBackend } from '../runtime/event-store/backend.js';
import { EXIT, type Io } from './report.js';

export interface HistoryArgs {
  streamId: string;
  store: 'pg' | 'nats';
  /** PostgreSQL connection string (default $DATABASE_URL, else postgres://postgres@127.0.0.1:5432/postgres). */
  database?: string;
  /** Schema of the PostgreSQL store (default event_store). */
  schema?: string;
  /** NATS servers (default 127.0.0.1:4222). */
  server?: string;
  format: 'human' | 'json';
}

// ---------------------------------------------------------------------------------------
// Untrusted text on a terminal
// ---------------------------------------------------------------------------------------

// C0 controls, DEL, C1 controls (0x9b is a one-byte CSI on some terminals), line and
// paragraph separators, bidirectional embeddings, overrides and isolates.
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

const hex = (c: string, width: number) => c.charCodeAt(0).toString(16).padStart(width, '0');

/** Text from the store as one printable line: unsafe characters become visible escapes (`\x1b`, `\u202e`). */
export function printable(text: string): string {
  return text.replace(UNSAFE, (c) => (c.charCodeAt(0) <= 0xff ? `\\x${hex(c, 2)}` : `\\u${hex(c, 4)}`));
}

// JSON.stringify escapes C0 controls inside strings (and writes newlines only as layout);
// these it leaves raw.
const UNSAFE_IN_JSON = /[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** JSON whose text holds no unsafe character even where JSON allows it raw (DEL, C1, bidi): still valid JSON. */
export function safeJson(value: unknown, indent?: number): string {
  return JSON.stringify(value, null, indent).replace(UNSAFE_IN_JSON, (c) => `\\u${hex(c, 4)}`);
}

const MAX_VALUE = 120;

/** JSON text, or undefined for a value JSON.stringify cannot take (nested deeper than the stack). */
function jsonText(value: unknown): string | undefined {
  try {
    return JSON.stringify(value);
  } catch {
    return undefined;
  }
}

/** A value for one line of the listing: JSON, escaped, cut when long. */
function showValue(value: unknown): string {
  const text = value === undefined ? 'undefined' : (jsonText(value) ?? '(too deeply nested to show)');
  // JSON.stringify has escaped C0 controls already; printable() takes care of the rest.
  return printable(text.length > MAX_VALUE ? text.slice(0, MAX_VALUE) + '…' : text);
}

// ---------------------------------------------------------------------------------------
// What an event changed
// ---------------------------------------------------------------------------------------

export type Change =
  | { op: 'add'; path: string; to: unknown }
  | { op: 'change'; path: string; from: unknown; to: unknown }
  | { op: 'remove'; path: string; from: unknown };

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const pointer = (parent: string, key: string) => `${parent}/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`;
/** Deeper than this, a nested object is compared as one value (a hostile payload must not exhaust the stack). */
const MAX_DEPTH = 32;

/** The entity's view after `data`: payload fields merged into it, objects merged field by field, null removing. */
export function mergePayload(view: Json, data: unknown, depth = 0): Json {
  if (!isObject(data)) return { ...view, '': data };
  const next: Json = { ...view };
  for (const [key, value] of Object.entries(data)) {
    if (value === null) delete next[key];
    else if (isObject(value) && isObject(next[key]) && depth < MAX_DEPTH) next[key] = mergePayload(next[key], value, depth + 1);
    else next[key] = value;
  }
  return next;
}

/** Fields added, changed and removed between two views, as JSON pointers, in key order. */
export function diffViews(before: Json, after: Json, parent = '', depth = 0): Change[] {
  const changes: Change[] = [];
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  for (const key of keys) {
    const path = pointer(parent, key);
    const had = Object.prototype.hasOwnProperty.call(before, key);
    const has = Object.prototype.hasOwnProperty.call(after, key);
    const from = before[key];
    const to = after[key];
    if (!had) changes.push({ op: 'add', path, to });
    else if (!has) changes.push({ op: 'remove', path, from });
    else if (isObject(from) && isObject(to) && depth < MAX_DEPTH) changes.push(...diffViews(from, to, path, depth + 1));
    else if (from !== to && (jsonText(from) ?? NaN) !== (jsonText(to) ?? NaN)) changes.push({ op: 'change', path, from, to });
  }
  return changes;
}

// ---------------------------------------------------------------------------------------
// The listing
// ---------------------------------------------------------------------------------------

export interface HistoryEntry {
  streamVersion: number;
  checkpoint: string;
  id?: string;
  time?: string;
  type?: string;
  version?: string;
  source?: string;
  correlationId?: string;
  causationId?: string;
  data?: unknown;
  changes?: Change[];
  /** Why the record could not be read. */
  corrupt?: string;
}

/** A text field of the record (a backend may hand the time back as a Date). */
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : v instanceof Date && !Number.isNaN(v.getTime()) ? v.toISOString() : undefined);

/** Builds the entries from the backend's records, folding the view as it goes. */
export async function historyEntries(records: AsyncIterable<{ streamVersion: number; checkpoint: string; record?: unknown; corrupt?: string }>): Promise<HistoryEntry[]> {
  const entries: HistoryEntry[] = [];
  let view: Json = {};
  for await (const r of records) {
    const base = { streamVersion: r.streamVersion, checkpoint: r.checkpoint };
    if (r.corrupt !== undefined || !isObject(r.record)) {
      entries.push({ ...base, corrupt: r.corrupt ?? 'the record is not a JSON object' });
      continue;
    }
    const rec = r.record;
    const next = mergePayload(view, rec['data']);
    const entry: HistoryEntry = { ...base, data: rec['data'], changes: diffViews(view, next) };
    for (const field of ['id', 'time', 'type', 'version', 'source', 'correlationId', 'causationId'] as const) {
      const value = str(rec[field]);
      if (value !== undefined) entry[field] = value;
    }
    entries.push(entry);
    view = next;
  }
  return entries;
}

const SIGN = { add: '+', change: '~', remove: '-' } as const;

export function formatHistory(streamId: string, entries: readonly HistoryEntry[]): string {
  const lines = [`${printable(streamId)}: ${entries.length} event${entries.length === 1 ? '' : 's'}`];
  for (const e of entries) {
    if (e.corrupt !== undefined) {
      lines.push('', `v${e.streamVersion}  (unreadable record at checkpoint ${printable(e.checkpoint)}: ${printable(e.corrupt)})`);
      continue;
    }
    const head = [`v${e.streamVersion}`, printable(e.time ?? '?'), `${printable(e.type ?? '?')}@${printable(e.version ?? '?')}`, `source ${printable(e.source ?? '?')}`];
    if (e.correlationId !== undefined) head.push(`correlation ${printable(e.correlationId)}`);
    lines.push('', head.join('  '));
    const changes = e.changes ?? [];
    if (changes.length === 0) lines.push('    (no change)');
    for (const c of changes) {
      const path = printable(c.path);
      if (c.op === 'add') lines.push(`    ${SIGN.add} ${path}: ${showValue(c.to)}`);
      else if (c.op === 'remove') lines.push(`    ${SIGN.remove} ${path} (was ${showValue(c.from)})`);
      else lines.push(`    ${SIGN.change} ${path}: ${showValue(c.from)} → ${showValue(c.to)}`);
    }
  }
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------
// The command
// ---------------------------------------------------------------------------------------

/** A connection string without its password, for messages. */
export function redactUrl(url: string): string {
  return url.replace(/(\/\/[^:/@]*:)[^@]*@/, '$1***@');
}

async function openBackend(args: HistoryArgs): Promise<{ backend: EventStoreBackend; where: string }> {
  if (args.store === 'pg') {
    const url = args.database ?? process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
    const { PostgresEventStoreBackend } = await import('../runtime/event-store/postgres/index.js');
    const backend = await PostgresEventStoreBackend.connect({
      connection: { connectionString: url, connectionTimeoutMillis: 5_000, max: 1 },
      ...(args.schema !== undefined ? { schema: args.schema } : {}),
      // Reading never changes the database.
      migrate: false,
    });
    return { backend, where: `PostgreSQL ${redactUrl(url)}${args.schema !== undefined ? ` (schema ${args.schema})` : ''}` };
  }
  const servers = args.server ?? '127.0.0.1:4222';
  const { JetStreamEventStoreBackend } = await import('../runtime/event-store/jetstream/index.js');
  const backend = await JetStreamEventStoreBackend.connect({ servers: servers.split(',') });
  return { backend, where: `NATS ${redactUrl(servers)}` };
}

export async function historyCommand(args: HistoryArgs, io: Io): Promise<number> {
  const { parseStreamId } = await import('../runtime/event-store/stream-id.js');
  let stream;
  try {
    stream = parseStreamId(args.streamId);
  } catch (error) {
    io.err(`event-contracts: history: ${printable((error as Error).message)}`);
    return EXIT.usage;
  }
  let opened: { backend: EventStoreBackend; where: string } | undefined;
  const target = args.store === 'pg' ? 'PostgreSQL' : 'NATS';
  try {
    opened = await openBackend(args);
    const entries = await historyEntries(opened.backend.read(stream, { direction: 'forwards' }));
    io.out(args.format === 'json' ? safeJson({ streamId: args.streamId, events: entries }, 2) : formatHistory(args.streamId, entries));
    return EXIT.ok;
  } catch (error) {
    const message = printable((error as Error).message ?? String(error)).split('\\x0a')[0];
    const code = (error as { code?: string }).code;
    if (code === '42P01' || code === '3F000') io.err(`event-contracts: history: no event store in ${opened?.where ?? target} (${message}); --schema names another`);
    else io.err(`event-contracts: history: cannot read from ${opened?.where ?? target}: ${message}`);
    return EXIT.usage;
  } finally {
    await opened?.backend.close().catch(() => undefined);
  }
}
