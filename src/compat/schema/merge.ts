/**
 * `allOf` by meaning: conjunctions are merged into one equivalent schema where that is
 * exact (properties, required, bounds, types, enums, ...), so `allOf: [Base, {properties}]`
 * compares like the flat object it means. Where an exact merge is not possible (two
 * different patterns, overlapping tuples, an `additionalProperties` that would have to see
 * another conjunct's `patternProperties`), the merge gives up and the comparison falls back
 * to conjunct-by-conjunct reasoning, which is sound but less precise.
 *
 * Unions with sibling keywords (`{type: object, required: [...], oneOf: [...]}`) are
 * distributed into branches `allOf(siblings, branch)`, each merged the same way.
 */
import {
  declaredTypes, deepEqual, deref, enumValues, isAnnotationKeyword, isObject, regex, schemaArray,
  schemaMap, strArray, subschema, num, str, bool, admits, JSON_TYPES, UNSUPPORTED_KEYWORDS,
  type JsonType, type Loc, type Registry, type SchemaObject,
} from './node.js';
import { dependencyArrays } from './validate.js';
import type { JsonSchema } from './types.js';

/** A map keyed by names from the input: no prototype, so `constructor` is just a name. */
function dict<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

/** Conjuncts of a node: the node without `allOf`, then each `allOf` entry, flattened. */
function conjuncts(reg: Registry, loc: Loc, out: Loc[], seen: Set<object>): void {
  const at = deref(reg, loc);
  const n = at.node;
  if (n === true) return;
  if (n === false || seen.has(n)) {
    out.push(at);
    return;
  }
  const all = schemaArray(at, 'allOf');
  if (!all) {
    out.push(at);
    return;
  }
  seen.add(n);
  reg.rememberChildren(at);
  const base = reg.synth(`base:${reg.id(n)}`, () => {
    const copy: Record<string, unknown> = { ...n };
    delete copy.allOf;
    return copy;
  }, at);
  if (Object.keys(base.node).length > 0) out.push(base);
  all.forEach((s, i) => conjuncts(reg, reg.child(at, s, 'allOf', i), out, seen));
}

/** The conjuncts of a node that has `allOf` (the node itself when it has none). */
export function conjunctsOf(reg: Registry, loc: Loc): Loc[] {
  const out: Loc[] = [];
  conjuncts(reg, loc, out, new Set());
  return out;
}

/**
 * Merges `loc`'s `allOf` into one schema. Returns the node itself when it has no
 * `allOf`, and undefined when an exact merge is not possible.
 */
export function mergeAllOf(reg: Registry, loc: Loc): Loc | undefined {
  const at = deref(reg, loc);
  const n = at.node;
  if (!isObject(n) || n.allOf === undefined) return at;
  const cached = reg.mergeCache.get(n);
  if (cached !== undefined) return cached ?? undefined;
  reg.mergeCache.set(n, null); // a cycle back to this node while merging: give up on it
  const parts: Loc[] = [];
  conjuncts(reg, at, parts, new Set());
  const merged = mergeParts(reg, parts, at);
  reg.mergeCache.set(n, merged ?? null);
  return merged;
}

function typeList(ts: ReadonlySet<JsonType>): JsonType[] {
  return JSON_TYPES.filter((t) => ts.has(t));
}

function intersectTypes(a: ReadonlySet<JsonType>, b: ReadonlySet<JsonType>): Set<JsonType> {
  const out = new Set<JsonType>();
  for (const t of JSON_TYPES) {
    if (admits(a, t) && admits(b, t)) out.add(t === 'number' && !(a.has('number') && b.has('number')) ? 'integer' : t);
  }
  if (out.has('number')) out.delete('integer');
  return out;
}

export interface Bound {
  value: number;
  exclusive: boolean;
}

export function lowerBound(loc: Loc): Bound | undefined {
  const min = num(loc, 'minimum');
  const ex = isObject(loc.node) ? loc.node.exclusiveMinimum : undefined;
  let b: Bound | undefined = min === undefined ? undefined : { value: min, exclusive: ex === true };
  if (ex !== undefined && typeof ex !== 'boolean') {
    const v = num(loc, 'exclusiveMinimum') as number;
    if (!b || v >= b.value) b = { value: v, exclusive: true };
  }
  return b;
}

export function upperBound(loc: Loc): Bound | undefined {
  const max = num(loc, 'maximum');
  const ex = isObject(loc.node) ? loc.node.exclusiveMaximum : undefined;
  let b: Bound | undefined = max === undefined ? undefined : { value: max, exclusive: ex === true };
  if (ex !== undefined && typeof ex !== 'boolean') {
    const v = num(loc, 'exclusiveMaximum') as number;
    if (!b || v <= b.value) b = { value: v, exclusive: true };
  }
  return b;
}

function tighterLower(a: Bound | undefined, b: Bound | undefined): Bound | undefined {
  if (!a) return b;
  if (!b) return a;
  if (a.value !== b.value) return a.value > b.value ? a : b;
  return a.exclusive ? a : b;
}

function tighterUpper(a: Bound | undefined, b: Bound | undefined): Bound | undefined {
  if (!a) return b;
  if (!b) return a;
  if (a.value !== b.value) return a.value < b.value ? a : b;
  return a.exclusive ? a : b;
}

const MERGEABLE = new Set([
  'type', 'nullable', 'enum', 'const', 'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum',
  'multipleOf', 'minLength', 'maxLength', 'pattern', 'format', 'items', 'prefixItems', 'additionalItems',
  'minItems', 'maxItems', 'uniqueItems', 'contains', 'properties', 'patternProperties',
  'additionalProperties', 'required', 'minProperties', 'maxProperties', 'dependentRequired',
  'dependentSchemas', 'dependencies', 'propertyNames', 'anyOf', 'oneOf', 'not', 'if', 'then', 'else',
  'minContains', 'maxContains',
]);

function mergeParts(reg: Registry, parts: Loc[], at: Loc): Loc | undefined {
  if (parts.some((p) => p.node === false)) return { ...at, node: false };
  const objs = parts.filter((p): p is Loc & { node: SchemaObject } => isObject(p.node));
  if (objs.length === 0) return { ...at, node: true };
  for (const p of objs) {
    for (const k of Object.keys(p.node)) {
      if (UNSUPPORTED_KEYWORDS.has(k) || k === 'allOf' || k === '$ref') return undefined;
    }
    reg.rememberChildren(p);
  }
  const key = 'merge:' + objs.map((p) => reg.id(p.node)).join(',');
  let failed = false;
  const result = reg.synth(key, () => {
    const r: Record<string, unknown> = dict();
    const once = (kw: string): boolean => {
      const having = objs.filter((p) => p.node[kw] !== undefined);
      if (having.length > 1 && having.some((p) => !deepEqual(p.node[kw], having[0]?.node[kw]))) return false;
      if (having[0]) r[kw] = having[0].node[kw];
      return true;
    };
    // annotations: the first conjunct that has one wins (the outer schema comes first)
    for (const p of objs) for (const [k, v] of Object.entries(p.node)) if (isAnnotationKeyword(k) && !MERGEABLE.has(k) && !(k in r)) r[k] = v;
    // types
    const typed = objs.filter((p) => p.node.type !== undefined);
    if (typed.length > 0) {
      let ts: Set<JsonType> = new Set(JSON_TYPES);
      for (const p of typed) ts = intersectTypes(ts, declaredTypes(p));
      r.type = typeList(ts);
    }
    // enums
    const enumerated = objs.map((p) => enumValues(p)).filter((v): v is unknown[] => v !== undefined);
    if (enumerated.length > 0) {
      const [first, ...rest] = enumerated;
      r.enum = (first ?? []).filter((v) => rest.every((e) => e.some((x) => deepEqual(x, v))));
    }
    // numbers
    let lo: Bound | undefined;
    let hi: Bound | undefined;
    for (const p of objs) {
      lo = tighterLower(lo, lowerBound(p));
      hi = tighterUpper(hi, upperBound(p));
    }
    if (lo) r[lo.exclusive ? 'exclusiveMinimum' : 'minimum'] = lo.value;
    if (hi) r[hi.exclusive ? 'exclusiveMaximum' : 'maximum'] = hi.value;
    const mults = objs.map((p) => num(p, 'multipleOf')).filter((m): m is number => m !== undefined);
    if (mults.length > 0) {
      const biggest = Math.max(...mults);
      if (mults.some((m) => Math.abs(biggest / m - Math.round(biggest / m)) > 1e-9)) failed = true;
      r.multipleOf = biggest;
    }
    // counts
    for (const [kw, pick] of [
      ['minLength', Math.max], ['maxLength', Math.min], ['minItems', Math.max], ['maxItems', Math.min],
      ['minProperties', Math.max], ['maxProperties', Math.min],
    ] as const) {
      const vs = objs.map((p) => num(p, kw)).filter((v): v is number => v !== undefined);
      if (vs.length > 0) r[kw] = pick(...vs);
    }
    if (objs.some((p) => bool(p, 'uniqueItems') === true)) r.uniqueItems = true;
    for (const p of objs) {
      str(p, 'pattern');
      str(p, 'format');
    }
    if (!once('pattern') || !once('format') || !once('contains') || !once('propertyNames') || !once('not') || !once('anyOf') || !once('oneOf')) failed = true;
    if (!once('if') || !once('then') || !once('else') || !once('minContains') || !once('maxContains')) failed = true;
    // `if`/`then`/`else` must come from one conjunct; `minContains` goes with its `contains`.
    const cond = objs.filter((p) => p.node.if !== undefined || p.node.then !== undefined || p.node.else !== undefined);
    if (cond.length > 1) failed = true;
    const counting = objs.filter((p) => p.node.contains !== undefined || p.node.minContains !== undefined || p.node.maxContains !== undefined);
    if (counting.length > 1) failed = true;
    if (r.anyOf !== undefined && r.oneOf !== undefined) failed = true;
    // arrays: plain `items` conjoin; tuples must come from one conjunct only
    const tuples = objs.filter((p) => p.node.prefixItems !== undefined || Array.isArray(p.node.items) || p.node.additionalItems !== undefined);
    const plainItems = objs.filter((p) => p.node.prefixItems === undefined && p.node.items !== undefined && !Array.isArray(p.node.items));
    if (tuples.length > 1 || (tuples.length === 1 && plainItems.length > 0)) failed = true;
    else if (tuples[0]) {
      for (const kw of ['prefixItems', 'items', 'additionalItems']) if (tuples[0].node[kw] !== undefined) r[kw] = tuples[0].node[kw];
    } else if (plainItems.length > 0) {
      r.items = reg.allOf(plainItems.map((p) => reg.child(p, subschema(p, 'items') as JsonSchema, 'items')), at).node;
    }
    // objects
    const required = new Set<string>();
    for (const p of objs) for (const name of strArray(p, 'required') ?? []) required.add(name);
    if (required.size > 0) r.required = [...required];
    const depReq: Record<string, string[]> = dict();
    const depSchemas: Record<string, JsonSchema> = dict();
    for (const p of objs) {
      for (const kw of ['dependencies', 'dependentRequired'] as const) {
        for (const [k, deps] of Object.entries(dependencyArrays(p, kw))) depReq[k] = [...new Set([...(depReq[k] ?? []), ...deps])];
      }
      for (const kw of ['dependencies', 'dependentSchemas'] as const) {
        const m = p.node[kw];
        if (!isObject(m)) continue;
        for (const [k, s] of Object.entries(m)) {
          if (Array.isArray(s)) continue;
          if (depSchemas[k] !== undefined) failed = true;
          depSchemas[k] = s as JsonSchema;
        }
      }
    }
    if (Object.keys(depReq).length > 0) r.dependentRequired = depReq;
    if (Object.keys(depSchemas).length > 0) r.dependentSchemas = depSchemas;

    const withPatterns = objs.filter((p) => p.node.patternProperties !== undefined);
    const closedish = objs.filter((p) => p.node.additionalProperties !== undefined && p.node.additionalProperties !== true);
    // An `additionalProperties` only sees its own conjunct's patterns: exact only without foreign patterns.
    if (withPatterns.length > 0 && closedish.some((c) => withPatterns.some((w) => w !== c))) failed = true;
    const names = new Set<string>();
    for (const p of objs) for (const k of Object.keys(schemaMap(p, 'properties') ?? {})) names.add(k);
    if (names.size > 0) {
      const props: Record<string, JsonSchema> = dict();
      for (const name of names) {
        const locs = objs.map((p) => effectiveProperty(reg, p, name)).filter((l): l is Loc => l !== undefined);
        props[name] = reg.allOf(locs, at).node;
      }
      r.properties = props;
    }
    if (withPatterns.length > 0) {
      const byPattern = new Map<string, Loc[]>();
      for (const p of withPatterns) {
        for (const [pat, s] of Object.entries(schemaMap(p, 'patternProperties') ?? {})) {
          byPattern.set(pat, [...(byPattern.get(pat) ?? []), reg.child(p, s, 'patternProperties', pat)]);
        }
      }
      const pp: Record<string, JsonSchema> = dict();
      for (const [pat, locs] of byPattern) pp[pat] = reg.allOf(locs, at).node;
      r.patternProperties = pp;
    }
    if (closedish.length > 0) {
      r.additionalProperties = reg.allOf(closedish.map((p) => reg.child(p, subschema(p, 'additionalProperties') as JsonSchema, 'additionalProperties')), at).node;
    }
    return r;
  }, at);
  if (failed) return undefined;
  return result;
}

/**
 * The schema a conjunct applies to property `name`: its declaration plus matching
 * `patternProperties`, or else its `additionalProperties`. Undefined when it allows anything.
 */
export function effectiveProperty(reg: Registry, p: Loc, name: string, declaredOnly = false): Loc | undefined {
  const parts: Loc[] = [];
  const props = schemaMap(p, 'properties') ?? {};
  if (Object.prototype.hasOwnProperty.call(props, name)) parts.push(reg.child(p, props[name] as JsonSchema, 'properties', name));
  if (declaredOnly) return parts[0];
  for (const [pat, s] of Object.entries(schemaMap(p, 'patternProperties') ?? {})) {
    if (regex(p, pat, 'patternProperties').test(name)) parts.push(reg.child(p, s, 'patternProperties', pat));
  }
  if (parts.length === 0) {
    const ap = subschema(p, 'additionalProperties');
    if (ap !== undefined && ap !== true) parts.push(reg.child(p, ap, 'additionalProperties'));
  }
  if (parts.length === 0) return undefined;
  return reg.allOf(parts, p);
}

/**
 * The branches of a union node (`anyOf`/`oneOf`), each conjoined with the node's sibling
 * keywords; a node that is not a union is its own single branch.
 */
export function unionBranches(reg: Registry, at: Loc): { keyword: 'anyOf' | 'oneOf' | undefined; branches: Loc[] } {
  const n = at.node;
  if (!isObject(n)) return { keyword: undefined, branches: [at] };
  const keyword = n.anyOf !== undefined ? 'anyOf' : n.oneOf !== undefined ? 'oneOf' : undefined;
  if (!keyword || (n.anyOf !== undefined && n.oneOf !== undefined)) return { keyword: undefined, branches: [at] };
  const cached = reg.branchCache.get(n);
  if (cached) return { keyword, branches: cached };
  const list = schemaArray(at, keyword) ?? [];
  const hasSiblings = Object.keys(n).some((k) => k !== keyword && !isAnnotationKeyword(k));
  reg.rememberChildren(at);
  let branches: Loc[];
  if (!hasSiblings) {
    branches = list.map((s, i) => reg.child(at, s, keyword, i));
  } else {
    const base = reg.synth(`unionbase:${reg.id(n)}`, () => {
      const copy: Record<string, unknown> = { ...n };
      delete copy[keyword];
      return copy;
    }, at);
    branches = list.map((s, i) => {
      const b = reg.child(at, s, keyword, i);
      const conj = reg.allOf([base, b], b);
      return mergeAllOf(reg, conj) ?? conj;
    });
  }
  reg.branchCache.set(n, branches);
  return { keyword, branches };
}
