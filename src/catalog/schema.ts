/**
 * JSON Schema utilities shared by the catalog, the validators and the registry:
 * turning the parser's dereferenced (possibly circular) schemas into plain JSON, and
 * the canonical form whose fingerprint changes only when validation would.
 */
import { sha256 } from '../cache.js';
import { AVRO_SCHEMA_FORMATS } from '../load/avro.js';
import { encodePointer, isObject } from '../load/index.js';
import type { JsonSchema, SchemaDialect } from './model.js';

const SCHEMA_VALUED = new Set([
  'additionalItems', 'additionalProperties', 'contains', 'else', 'if', 'items', 'not',
  'propertyNames', 'then', 'unevaluatedItems', 'unevaluatedProperties', 'contentSchema',
]);
const SCHEMA_ARRAYS = new Set(['allOf', 'anyOf', 'oneOf', 'prefixItems', 'items']);
const SCHEMA_MAPS = new Set(['properties', 'patternProperties', '$defs', 'definitions', 'dependentSchemas', 'dependencies']);

/** Keywords that never change which values validate. */
const ANNOTATIONS = new Set([
  'title', 'description', 'examples', 'example', '$comment', 'externalDocs', 'deprecated',
  'readOnly', 'writeOnly', 'default', 'discriminator', 'xml', '$id', '$schema', '$anchor',
]);


/**
 * Copies a dereferenced schema into plain JSON. A node met again while inside itself
 * (recursion) becomes a `$ref` to where it first appeared; shared but acyclic nodes
 * are copied. Parser bookkeeping (`x-parser-*`) is dropped: its ids are not stable.
 */
export function toPlainSchema(schema: unknown): JsonSchema {
  const onPath = new Map<object, string>();
  const copy = (node: unknown, pointer: string): unknown => {
    if (Array.isArray(node)) {
      if (onPath.has(node)) return { $ref: '#' + onPath.get(node) };
      onPath.set(node, pointer);
      const out = node.map((item, i) => copy(item, `${pointer}/${i}`));
      onPath.delete(node);
      return out;
    }
    if (!isObject(node)) return node;
    const seen = onPath.get(node);
    if (seen !== undefined) return { $ref: '#' + seen };
    onPath.set(node, pointer);
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(node)) {
      if (key.startsWith('x-parser-')) continue;
      out[key] = copy(value, `${pointer}${encodePointer([key])}`);
    }
    onPath.delete(node);
    return out;
  };
  const plain = copy(schema, '');
  return typeof plain === 'boolean' || isObject(plain) ? (plain as JsonSchema) : {};
}

/**
 * The schema with annotations and extensions removed, walking only schema positions
 * (a property *named* `description` is kept). Used for fingerprints and validators.
 */
export function canonicalSchema(schema: JsonSchema): JsonSchema {
  const walk = (node: unknown): unknown => {
    if (!isObject(node)) return node;
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(node).sort()) {
      const value = node[key];
      if (ANNOTATIONS.has(key) || key.startsWith('x-')) continue;
      if (SCHEMA_ARRAYS.has(key) && Array.isArray(value)) out[key] = value.map(walk);
      else if (SCHEMA_VALUED.has(key)) out[key] = walk(value);
      else if (SCHEMA_MAPS.has(key) && isObject(value)) {
        const map: Record<string, unknown> = {};
        for (const name of Object.keys(value).sort()) map[name] = Array.isArray(value[name]) ? value[name] : walk(value[name]);
        out[key] = map;
      } else out[key] = value;
    }
    return out;
  };
  return walk(schema) as JsonSchema;
}

/** JSON with object keys sorted at every depth: the same schema always prints the same bytes. */
export function stableStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  if (isObject(value)) {
    return `{${Object.keys(value)
      .sort()
      .filter((k) => value[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${stableStringify(value[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** `sha256:` of the canonical payload (and headers) schema. */
export function schemaFingerprint(payload: JsonSchema, headers?: JsonSchema): string {
  const canonical = { payload: canonicalSchema(payload), headers: headers === undefined ? null : canonicalSchema(headers) };
  return 'sha256:' + sha256(stableStringify(canonical));
}

/**
 * Which JSON Schema dialect a payload is written in. AsyncAPI Schema is a superset of
 * draft-07; a `$schema` of 2019-09 or 2020-12 needs ajv's 2020 build.
 */
export function schemaDialect(schemaFormat: string, schema: JsonSchema): SchemaDialect {
  const declared = isObject(schema) && typeof schema.$schema === 'string' ? schema.$schema : '';
  if (/2020-12|2019-09/.test(declared)) return '2020-12';
  const format = schemaFormat.toLowerCase();
  if (format.startsWith('application/vnd.aai.asyncapi') || format === '') return 'draft-07';
  // Avro is converted to draft-07 JSON Schema while the document is parsed (load/avro.ts),
  // for the formats registered with the parser.
  if (AVRO_SCHEMA_FORMATS.includes(schemaFormat)) return 'draft-07';
  if (format.startsWith('application/schema+json') || format.startsWith('application/schema+yaml')) {
    return /2020-12|2019-09/.test(format) ? '2020-12' : 'draft-07';
  }
  return 'unsupported';
}
