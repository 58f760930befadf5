/**
 * Reading schema nodes safely: keyword accessors that throw {@link SchemaError} with the
 * node's JSON pointer on malformed input, `$ref` resolution (local, cross-document), the
 * JSON type model, and the synthetic nodes the comparison builds (merged `allOf`,
 * distributed unions). Synthetic nodes are cached by the identity of their sources so that
 * recursion through them still meets the same objects again and terminates.
 */
import { SchemaError, type JsonSchema, type RefResolver, type SchemaDocument } from './types.js';

export type SchemaObject = { readonly [keyword: string]: unknown };
export type Side = 'old' | 'new';

/** A schema node together with where it lives. */
export interface Loc {
  node: JsonSchema;
  doc: SchemaDocument;
  /** JSON pointer, prefixed with `document#` when outside the main document. */
  ptr: string;
  side: Side;
}

export const JSON_TYPES = ['null', 'boolean', 'integer', 'number', 'string', 'array', 'object'] as const;
export type JsonType = (typeof JSON_TYPES)[number];

/** Keywords that never affect validation. Unknown keywords are annotations too (as in JSON Schema). */
export const ANNOTATION_KEYWORDS = new Set([
  'title', 'description', 'examples', 'example', 'deprecated', 'default', '$comment', 'readOnly',
  'writeOnly', '$id', 'id', '$schema', '$anchor', '$dynamicAnchor', '$vocabulary', 'externalDocs',
  'discriminator', 'definitions', '$defs', 'contentMediaType', 'contentEncoding', 'contentSchema', 'xml',
]);

/** Validation keywords the engine understands. */
export const KNOWN_KEYWORDS = new Set([
  '$ref', 'type', 'nullable', 'enum', 'const', 'minimum', 'maximum', 'exclusiveMinimum',
  'exclusiveMaximum', 'multipleOf', 'minLength', 'maxLength', 'pattern', 'format', 'items',
  'prefixItems', 'additionalItems', 'minItems', 'maxItems', 'uniqueItems', 'contains',
  'properties', 'patternProperties', 'additionalProperties', 'required', 'minProperties',
  'maxProperties', 'dependentRequired', 'dependentSchemas', 'dependencies', 'propertyNames',
  'allOf', 'anyOf', 'oneOf', 'not', 'if', 'then', 'else', 'minContains', 'maxContains',
]);

/**
 * Validation keywords the engine reasons about only where it can rewrite them exactly
 * (`unevaluated*` without other in-place applicators, see `engine.ts`). Elsewhere a writer's
 * are ignored (they only narrow it) and a reader's make the comparison "not proven".
 */
export const UNSUPPORTED_KEYWORDS = new Set(['unevaluatedProperties', 'unevaluatedItems', '$dynamicRef', '$recursiveRef']);

/** Keywords that apply subschemas to the same instance (they feed `unevaluated*`). */
export const IN_PLACE_APPLICATORS = ['allOf', 'anyOf', 'oneOf', 'if', 'then', 'else', 'dependentSchemas', 'dependencies', '$ref', '$dynamicRef', '$recursiveRef', 'not'];

export function isAnnotationKeyword(k: string): boolean {
  return ANNOTATION_KEYWORDS.has(k) || k.startsWith('x-') || (!KNOWN_KEYWORDS.has(k) && !UNSUPPORTED_KEYWORDS.has(k));
}

export function isObject(v: unknown): v is SchemaObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function escapePointer(token: string): string {
  return token.replace(/~/g, '~0').replace(/\//g, '~1');
}

export function childPtr(ptr: string, ...tokens: Array<string | number>): string {
  return ptr + tokens.map((t) => '/' + escapePointer(String(t))).join('');
}

// ── keyword accessors ──────────────────────────────────────────────────────

export function fail(loc: Loc, message: string, keyword?: string): never {
  const ptr = keyword === undefined ? loc.ptr : childPtr(loc.ptr, keyword);
  throw new SchemaError(message, ptr, loc.side, undefined);
}

/** Checks that a value is usable as a schema; boolean or object. */
export function assertSchema(loc: Loc): void {
  if (typeof loc.node !== 'boolean' && !isObject(loc.node)) {
    fail(loc, `expected a schema (an object or a boolean), got ${describe(loc.node)}`);
  }
}

export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'string' ? `the string ${JSON.stringify(v)}` : `${typeof v} ${JSON.stringify(v)}`;
}

export function num(loc: Loc, k: string): number | undefined {
  if (!isObject(loc.node)) return undefined;
  const v = loc.node[k];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(loc, `"${k}" must be a number, got ${describe(v)}`, k);
  return v;
}

export function nonNegInt(loc: Loc, k: string): number | undefined {
  const v = num(loc, k);
  if (v !== undefined && (!Number.isInteger(v) || v < 0)) fail(loc, `"${k}" must be a non-negative integer`, k);
  return v;
}

export function str(loc: Loc, k: string): string | undefined {
  if (!isObject(loc.node)) return undefined;
  const v = loc.node[k];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') fail(loc, `"${k}" must be a string, got ${describe(v)}`, k);
  return v;
}

export function bool(loc: Loc, k: string): boolean | undefined {
  if (!isObject(loc.node)) return undefined;
  const v = loc.node[k];
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean') fail(loc, `"${k}" must be a boolean, got ${describe(v)}`, k);
  return v;
}

export function strArray(loc: Loc, k: string, v: unknown = isObject(loc.node) ? loc.node[k] : undefined): string[] | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) fail(loc, `"${k}" must be an array of strings`, k);
  return v as string[];
}

export function schemaMap(loc: Loc, k: string): Record<string, JsonSchema> | undefined {
  if (!isObject(loc.node)) return undefined;
  const v = loc.node[k];
  if (v === undefined) return undefined;
  if (!isObject(v)) fail(loc, `"${k}" must be an object mapping names to schemas, got ${describe(v)}`, k);
  for (const [name, s] of Object.entries(v)) {
    if (typeof s !== 'boolean' && !isObject(s)) {
      throw new SchemaError(`expected a schema (an object or a boolean), got ${describe(s)}`, childPtr(loc.ptr, k, name), loc.side);
    }
  }
  return v as Record<string, JsonSchema>;
}

export function schemaArray(loc: Loc, k: string): JsonSchema[] | undefined {
  if (!isObject(loc.node)) return undefined;
  const v = loc.node[k];
  if (v === undefined) return undefined;
  if (!Array.isArray(v)) fail(loc, `"${k}" must be an array of schemas, got ${describe(v)}`, k);
  if (k !== 'items' && k !== 'prefixItems' && v.length === 0) fail(loc, `"${k}" must not be empty`, k);
  v.forEach((s, i) => {
    if (typeof s !== 'boolean' && !isObject(s)) {
      throw new SchemaError(`expected a schema (an object or a boolean), got ${describe(s)}`, childPtr(loc.ptr, k, i), loc.side);
    }
  });
  return v as JsonSchema[];
}

export function subschema(loc: Loc, k: string): JsonSchema | undefined {
  if (!isObject(loc.node)) return undefined;
  const v = loc.node[k];
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean' && !isObject(v)) fail(loc, `"${k}" must be a schema (an object or a boolean), got ${describe(v)}`, k);
  return v as JsonSchema;
}

// ── registry: identities, locations of children of synthetic nodes, caches ──

/**
 * Per side and per run. Synthetic nodes (merged `allOf`, distributed union branches,
 * `$ref` with siblings) are plain objects whose subschemas are the original objects; the
 * registry remembers where each original lives so findings point at real locations.
 */
export class Registry {
  private readonly ids = new WeakMap<object, number>();
  private nextId = 3;
  private readonly where = new WeakMap<object, { doc: SchemaDocument; ptr: string }>();
  private readonly synthetic = new WeakSet<object>();
  private readonly synthCache = new Map<string, SchemaObject>();
  readonly derefCache = new WeakMap<object, Loc>();
  readonly mergeCache = new WeakMap<object, Loc | null>();
  readonly branchCache = new WeakMap<object, Loc[]>();

  constructor(
    readonly side: Side,
    readonly resolveRef: RefResolver | undefined,
  ) {}

  id(node: JsonSchema): number {
    if (node === true) return 1;
    if (node === false) return 2;
    let id = this.ids.get(node);
    if (id === undefined) {
      id = this.nextId++;
      this.ids.set(node, id);
    }
    return id;
  }

  isSynthetic(node: JsonSchema): boolean {
    return typeof node === 'object' && this.synthetic.has(node);
  }

  /** Remembers where a node lives unless already known (first location wins). */
  remember(node: JsonSchema, doc: SchemaDocument, ptr: string): void {
    if (typeof node === 'object' && !this.where.has(node)) this.where.set(node, { doc, ptr });
  }

  /** Location of a child reached from `parent` through `tokens`. */
  child(parent: Loc, node: JsonSchema, ...tokens: Array<string | number>): Loc {
    if (this.isSynthetic(parent.node) && typeof node === 'object') {
      const w = this.where.get(node);
      if (w) return { node, doc: w.doc, ptr: w.ptr, side: this.side };
    }
    return { node, doc: parent.doc, ptr: childPtr(parent.ptr, ...tokens), side: this.side };
  }

  /** Registers every direct subschema of `loc` at its real location. */
  rememberChildren(loc: Loc): void {
    const n = loc.node;
    if (!isObject(n)) return;
    for (const [k, v] of Object.entries(n)) {
      if (isAnnotationKeyword(k) || k === 'enum' || k === 'const' || k === 'required' || k === 'type') continue;
      if (Array.isArray(v)) {
        v.forEach((s, i) => this.rememberChild(loc, s, k, i));
      } else if (isObject(v) && (k === 'properties' || k === 'patternProperties' || k === 'dependentSchemas' || k === 'dependencies')) {
        for (const [name, s] of Object.entries(v)) this.rememberChild(loc, s, k, name);
      } else {
        this.rememberChild(loc, v, k);
      }
    }
  }

  private rememberChild(parent: Loc, s: unknown, ...tokens: Array<string | number>): void {
    if (!isObject(s)) return;
    if (this.isSynthetic(parent.node)) return; // a synthetic parent's children are already registered
    this.remember(s, parent.doc, childPtr(parent.ptr, ...tokens));
  }

  /** A synthetic node, cached by `key` so that the same sources give the same object. */
  synth(key: string, make: () => SchemaObject, at: Loc): Loc {
    let node = this.synthCache.get(key);
    if (!node) {
      node = make();
      this.synthetic.add(node);
      this.synthCache.set(key, node);
      this.where.set(node, { doc: at.doc, ptr: at.ptr });
    }
    const w = this.where.get(node) ?? { doc: at.doc, ptr: at.ptr };
    return { node, doc: w.doc, ptr: w.ptr, side: this.side };
  }

  /** A synthetic node made earlier under `key`, if any. */
  synthLookup(key: string): Loc | undefined {
    const node = this.synthCache.get(key);
    if (!node) return undefined;
    const w = this.where.get(node);
    return w ? { node, doc: w.doc, ptr: w.ptr, side: this.side } : undefined;
  }

  /** A synthetic `{allOf: [...]}` of the given locations. */
  allOf(parts: Loc[], at: Loc): Loc {
    if (parts.length === 1 && parts[0]) return parts[0];
    for (const p of parts) this.remember(p.node, p.doc, p.ptr);
    const key = 'allOf:' + parts.map((p) => this.id(p.node)).join(',');
    return this.synth(key, () => ({ allOf: parts.map((p) => p.node) }), at);
  }
}

// ── $ref ───────────────────────────────────────────────────────────────────

function unescapeToken(t: string): string {
  return t.replace(/~1/g, '/').replace(/~0/g, '~');
}

function evalPointer(root: JsonSchema, fragment: string): unknown {
  if (fragment === '' || fragment === '/') return fragment === '' ? root : (root as SchemaObject)[''];
  if (!fragment.startsWith('/')) return undefined;
  let cur: unknown = root;
  for (const raw of fragment.slice(1).split('/')) {
    const token = unescapeToken(decodeURIComponent(raw));
    if (Array.isArray(cur)) cur = cur[Number(token)];
    else if (isObject(cur)) cur = Object.prototype.hasOwnProperty.call(cur, token) ? cur[token] : undefined;
    else return undefined;
  }
  return cur;
}

function hasValidationSiblings(n: SchemaObject): boolean {
  return Object.keys(n).some((k) => k !== '$ref' && !isAnnotationKeyword(k));
}

/**
 * Follows `$ref` until a node without one. A `$ref` with validation siblings becomes
 * `allOf: [target, siblings]` (2019-09+ semantics; draft-07 validators ignore the siblings,
 * so this can only make us more cautious).
 */
export function deref(reg: Registry, loc: Loc): Loc {
  assertSchema(loc);
  const seen = new Set<object>();
  let cur = loc;
  for (;;) {
    const n = cur.node;
    if (!isObject(n) || n.$ref === undefined) return cur;
    const cached = reg.derefCache.get(n);
    if (cached) return cached;
    if (seen.has(n)) fail(cur, 'circular "$ref" chain that never reaches a schema', '$ref');
    seen.add(n);
    const target = resolveOne(reg, cur);
    let next: Loc;
    if (hasValidationSiblings(n)) {
      reg.rememberChildren(cur);
      const siblings = reg.synth(`siblings:${reg.id(n)}`, () => {
        const copy: Record<string, unknown> = { ...n };
        delete copy.$ref;
        delete copy.unevaluatedProperties;
        delete copy.unevaluatedItems;
        return copy;
      }, cur);
      // `unevaluated*` beside `$ref` sees what the target evaluates: it stays outside the conjunction.
      if (n.unevaluatedProperties !== undefined || n.unevaluatedItems !== undefined) {
        const parts = [target.node, siblings.node];
        next = reg.synth(`refuneval:${reg.id(n)}`, () => {
          const u: Record<string, unknown> = { allOf: parts };
          if (n.unevaluatedProperties !== undefined) u.unevaluatedProperties = n.unevaluatedProperties;
          if (n.unevaluatedItems !== undefined) u.unevaluatedItems = n.unevaluatedItems;
          return u;
        }, cur);
        reg.remember(target.node, target.doc, target.ptr);
      } else {
        next = reg.allOf([target, siblings], cur);
      }
    } else {
      next = target;
    }
    // Cache the result only once fully resolved (below) to keep chains short.
    if (!isObject(next.node) || next.node.$ref === undefined) {
      reg.derefCache.set(n, next);
      return next;
    }
    cur = next;
  }
}

export function resolveOne(reg: Registry, loc: Loc): Loc {
  const ref = str(loc, '$ref') as string;
  const hash = ref.indexOf('#');
  const resource = hash < 0 ? ref : ref.slice(0, hash);
  const fragment = hash < 0 ? '' : ref.slice(hash + 1);
  let doc = loc.doc;
  if (resource !== '') {
    const loaded = reg.resolveRef?.(resource, loc.doc.base);
    if (!loaded) fail(loc, `cannot resolve "$ref" ${JSON.stringify(ref)}${reg.resolveRef ? '' : ' (no resolveRef was given for cross-document references)'}`, '$ref');
    doc = loaded;
  } else if (fragment !== '' && !fragment.startsWith('/')) {
    fail(loc, `unsupported "$ref" ${JSON.stringify(ref)}: only JSON-pointer fragments are supported`, '$ref');
  }
  const target = evalPointer(doc.root, fragment);
  if (target === undefined) fail(loc, `"$ref" ${JSON.stringify(ref)} points at nothing`, '$ref');
  const prefix = doc === loc.doc ? (loc.ptr.includes('#') ? loc.ptr.slice(0, loc.ptr.indexOf('#') + 1) : '') : `${doc.base ?? resource}#`;
  const out: Loc = { node: target as JsonSchema, doc, ptr: prefix + fragment, side: loc.side };
  assertSchema(out);
  return out;
}

// ── types ──────────────────────────────────────────────────────────────────

export type TypeSet = ReadonlySet<JsonType>;
export const ALL_TYPES: TypeSet = new Set(JSON_TYPES);

export function valueType(v: unknown): JsonType {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  switch (typeof v) {
    case 'boolean':
      return 'boolean';
    case 'number':
      return Number.isInteger(v) ? 'integer' : 'number';
    case 'string':
      return 'string';
    default:
      return 'object';
  }
}

/** The declared types (ignoring enum), with OpenAPI `nullable: true` adding `null`. */
export function declaredTypes(loc: Loc): TypeSet {
  const n = loc.node;
  if (n === false) return new Set();
  if (!isObject(n) || n.type === undefined) return ALL_TYPES;
  const t = n.type;
  const list = typeof t === 'string' ? [t] : Array.isArray(t) ? t : fail(loc, `"type" must be a type name or an array of them, got ${describe(t)}`, 'type');
  const out = new Set<JsonType>();
  for (const name of list) {
    if (typeof name !== 'string' || !(JSON_TYPES as readonly string[]).includes(name)) {
      fail(loc, `"type" has an unknown type ${describe(name)} (expected one of ${JSON_TYPES.join(', ')})`, 'type');
    }
    out.add(name as JsonType);
  }
  if (bool(loc, 'nullable') === true) out.add('null');
  return out;
}

/** Does type set `ts` admit JSON values of type `t`? (`number` admits integers.) */
export function admits(ts: TypeSet, t: JsonType): boolean {
  return ts.has(t) || (t === 'integer' && ts.has('number'));
}

export function formatTypes(ts: TypeSet): string {
  if (ts.size === 0) return 'nothing';
  if (JSON_TYPES.every((t) => ts.has(t))) return 'any';
  return [...ts].join('|');
}

/** `enum`/`const` values, or undefined when the node does not enumerate. */
export function enumValues(loc: Loc): unknown[] | undefined {
  const n = loc.node;
  if (!isObject(n)) return undefined;
  let values: unknown[] | undefined;
  if (n.enum !== undefined) {
    if (!Array.isArray(n.enum)) fail(loc, `"enum" must be an array, got ${describe(n.enum)}`, 'enum');
    values = n.enum;
  }
  if (n.const !== undefined || Object.prototype.hasOwnProperty.call(n, 'const')) {
    values = values ? values.filter((v) => deepEqual(v, n.const)) : [n.const];
  }
  return values;
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const ak = Object.keys(ao);
  if (ak.length !== Object.keys(bo).length) return false;
  return ak.every((k) => Object.prototype.hasOwnProperty.call(bo, k) && deepEqual(ao[k], bo[k]));
}

/** Structural equality of schema fragments that tolerates cycles (assumes equal on revisit). */
export function schemaEqual(a: unknown, b: unknown, seen = new Map<object, Set<object>>()): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  let s = seen.get(a);
  if (s?.has(b)) return true;
  if (!s) seen.set(a, (s = new Set()));
  s.add(b);
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => schemaEqual(x, b[i], seen));
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const ak = Object.keys(ao);
  if (ak.length !== Object.keys(bo).length) return false;
  return ak.every((k) => Object.prototype.hasOwnProperty.call(bo, k) && schemaEqual(ao[k], bo[k], seen));
}

export function show(v: unknown): string {
  try {
    const s = JSON.stringify(v);
    return s === undefined ? String(v) : s.length > 60 ? s.slice(0, 57) + '...' : s;
  } catch {
    return '<circular>';
  }
}

/** True when the node accepts every value (`true`, `{}`, or only annotations). */
export function isTrivial(n: JsonSchema): boolean {
  if (n === true) return true;
  if (n === false) return false;
  return Object.keys(n).every((k) => isAnnotationKeyword(k) && k !== 'nullable');
}

const REGEX_CACHE = new Map<string, RegExp>();

export function regex(loc: Loc, source: string, keyword: string): RegExp {
  const cached = REGEX_CACHE.get(source);
  if (cached) return cached;
  let re: RegExp;
  try {
    re = new RegExp(source, 'u');
  } catch {
    try {
      re = new RegExp(source);
    } catch {
      fail(loc, `invalid regular expression ${JSON.stringify(source)}`, keyword);
    }
  }
  if (REGEX_CACHE.size > 1000) REGEX_CACHE.clear();
  REGEX_CACHE.set(source, re);
  return re;
}

// ── upfront structural check ───────────────────────────────────────────────

const SCHEMA_MAPS = ['properties', 'patternProperties', 'dependentSchemas', 'definitions', '$defs'];
const SCHEMA_ARRAYS = ['allOf', 'anyOf', 'oneOf', 'prefixItems'];
const SUBSCHEMAS = ['additionalProperties', 'additionalItems', 'contains', 'propertyNames', 'not', 'if', 'then', 'else', 'unevaluatedProperties', 'unevaluatedItems'];
const NUMBERS = ['minimum', 'maximum', 'multipleOf'];
const COUNTS = ['minLength', 'maxLength', 'minItems', 'maxItems', 'minProperties', 'maxProperties', 'minContains', 'maxContains'];

/**
 * Checks the shape of every keyword of every node reachable from `loc` (following
 * `$ref`s, visiting each object once, so cycles are fine). Throws {@link SchemaError}
 * with the pointer of the first malformed node, so that errors never depend on which
 * parts a comparison happens to visit.
 */
export function checkSchema(reg: Registry, root: Loc): void {
  const seen = new Set<object>();
  const stack: Loc[] = [root];
  while (stack.length > 0) {
    const loc = stack.pop() as Loc;
    assertSchema(loc);
    const n = loc.node;
    if (!isObject(n) || seen.has(n)) continue;
    seen.add(n);
    const push = (node: unknown, ...tokens: Array<string | number>) => stack.push({ node: node as JsonSchema, doc: loc.doc, ptr: childPtr(loc.ptr, ...tokens), side: loc.side });
    if (n.type !== undefined) declaredTypes(loc);
    enumValues(loc);
    for (const k of NUMBERS) num(loc, k);
    for (const k of COUNTS) nonNegInt(loc, k);
    const m = num(loc, 'multipleOf');
    if (m !== undefined && m <= 0) fail(loc, '"multipleOf" must be greater than 0', 'multipleOf');
    for (const k of ['exclusiveMinimum', 'exclusiveMaximum']) {
      if (n[k] !== undefined && typeof n[k] !== 'boolean') num(loc, k);
    }
    for (const k of ['uniqueItems', 'nullable']) bool(loc, k);
    strArray(loc, 'required');
    for (const k of ['pattern', 'format']) str(loc, k);
    if (typeof n.pattern === 'string') regex(loc, n.pattern, 'pattern');
    for (const k of SCHEMA_MAPS) {
      const map = schemaMap(loc, k);
      if (!map) continue;
      for (const [name, s] of Object.entries(map)) {
        if (k === 'patternProperties') regex(loc, name, k);
        push(s, k, name);
      }
    }
    for (const k of SCHEMA_ARRAYS) (schemaArray(loc, k) ?? []).forEach((s, i) => push(s, k, i));
    if (Array.isArray(n.items)) (schemaArray(loc, 'items') ?? []).forEach((s, i) => push(s, 'items', i));
    else if (n.items !== undefined) push(subschema(loc, 'items'), 'items');
    for (const k of SUBSCHEMAS) if (n[k] !== undefined) push(subschema(loc, k), k);
    for (const k of ['dependencies', 'dependentRequired']) {
      const d = n[k];
      if (d === undefined) continue;
      if (!isObject(d)) fail(loc, `"${k}" must be an object`, k);
      for (const [name, v] of Object.entries(d)) {
        if (Array.isArray(v) || k === 'dependentRequired') strArray({ ...loc, ptr: childPtr(loc.ptr, k) }, name, v);
        else push(v, k, name);
      }
    }
    if (n.$ref !== undefined) {
      str(loc, '$ref');
      stack.push(resolveOne(reg, loc));
    }
  }
}
