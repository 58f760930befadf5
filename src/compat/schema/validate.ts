/**
 * A small validator used where the engine can decide exactly: a writer whose values are
 * enumerated (`enum`, `const`, or a `boolean`/`null`-only type) is compatible with a reader
 * iff the reader accepts each of those values. It follows `$ref`s and tolerates circular
 * object graphs (every step either consumes part of the finite value or is bounded by a
 * depth limit). Anything it cannot decide counts as rejected, which errs towards reporting.
 */
import { fullFormats } from 'ajv-formats/dist/formats.js';
import {
  bool, declaredTypes, deepEqual, deref, enumValues, isObject, nonNegInt, num, regex, schemaArray,
  schemaMap, str, strArray, subschema, valueType, admits, UNSUPPORTED_KEYWORDS, type Loc, type Registry,
} from './node.js';

const MAX_DEPTH = 64;

type FormatCheck = RegExp | ((s: string) => boolean) | { validate?: RegExp | ((s: string) => boolean); type?: string };

function formatAccepts(format: string, value: string): boolean {
  const f = (fullFormats as Record<string, FormatCheck | undefined>)[format];
  if (f === undefined) return true; // unknown formats are annotations, as in ajv without strict mode
  if (f instanceof RegExp) return f.test(value);
  if (typeof f === 'function') return f(value);
  if (f.type !== undefined && f.type !== 'string') return true;
  const v = f.validate;
  if (v === undefined) return true;
  return v instanceof RegExp ? v.test(value) : v(value);
}

function length(s: string): number {
  return [...s].length;
}

function isMultiple(v: number, m: number): boolean {
  const r = v / m;
  return Math.abs(r - Math.round(r)) < 1e-9;
}

/** Does the schema at `loc` accept `value`? */
export function accepts(reg: Registry, loc: Loc, value: unknown, depth = 0): boolean {
  if (depth > MAX_DEPTH) return false;
  const at = deref(reg, loc);
  const n = at.node;
  if (n === true) return true;
  if (n === false) return false;
  const d = depth + 1;
  for (const k of Object.keys(n)) if (UNSUPPORTED_KEYWORDS.has(k)) return false;

  const t = valueType(value);
  if (!admits(declaredTypes(at), t)) return false;
  const values = enumValues(at);
  if (values && !values.some((v) => deepEqual(v, value))) return false;

  for (const [k, sub] of [['allOf', schemaArray(at, 'allOf')], ['anyOf', schemaArray(at, 'anyOf')], ['oneOf', schemaArray(at, 'oneOf')]] as const) {
    if (!sub) continue;
    const results = sub.map((s, i) => accepts(reg, reg.child(at, s, k, i), value, d));
    if (k === 'allOf' && results.some((r) => !r)) return false;
    if (k === 'anyOf' && !results.some((r) => r)) return false;
    if (k === 'oneOf' && results.filter((r) => r).length !== 1) return false;
  }
  const not = subschema(at, 'not');
  if (not !== undefined && accepts(reg, reg.child(at, not, 'not'), value, d)) return false;

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
    if (m !== undefined && !isMultiple(value, m)) return false;
  }
  if (typeof value === 'string') {
    const minL = nonNegInt(at, 'minLength');
    const maxL = nonNegInt(at, 'maxLength');
    if (minL !== undefined && length(value) < minL) return false;
    if (maxL !== undefined && length(value) > maxL) return false;
    const p = str(at, 'pattern');
    if (p !== undefined && !regex(at, p, 'pattern').test(value)) return false;
    const f = str(at, 'format');
    if (f !== undefined && !formatAccepts(f, value)) return false;
  }
  if (Array.isArray(value) && !arrayAccepts(reg, at, value, d)) return false;
  if (isObject(value) && !objectAccepts(reg, at, value, d)) return false;
  return true;
}

function arrayAccepts(reg: Registry, at: Loc, value: unknown[], d: number): boolean {
  const minI = nonNegInt(at, 'minItems');
  const maxI = nonNegInt(at, 'maxItems');
  if (minI !== undefined && value.length < minI) return false;
  if (maxI !== undefined && value.length > maxI) return false;
  if (bool(at, 'uniqueItems') === true) {
    for (let i = 0; i < value.length; i++) for (let j = i + 1; j < value.length; j++) if (deepEqual(value[i], value[j])) return false;
  }
  const shape = tupleShape(reg, at);
  for (let i = 0; i < value.length; i++) {
    const s = i < shape.prefix.length ? shape.prefix[i] : shape.rest;
    if (s && !accepts(reg, s, value[i], d)) return false;
  }
  const contains = subschema(at, 'contains');
  if (contains !== undefined && !value.some((v) => accepts(reg, reg.child(at, contains, 'contains'), v, d))) return false;
  return true;
}

function objectAccepts(reg: Registry, at: Loc, value: Record<string, unknown>, d: number): boolean {
  const keys = Object.keys(value);
  const minP = nonNegInt(at, 'minProperties');
  const maxP = nonNegInt(at, 'maxProperties');
  if (minP !== undefined && keys.length < minP) return false;
  if (maxP !== undefined && keys.length > maxP) return false;
  for (const r of strArray(at, 'required') ?? []) if (!(r in value)) return false;
  const props = schemaMap(at, 'properties') ?? {};
  const patterns = Object.entries(schemaMap(at, 'patternProperties') ?? {}).map(([p, s]) => [regex(at, p, 'patternProperties'), p, s] as const);
  const ap = subschema(at, 'additionalProperties');
  for (const k of keys) {
    let matched = false;
    if (Object.prototype.hasOwnProperty.call(props, k)) {
      matched = true;
      if (!accepts(reg, reg.child(at, props[k] as boolean, 'properties', k), value[k], d)) return false;
    }
    for (const [re, p, s] of patterns) {
      if (re.test(k)) {
        matched = true;
        if (!accepts(reg, reg.child(at, s, 'patternProperties', p), value[k], d)) return false;
      }
    }
    if (!matched && ap !== undefined && !accepts(reg, reg.child(at, ap, 'additionalProperties'), value[k], d)) return false;
  }
  const depReq = { ...dependencyArrays(at, 'dependencies'), ...dependencyArrays(at, 'dependentRequired') };
  for (const [k, deps] of Object.entries(depReq)) if (k in value && deps.some((x) => !(x in value))) return false;
  for (const kw of ['dependencies', 'dependentSchemas'] as const) {
    const m = at.node !== true && at.node !== false ? at.node[kw] : undefined;
    if (!isObject(m)) continue;
    for (const [k, s] of Object.entries(m)) {
      if (Array.isArray(s) || !(k in value)) continue;
      if (!accepts(reg, reg.child(at, s as boolean, kw, k), value, d)) return false;
    }
  }
  const names = subschema(at, 'propertyNames');
  if (names !== undefined && keys.some((k) => !accepts(reg, reg.child(at, names, 'propertyNames'), k, d))) return false;
  return true;
}

/** `dependentRequired`, or the array entries of draft-07 `dependencies`. */
export function dependencyArrays(at: Loc, kw: 'dependencies' | 'dependentRequired'): Record<string, string[]> {
  const n = at.node;
  if (!isObject(n) || n[kw] === undefined) return {};
  const m = n[kw];
  if (!isObject(m)) throw new Error('unreachable');
  const out: Record<string, string[]> = {};
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
