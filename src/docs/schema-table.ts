/**
 * A JSON Schema (payload or headers of one event version) as the rows of a properties
 * table: one row per property, nested objects and array items flattened into dotted
 * paths (`address.city`, `lineItems[].sku`), each row with its type, format, whether it
 * is required, its description, enumerated values and constraints.
 *
 * Reads the catalog's plain-JSON schemas: recursion arrives as a local `$ref` to an
 * ancestor (`#/properties/children/items`), shown as a link to that ancestor's row.
 * `allOf` branches are merged into their parent (that is how readers see them);
 * `oneOf`/`anyOf` branches become variant rows with their own children.
 */
import type { JsonSchema } from '../catalog/model.js';
import { text, type Html } from './html.js';
import { displayPath, propertyId, versionId, type PathSegment } from './ids.js';
import type { MarkdownRenderer } from './markdown.js';

export interface Fact {
  /** What the constraint is, e.g. `pattern`, `≤`, `default`. */
  readonly k: string;
  /** Its value as code (JSON or a pattern), element content only; absent for flags like `closed`. */
  readonly v?: Html;
}

export interface PropertyRow {
  /** Fragment id, unique on the page: `v2.0.0-p-address.city`. */
  readonly id: string;
  /** Shown path, `address.city`. */
  readonly path: string;
  /** Nesting depth (0 for top-level properties), for indentation. */
  readonly depth: number;
  readonly type: string;
  readonly format?: string;
  readonly required: boolean;
  readonly deprecated: boolean;
  readonly description?: Html;
  readonly itemsDescription?: Html;
  /** Enumerated values (or the single `const`) as JSON. */
  readonly values: readonly Html[];
  readonly facts: readonly Fact[];
  /** For a recursive `$ref`: the row (or table) it points back to. */
  readonly recursion?: { readonly href: string; readonly label: string };
}

export interface SchemaTable {
  /** Fragment id of the table itself (`v2.0.0-payload`), the target of a `$ref: '#'`. */
  readonly id: string;
  /** Accessible name of the table, `Payload properties of 2.0.0`. */
  readonly label: string;
  /** Type and facts of the root schema (e.g. `object`, `closed`). */
  readonly rootType: string;
  readonly rootFacts: readonly Fact[];
  readonly rootDescription?: Html;
  readonly rows: readonly PropertyRow[];
  /** True when nesting was cut off (depth or size limit). */
  readonly truncated: boolean;
  /** Every leaf property name, for the search index. */
  readonly names: readonly string[];
}

type Node = { readonly [k: string]: unknown };
const isNode = (v: unknown): v is Node => typeof v === 'object' && v !== null && !Array.isArray(v);
const json = (v: unknown): string => JSON.stringify(v) ?? String(v);
/** Whether a schema declares properties, itself or through `allOf` (how oneOf variants of foreign documents are often written). */
const hasProperties = (v: unknown): boolean => isNode(v) && (isNode(v.properties) || (Array.isArray(v.allOf) && v.allOf.some(hasProperties)));

/** Deeper nesting than this is cut off; a shared acyclic schema could otherwise explode. */
const MAX_DEPTH = 12;
const MAX_ROWS = 1500;

/** Pointer-escaping of one JSON pointer segment. */
const ptrSeg = (s: string) => s.replace(/~/g, '~0').replace(/\//g, '~1');
const ptrUnescape = (s: string) => s.replace(/~1/g, '/').replace(/~0/g, '~');

export function schemaTable(schema: JsonSchema, version: string, part: 'payload' | 'headers', md: MarkdownRenderer): SchemaTable {
  const tableId = `${versionId(version)}-${part}`;
  const rows: PropertyRow[] = [];
  const names = new Set<string>();
  /** JSON pointer of a schema node → the id of the row showing it, for recursion links. */
  const rowOfPointer = new Map<string, { id: string; label: string }>([['', { id: tableId, label: `${part} root` }]]);
  let truncated = false;

  const describe = (text: unknown) => (typeof text === 'string' ? md.render(text, true) : undefined);

  /** Emits the rows of an object-like schema's properties (merging `allOf` branches). */
  const walkObject = (node: Node, pointer: string, path: readonly PathSegment[], depth: number): void => {
    const required = new Set(Array.isArray(node.required) ? node.required.filter((r): r is string => typeof r === 'string') : []);
    const props = isNode(node.properties) ? node.properties : {};
    for (const name of Object.keys(props)) {
      walkProperty(props[name], `${pointer}/properties/${ptrSeg(name)}`, [...path, { name }], depth, required.has(name));
    }
    if (Array.isArray(node.allOf)) {
      node.allOf.forEach((branch, i) => {
        if (isNode(branch) && (isNode(branch.properties) || Array.isArray(branch.allOf))) walkObject(branch, `${pointer}/allOf/${i}`, path, depth);
      });
    }
    for (const keyword of ['oneOf', 'anyOf'] as const) {
      const branches = node[keyword];
      if (!Array.isArray(branches) || !branches.some(hasProperties)) continue;
      branches.forEach((branch, i) => {
        const label = `${keyword} #${i + 1}`;
        walkProperty(branch, `${pointer}/${keyword}/${i}`, [...path, { name: label }], depth, false, true);
      });
    }
  };

  const walkProperty = (raw: unknown, pointer: string, path: readonly PathSegment[], depth: number, required: boolean, variant = false): void => {
    if (rows.length >= MAX_ROWS || depth > MAX_DEPTH) {
      truncated = true;
      return;
    }
    const id = propertyId(version, part, path);
    const label = displayPath(path);
    const last = path[path.length - 1];
    if (last && 'name' in last && !variant) names.add(last.name);
    rowOfPointer.set(pointer, { id, label });

    // Fold arrays of arrays of …: the row shows `string[][]`, children come from the innermost items.
    let inner: unknown = raw;
    let innerPointer = pointer;
    let innerPath = path;
    let suffix = '';
    const itemFacts: Fact[] = [];
    let itemsDescription: Html | undefined;
    while (isNode(inner) && isNode(inner.items) && suffix.length < 2 * MAX_DEPTH) {
      if (inner !== raw) itemFacts.push(...facts(inner, 'items '));
      inner = inner.items;
      innerPointer += '/items';
      innerPath = [...innerPath, { items: true }];
      suffix += '[]';
      rowOfPointer.set(innerPointer, { id, label });
      if (isNode(inner) && !itemsDescription) itemsDescription = describe(inner.description);
    }
    const node = isNode(raw) ? raw : {};
    const ref = typeof node.$ref === 'string' ? node.$ref : undefined;
    let recursion: PropertyRow['recursion'];
    if (ref !== undefined && ref.startsWith('#')) {
      const target = rowOfPointer.get(ref.slice(1).split('/').map(ptrUnescape).map(ptrSeg).join('/'));
      if (target) recursion = { href: `#${target.id}`, label: target.label };
    }
    // A title that only restates the property name (`eventId` / `EventId`) says nothing.
    const own = facts(node, '').filter((f) => !(f.k === 'title' && last && 'name' in last && f.v?.toString().toLowerCase() === last.name.toLowerCase()));
    if (ref !== undefined && !recursion) own.push({ k: '$ref', v: text(ref) });
    const innerNode = isNode(inner) ? inner : undefined;
    if (suffix !== '' && innerNode) itemFacts.push(...facts(innerNode, 'items '));
    const values = suffix !== '' && innerNode ? enumValues(innerNode) : enumValues(node);
    const description = describe(node.description);
    rows.push({
      id,
      path: label,
      depth,
      type: recursion ? 'recursive' : (suffix !== '' ? typeName(inner) + suffix : typeName(raw)),
      ...(formatOf(suffix !== '' ? inner : raw) !== undefined ? { format: formatOf(suffix !== '' ? inner : raw) } : {}),
      required,
      deprecated: node.deprecated === true,
      ...(description ? { description } : {}),
      ...(itemsDescription && itemsDescription !== description ? { itemsDescription } : {}),
      values,
      facts: [...own, ...itemFacts],
      ...(recursion ? { recursion } : {}),
    });
    if (innerNode && !recursion) walkObject(innerNode, innerPointer, innerPath, depth + 1);
  };

  const root = isNode(schema) ? schema : {};
  walkObject(root, '', [], 0);
  const rootDescription = typeof root.description === 'string' ? md.render(root.description) : undefined;
  return {
    id: tableId,
    label: `${part === 'payload' ? 'Payload' : 'Header'} properties of ${version}`,
    rootType: typeName(schema),
    rootFacts: [...facts(root, ''), ...(isNode(root.items) ? facts(root.items, 'items ') : [])],
    ...(rootDescription ? { rootDescription } : {}),
    rows,
    truncated,
    names: [...names],
  };
}

/** `string`, `integer | null`, `object`, `any`; inferred from `properties`/`enum`/`const` when `type` is absent. */
export function typeName(schema: unknown): string {
  if (schema === true) return 'any';
  if (schema === false) return 'never';
  if (!isNode(schema)) return 'any';
  let types: string[] = [];
  if (typeof schema.type === 'string') types = [schema.type];
  else if (Array.isArray(schema.type)) types = schema.type.filter((t): t is string => typeof t === 'string');
  else if (isNode(schema.properties) || isNode(schema.additionalProperties)) types = ['object'];
  else if (schema.items !== undefined || Array.isArray(schema.prefixItems)) types = ['array'];
  else if (Array.isArray(schema.enum) || 'const' in schema) {
    const vals = Array.isArray(schema.enum) ? schema.enum : [schema.const];
    types = [...new Set(vals.map((v) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v)))];
  } else {
    const branches = ['oneOf', 'anyOf', 'allOf'].flatMap((k) => (Array.isArray(schema[k]) ? (schema[k] as unknown[]) : []));
    const branchTypes = [...new Set(branches.map(typeName))].filter((t) => t !== 'any');
    types = branchTypes.length > 0 ? branchTypes : ['any'];
  }
  if (schema.nullable === true && !types.includes('null')) types.push('null');
  return types.join(' | ');
}

function formatOf(schema: unknown): string | undefined {
  return isNode(schema) && typeof schema.format === 'string' ? schema.format : undefined;
}

function enumValues(schema: Node): Html[] {
  if (Array.isArray(schema.enum)) return schema.enum.map((v) => text(json(v)));
  if ('const' in schema) return [text(json(schema.const))];
  return [];
}

/** Short one-line summary of a branch of `oneOf`/`anyOf` without properties. */
function branchSummary(schema: unknown): string {
  if (!isNode(schema)) return typeName(schema);
  const parts = [typeName(schema)];
  if (typeof schema.format === 'string') parts.push(`format ${schema.format}`);
  if (typeof schema.pattern === 'string') parts.push(`pattern ${schema.pattern}`);
  if ('const' in schema) parts.push(`= ${json(schema.const)}`);
  if (Array.isArray(schema.enum)) parts.push(`one of ${schema.enum.map(json).join(', ')}`);
  // A branch that only adds a format or pattern keeps the type of its parent: do not call it `any`.
  if (parts.length > 1 && parts[0] === 'any') parts.shift();
  return parts.join(', ');
}

/** Constraints and annotations of a schema as facts, in a fixed order. */
function facts(schema: Node, prefix: string): Fact[] {
  const out: Fact[] = [];
  const add = (k: string, v: unknown) => {
    const value = typeof v === 'string' ? v : json(v);
    out.push(value === '' ? { k: prefix + k } : { k: prefix + k, v: text(value) });
  };
  const num = (k: string) => typeof schema[k] === 'number' || typeof schema[k] === 'boolean';
  if (typeof schema.title === 'string') add('title', schema.title);
  if (num('minimum')) add(schema.exclusiveMinimum === true ? '>' : '≥', schema.minimum);
  if (typeof schema.exclusiveMinimum === 'number') add('>', schema.exclusiveMinimum);
  if (num('maximum')) add(schema.exclusiveMaximum === true ? '<' : '≤', schema.maximum);
  if (typeof schema.exclusiveMaximum === 'number') add('<', schema.exclusiveMaximum);
  if (num('multipleOf')) add('multiple of', schema.multipleOf);
  if (num('minLength')) add('min length', schema.minLength);
  if (num('maxLength')) add('max length', schema.maxLength);
  if (typeof schema.pattern === 'string') add('pattern', schema.pattern);
  if (typeof schema.contentMediaType === 'string') add('media type', schema.contentMediaType);
  if (typeof schema.contentEncoding === 'string') add('encoding', schema.contentEncoding);
  if (num('minItems')) add('min items', schema.minItems);
  if (num('maxItems')) add('max items', schema.maxItems);
  if (schema.uniqueItems === true) add('unique items', '');
  if (isNode(schema.contains)) add('contains', branchSummary(schema.contains));
  if (Array.isArray(schema.prefixItems)) add('tuple', schema.prefixItems.map(branchSummary).join(' ; '));
  if (num('minProperties')) add('min properties', schema.minProperties);
  if (num('maxProperties')) add('max properties', schema.maxProperties);
  if (schema.additionalProperties === false) add('closed', '');
  else if (isNode(schema.additionalProperties)) add('additional properties', branchSummary(schema.additionalProperties));
  if (schema.unevaluatedProperties === false) add('closed (unevaluated)', '');
  if (isNode(schema.patternProperties)) {
    for (const [pattern, sub] of Object.entries(schema.patternProperties)) add(`properties matching ${pattern}`, branchSummary(sub));
  }
  if (isNode(schema.propertyNames)) add('property names', branchSummary(schema.propertyNames));
  if (isNode(schema.dependentRequired)) {
    for (const [name, deps] of Object.entries(schema.dependentRequired)) add(`with ${name} requires`, Array.isArray(deps) ? deps.join(', ') : deps);
  }
  for (const keyword of ['oneOf', 'anyOf'] as const) {
    const branches = schema[keyword];
    if (Array.isArray(branches) && !branches.some(hasProperties)) add(keyword === 'oneOf' ? 'one of' : 'any of', branches.map(branchSummary).join(' | '));
  }
  if (Array.isArray(schema.allOf)) {
    const plain = schema.allOf.filter((b) => !(isNode(b) && (isNode(b.properties) || Array.isArray(b.allOf))));
    if (plain.length > 0) add('all of', plain.map(branchSummary).join(' & '));
  }
  if (schema.not !== undefined) add('not', branchSummary(schema.not));
  if (schema.if !== undefined) add('if', `${branchSummary(schema.if)}${schema.then !== undefined ? ` then ${branchSummary(schema.then)}` : ''}${schema.else !== undefined ? ` else ${branchSummary(schema.else)}` : ''}`);
  if ('default' in schema) add('default', schema.default);
  if (Array.isArray(schema.examples) && schema.examples.length > 0) add('example', schema.examples[0]);
  else if ('example' in schema) add('example', schema.example);
  if (schema.readOnly === true) add('read-only', '');
  if (schema.writeOnly === true) add('write-only', '');
  return out;
}

/** Maps a JSON pointer from a compatibility finding to the row id showing that node, when there is one. */
export function pointerToRowId(pointer: string, version: string, part: 'payload' | 'headers'): string | undefined {
  const segs = pointer.split('/').slice(1).map(ptrUnescape);
  const path: PathSegment[] = [];
  for (let i = 0; i < segs.length; i++) {
    const seg = segs[i];
    if (seg === 'properties' && i + 1 < segs.length) path.push({ name: segs[++i] as string });
    else if (seg === 'items') path.push({ items: true });
    else if (seg === 'allOf' && i + 1 < segs.length) i++;
    else break;
  }
  // Rows of folded arrays carry the id of the array property, not of its `[]` items.
  while (path.length > 0 && 'items' in (path[path.length - 1] as PathSegment)) path.pop();
  if (path.length === 0) return `${versionId(version)}-${part}`;
  return propertyId(version, part, path);
}

