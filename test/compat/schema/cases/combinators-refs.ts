import type { Case } from '../table.js';

const s = { type: 'string' };
const i = { type: 'integer' };
const kind = (k: string, extra: Record<string, unknown> = {}) => ({
  type: 'object',
  properties: { kind: { const: k }, ...extra },
  required: ['kind'],
});

const combinators: Case[] = [
  { name: 'string becomes string-or-null union', old: s, new: { anyOf: [s, { type: 'null' }] }, rules: ['COMBINED_BRANCH_ADDED'], ok: 'backward' },
  { name: 'string-or-null union becomes string', old: { anyOf: [s, { type: 'null' }] }, new: s, rules: ['COMBINED_BRANCH_REMOVED'], ok: 'forward' },
  { name: 'oneOf branches reordered', old: { oneOf: [s, i] }, new: { oneOf: [i, s] }, rules: [], ok: 'both' },
  { name: 'discriminated union gains a branch', old: { oneOf: [kind('a'), kind('b')] }, new: { oneOf: [kind('a'), kind('b'), kind('c')] }, rules: ['COMBINED_BRANCH_ADDED'], ok: 'backward' },
  { name: 'discriminated union loses a branch', old: { oneOf: [kind('a'), kind('b')] }, new: { oneOf: [kind('a')] }, rules: ['COMBINED_BRANCH_REMOVED'], ok: 'forward' },
  {
    name: 'branch modified in place (paired by meaning, not position)',
    old: { oneOf: [i, { type: 'string', maxLength: 10 }] },
    new: { oneOf: [{ type: 'string', maxLength: 5 }, i] },
    rules: ['MAX_LENGTH_DECREASED'],
    ok: 'forward',
  },
  { name: 'singleton anyOf unwrapped', old: { anyOf: [s] }, new: s, rules: [], ok: 'both' },
  { name: 'anyOf switched to oneOf with disjoint branches', old: { anyOf: [s, i] }, new: { oneOf: [s, i] }, rules: [], ok: 'both' },
  { name: 'anyOf rewritten as a type array', old: { anyOf: [s, i] }, new: { type: ['string', 'integer'] }, rules: [], ok: 'both' },
  {
    name: 'union with sibling keywords loses a branch',
    old: { type: 'object', properties: { a: s, b: s }, anyOf: [{ required: ['a'] }, { required: ['b'] }] },
    new: { type: 'object', properties: { a: s, b: s }, anyOf: [{ required: ['a'] }] },
    rules: ['COMBINED_BRANCH_REMOVED'],
    ok: 'forward',
  },
  {
    name: 'nullable reference: referenced schema narrowed',
    old: { definitions: { A: { type: 'string', maxLength: 10 } }, oneOf: [{ type: 'null' }, { $ref: '#/definitions/A' }] },
    new: { definitions: { A: { type: 'string', maxLength: 5 } }, oneOf: [{ type: 'null' }, { $ref: '#/definitions/A' }] },
    rules: ['MAX_LENGTH_DECREASED'],
    ok: 'forward',
  },
  {
    name: 'allOf of base and extension equals the flat object',
    old: { allOf: [{ type: 'object', properties: { a: s } }, { properties: { b: i } }] },
    new: { type: 'object', properties: { a: s, b: i } },
    rules: [],
    ok: 'both',
  },
  {
    name: 'allOf extension property narrowed',
    old: { allOf: [{ type: 'object', properties: { a: s } }, { properties: { b: i } }] },
    new: { allOf: [{ type: 'object', properties: { a: s } }, { properties: { b: { type: 'integer', minimum: 0 } } }] },
    rules: ['MINIMUM_ADDED'],
    ok: 'forward',
  },
  {
    name: 'allOf gains a conjunct requiring a property',
    old: { allOf: [{ type: 'object', properties: { a: s } }] },
    new: { allOf: [{ type: 'object', properties: { a: s } }, { required: ['a'] }] },
    rules: ['REQUIRED_PROPERTY_ADDED'],
    ok: 'forward',
  },
  {
    // In allOf, the first conjunct's additionalProperties:false also rejects "b": b never appears.
    name: 'allOf whose closed conjunct forbids the other conjunct property',
    old: { allOf: [{ properties: { a: s }, additionalProperties: false }, { properties: { b: s } }] },
    new: { properties: { a: s }, additionalProperties: false },
    rules: [],
    ok: 'both',
  },
  {
    name: 'allOf with two patterns (not mergeable) relaxed to one',
    old: { allOf: [{ pattern: '^a' }, { pattern: 'b$' }] },
    new: { allOf: [{ pattern: '^a' }] },
    rules: ['PATTERN_CHANGED'],
    ok: 'backward',
  },
  { name: 'not added, overlapping', old: s, new: { type: 'string', not: { enum: ['x'] } }, rules: ['NOT_ADDED'], ok: 'forward' },
  { name: 'not added, provably disjoint', old: s, new: { type: 'string', not: { type: 'integer' } }, rules: ['NOT_ADDED'], ok: 'both' },
  { name: 'not removed', old: { type: 'string', not: { enum: ['x'] } }, new: s, rules: ['NOT_REMOVED'], ok: 'backward' },
  { name: 'not excludes more values', old: { not: { enum: ['x'] } }, new: { not: { enum: ['x', 'y'] } }, rules: ['ENUM_VALUE_ADDED'], ok: 'forward' },
  { name: 'not excludes fewer values', old: { not: { enum: ['x', 'y'] } }, new: { not: { enum: ['x'] } }, rules: ['ENUM_VALUE_REMOVED'], ok: 'backward' },
];

const refs: Case[] = [
  {
    name: 'local #/definitions target narrowed',
    old: { definitions: { A: s }, type: 'object', properties: { a: { $ref: '#/definitions/A' } } },
    new: { definitions: { A: { type: 'string', maxLength: 3 } }, type: 'object', properties: { a: { $ref: '#/definitions/A' } } },
    rules: ['MAX_LENGTH_ADDED'],
    ok: 'forward',
  },
  {
    name: '$ref replaced by its inline target',
    old: { definitions: { A: s }, type: 'object', properties: { a: { $ref: '#/definitions/A' } } },
    new: { type: 'object', properties: { a: s } },
    rules: [],
    ok: 'both',
  },
  {
    name: '2020-12 #/$defs target widened',
    old: { $defs: { A: i }, items: { $ref: '#/$defs/A' }, type: 'array' },
    new: { $defs: { A: { type: 'number' } }, items: { $ref: '#/$defs/A' }, type: 'array' },
    rules: ['TYPE_WIDENED'],
    ok: 'backward',
  },
  {
    name: 'recursive tree: node name gains maxLength',
    old: { type: 'object', properties: { name: s, children: { type: 'array', items: { $ref: '#' } } } },
    new: { type: 'object', properties: { name: { type: 'string', maxLength: 8 }, children: { type: 'array', items: { $ref: '#' } } } },
    rules: ['MAX_LENGTH_ADDED'],
    ok: 'forward',
  },
  {
    name: 'recursive linked list unchanged',
    old: { definitions: { N: { type: 'object', properties: { next: { $ref: '#/definitions/N' } } } }, $ref: '#/definitions/N' },
    new: { definitions: { N: { type: 'object', properties: { next: { $ref: '#/definitions/N' } } } }, $ref: '#/definitions/N' },
    rules: [],
    ok: 'both',
  },
  {
    name: '$ref with a sibling constraint (2019-09+ semantics)',
    old: { definitions: { A: s }, $ref: '#/definitions/A' },
    new: { definitions: { A: s }, $ref: '#/definitions/A', maxLength: 4 },
    rules: ['MAX_LENGTH_ADDED'],
    ok: 'forward',
  },
];

const annotations: Case[] = [
  { name: 'description changed', old: { type: 'string', description: 'a' }, new: { type: 'string', description: 'b' }, rules: ['DESCRIPTION_CHANGED'], ok: 'both' },
  { name: 'title added', old: s, new: { type: 'string', title: 'Name' }, rules: ['TITLE_CHANGED'], ok: 'both' },
  { name: 'examples changed', old: { type: 'string', examples: ['a'] }, new: { type: 'string', examples: ['b'] }, rules: ['EXAMPLES_CHANGED'], ok: 'both' },
  { name: 'x- extension changed', old: { type: 'string', 'x-owner': 'a' }, new: { type: 'string', 'x-owner': 'b' }, rules: ['ANNOTATION_CHANGED'], ok: 'both' },
  { name: 'deprecated set', old: s, new: { type: 'string', deprecated: true }, rules: ['DEPRECATED_CHANGED'], ok: 'both' },
  { name: 'default changed', old: { type: 'string', default: 'a' }, new: { type: 'string', default: 'b' }, rules: ['DEFAULT_CHANGED'], ok: 'both' },
  { name: 'AsyncAPI discriminator added', old: { type: 'object', properties: { kind: s } }, new: { type: 'object', discriminator: 'kind', properties: { kind: s } }, rules: ['ANNOTATION_CHANGED'], ok: 'both' },
  { name: 'externalDocs changed', old: { type: 'object', externalDocs: { url: 'https://a' } }, new: { type: 'object', externalDocs: { url: 'https://b' } }, rules: ['ANNOTATION_CHANGED'], ok: 'both' },
  { name: 'nested description changed', old: { type: 'object', properties: { a: { type: 'string', description: 'x' } } }, new: { type: 'object', properties: { a: { type: 'string', description: 'y' } } }, rules: ['DESCRIPTION_CHANGED'], ok: 'both' },
  { name: '$comment added', old: s, new: { type: 'string', $comment: 'why' }, rules: ['ANNOTATION_CHANGED'], ok: 'both' },
];

export const TABLES: Array<[string, Case[]]> = [
  ['combinators', combinators],
  ['$ref', refs],
  ['annotations', annotations],
];
