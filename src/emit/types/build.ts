/**
 * Build step of the type emitter: every request schema becomes a tree of `TypeNode`s, one
 * per schema *position*, each with a unique name stamp. Names are decided here, once, and
 * never by a renderer:
 *
 * - a request root is named exactly as requested;
 * - a schema with a `title` is named after it (`Money`); the same title on an identical
 *   schema (same canonical JSON) is the same type; the same title on a different shape
 *   gets a numeric suffix (`Money2`) and a `TYPES_NAME_CLASH` warning, so no shape is lost
 *   (modelina 5.10 silently keeps one of them);
 * - an anonymous schema is named from its parent and position (`UserCreatedV2Address`,
 *   `…Item`, `…Value`, `…Option1`, `…Part1`), never `AnonymousSchema_N`.
 *
 * Local `$ref`s (`#/properties/…`, how the catalog writes cycles) are resolved against the
 * request root; a `$ref` to an ancestor becomes a back-edge (`ref`), so recursion terminates.
 */
import type { Diagnostic, SourceLocation } from '../../diagnostics.js';
import type { JsonSchema } from '../../catalog/model.js';
import { pascalCase } from '../../catalog/names.js';

export type SchemaObject = { readonly [key: string]: unknown };

export interface TypeRequest {
  /** Unique PascalCase name wanted for the root type, e.g. `UserCreatedV2` or `UserCreatedV2Headers`. */
  name: string;
  /** Plain JSON (already dereferenced; recursion appears as local `$ref` pointers to an ancestor). */
  schema: JsonSchema;
  description?: string;
  /** Where the schema was written, for diagnostics (optional). */
  location?: SourceLocation;
}

export interface PropertyEdge {
  readonly key: string;
  readonly node: TypeNode;
  readonly required: boolean;
}

export interface TypeNode {
  /** Unique across the whole run: the `title` modelina sees, and the declared name if it gets one. */
  stamp: string;
  /** Whether `stamp` is a readable name we may declare (objects, enums, roots); otherwise a throw-away. */
  claimed: boolean;
  readonly root: boolean;
  /** The schema as written at this position (`true` for a missing schema). */
  readonly schema: JsonSchema;
  /** JSON pointer inside the request's schema, for messages. */
  readonly pointer: string;
  /** JSON pointer inside the combined document handed to modelina. */
  readonly combined: string;
  readonly request: string;
  properties: PropertyEdge[];
  items?: TypeNode;
  tuple?: TypeNode[];
  /** `additionalItems` (or 2020-12 `items` after `prefixItems`). */
  rest?: TypeNode | boolean;
  additional?: TypeNode | boolean;
  patterns: TypeNode[];
  oneOf: TypeNode[];
  anyOf: TypeNode[];
  allOf: TypeNode[];
  /** Target of a local `$ref`. */
  ref?: TypeNode;
  /** Whether `ref` points back at an ancestor (a cycle) rather than at a copy expanded in place. */
  backEdge?: boolean;
  /** Pointer of a `$ref` we could not resolve. */
  brokenRef?: string;
}

/** Names that would shadow a global our output relies on, or read confusingly. */
const GLOBAL_TYPES = new Set([
  'Array', 'ReadonlyArray', 'Record', 'Partial', 'Readonly', 'Required', 'Pick', 'Omit', 'Object', 'String',
  'Number', 'Boolean', 'Symbol', 'BigInt', 'Date', 'Map', 'Set', 'Promise', 'Function', 'Error', 'JSON', 'Math',
]);

const ASCII_IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
const RESERVED = new Set(
  ('break case catch class const continue debugger default delete do else enum export extends false finally for ' +
    'function if import in instanceof new null return super switch this throw true try typeof var void while with ' +
    'yield let static implements interface package private protected public await any boolean number string symbol ' +
    'unknown never object undefined bigint type namespace declare module').split(' '),
);

/**
 * A type name from free text: PascalCase, ASCII only (accents are transliterated, other
 * letters dropped: TypeScript's identifier tables lag Unicode, ASCII never fails), never a
 * global we use. Empty when nothing usable is left.
 */
export function typeName(text: string): string {
  let out = pascalCase(text).replace(/[^A-Za-z0-9_$]/g, '');
  if (out === '' || out === 'Unnamed') return '';
  if (/^[0-9]/.test(out)) out = `N${out}`;
  if (GLOBAL_TYPES.has(out) || RESERVED.has(out)) out = `Reserved${out}`;
  return out;
}

/** Stable JSON with sorted keys: the identity of a schema for de-duplication. */
export function canonical(value: unknown, cache: WeakMap<object, string>): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  const hit = cache.get(value);
  if (hit !== undefined) return hit;
  let out: string;
  if (Array.isArray(value)) {
    out = `[${value.map((v) => canonical(v, cache)).join(',')}]`;
  } else {
    const obj = value as Record<string, unknown>;
    const keys = Object.keys(obj)
      .filter((k) => !k.startsWith('x-parser-'))
      .sort();
    out = `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(obj[k], cache)}`).join(',')}}`;
  }
  cache.set(value, out);
  return out;
}

function isObject(value: unknown): value is SchemaObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function escapePointer(token: string): string {
  return token.replace(/~/g, '~0').replace(/\//g, '~1');
}

function resolvePointer(root: unknown, ref: string): unknown {
  if (ref === '#') return root;
  if (!ref.startsWith('#/')) return undefined;
  let node: unknown = root;
  for (const raw of ref.slice(2).split('/')) {
    let token: string;
    try {
      token = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    } catch {
      return undefined;
    }
    if (Array.isArray(node)) node = node[Number(token)];
    else if (isObject(node)) node = node[token];
    else return undefined;
    if (node === undefined) return undefined;
  }
  return node;
}

function schemaTypes(schema: SchemaObject): string[] {
  const t = schema['type'];
  if (typeof t === 'string') return [t];
  if (Array.isArray(t)) return t.filter((x): x is string => typeof x === 'string');
  return [];
}

/** Whether a schema deserves a declaration of its own (and so a readable name). */
function isNameWorthy(schema: JsonSchema): boolean {
  if (!isObject(schema)) return false;
  if (Array.isArray(schema['enum'])) return true;
  if (schema['const'] !== undefined) return false;
  const types = schemaTypes(schema);
  return (
    types.includes('object') ||
    isObject(schema['properties']) ||
    Array.isArray(schema['oneOf']) ||
    Array.isArray(schema['anyOf']) ||
    Array.isArray(schema['allOf'])
  );
}

export interface BuildResult {
  roots: TypeNode[];
  /** The requests, in the order of `roots` (sorted by name). */
  requests: TypeRequest[];
  /** Every node, in build order. */
  nodes: TypeNode[];
  diagnostics: Diagnostic[];
}

/** The name registry: one name per distinct shape, suffixes for different shapes. */
class Names {
  private readonly byName = new Map<string, string>();
  private throwaway = 0;

  /** Claims `base` (or `base2`, `base3`…) for the shape `key`; `clashed` when a new shape had to take a suffix. */
  claim(base: string, key: string): { name: string; clashed: boolean } {
    for (let i = 1; ; i++) {
      const name = i === 1 ? base : `${base}${i}`;
      const owner = this.byName.get(name);
      if (owner === undefined) {
        this.byName.set(name, key);
        return { name, clashed: i > 1 };
      }
      // Seen before: already reported if it clashed.
      if (owner === key) return { name, clashed: false };
    }
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  /** A unique stamp that can never be a TypeScript name we declare. */
  anonymous(): string {
    return `$anon${++this.throwaway}`;
  }
}

function locate(request: TypeRequest, pointer: string): SourceLocation | undefined {
  if (!request.location) return undefined;
  return { ...request.location, pointer: `${request.location.pointer ?? ''}${pointer}` };
}

/** Builds the node trees for all requests, sorted by name so that the result is order-independent. */
export function buildNodes(requests: readonly TypeRequest[], reserved: ReadonlySet<string> = new Set()): BuildResult {
  const diagnostics: Diagnostic[] = [];
  const nodes: TypeNode[] = [];
  const names = new Names();
  // Names other modules of the package export (descriptors, validators, clients): no type may take them.
  for (const name of [...reserved].sort()) names.claim(name, `\u0000reserved\u0000${name}`);
  const keys = new WeakMap<object, string>();
  const order = (x: string, y: string): number => (x < y ? -1 : x > y ? 1 : 0);
  // By name, then by shape: requests sharing a name still come out in one order whatever the input order.
  const sorted = [...requests].sort(
    (a, b) => order(a.name, b.name) || order(canonical(a.schema, keys), canonical(b.schema, keys)),
  );

  // Root names first: they are exactly what was asked for, so nothing else may take them.
  const rootNames: string[] = [];
  for (const request of sorted) {
    let base = request.name;
    if (!ASCII_IDENTIFIER.test(base) || RESERVED.has(base) || GLOBAL_TYPES.has(base)) {
      base = typeName(base) || 'Unnamed';
      diagnostics.push({
        code: 'TYPES_INVALID_NAME',
        severity: 'warning',
        message: `Type name ${JSON.stringify(request.name)} is not a safe TypeScript identifier; emitted as ${base}.`,
        ...(request.location ? { location: request.location } : {}),
      });
    }
    const { name, clashed } = names.claim(base, `\u0000root\u0000${rootNames.length}`);
    if (clashed) {
      diagnostics.push({
        code: 'TYPES_NAME_CLASH',
        severity: 'error',
        message: `Two type requests are named ${JSON.stringify(request.name)}; the second is emitted as ${name}.`,
        ...(request.location ? { location: request.location } : {}),
      });
    }
    rootNames.push(name);
  }

  const roots = sorted.map((request, index) => {
    const rootName = rootNames[index]!;
    const rootPointer = `/properties/r${index}`;
    // Original schema object → node, for the nodes currently being built (the ancestors).
    const ancestors = new Map<object, TypeNode>();
    const cycleTargets = new Set<TypeNode>();
    // `$ref` targets being expanded: a chain of `$ref`s that loops without a schema between is unresolvable.
    const following = new Set<object>();

    const visit = (
      schema: unknown,
      pointer: string,
      combined: string,
      positional: string,
      isRoot: boolean,
    ): TypeNode => {
      const s: JsonSchema = isObject(schema) ? schema : typeof schema === 'boolean' ? schema : true;
      if (isRoot && isObject(s) && typeof s['$ref'] === 'string') {
        // A root that is a `$ref` (`#/definitions/X`) *is* its target: same name, and cycles back to it.
        const target = resolvePointer(request.schema, s['$ref']);
        if (isObject(target) && !following.has(target)) {
          following.add(target);
          return visit(target, pointer, combined, positional, true);
        }
      }
      let stamp: string;
      let claimed = false;
      if (isRoot) {
        stamp = rootName;
        claimed = true;
      } else if (isNameWorthy(s) && isObject(s) && typeof s['$ref'] !== 'string') {
        const title = typeof s['title'] === 'string' ? typeName(s['title']) : '';
        const base = title || positional;
        const { name, clashed } = names.claim(base, canonical(s, keys));
        if (clashed && reserved.has(base)) {
          diagnostics.push({
            code: 'NAME_CLASH',
            severity: 'warning',
            message: `The type of ${request.name}#${pointer} would be ${base}, which another module of the package exports; it is emitted as ${name}.`,
            ...(request.location ? { location: locate(request, pointer)! } : {}),
          });
        } else if (clashed && title) {
          diagnostics.push({
            code: 'TYPES_NAME_CLASH',
            severity: 'warning',
            message:
              `Schemas titled ${JSON.stringify(s['title'])} differ in shape; ` +
              `the one at ${request.name}#${pointer} is emitted as ${name}.`,
            ...(request.location ? { location: locate(request, pointer)! } : {}),
          });
        }
        stamp = name;
        claimed = true;
      } else {
        stamp = names.anonymous();
      }
      const node: TypeNode = {
        stamp,
        claimed,
        root: isRoot,
        schema: s,
        pointer,
        combined,
        request: request.name,
        properties: [],
        patterns: [],
        oneOf: [],
        anyOf: [],
        allOf: [],
      };
      nodes.push(node);
      if (!isObject(s)) return node;

      const ref = s['$ref'];
      if (typeof ref === 'string') {
        const target = resolvePointer(request.schema, ref);
        const ancestor = isObject(target) ? ancestors.get(target) : undefined;
        if (ancestor) {
          node.ref = ancestor;
          node.backEdge = true;
          cycleTargets.add(ancestor);
        } else if ((isObject(target) && !following.has(target)) || typeof target === 'boolean') {
          // A local pointer to a non-ancestor: expand it here (cycles through it end at an ancestor).
          if (isObject(target)) following.add(target);
          node.ref = visit(target, pointer, combined, positional, false);
          if (isObject(target)) following.delete(target);
        } else {
          node.brokenRef = ref;
          diagnostics.push({
            code: 'TYPES_UNRESOLVED_REF',
            severity: 'warning',
            message: `Cannot resolve $ref ${JSON.stringify(ref)} at ${request.name}#${pointer}; typed as unknown.`,
            ...(request.location ? { location: locate(request, pointer)! } : {}),
          });
        }
        return node;
      }

      ancestors.set(s, node);
      const own = stamp.startsWith('$') ? positional : stamp;
      const props = s['properties'];
      if (isObject(props)) {
        const required = new Set(Array.isArray(s['required']) ? s['required'] : []);
        Object.keys(props).forEach((key, i) => {
          const child = visit(
            props[key],
            `${pointer}/properties/${escapePointer(key)}`,
            `${combined}/properties/p${i}`,
            `${own}${typeName(key) || `Property${i + 1}`}`,
            false,
          );
          node.properties.push({ key, node: child, required: required.has(key) });
        });
      }
      const prefix = Array.isArray(s['prefixItems']) ? s['prefixItems'] : Array.isArray(s['items']) ? s['items'] : undefined;
      if (prefix) {
        const keyword = Array.isArray(s['prefixItems']) ? 'prefixItems' : 'items';
        node.tuple = prefix.map((item, i) =>
          visit(item, `${pointer}/${keyword}/${i}`, `${combined}/items/${i}`, `${own}Item${i + 1}`, false),
        );
        const restKeyword = keyword === 'prefixItems' ? 'items' : 'additionalItems';
        const rest = s[restKeyword];
        if (typeof rest === 'boolean') node.rest = rest;
        else if (isObject(rest)) {
          node.rest = visit(rest, `${pointer}/${restKeyword}`, `${combined}/additionalItems`, `${own}Rest`, false);
        }
      } else if (isObject(s['items']) || typeof s['items'] === 'boolean') {
        node.items = visit(s['items'], `${pointer}/items`, `${combined}/items`, `${own}Item`, false);
      }
      const additional = s['additionalProperties'];
      if (typeof additional === 'boolean') node.additional = additional;
      else if (isObject(additional)) {
        node.additional = visit(
          additional,
          `${pointer}/additionalProperties`,
          `${combined}/additionalProperties`,
          `${own}Value`,
          false,
        );
      }
      const patterns = s['patternProperties'];
      if (isObject(patterns)) {
        Object.keys(patterns).forEach((pattern, i) => {
          node.patterns.push(
            visit(
              patterns[pattern],
              `${pointer}/patternProperties/${escapePointer(pattern)}`,
              `${combined}/patternProperties/p${i}`,
              `${own}Value${i + 1}`,
              false,
            ),
          );
        });
      }
      for (const [keyword, label] of [
        ['oneOf', 'Option'],
        ['anyOf', 'Option'],
        ['allOf', 'Part'],
      ] as const) {
        const members = s[keyword];
        if (!Array.isArray(members)) continue;
        members.forEach((member, i) => {
          node[keyword].push(
            visit(member, `${pointer}/${keyword}/${i}`, `${combined}/${keyword}/${i}`, `${own}${label}${i + 1}`, false),
          );
        });
      }
      ancestors.delete(s);
      if (cycleTargets.has(node) && !node.claimed) {
        // A recursive type needs a name to refer to itself, whatever its shape.
        node.stamp = names.claim(typeName(isObject(s) && typeof s['title'] === 'string' ? s['title'] : '') || positional, canonical(s, keys)).name;
        node.claimed = true;
      }
      return node;
    };

    return visit(request.schema, '', rootPointer, rootName, true);
  });

  return { roots, requests: sorted, nodes, diagnostics };
}

/** The root of `request`'s description: the request's own, else the schema's. */
export function rootDescription(request: TypeRequest): string | undefined {
  if (request.description !== undefined) return request.description;
  return isObject(request.schema) && typeof request.schema['description'] === 'string'
    ? request.schema['description']
    : undefined;
}

export { isObject, schemaTypes };
