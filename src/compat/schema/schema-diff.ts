/**
 * `schema-diff`: the engine on two plain JSON Schema files (JSON or YAML). The only I/O of
 * the engine: reading the two files and the files their relative `$ref`s name. The CLI
 * wires it up (exit 0 compatible, 1 incompatible, 2 bad input) and prints
 * {@link formatSchemaDiffHuman} or the JSON result.
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { pathToFileURL } from 'node:url';
import { findWitnesses, showWitness } from './witness.js';
import { checkCompatibility, directionsOf, SchemaError, SchemaSource, type CompatLevel, type JsonSchema, type OpenContentPolicy, type RuleId, type SchemaDocument } from './index.js';

export interface SchemaDiffOptions {
  /** Default `BACKWARD`: does `<new>` read data written with `<old>`? */
  level?: CompatLevel;
  /** Default `strict`. */
  policy?: OpenContentPolicy;
  /** Look for a witness of each breaking direction (an instance valid before, invalid after). */
  explain?: boolean;
}

export interface SchemaDiffChange {
  rule: RuleId;
  path: string;
  breaking: boolean;
  message: string;
  kind: 'breaking' | 'additive' | 'documentation';
  oldPath?: string;
  newPath?: string;
}

export interface SchemaDiffResult {
  compatible: boolean;
  level: CompatLevel;
  policy: OpenContentPolicy;
  changes: SchemaDiffChange[];
  /**
   * With `explain`: for each breaking direction, an instance that shows it (`backward`:
   * valid under the old schema, rejected by the new; `forward`: the reverse), or `null`
   * when the sampler found none (the engine could not prove the change safe).
   */
  witnesses?: { backward?: unknown; forward?: unknown };
}

/** Bad input: unreadable file, syntax error (with line:col), malformed schema, bad `$ref`. */
export class SchemaDiffInputError extends Error {
  override readonly name = 'SchemaDiffInputError';
  constructor(
    message: string,
    readonly file: string,
    readonly line?: number,
    readonly column?: number,
  ) {
    super(`${file}${line !== undefined ? `:${line}:${column ?? 1}` : ''}: ${message}`);
  }
}

function lineCol(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return { line, column: offset - before.lastIndexOf('\n') };
}

/** Parses JSON (`.json`) or YAML (anything else; YAML is a superset of JSON). */
export function parseSchemaText(text: string, file: string): JsonSchema {
  if (file.toLowerCase().endsWith('.json')) {
    try {
      return JSON.parse(text) as JsonSchema;
    } catch (e) {
      const msg = (e as Error).message;
      const pos = /position (\d+)/.exec(msg);
      const lc = pos ? lineCol(text, Number(pos[1])) : undefined;
      throw new SchemaDiffInputError(`invalid JSON: ${msg}`, file, lc?.line, lc?.column);
    }
  }
  const doc = parseDocument(text, { prettyErrors: true });
  const [err] = doc.errors;
  if (err) {
    const [start] = err.linePos ?? [];
    throw new SchemaDiffInputError(`invalid YAML: ${(err.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '')}`, file, start?.line, start?.col);
  }
  return doc.toJS({ maxAliasCount: 1000 }) as JsonSchema;
}

function loadSync(file: string): JsonSchema {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new SchemaDiffInputError(`cannot read file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, file);
  }
  return parseSchemaText(text, file);
}

function display(file: string): string {
  const rel = path.relative(process.cwd(), file);
  return rel && !rel.startsWith('..') ? rel : file;
}

/**
 * Compares two schema files. `$ref`s to other files are resolved relative to the file
 * holding them; remote (`http:`) references are not fetched and count as bad input.
 *
 * @throws {SchemaDiffInputError} on unreadable files, syntax errors, malformed schemas.
 */
export async function schemaDiff(oldFile: string, newFile: string, opts: SchemaDiffOptions = {}): Promise<SchemaDiffResult> {
  const level = opts.level ?? 'BACKWARD';
  const policy = opts.policy ?? 'strict';
  const read = async (file: string): Promise<JsonSchema> => {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      throw new SchemaDiffInputError(`cannot read file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, file);
    }
    return parseSchemaText(text, file);
  };
  const [oldSchema, newSchema] = await Promise.all([read(oldFile), read(newFile)]);
  const cache = new Map<string, SchemaDocument>();
  const resolveRef = (ref: string, base: string | undefined): SchemaDocument | undefined => {
    if (/^[a-z][a-z0-9+.-]*:/i.test(ref)) return undefined; // http:, urn:, ... are not fetched
    const file = path.resolve(path.dirname(base ? path.resolve(base) : process.cwd()), decodeURIComponent(ref));
    let doc = cache.get(file);
    if (!doc) {
      doc = { root: loadSync(file), base: display(file) };
      cache.set(file, doc);
    }
    return doc;
  };
  try {
    const result = checkCompatibility([new SchemaSource(oldSchema, oldFile)], new SchemaSource(newSchema, newFile), level, { policy, resolveRef });
    const changes = result.changes.map(({ against: _against, ...c }) => c);
    const out: SchemaDiffResult = { compatible: result.compatible, level, policy, changes };
    if (opts.explain && !result.compatible) {
      const breaks = directionsOf(level).filter(
        (d) => !checkCompatibility([new SchemaSource(oldSchema, oldFile)], new SchemaSource(newSchema, newFile), d === 'backward' ? 'BACKWARD' : 'FORWARD', { policy, resolveRef }).compatible,
      );
      out.witnesses = explain(oldSchema, newSchema, oldFile, newFile, breaks, cache);
    }
    return out;
  } catch (e) {
    if (e instanceof SchemaError) {
      const file = e.side === 'old' ? oldFile : newFile;
      throw new SchemaDiffInputError(`malformed schema at ${e.pointer.includes('#') ? e.pointer : `#${e.pointer}`}: ${e.message.replace(/^.*?#[^:]*: /, '')}`, file);
    }
    throw e;
  }
}

/**
 * Witnesses for the breaking directions of a level, judged by ajv with the documents the
 * schemas' relative `$ref`s name (each known by its file URL).
 */
function explain(oldSchema: JsonSchema, newSchema: JsonSchema, oldFile: string, newFile: string, dirs: ReadonlyArray<'backward' | 'forward'>, cache: ReadonlyMap<string, SchemaDocument>): NonNullable<SchemaDiffResult['witnesses']> {
  const withId = (s: JsonSchema, file: string): JsonSchema => (typeof s === 'object' ? { ...s, $id: pathToFileURL(path.resolve(file)).href } : s);
  const documents = new Map<string, JsonSchema>();
  for (const [file, doc] of cache) documents.set(pathToFileURL(file).href, doc.root);
  const found = findWitnesses(withId(oldSchema, oldFile), withId(newSchema, newFile), dirs, { documents });
  const out: NonNullable<SchemaDiffResult['witnesses']> = {};
  for (const d of dirs) out[d] = d in found ? found[d] : null;
  return out;
}

/** Machine output for `--format json`: `{"compatible", "changes": [{"rule","path","breaking"}]}` plus message and kind. */
export function formatSchemaDiffJson(result: SchemaDiffResult): string {
  return JSON.stringify(
    {
      compatible: result.compatible,
      changes: result.changes.map((c) => ({ rule: c.rule, path: c.path, breaking: c.breaking, kind: c.kind, message: c.message })),
      ...(result.witnesses ? { witnesses: result.witnesses } : {}),
    },
    null,
    2,
  );
}

/**
 * Human output: one line per finding, breaking ones first, like buf:
 * `error  PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL  #/properties/email  Previously present ...`
 * followed by a one-line verdict.
 */
export function formatSchemaDiffHuman(result: SchemaDiffResult): string {
  const rank = { breaking: 0, additive: 1, documentation: 2 } as const;
  const sorted = [...result.changes].sort((a, b) => rank[a.kind] - rank[b.kind] || a.path.localeCompare(b.path));
  const lines = sorted.map((c) => {
    const label = c.breaking ? 'error' : c.kind === 'documentation' ? 'note ' : 'info ';
    const where = c.path.includes('#') ? c.path : `#${c.path}`;
    const old = c.oldPath !== undefined && c.oldPath !== c.path ? ` (was ${c.oldPath.includes('#') ? c.oldPath : `#${c.oldPath}`})` : '';
    return `${label} ${c.rule} ${where}${old}: ${c.message}`;
  });
  for (const [dir, value] of Object.entries(result.witnesses ?? {})) {
    const [valid, rejected] = dir === 'backward' ? ['old', 'new'] : ['new', 'old'];
    lines.push(
      value === null
        ? `witness (${dir}): none found; the engine could not prove the change safe`
        : `witness (${dir}): ${showWitness(value)} is valid under the ${valid} schema and rejected by the ${rejected} one`,
    );
  }
  const breaking = result.changes.filter((c) => c.breaking).length;
  const verdict = result.compatible
    ? `compatible under ${result.level} (${result.policy} policy), ${result.changes.length} change(s)`
    : `incompatible under ${result.level} (${result.policy} policy): ${breaking} breaking change(s)`;
  return [...lines, verdict].join('\n') + '\n';
}
