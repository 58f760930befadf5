/**
 * A small validator used where the engine can decide exactly: a writer whose values are
 * enumerated (`enum`, `const`, or a `boolean`/`null`-only type) is compatible with a reader
 * iff the reader accepts each of those values. It follows `$ref`s and tolerates circular
 * object graphs (every step either consumes part of the finite value or is bounded by a
 * depth limit). It answers in three values: what it cannot decide (`unevaluated*`, dynamic
 * references, the depth limit) is `undefined`, and each caller resolves that towards
 * reporting (a writer value that may be valid counts; a reader that may reject, rejects).
 * Keywords follow ajv as the project configures it: own properties only, `multipleOf` by
 * ajv's quotient test, number formats (`int32`, ...) on numbers.
 */
import { fullFormats } from 'ajv-formats/dist/formats.js';
import {
  bool, declaredTypes, deepEqual, deref, enumValues, isObject, nonNegInt, num, regex, schemaArray,
  schemaMap, str, strArray, subschema, valueType, admits, type Loc, type Registry,
} from './node.js';

const MAX_DEPTH = 64;

/** Own properties only, as the project's validators look them up (`ownProperties`). */
const has = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);

type FormatCheck = RegExp | ((s: string) => boolean) | { validate?: RegExp | ((s: never) => boolean); type?: string };

function formatAccepts(format: string, value: string | number): boolean {
  const f = (fullFormats as Record<string, FormatCheck | undefined>)[format];
  if (f === undefined) return true; // unknown formats are annotations, as in ajv without strict mode
  if (f instanceof RegExp) return typeof value !== 'string' || f.test(value);
  if (typeof f === 'function') return typeof value !== 'string' || f(value);
  if ((f.type ?? 'string') !== typeof value) return true;
  const v = f.validate as RegExp | ((x: string | number) => boolean) | undefined;
  if (v === undefined) return true;
  return v instanceof RegExp ? v.test(String(value)) : v(value);
}

function length(s: string): number {
  return [...s].length;
}

/** Three-valued: true, false, or undefined when the validator cannot decide. */
export type Tri = boolean | undefined;

/** Keywords this validator cannot decide (annotation-dependent or dynamic). */
const UNDECIDED = new Set(['unevaluatedProperties', 'unevaluatedItems', '$dynamicRef', '$recursiveRef']);

/** Conjunction of three-valued results. */
function and(results: Iterable<Tri>): Tri {
  let out: Tri = true;
  for (const r of results) {
    if (r === false) return false;
    if (r === undefined) out = undefined;
  }
  return out;
}

/** Does the schema at `loc` accept `value`? Undefined when it cannot be decided. */
export function evaluate(reg: Registry, loc: Loc, value: unknown, depth = 0): Tri {
  if (depth > MAX_DEPTH) return undefined;
  const at = deref(reg, loc);
  const n = at.node;
  if (n === true) return true;
  if (n === false) return false;
  const d = depth + 1;
  let out: Tri = true;
  const meet = (r: Tri): boolean => {
    if (r === false) return true;
    if (r === undefined) out = undefined;
    return false;
  };
  for (const k of Object.keys(n)) if (UNDECIDED.has(k)) out = undefined;

  const t = valueType(value);
  if (!admits(declaredTypes(at), t)) return false;
  const values = enumValues(at);
  if (values && !values.some((v) => deepEqual(v, value))) return false;

  for (const [k, sub] of [['allOf', schemaArray(at, 'allOf')], ['anyOf', schemaArray(at, 'anyOf')], ['oneOf', schemaArray(at, 'oneOf')]] as const) {
    if (!sub) continue;
    const results = sub.map((s, i) => evaluate(reg, reg.child(at, s, k, i), value, d));
    if (k === 'allOf' && meet(and(results))) return false;
    if (k === 'anyOf' && !results.includes(true) && meet(results.includes(undefined) ? undefined : false)) return false;
    if (k === 'oneOf') {
      const yes = results.filter((r) => r === true).length;
      const maybe = results.filter((r) => r === undefined).length;
      if (yes > 1 || yes + maybe === 0) return false;
      if (maybe > 0) out = undefined;
    }
  }
  const not = subschema(at, 'not');
  if (not !== undefined) {
    const r = evaluate(reg, reg.child(at, not, 'not'), value, d);
    if (meet(r === undefined ? undefined : !r)) return false;
  }
  const cond = subschema(at, 'if');
  if (cond !== undefined) {
    const c = evaluate(reg, reg.child(at, cond, 'if'), value, d);
    const branch = (k: 'then' | 'else'): Tri => {
      const s = subschema(at, k);
      return s === undefined ? true : evaluate(reg, reg.child(at, s, k), value, d);
    };
    const r = c === true ? branch('then') : c === false ? branch('else') : and([branch('then'), branch('else')]) === true ? true : undefined;
    if (meet(r)) return false;
  }

  if (typeof value === 'number') {
    const min = num(at, 'minimum');
    const max = num(at, 'maximum');
    const exMin = n.exclusiveMinimum;
    const exMax = n.exclusiveMaximum;
    if (min !== undefined && (exMin === true ? value <= min : value < min)) return false;
    if (max !== undefined && (exMax === true ? value >= max : value > max)) return false;
    if (typeof exMin === 'number' && value <= exMin) return false;
    if (typeof exMax === 'number' && value >= exMax) return false;
    const m = num(at, 'multipleOf');
    if (m !== undefined && !ajvMultipleOf(value, m)) return false;
    const f = str(at, 'format');
    if (f !== undefined && formatFamily(f) === 'number' && !formatAccepts(f, value)) return false;
  }
  if (typeof value === 'string') {
    const minL = nonNegInt(at, 'minLength');
    const maxL = nonNegInt(at, 'maxLength');
    if (minL !== undefined && length(value) < minL) return false;
    if (maxL !== undefined && length(value) > maxL) return false;
    const p = str(at, 'pattern');
    if (p !== undefined && !regex(at, p, 'pattern').test(value)) return false;
    const f = str(at, 'format');
    if (f !== undefined && formatFamily(f) === 'string' && !formatAccepts(f, value)) return false;
  }
  if (Array.isArray(value) && meet(arrayAccepts(reg, at, value, d))) return false;
  if (isObject(value) && meet(objectAccepts(reg, at, value, d))) return false;
  return out;
}

/** True only when the schema is known to accept the value. */
export function accepts(reg: Registry, loc: Loc, value: unknown): boolean {
  return evaluate(reg, loc, value) === true;
}

/**
 * `multipleOf` as ajv computes it: the quotient must equal `parseInt` of itself, so
 * `0.3 / 0.1` (2.9999999999999996) fails and so does any quotient of 1e21 or more.
 */
export function ajvMultipleOf(v: number, m: number): boolean {
  const q = v / m;
  return q === parseInt(String(q), 10);
}

/** Which JSON type a format constrains in ajv-formats; `none` for unknown formats. */
export function formatFamily(format: string): 'string' | 'number' | 'none' {
  const f = Object.prototype.hasOwnProperty.call(fullFormats, format) ? (fullFormats as Record<string, FormatCheck | undefined>)[format] : undefined;
  if (f === undefined) return 'none';
  if (typeof f === 'object' && !(f instanceof RegExp) && f.type === 'number') return 'number';
  return 'string';
}

function arrayAccepts(reg: Registry, at: Loc, value: unknown[], d: number): Tri {
  const minI = nonNegInt(at, 'minItems');
  const maxI = nonNegInt(at, 'maxItems');
  if (minI !== undefined && value.length < minI) return false;
  if (maxI !== undefined && value.length > maxI) return false;
  if (bool(at, 'uniqueItems') === true) {
    for (let i = 0; i < value.length; i++) for (let j = i + 1; j < value.length; j++) if (deepEqual(value[i], value[j])) return false;
  }
  const shape = tupleShape(reg, at);
  const results: Tri[] = [];
  for (let i = 0; i < value.length; i++) {
    const s = i < shape.prefix.length ? shape.prefix[i] : shape.rest;
    if (s) results.push(evaluate(reg, s, value[i], d));
  }
  const contains = subschema(at, 'contains');
  if (contains !== undefined) {
    const hits = value.map((v) => evaluate(reg, reg.child(at, contains, 'contains'), v, d));
    const yes = hits.filter((h) => h === true).length;
    const maybe = hits.filter((h) => h === undefined).length;
    const minC = nonNegInt(at, 'minContains') ?? 1;
    const maxC = nonNegInt(at, 'maxContains') ?? Infinity;
    if (yes + maybe < minC || yes > maxC) return false;
    if (maybe > 0 && (yes < minC || yes + maybe > maxC)) results.push(undefined);
  }
  return and(results);
}

function objectAccepts(reg: Registry, at: Loc, value: Record<string, unknown>, d: number): Tri {
  const keys = Object.keys(value);
  const minP = nonNegInt(at, 'minProperties');
  const maxP = nonNegInt(at, 'maxProperties');
  if (minP !== undefined && keys.length < minP) return false;
  if (maxP !== undefined && keys.length > maxP) return false;
  for (const r of strArray(at, 'required') ?? []) if (!has(value, r)) return false;
  const props = schemaMap(at, 'properties') ?? {};
  const patterns = Object.entries(schemaMap(at, 'patternProperties') ?? {}).map(([p, s]) => [regex(at, p, 'patternProperties'), p, s] as const);
  const ap = subschema(at, 'additionalProperties');
  const results: Tri[] = [];
  for (const k of keys) {
    let matched = false;
    if (has(props, k)) {
      matched = true;
      results.push(evaluate(reg, reg.child(at, props[k] as boolean, 'properties', k), value[k], d));
    }
    for (const [re, p, s] of patterns) {
      if (re.test(k)) {
        matched = true;
        results.push(evaluate(reg, reg.child(at, s, 'patternProperties', p), value[k], d));
      }
    }
    if (!matched && ap !== undefined) results.push(evaluate(reg, reg.child(at, ap, 'additionalProperties'), value[k], d));
    if (results.includes(false)) return false;
  }
  const depReq = Object.assign(Object.create(null) as Record<string, string[]>, dependencyArrays(at, 'dependencies'), dependencyArrays(at, 'dependentRequired'));
  for (const [k, deps] of Object.entries(depReq)) if (has(value, k) && deps.some((x) => !has(value, x))) return false;
  for (const kw of ['dependencies', 'dependentSchemas'] as const) {
    const m = at.node !== true && at.node !== false ? at.node[kw] : undefined;
    if (!isObject(m)) continue;
    for (const [k, s] of Object.entries(m)) {
      if (Array.isArray(s) || !has(value, k)) continue;
      results.push(evaluate(reg, reg.child(at, s as boolean, kw, k), value, d));
    }
  }
  const names = subschema(at, 'propertyNames');
  if (names !== undefined) for (const k of keys) results.push(evaluate(reg, reg.child(at, names, 'propertyNames'), k, d));
  return and(results);
}

/** `dependentRequired`, or the array entries of draft-07 `dependencies`. */
export function dependencyArrays(at: Loc, kw: 'dependencies' | 'dependentRequired'): Record<string, string[]> {
  const n = at.node;
  if (!isObject(n) || n[kw] === undefined) return {};
  const m = n[kw];
  if (!isObject(m)) throw new Error('unreachable');
  const out: Record<string, string[]> = Object.create(null) as Record<string, string[]>;
  for (const [k, v] of Object.entries(m)) {
    if (Array.isArray(v)) out[k] = strArray(at, kw, v) as string[];
    else if (kw === 'dependentRequired') strArray(at, kw, v);
  }
  return out;
}

/** Positional items and the schema for the rest, across draft-07 and 2020-12 spellings. */
export interface TupleShape {
  prefix: Loc[];
  rest: Loc | undefined;
  /** Keyword holding the positional schemas and the rest schema. */
  prefixKeyword: 'prefixItems' | 'items';
  restKeyword: 'items' | 'additionalItems';
}

export function tupleShape(reg: Registry, at: Loc): TupleShape {
  const n = at.node;
  if (!isObject(n)) return { prefix: [], rest: undefined, prefixKeyword: 'items', restKeyword: 'items' };
  if (n.prefixItems !== undefined) {
    const prefix = (schemaArray(at, 'prefixItems') ?? []).map((s, i) => reg.child(at, s, 'prefixItems', i));
    const rest = subschema(at, 'items');
    return { prefix, rest: rest === undefined ? undefined : reg.child(at, rest, 'items'), prefixKeyword: 'prefixItems', restKeyword: 'items' };
  }
  if (Array.isArray(n.items)) {
    const prefix = (schemaArray(at, 'items') ?? []).map((s, i) => reg.child(at, s, 'items', i));
    const rest = subschema(at, 'additionalItems');
    return { prefix, rest: rest === undefined ? undefined : reg.child(at, rest, 'additionalItems'), prefixKeyword: 'items', restKeyword: 'additionalItems' };
  }
  const items = subschema(at, 'items');
  return { prefix: [], rest: items === undefined ? undefined : reg.child(at, items, 'items'), prefixKeyword: 'prefixItems', restKeyword: 'items' };
}
