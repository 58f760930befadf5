/**
 * 2020-12 keywords and the corners of Confluent's JSON Schema cases: unevaluated*, counted
 * contains, dependentSchemas, prefixItems, partially open content models, required
 * changes, additionalProperties as a schema, if/then/else.
 */
import type { Case } from '../table.js';

const s = { type: 'string' };
const i = { type: 'integer' };
const obj = (properties: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({ type: 'object', properties, ...extra });

const unevaluated: Case[] = [
  {
    name: 'unevaluatedProperties: false with properties declared through allOf, one added there (closed model)',
    old: { allOf: [obj({ a: s })], unevaluatedProperties: false },
    new: { allOf: [obj({ a: s, b: i })], unevaluatedProperties: false },
    rules: ['PROPERTY_ADDED_TO_CLOSED_CONTENT_MODEL'],
    ok: 'backward',
  },
  {
    name: 'unevaluatedProperties: false with properties through allOf, one removed',
    old: { allOf: [obj({ a: s, b: i })], unevaluatedProperties: false },
    new: { allOf: [obj({ a: s })], unevaluatedProperties: false },
    rules: ['PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL'],
    ok: 'forward',
  },
  {
    name: 'unevaluatedProperties: false added (closes an open model)',
    old: obj({ a: s }),
    new: obj({ a: s }, { unevaluatedProperties: false }),
    rules: ['ADDITIONAL_PROPERTIES_NARROWED', 'TYPE_NARROWED'],
    ok: 'forward',
    lenient: 'both',
  },
  {
    name: 'unevaluatedProperties: false rewritten as additionalProperties: false (no applicators: the same)',
    old: obj({ a: s }, { unevaluatedProperties: false }),
    new: obj({ a: s }, { additionalProperties: false }),
    rules: [],
    ok: 'both',
  },
  {
    name: 'unevaluatedProperties as a schema, narrowed',
    old: obj({ a: s }, { unevaluatedProperties: { type: ['string', 'integer'] } }),
    new: obj({ a: s }, { unevaluatedProperties: s }),
    rules: ['ADDITIONAL_PROPERTIES_NARROWED', 'TYPE_NARROWED'],
    ok: 'forward',
    lenient: 'both',
  },
  {
    name: 'unevaluatedProperties beside oneOf cannot be analysed: the reader side is not proven',
    old: { oneOf: [obj({ a: s }, { required: ['a'] }), obj({ b: i }, { required: ['b'] })], unevaluatedProperties: false },
    new: { oneOf: [obj({ a: s }, { required: ['a'] }), obj({ b: i, c: s }, { required: ['b'] })], unevaluatedProperties: false },
    rules: ['UNSUPPORTED_KEYWORD_CHANGED', 'PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL', 'ONE_OF_OVERLAP_NOT_DISPROVED'],
    ok: 'none',
  },
  {
    name: 'unevaluatedItems: false after prefixItems is items: false',
    old: { type: 'array', prefixItems: [s], unevaluatedItems: false },
    new: { type: 'array', prefixItems: [s, i], unevaluatedItems: false },
    rules: ['TUPLE_ITEM_ADDED', 'TYPE_WIDENED'],
    ok: 'backward',
  },
  {
    name: 'unevaluatedItems added to an open tuple',
    old: { type: 'array', prefixItems: [s] },
    new: { type: 'array', prefixItems: [s], unevaluatedItems: i },
    rules: ['TYPE_NARROWED'],
    ok: 'forward',
  },
];

const contains: Case[] = [
  { name: 'minContains raised', old: { type: 'array', contains: i, minContains: 1 }, new: { type: 'array', contains: i, minContains: 2 }, rules: ['CONTAINS_COUNT_CHANGED'], ok: 'forward' },
  { name: 'minContains lowered', old: { type: 'array', contains: i, minContains: 2 }, new: { type: 'array', contains: i, minContains: 1 }, rules: ['CONTAINS_COUNT_CHANGED'], ok: 'backward' },
  { name: 'maxContains added', old: { type: 'array', contains: i }, new: { type: 'array', contains: i, maxContains: 2 }, rules: ['CONTAINS_COUNT_CHANGED'], ok: 'forward' },
  { name: 'maxContains added within maxItems', old: { type: 'array', contains: i, maxItems: 2 }, new: { type: 'array', contains: i, maxContains: 2, maxItems: 2 }, rules: ['CONTAINS_COUNT_CHANGED'], ok: 'both' },
  { name: 'contains narrowed under maxContains', old: { type: 'array', contains: { type: 'number' }, maxContains: 1 }, new: { type: 'array', contains: i, maxContains: 1 }, rules: ['TYPE_NARROWED', 'CONTAINS_COUNT_CHANGED'], ok: 'none' },
  { name: 'minContains: 0 makes contains vacuous', old: { type: 'array' }, new: { type: 'array', contains: i, minContains: 0 }, rules: ['CONTAINS_ADDED'], ok: 'forward' },
];

const dependent: Case[] = [
  { name: 'dependentSchemas narrowed', old: obj({ a: s, b: s }, { dependentSchemas: { a: { required: ['b'] } } }), new: obj({ a: s, b: s }, { dependentSchemas: { a: { required: ['b'], properties: { b: { maxLength: 2 } } } } }), rules: ['MAX_LENGTH_ADDED'], ok: 'forward' },
  { name: 'dependentSchemas widened', old: obj({ a: s, b: s }, { dependentSchemas: { a: { required: ['b'] } } }), new: obj({ a: s, b: s }, { dependentSchemas: { a: {} } }), rules: ['REQUIRED_PROPERTY_REMOVED'], ok: 'backward' },
  { name: 'dependencies (draft-07) rewritten as dependentSchemas', old: obj({ a: s }, { dependencies: { a: { required: ['b'] } } }), new: obj({ a: s }, { dependentSchemas: { a: { required: ['b'] } } }), rules: [], ok: 'both' },
];

const tuples: Case[] = [
  { name: 'prefixItems position narrowed', old: { type: 'array', prefixItems: [s, i] }, new: { type: 'array', prefixItems: [s, { type: 'integer', minimum: 0 }] }, rules: ['MINIMUM_ADDED'], ok: 'forward' },
  { name: 'prefixItems closed with items: false', old: { type: 'array', prefixItems: [s] }, new: { type: 'array', prefixItems: [s], items: false }, rules: ['TYPE_NARROWED'], ok: 'forward' },
];

const contentModels: Case[] = [
  {
    name: 'partially open: property added that the old additionalProperties schema covers',
    old: obj({ a: s }, { additionalProperties: s }),
    new: obj({ a: s, b: { type: 'string', maxLength: 5 } }, { additionalProperties: s }),
    rules: ['PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL', 'PROPERTY_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL', 'MAX_LENGTH_ADDED'],
    ok: 'forward',
    lenient: 'both',
  },
  {
    name: 'partially open: additionalProperties schema widened',
    old: obj({ a: s }, { additionalProperties: s }),
    new: obj({ a: s }, { additionalProperties: { type: ['string', 'integer'] } }),
    rules: ['ADDITIONAL_PROPERTIES_EXTENDED', 'TYPE_WIDENED'],
    ok: 'backward',
    lenient: 'both',
  },
  {
    name: 'a pattern property added that overlaps an old one in a closed model',
    old: obj({}, { patternProperties: { '^a': s }, additionalProperties: false }),
    new: obj({}, { patternProperties: { '^a': s, '^ab': { type: 'string', maxLength: 3 } }, additionalProperties: false }),
    rules: ['PATTERN_PROPERTY_ADDED', 'MAX_LENGTH_ADDED'],
    ok: 'forward',
    lenient: 'both',
  },
  {
    name: 'a disjoint pattern property added to a closed model',
    old: obj({}, { patternProperties: { '^a': s }, additionalProperties: false }),
    new: obj({}, { patternProperties: { '^a': s, '^b': i }, additionalProperties: false }),
    rules: ['PATTERN_PROPERTY_ADDED', 'TYPE_WIDENED'],
    ok: 'backward',
    lenient: 'both',
  },
];

const required: Case[] = [
  { name: 'required array reordered', old: obj({ a: s, b: s }, { required: ['a', 'b'] }), new: obj({ a: s, b: s }, { required: ['b', 'a'] }), rules: [], ok: 'both' },
  { name: 'required swapped for another property', old: obj({ a: s, b: s }, { required: ['a'] }), new: obj({ a: s, b: s }, { required: ['b'] }), rules: ['REQUIRED_PROPERTY_ADDED', 'REQUIRED_PROPERTY_REMOVED'], ok: 'none' },
  { name: 'required name the writer closes out', old: obj({ a: s }, { additionalProperties: false }), new: obj({ a: s }, { additionalProperties: false, required: ['b'] }), rules: ['REQUIRED_PROPERTY_ADDED'], ok: 'forward' },
];

const conditionals: Case[] = [
  {
    // FORWARD is a false alarm the engine accepts: a writer's if/then/else is ignored (sound).
    name: 'if/then/else where the writer always takes then',
    old: obj({ kind: { const: 'x' }, a: s }, { required: ['kind', 'a'] }),
    new: obj({ kind: { const: 'x' }, a: s }, { required: ['kind'], if: { properties: { kind: { const: 'x' } } }, then: { required: ['a'] } }),
    rules: ['REQUIRED_PROPERTY_REMOVED'],
    ok: 'backward',
  },
  {
    name: 'if/then/else then branch narrowed',
    old: obj({ a: s }, { if: { required: ['a'] }, then: { properties: { a: { maxLength: 5 } } } }),
    new: obj({ a: s }, { if: { required: ['a'] }, then: { properties: { a: { maxLength: 3 } } } }),
    rules: ['CONDITIONAL_NOT_PROVEN'],
    ok: 'forward',
  },
];

export const TABLES: Array<[string, Case[]]> = [
  ['2020-12: unevaluated*', unevaluated],
  ['2020-12: minContains / maxContains', contains],
  ['2020-12: dependentSchemas', dependent],
  ['2020-12: prefixItems', tuples],
  ['content models (Confluent)', contentModels],
  ['required changes (Confluent)', required],
  ['if / then / else', conditionals],
];
