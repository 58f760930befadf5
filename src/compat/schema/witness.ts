/**
 * Witnesses: a concrete instance the writer's schema accepts and the reader's rejects,
 * which is what a breaking verdict means. The sampler builds candidates from both schemas
 * (instances generated from the writer, then varied at every position with the boundary
 * values both schemas mention: bounds and their neighbours, lengths, multiples, enumerated
 * values, property names, pattern and format samples), and ajv, configured as the
 * project's generated validators are, judges them. The test suite's soundness oracle uses
 * the same sampler (plus json-schema-faker), so an explained witness is the kind of
 * instance the oracle checks verdicts with.
 */
import { createRequire } from 'node:module';
import { samplePattern } from './pattern.js';
import type { JsonSchema } from './types.js';

const require = createRequire(import.meta.url);
const Ajv = require('ajv').default as typeof import('ajv').default;
const Ajv2020 = require('ajv/dist/2020').default as typeof import('ajv/dist/2020.js').default;
const addFormats = require('ajv-formats').default as typeof import('ajv-formats').default;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const own = (o: object, k: string) => Object.prototype.hasOwnProperty.call(o, k);

/** Deterministic PRNG (mulberry32). */
export function prng(seed: number): () => number {
  let a = seed | 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const FORMAT_SAMPLES: Record<string, unknown[]> = {
  'date-time': ['2024-02-29T12:30:00Z', '2024-02-29T12:30:00+01:00'],
  date: ['2024-02-29'],
  time: ['12:30:00Z'],
  email: ['a@example.com'],
  'idn-email': ['a@example.com'],
  hostname: ['example.com'],
  ipv4: ['192.0.2.1'],
  ipv6: ['2001:db8::1'],
  uri: ['https://example.com/a'],
  'uri-reference': ['/a/b', 'https://example.com/a'],
  uuid: ['123e4567-e89b-12d3-a456-426614174000'],
  duration: ['P1D'],
  int32: [2147483647, 2147483648, -2147483649],
  int64: [9007199254740991],
  regex: ['^a$'],
};

/** The values both schemas make interesting: what their keywords mention, and neighbours. */
export interface Pool {
  /** Values from the parts of the schemas that differ first, then from the rest. */
  values: unknown[];
  /** How many of `values` come from the parts that differ. */
  primary: number;
  names: string[];
}

/** JSON texts of every subschema-like object of a schema. */
function texts(s: unknown, out = new Set<string>(), seen = new Set<object>()): Set<string> {
  if (typeof s !== 'object' || s === null || seen.has(s)) return out;
  seen.add(s);
  try {
    out.add(JSON.stringify(s));
  } catch {
    return out;
  }
  for (const v of Object.values(s)) texts(v, out, seen);
  return out;
}

const TYPE_SAMPLES: Record<string, unknown[]> = {
  null: [null],
  boolean: [true],
  integer: [1, -1],
  number: [0.5, 1.5],
  string: ['a', ''],
  array: [[], [1]],
  object: [{}],
};

const BASE_VALUES: unknown[] = [null, true, false, 0, 1, -1, 2, 0.5, -0.5, 1e21, -1e21, 2 ** 53, '', 'a', 'A', '0', 'ab', [], {}, [1], ['a'], [null]];

export function collectPool(schemas: readonly JsonSchema[], rnd: () => number): Pool {
  const primary: unknown[] = [];
  const secondary: unknown[] = [...BASE_VALUES];
  let values = secondary;
  const names = new Set<string>(['extra']);
  const seen = new Set<object>();
  const pick = (n: number) => Math.floor(rnd() * n);
  const all = schemas.map((x) => texts(x));
  const walk = (s: unknown, depth: number, other: Set<string> | undefined): void => {
    if (typeof s !== 'object' || s === null || seen.has(s) || depth > 40) return;
    seen.add(s);
    if (Array.isArray(s)) {
      for (const x of s) walk(x, depth + 1, other);
      return;
    }
    const n = s as Obj;
    let text: string | undefined;
    try {
      text = JSON.stringify(n);
    } catch {
      text = undefined;
    }
    values = other && text !== undefined && !other.has(text) ? primary : secondary;
    const before = values.length;
    if (Array.isArray(n.enum)) values.push(...n.enum);
    if (own(n, 'const')) values.push(n.const);
    for (const k of ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum']) {
      const v = n[k];
      if (typeof v === 'number') values.push(v, v - 1, v + 1, v - 0.5, v + 0.5, v + 1e-9, v - 1e-9);
    }
    if (typeof n.multipleOf === 'number') {
      const m = n.multipleOf;
      for (const k of [1, 2, 3, 5, 7, 10]) values.push(k * m, Number((k * m).toPrecision(12)), -k * m);
      // quotients near ajv's 1e21 limit: valid for m, not for a divisor of m
      values.push(m / 2, m * 1.5, m * 6e20, -m * 6e20);
    }
    for (const k of ['minLength', 'maxLength']) {
      const v = n[k];
      if (typeof v === 'number') for (const len of [v - 1, v, v + 1]) if (len >= 0 && len < 200) values.push('a'.repeat(len), 'A'.repeat(len), '9'.repeat(len));
    }
    for (const k of ['minItems', 'maxItems', 'minContains', 'maxContains']) {
      const v = n[k];
      if (typeof v === 'number') for (const len of [v - 1, v, v + 1]) if (len >= 0 && len < 50) values.push(Array.from({ length: len }, (_, i) => i), Array.from({ length: len }, () => 'a'));
    }
    if (typeof n.pattern === 'string') values.push(...samplePattern(n.pattern, pick), ...samplePattern(n.pattern, pick).map((x) => x.toUpperCase()));
    if (typeof n.format === 'string') values.push(...(FORMAT_SAMPLES[n.format] ?? []));
    for (const k of ['properties', 'dependentRequired', 'dependentSchemas', 'dependencies']) {
      if (isObj(n[k])) for (const name of Object.keys(n[k] as Obj)) names.add(name);
    }
    if (Array.isArray(n.required)) for (const name of n.required) if (typeof name === 'string') names.add(name);
    if (isObj(n.patternProperties)) {
      for (const p of Object.keys(n.patternProperties)) {
        for (const x of samplePattern(p, pick)) names.add(x);
        const lit = /^\^?([A-Za-z0-9_-]*)/.exec(p)?.[1];
        if (lit) names.add(lit + 'x').add(lit);
      }
    }
    // a changed node's types each get a representative value
    if (values === primary) {
      const ts = Array.isArray(n.type) ? n.type : typeof n.type === 'string' ? [n.type] : [];
      for (const t of ts) values.push(...(TYPE_SAMPLES[t as string] ?? []));
    }
    // scalars also as one-item arrays: items schemas are where bounds often sit
    for (const v of values.slice(before)) if (typeof v === 'number' || typeof v === 'string') values.push([v]);
    for (const v of Object.values(n)) walk(v, depth + 1, other);
  };
  schemas.forEach((s, i) => walk(s, 0, all[schemas.length - 1 - i]));
  const first = dedupe(primary);
  const rest = dedupe(secondary).filter((v) => !first.some((x) => JSON.stringify(x) === JSON.stringify(v)));
  return { values: [...first, ...rest], primary: first.length, names: [...names] };
}

function dedupe(values: unknown[]): unknown[] {
  const seen = new Set<string>();
  const out: unknown[] = [];
  for (const v of values) {
    const key = typeof v === 'number' ? `n${v}` : JSON.stringify(v);
    if (key === undefined || seen.has(key)) continue;
    seen.add(key);
    out.push(v);
  }
  return out;
}

// ── generating instances of a schema ───────────────────────────────────────

function resolvePointer(root: unknown, ref: string): unknown {
  if (!ref.startsWith('#')) return undefined;
  let cur: unknown = root;
  for (const raw of ref.slice(1).split('/').slice(1)) {
    const t = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(cur)) cur = cur[Number(t)];
    else if (isObj(cur) && own(cur, t)) cur = cur[t];
    else return undefined;
  }
  return cur;
}

/** A naive conjunction for generation: later parts add properties, required names and bounds. */
function conjoin(a: Obj, b: unknown): Obj {
  if (!isObj(b)) return a;
  const out: Obj = { ...a };
  for (const [k, v] of Object.entries(b)) {
    if (k === 'properties' && isObj(out.properties) && isObj(v)) out.properties = { ...out.properties, ...v };
    else if (k === 'required' && Array.isArray(out.required) && Array.isArray(v)) out.required = [...out.required, ...v];
    else if (!own(out, k)) Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

class Generator {
  constructor(
    private readonly root: unknown,
    private readonly rnd: () => number,
    private readonly pool: Pool,
  ) {}

  private pick<T>(xs: readonly T[]): T | undefined {
    return xs.length === 0 ? undefined : xs[Math.floor(this.rnd() * xs.length)];
  }

  gen(s: unknown, depth = 0): unknown {
    if (depth > 8) return null;
    if (s === true || s === undefined) return this.pick(this.pool.values);
    if (!isObj(s)) return null;
    let n: Obj = s;
    if (typeof n.$ref === 'string') {
      const { $ref, ...rest } = n;
      n = conjoin(rest, resolvePointer(this.root, $ref as string));
    }
    if (Array.isArray(n.allOf)) {
      let m: Obj = { ...n };
      delete m.allOf;
      for (const p of n.allOf as unknown[]) m = conjoin(m, isObj(p) && typeof p.$ref === 'string' ? conjoin({}, resolvePointer(this.root, p.$ref)) : p);
      return this.gen(m, depth + 1);
    }
    for (const k of ['anyOf', 'oneOf'] as const) {
      if (Array.isArray(n[k])) {
        const m: Obj = { ...n };
        delete m[k];
        return this.gen(conjoin(m, this.pick(n[k] as unknown[])), depth + 1);
      }
    }
    if (own(n, 'const')) return n.const;
    if (Array.isArray(n.enum)) return this.pick(n.enum);
    const types = Array.isArray(n.type) ? (n.type as string[]) : typeof n.type === 'string' ? [n.type] : inferTypes(n);
    const t = this.pick(types) ?? 'null';
    switch (t) {
      case 'null':
        return null;
      case 'boolean':
        return this.rnd() < 0.5;
      case 'integer':
      case 'number':
        return this.number(n, t === 'integer');
      case 'string':
        return this.string(n);
      case 'array':
        return this.array(n, depth);
      default:
        return this.object(n, depth);
    }
  }

  private number(n: Obj, integer: boolean): number {
    const lo = typeof n.minimum === 'number' ? n.minimum : typeof n.exclusiveMinimum === 'number' ? n.exclusiveMinimum + (integer ? 1 : 0.5) : undefined;
    const hi = typeof n.maximum === 'number' ? n.maximum : typeof n.exclusiveMaximum === 'number' ? n.exclusiveMaximum - (integer ? 1 : 0.5) : undefined;
    const m = typeof n.multipleOf === 'number' ? n.multipleOf : integer ? 1 : undefined;
    const base = lo ?? (hi !== undefined ? hi - 10 : -5);
    const top = hi ?? base + 20;
    let v = base + this.rnd() * Math.max(0, top - base);
    if (m !== undefined) v = Math.ceil(v / m) * m;
    else if (this.rnd() < 0.5) v = Math.round(v);
    return integer ? Math.round(v) : v;
  }

  private string(n: Obj): string {
    if (typeof n.pattern === 'string') {
      const s = this.pick(samplePattern(n.pattern, (k) => Math.floor(this.rnd() * k)));
      if (s !== undefined) return s;
    }
    if (typeof n.format === 'string') {
      const f = this.pick((FORMAT_SAMPLES[n.format] ?? []).filter((x) => typeof x === 'string'));
      if (typeof f === 'string') return f;
    }
    const min = typeof n.minLength === 'number' ? n.minLength : 0;
    const max = typeof n.maxLength === 'number' ? n.maxLength : min + 6;
    const len = min + Math.floor(this.rnd() * (Math.max(min, Math.min(max, min + 8)) - min + 1));
    let s = '';
    for (let i = 0; i < len; i++) s += 'abcxyz'[Math.floor(this.rnd() * 6)];
    return s;
  }

  private array(n: Obj, depth: number): unknown[] {
    const prefix = Array.isArray(n.prefixItems) ? n.prefixItems : Array.isArray(n.items) ? n.items : [];
    const rest = Array.isArray(n.items) ? n.additionalItems : n.items;
    const min = typeof n.minItems === 'number' ? n.minItems : 0;
    const max = typeof n.maxItems === 'number' ? n.maxItems : Math.max(min, prefix.length) + 3;
    const len = Math.min(max, Math.max(min, prefix.length) + Math.floor(this.rnd() * 3));
    const out: unknown[] = [];
    for (let i = 0; i < len; i++) out.push(this.gen(i < prefix.length ? prefix[i] : rest, depth + 1));
    if (n.contains !== undefined && out.length < max) {
      const c = typeof n.minContains === 'number' ? Math.max(1, n.minContains) : 1;
      for (let i = 0; i < c && out.length < max; i++) out.push(this.gen(n.contains, depth + 1));
    }
    return n.uniqueItems === true ? dedupe(out) : out;
  }

  private object(n: Obj, depth: number): Obj {
    const out: Obj = Object.create(null) as Obj;
    const props = isObj(n.properties) ? n.properties : {};
    const required = Array.isArray(n.required) ? (n.required as unknown[]).filter((x): x is string => typeof x === 'string') : [];
    const set = (k: string, v: unknown) => Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
    for (const k of Object.keys(props)) if (required.includes(k) || this.rnd() < 0.6) set(k, this.gen(props[k], depth + 1));
    for (const k of required) if (!own(out, k)) set(k, this.gen(undefined, depth + 1));
    if (isObj(n.dependentRequired)) {
      for (const [k, deps] of Object.entries(n.dependentRequired)) {
        if (own(out, k) && Array.isArray(deps)) for (const d of deps) if (typeof d === 'string' && !own(out, d)) set(d, this.gen(props[d], depth + 1));
      }
    }
    if (n.additionalProperties !== false && this.rnd() < 0.3) {
      const name = this.pick(this.pool.names) ?? 'extra';
      if (!own(out, name)) set(name, this.gen(isObj(n.additionalProperties) ? n.additionalProperties : undefined, depth + 1));
    }
    return { ...out };
  }
}

function inferTypes(n: Obj): string[] {
  if (n.properties !== undefined || n.required !== undefined || n.additionalProperties !== undefined || n.patternProperties !== undefined) return ['object'];
  if (n.items !== undefined || n.prefixItems !== undefined || n.minItems !== undefined || n.contains !== undefined) return ['array'];
  if (n.minLength !== undefined || n.maxLength !== undefined || n.pattern !== undefined || n.format !== undefined) return ['string'];
  if (n.minimum !== undefined || n.maximum !== undefined || n.multipleOf !== undefined || n.exclusiveMinimum !== undefined || n.exclusiveMaximum !== undefined) return ['number'];
  return ['null', 'boolean', 'integer', 'number', 'string', 'array', 'object'];
}

/** Every position in a value (object properties and array items), up to a depth. */
function positions(v: unknown, depth = 0, path: Array<string | number> = [], out: Array<Array<string | number>> = []): Array<Array<string | number>> {
  out.push(path);
  if (depth >= 3) return out;
  if (Array.isArray(v)) v.forEach((x, i) => positions(x, depth + 1, [...path, i], out));
  else if (isObj(v)) for (const k of Object.keys(v)) positions(v[k], depth + 1, [...path, k], out);
  return out;
}

function at(v: unknown, path: ReadonlyArray<string | number>): unknown {
  let cur = v;
  for (const t of path) cur = Array.isArray(cur) ? cur[t as number] : isObj(cur) ? cur[t as string] : undefined;
  return cur;
}

/** A copy of `v` with the node at `path` replaced by `f(node)` (undefined `f` result deletes it). */
function update(v: unknown, path: ReadonlyArray<string | number>, f: (x: unknown) => unknown): unknown {
  if (path.length === 0) return f(v);
  const [head, ...rest] = path as [string | number, ...Array<string | number>];
  if (Array.isArray(v)) {
    const copy = [...v];
    const next = update(copy[head as number], rest, f);
    if (next === undefined && rest.length === 0) copy.splice(head as number, 1);
    else copy[head as number] = next;
    return copy;
  }
  if (isObj(v)) {
    const copy: Obj = { ...v };
    const next = update(copy[head as string], rest, f);
    if (next === undefined && rest.length === 0) delete copy[head as string];
    else Object.defineProperty(copy, head as string, { value: next, enumerable: true, writable: true, configurable: true });
    return copy;
  }
  return v;
}

/** Instances generated from a schema (not all valid: the judge decides). */
export function generateInstances(schema: JsonSchema, count: number, seed = 1, also: JsonSchema = true): unknown[] {
  const rnd = prng(seed);
  const gen = new Generator(schema, rnd, collectPool([schema, also], rnd));
  return Array.from({ length: count }, () => gen.gen(schema));
}

export interface SampleOptions {
  seed?: number;
  /** Instances generated from the writer before varying them (default 4). */
  bases?: number;
  /** Most candidates returned (default 1500). */
  limit?: number;
  /** Extra instances of the writer to vary (e.g. from json-schema-faker). */
  extraBases?: unknown[];
}

/**
 * Candidate instances for "valid under `writer`, invalid under `reader`": generated
 * instances of the writer, then each position of each set to every pool value, removed,
 * or (objects) given one more property; arrays also grow and shrink by one item.
 */
export function sampleCandidates(writer: JsonSchema, reader: JsonSchema, opts: SampleOptions = {}): unknown[] {
  const rnd = prng(opts.seed ?? 1);
  const pool = collectPool([writer, reader], rnd);
  const gen = new Generator(writer, rnd, pool);
  const bases: unknown[] = [...(opts.extraBases ?? [])];
  for (let i = 0; i < (opts.bases ?? 4); i++) bases.push(gen.gen(writer));
  const limit = opts.limit ?? 1500;
  const out: unknown[] = [...bases, ...pool.values.slice(0, pool.primary)];
  const readerGen = new Generator(reader, rnd, pool);
  const set = (x: unknown, name: string, v: unknown) => Object.defineProperty({ ...(x as Obj) }, name, { value: v, enumerable: true, writable: true, configurable: true });
  // First the values from what differs between the schemas, at every position; then the rest.
  for (const [from, to] of [[0, pool.primary], [pool.primary, pool.values.length]] as const) {
    const values = pool.values.slice(from, to);
    const cap = Math.ceil(limit * 1.3);
    for (const base of bases) {
      for (const path of positions(base)) {
        if (out.length >= cap) break;
        const node = at(base, path);
        if (from === 0 && path.length > 0) out.push(update(base, path, () => undefined));
        for (const v of values) if (out.length < cap) out.push(update(base, path, () => v));
        if (isObj(node)) {
          for (const name of pool.names) {
            if (own(node, name) || out.length >= cap) continue;
            const extra = from === 0 ? [readerGen.gen(true), null, 'a', 1] : [];
            for (const v of [...values.slice(0, 12), ...extra]) out.push(update(base, path, (x) => set(x, name, v)));
          }
        }
        if (from === 0 && Array.isArray(node)) {
          out.push(update(base, path, (x) => [...(x as unknown[]), ...(x as unknown[]).slice(-1)]));
          out.push(update(base, path, (x) => [...(x as unknown[]), gen.gen(true)]));
          out.push(update(base, path, (x) => (x as unknown[]).slice(0, -1)));
        }
      }
    }
  }
  out.push(...pool.values.slice(pool.primary));
  return dedupe(out).slice(0, limit);
}

// ── the judge ──────────────────────────────────────────────────────────────

/**
 * True or false as ajv decides; undefined when ajv throws on the value (fast-deep-equal,
 * behind `enum`/`const`/`uniqueItems` on objects, calls a `toString` own property).
 */
export type Judge = (value: unknown) => boolean | undefined;

type AjvInstance = InstanceType<typeof Ajv>;
const instances: Partial<Record<'draft-07' | '2020-12', AjvInstance>> = {};

/**
 * ajv with the semantics of the project's validators (`src/validation/ajv.ts`): own
 * properties only, `u` regular expressions, union types, ajv-formats; but not strict about
 * schema style (a property that also matches a pattern is fine here), since the judge must
 * answer for any schema the engine compares.
 */
function instance(dialect: 'draft-07' | '2020-12'): AjvInstance {
  return (instances[dialect] ??= create(dialect));
}

function create(dialect: 'draft-07' | '2020-12'): AjvInstance {
  const settings = { strict: false, allowUnionTypes: true, ownProperties: true, unicodeRegExp: true, allErrors: false, validateSchema: false, code: { optimize: false } } as const;
  const ajv = dialect === '2020-12' ? (new Ajv2020(settings) as unknown as AjvInstance) : new Ajv(settings);
  addFormats(ajv as never);
  return ajv;
}

/** Draft-07 tuples (`items` as an array, `additionalItems`) need the draft-07 validator. */
export function dialectOf(schema: JsonSchema): 'draft-07' | '2020-12' {
  const seen = new Set<object>();
  const walk = (s: unknown): boolean => {
    if (typeof s !== 'object' || s === null || seen.has(s)) return false;
    seen.add(s);
    if (!Array.isArray(s) && (Array.isArray((s as Obj).items) || (s as Obj).additionalItems !== undefined)) return true;
    return Object.values(s).some(walk);
  };
  return walk(schema) ? 'draft-07' : '2020-12';
}

/** A judge for `schema`, or undefined when ajv cannot compile it. */
export function judge(schema: JsonSchema, dialect: 'draft-07' | '2020-12' = dialectOf(schema), documents?: ReadonlyMap<string, JsonSchema>): Judge | undefined {
  let ajv = instance(dialect);
  if (documents && documents.size > 0) {
    // other documents its `$ref`s name: a throw-away instance that knows them by id
    ajv = create(dialect);
    for (const [id, doc] of documents) ajv.addSchema(structuredClone(doc) as never, id);
  }
  // ajv caches compiled schemas by object: a copy, removed again, keeps the cache small.
  let copy: unknown = schema;
  try {
    copy = structuredClone(schema);
  } catch {
    // circular: compile the original
  }
  try {
    const validate = ajv.compile(copy as never);
    return (v) => {
      try {
        return validate(v) === true;
      } catch {
        return undefined;
      }
    };
  } catch {
    return undefined;
  } finally {
    try {
      ajv.removeSchema(copy as never);
    } catch {
      // not cached
    }
  }
}

export interface WitnessOptions extends SampleOptions {
  dialect?: 'draft-07' | '2020-12';
  /**
   * Documents that `$ref`s name, by absolute id (e.g. `file:///…/common.yaml`); the two
   * schemas then need an `$id` their relative references resolve against.
   */
  documents?: ReadonlyMap<string, JsonSchema>;
}

/**
 * An instance `writer` accepts and `reader` rejects, found by the sampler and checked by
 * ajv; undefined when none was found (or ajv cannot compile either schema).
 */
export function findWitness(writer: JsonSchema, reader: JsonSchema, opts: WitnessOptions = {}): { value: unknown } | undefined {
  const dialect = opts.dialect ?? (dialectOf(writer) === 'draft-07' || dialectOf(reader) === 'draft-07' ? 'draft-07' : '2020-12');
  const w = judge(writer, dialect, opts.documents);
  const r = judge(reader, dialect, opts.documents);
  if (!w || !r) return undefined;
  for (const seed of [opts.seed ?? 1, (opts.seed ?? 1) + 1]) {
    for (const v of sampleCandidates(writer, reader, { ...opts, seed })) if (w(v) === true && r(v) === false) return { value: v };
  }
  return undefined;
}

/** Witnesses of a breaking comparison, by the direction they break. */
export interface Witnesses {
  /** Valid under the old schema, rejected by the new one (breaks BACKWARD). */
  backward?: unknown;
  /** Valid under the new schema, rejected by the old one (breaks FORWARD). */
  forward?: unknown;
}

/**
 * Witnesses for the directions asked: for `backward`, an instance the old schema accepts
 * and the new one rejects; for `forward`, the reverse. A direction without one is absent.
 */
export function findWitnesses(old: JsonSchema, next: JsonSchema, directions: ReadonlyArray<'backward' | 'forward'>, opts: WitnessOptions = {}): Witnesses {
  const out: Witnesses = {};
  if (directions.includes('backward')) {
    const w = findWitness(old, next, opts);
    if (w) out.backward = w.value;
  }
  if (directions.includes('forward')) {
    const w = findWitness(next, old, opts);
    if (w) out.forward = w.value;
  }
  return out;
}

/** A witness as one line of JSON, shortened for terminals and annotations. */
export function showWitness(v: unknown, max = 200): string {
  let s: string;
  try {
    s = JSON.stringify(v) ?? String(v);
  } catch {
    s = String(v);
  }
  return s.length > max ? s.slice(0, max - 3) + '...' : s;
}
