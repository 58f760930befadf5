/**
 * JSON Schema compatibility engine (draft-07 and 2020-12 as used in AsyncAPI payloads and
 * headers). The primitive is {@link canRead}: can a reader holding schema R read every
 * value valid under writer schema W? Confluent Schema Registry's seven levels reduce to it
 * ({@link checkCompatibility}), and so does the semver bump a change needs
 * ({@link classifyChange}).
 *
 * Findings name changes from the old schema to the new one with stable rule ids (see
 * {@link RULES}) and read like buf's: `Previously present property "email" was removed
 * from a closed content model; readers on the new schema reject events written with the
 * old one.`
 *
 * Pure: no I/O. Cross-document `$ref`s are loaded through the `resolveRef` option.
 */
import { Engine, type RawFinding } from './engine.js';
import { checkSchema, Registry, schemaEqual, type Loc } from './node.js';
import { consequence, RULES, type RuleDefinition, type RuleId } from './rules.js';
import {
  SchemaError,
  type ChangeKind,
  type CompatLevel,
  type CompatOptions,
  type Direction,
  type JsonSchema,
  type SchemaChange as GenericSchemaChange,
} from './types.js';

export { RULES, RULE_IDS, LENIENT_ALLOWANCES, lenientAllows, declaredBreaks, type RuleId, type RuleDefinition, type Breaks } from './rules.js';
export {
  SchemaError,
  COMPAT_LEVELS,
  type CompatLevel,
  type CompatOptions,
  type OpenContentPolicy,
  type Direction,
  type ChangeKind,
  type JsonSchema,
  type SchemaDocument,
  type RefResolver,
} from './types.js';

/** A finding of the engine. */
export type SchemaChange = GenericSchemaChange<RuleId>;

/**
 * A schema together with the base (file path or URI) its relative `$ref`s resolve
 * against. Plain schemas can be passed anywhere a {@link SchemaInput} is expected.
 */
export class SchemaSource {
  constructor(
    readonly schema: JsonSchema,
    readonly base?: string,
  ) {}
}

export type SchemaInput = JsonSchema | SchemaSource;

/** Result of {@link checkCompatibility}. */
export interface CompatibilityResult {
  compatible: boolean;
  /** Breaking findings against every version checked; other findings against the latest only. */
  changes: SchemaChange[];
}

export type SemverBump = 'major' | 'minor' | 'patch' | 'none';

/** Result of {@link classifyChange}. */
export interface ChangeClassification {
  bump: SemverBump;
  changes: SchemaChange[];
}

function loc(input: SchemaInput, side: 'old' | 'new'): Loc {
  const { schema, base } = input instanceof SchemaSource ? input : { schema: input, base: undefined };
  return { node: schema, doc: { root: schema, ...(base === undefined ? {} : { base }) }, ptr: '', side };
}

interface DirectedFinding extends RawFinding {
  dir: Direction;
}

/**
 * Compares an old and a new schema in the given directions and returns every change
 * found, each marked breaking when it breaks a reader in one of those directions
 * (`backward`: readers on the new schema, data written with the old one; `forward`: the
 * reverse). With no direction, changes are listed but none is breaking.
 */
export function compareSchemas(old: SchemaInput, next: SchemaInput, directions: readonly Direction[], opts: CompatOptions = {}): SchemaChange[] {
  const regs = { old: new Registry('old', opts.resolveRef), new: new Registry('new', opts.resolveRef) };
  const dirs: readonly Direction[] = directions.length > 0 ? directions : ['backward', 'forward'];
  const found: DirectedFinding[] = [];
  const oldLoc = loc(old, 'old');
  const newLoc = loc(next, 'new');
  checkSchema(regs.old, oldLoc);
  checkSchema(regs.new, newLoc);
  // Unchanged schemas (the common case in a large workspace) need no walk. Cross-document
  // refs may differ behind equal text, so only self-contained pairs take the shortcut.
  if (!opts.resolveRef && schemaEqual(oldLoc.node, newLoc.node)) return [];
  dirs.forEach((dir, i) => {
    const engine = new Engine(dir, regs, {
      policy: opts.policy ?? 'strict',
      readersApplyDefaults: opts.readersApplyDefaults ?? false,
      annotations: i === 0,
    });
    for (const f of engine.run(oldLoc, newLoc)) found.push({ ...f, dir });
  });
  return finalize(found, directions.length > 0);
}

function finalize(found: readonly DirectedFinding[], judge: boolean): SchemaChange[] {
  const byKey = new Map<string, { f: DirectedFinding; dirs: Set<Direction> }>();
  for (const f of found) {
    const key = `${f.rule}|${f.oldPath ?? ''}|${f.newPath ?? ''}|${JSON.stringify(f.params)}`;
    const entry = byKey.get(key);
    const breaking = judge && f.breaking;
    if (!entry) byKey.set(key, { f: { ...f, breaking }, dirs: new Set(breaking ? [f.dir] : []) });
    else if (breaking) {
      entry.f.breaking = true;
      entry.dirs.add(f.dir);
    }
  }
  return [...byKey.values()].map(({ f, dirs }) => toChange(f, dirs));
}

function toChange(f: RawFinding, dirs: ReadonlySet<Direction>): SchemaChange {
  const def: RuleDefinition = RULES[f.rule];
  let text = def.message(f.params);
  if (f.breaking) {
    text += dirs.size === 2 ? '; readers on either schema reject events written with the other' : `; ${consequence(dirs.has('forward') ? 'forward' : 'backward')}`;
  }
  const kind: ChangeKind = f.breaking ? 'breaking' : def.documentation ? 'documentation' : 'additive';
  const change: SchemaChange = {
    rule: f.rule,
    path: f.newPath ?? f.oldPath ?? '',
    breaking: f.breaking,
    kind,
    message: text + '.',
  };
  if (f.oldPath !== undefined) change.oldPath = f.oldPath;
  if (f.newPath !== undefined) change.newPath = f.newPath;
  return change;
}

/**
 * The primitive: can a reader holding `reader` read every value valid under `writer`?
 * Returns every difference found; the reader can read the writer iff none is breaking.
 * Findings are named as if the writer were the previous version and the reader the next
 * one (as Confluent does), so `oldPath` points into the writer and `newPath` into the reader.
 *
 * @throws {SchemaError} when either schema is malformed (side `reader` or `writer`).
 */
export function canRead(reader: SchemaInput, writer: SchemaInput, opts: CompatOptions = {}): SchemaChange[] {
  try {
    return compareSchemas(writer, reader, ['backward'], opts);
  } catch (e) {
    if (e instanceof SchemaError && (e.side === 'old' || e.side === 'new')) {
      throw new SchemaError(e.message.replace(/^(old|new) schema /, ''), e.pointer, e.side === 'old' ? 'writer' : 'reader', e.document);
    }
    throw e;
  }
}

/** Convenience: true when {@link canRead} finds nothing breaking. */
export function isReadable(reader: SchemaInput, writer: SchemaInput, opts: CompatOptions = {}): boolean {
  return !canRead(reader, writer, opts).some((c) => c.breaking);
}

/** The directions a level checks. `NONE` checks none. */
export function directionsOf(level: CompatLevel): Direction[] {
  if (level === 'NONE') return [];
  if (level.startsWith('BACKWARD')) return ['backward'];
  if (level.startsWith('FORWARD')) return ['forward'];
  return ['backward', 'forward'];
}

export function isTransitive(level: CompatLevel): boolean {
  return level.endsWith('_TRANSITIVE');
}

/**
 * Checks `next` against the previous versions (oldest first) at a Confluent level:
 * `BACKWARD` (next reads data written with the latest previous), `FORWARD` (the latest
 * previous reads data written with next), `FULL` (both), their `_TRANSITIVE` forms (against
 * every previous version), `NONE` (nothing breaks; changes are still listed).
 */
export function checkCompatibility(previous: readonly SchemaInput[], next: SchemaInput, level: CompatLevel, opts: CompatOptions = {}): CompatibilityResult {
  if (previous.length === 0) return { compatible: true, changes: [] };
  const dirs = directionsOf(level);
  const last = previous.length - 1;
  const targets = isTransitive(level) ? previous.map((_, i) => i) : [last];
  const changes: SchemaChange[] = [];
  for (const i of targets) {
    const prev = previous[i] as SchemaInput;
    for (const c of compareSchemas(prev, next, dirs, opts)) {
      if (c.breaking || i === last) changes.push({ ...c, against: i });
    }
  }
  return { compatible: !changes.some((c) => c.breaking), changes };
}

/**
 * What semver bump a change from `old` to `next` needs under a level (default `FULL`):
 * breaking findings need a major version, other validation changes a minor one,
 * documentation-only changes a patch. `NONE` classifies like `FULL`, so that the bump
 * still tells the truth about the change.
 */
export function classifyChange(old: SchemaInput, next: SchemaInput, opts: CompatOptions & { level?: CompatLevel } = {}): ChangeClassification {
  const level = opts.level ?? 'FULL';
  const dirs = level === 'NONE' ? directionsOf('FULL') : directionsOf(level);
  const changes = compareSchemas(old, next, dirs, opts);
  const bump: SemverBump = changes.some((c) => c.kind === 'breaking')
    ? 'major'
    : changes.some((c) => c.kind === 'additive')
      ? 'minor'
      : changes.some((c) => c.kind === 'documentation')
        ? 'patch'
        : 'none';
  return { bump, changes };
}

/** Every finding's rule id, for tests and summaries. */
export function ruleIds(changes: readonly SchemaChange[]): RuleId[] {
  return [...new Set(changes.map((c) => c.rule))].sort();
}
