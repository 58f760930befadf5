/**
 * Verdicts the engine once got wrong (issue 17), each written as given/want first: a
 * "compatible" that an instance disproves, and false alarms on equivalent rewrites.
 */
import type { Case } from '../table.js';

const s = { type: 'string' };
const short = { type: 'string', maxLength: 3 };
const kind = (k: string, extra: Record<string, unknown> = {}) => ({ type: 'object', properties: { kind: { const: k }, ...extra }, required: ['kind'] });

const oneOf: Case[] = [
  {
    name: 'anyOf => oneOf with overlapping branches ("ab" matches both)',
    old: { anyOf: [s, short] },
    new: { oneOf: [s, short] },
    rules: ['ONE_OF_OVERLAP_NOT_DISPROVED'],
    ok: 'forward',
  },
  {
    name: 'a type wrapped in oneOf with an overlapping one',
    old: s,
    new: { oneOf: [s, { type: ['string', 'null'] }] },
    rules: ['COMBINED_BRANCH_ADDED', 'ONE_OF_OVERLAP_NOT_DISPROVED'],
    ok: 'none',
  },
  {
    name: 'one oneOf branch loosened so that two overlap',
    old: { oneOf: [{ type: 'string', maxLength: 3 }, { type: 'string', minLength: 5 }] },
    new: { oneOf: [{ type: 'string', maxLength: 3 }, { type: 'string', minLength: 2 }] },
    rules: ['MIN_LENGTH_DECREASED', 'ONE_OF_OVERLAP_NOT_DISPROVED'],
    ok: 'none',
  },
  {
    name: 'oneOf branches disjoint by bounds stay compatible when one narrows',
    old: { oneOf: [{ type: 'integer', maximum: 0 }, { type: 'integer', minimum: 1 }] },
    new: { oneOf: [{ type: 'integer', maximum: 0 }, { type: 'integer', minimum: 1, maximum: 100 }] },
    rules: ['MAXIMUM_ADDED'],
    ok: 'forward',
  },
  {
    name: 'discriminated oneOf (required kind with distinct consts) gains a branch',
    old: { oneOf: [kind('a', { v: s }), kind('b', { v: s })] },
    new: { oneOf: [kind('a', { v: s }), kind('b', { v: s }), kind('c')] },
    rules: ['COMBINED_BRANCH_ADDED'],
    ok: 'backward',
  },
  {
    name: 'oneOf by enum values',
    old: { enum: ['a', 'b', 'c'] },
    new: { oneOf: [{ enum: ['a', 'b'] }, { enum: ['c', 'd'] }] },
    rules: ['COMBINED_BRANCH_ADDED', 'ENUM_REMOVED', 'ENUM_VALUE_REMOVED'],
    ok: 'backward',
  },
  {
    name: 'oneOf of identical copies accepts nothing (old readers read all of that)',
    old: { type: 'integer' },
    new: { oneOf: [{ type: 'integer' }, { type: 'integer', description: 'copy' }] },
    rules: ['COMBINED_BRANCH_ADDED', 'ONE_OF_OVERLAP_NOT_DISPROVED'],
    ok: 'forward',
  },
  {
    name: 'a new schema that accepts nothing: anyOf and oneOf side by side exclude each other',
    old: s,
    new: { anyOf: [s, { type: 'integer' }], oneOf: [{ type: 'null' }, { type: 'boolean' }] },
    rules: ['COMBINED_BRANCH_ADDED', 'COMBINED_BRANCH_REMOVED'],
    ok: 'none',
  },
];

const empty: Case[] = [
  {
    name: 'a writer that requires a name its closed model forbids writes nothing',
    old: { type: 'object', properties: { a: s }, required: ['b'], additionalProperties: false },
    new: { type: 'object', properties: { a: { type: 'integer' } }, additionalProperties: false },
    rules: ['TYPE_CHANGED', 'REQUIRED_PROPERTY_REMOVED'],
    ok: 'backward',
  },
  {
    name: 'a writer whose required property meets a disjoint pattern writes nothing',
    old: s,
    new: { type: 'object', properties: { a: s }, required: ['a'], patternProperties: { '^a$': { type: 'integer' } } },
    rules: ['TYPE_CHANGED'],
    ok: 'forward',
  },
  {
    name: 'contradictory bounds accept nothing',
    old: { type: 'integer', minimum: 0 },
    new: { type: 'integer', minimum: 10, maximum: 5 },
    rules: ['MINIMUM_INCREASED', 'MAXIMUM_ADDED'],
    ok: 'forward',
  },
];

const not: Case[] = [
  { name: 'not added that excludes old values', old: s, new: { type: 'string', not: { maxLength: 1 } }, rules: ['NOT_ADDED'], ok: 'forward' },
  { name: 'not added that no enumerated old value meets', old: { enum: ['ab', 'cd'] }, new: { type: 'string', not: { maxLength: 1 } }, rules: ['NOT_ADDED', 'ENUM_REMOVED'], ok: 'backward' },
  { name: 'not excluding more values (inside not, directions invert)', old: { type: 'string', not: { const: 'x' } }, new: { type: 'string', not: { enum: ['x', 'y'] } }, rules: ['ENUM_VALUE_ADDED'], ok: 'forward' },
  { name: 'not of a disjoint type changes nothing', old: { type: 'integer' }, new: { type: 'integer', not: { type: 'string' } }, rules: ['NOT_ADDED'], ok: 'both' },
];

const recursion: Case[] = [
  {
    name: 'a union that refers to itself on the same value is no longer assumed compatible',
    old: { type: 'integer' },
    new: { $defs: { A: { anyOf: [{ $ref: '#/$defs/A' }, { type: 'string' }] } }, $ref: '#/$defs/A' },
    rules: ['COMBINED_BRANCH_ADDED', 'COMBINED_BRANCH_REMOVED'],
    ok: 'none',
  },
  {
    name: 'a conjunction that refers to itself on the same value cannot be proven',
    old: s,
    new: { $defs: { B: { allOf: [{ $ref: '#/$defs/B' }, s] } }, $ref: '#/$defs/B' },
    rules: ['RECURSION_NOT_PROVEN'],
    ok: 'forward',
  },
  {
    name: 'recursion through a property is still compared coinductively',
    old: { $defs: { N: { type: 'object', properties: { next: { $ref: '#/$defs/N' }, v: { type: 'integer' } } } }, $ref: '#/$defs/N' },
    new: { $defs: { N: { type: 'object', properties: { next: { $ref: '#/$defs/N' }, v: { type: 'number' } } } }, $ref: '#/$defs/N' },
    rules: ['TYPE_WIDENED'],
    ok: 'backward',
  },
];

const names: Case[] = [
  {
    name: 'enumerated objects read by a schema requiring "constructor"',
    old: { enum: [{ a: 1 }, { a: 2 }] },
    new: { type: 'object', required: ['constructor'] },
    rules: ['ENUM_VALUE_REJECTED', 'ENUM_REMOVED'],
    ok: 'none',
  },
  {
    name: 'required "toString" added',
    old: { type: 'object', properties: { toString: s } },
    new: { type: 'object', properties: { toString: s }, required: ['toString'] },
    rules: ['REQUIRED_PROPERTY_ADDED'],
    ok: 'forward',
  },
  {
    name: 'property "__proto__" narrowed',
    old: JSON.parse('{"type":"object","properties":{"__proto__":{"type":"string"}}}'),
    new: JSON.parse('{"type":"object","properties":{"__proto__":{"type":"string","maxLength":3}}}'),
    rules: ['MAX_LENGTH_ADDED'],
    ok: 'forward',
  },
  {
    name: 'dependentRequired on "hasOwnProperty" merged through allOf',
    old: { allOf: [{ type: 'object' }, { dependentRequired: { hasOwnProperty: ['a'] } }] },
    new: { allOf: [{ type: 'object' }, { dependentRequired: { hasOwnProperty: ['a', 'constructor'] } }] },
    rules: ['DEPENDENT_REQUIRED_EXTENDED'],
    ok: 'forward',
  },
];

const patterns: Case[] = [
  { name: 'pattern widened to more letters', old: { type: 'string', pattern: '^[a-z]+$' }, new: { type: 'string', pattern: '^[a-zA-Z]+$' }, rules: ['PATTERN_WIDENED'], ok: 'backward' },
  { name: 'pattern narrowed to fewer characters', old: { type: 'string', pattern: '^[a-z0-9]{2,8}$' }, new: { type: 'string', pattern: '^[a-z]{2,8}$' }, rules: ['PATTERN_NARROWED'], ok: 'forward' },
  { name: 'pattern rewritten with \\d for [0-9]', old: { type: 'string', pattern: '^[0-9]{4}$' }, new: { type: 'string', pattern: '^\\d{4}$' }, rules: [], ok: 'both' },
  { name: 'pattern sequence within one class', old: { type: 'string', pattern: '^[a-z]{3}-[0-9]+$' }, new: { type: 'string', pattern: '^[a-z0-9-]+$' }, rules: ['PATTERN_WIDENED'], ok: 'backward' },
  { name: 'unanchored patterns cannot be proven', old: { type: 'string', pattern: 'a' }, new: { type: 'string', pattern: '[ab]' }, rules: ['PATTERN_CHANGED'], ok: 'none' },
  { name: 'alternation cannot be proven', old: { type: 'string', pattern: '^(a|b)$' }, new: { type: 'string', pattern: '^[ab]$' }, rules: ['PATTERN_CHANGED'], ok: 'none' },
];

const rewrites: Case[] = [
  { name: 'allOf of one schema is that schema', old: { type: 'object', properties: { a: s }, required: ['a'] }, new: { allOf: [{ type: 'object', properties: { a: s }, required: ['a'] }] }, rules: [], ok: 'both' },
  { name: 'enum of objects reordered', old: { enum: [{ k: 1 }, { k: 2 }] }, new: { enum: [{ k: 2 }, { k: 1 }] }, rules: [], ok: 'both' },
  { name: 'exclusiveMaximum on integers rewritten as maximum', old: { type: 'integer', exclusiveMaximum: 10 }, new: { type: 'integer', maximum: 9 }, rules: [], ok: 'both' },
  { name: 'oneOf over a discriminator written as anyOf', old: { oneOf: [kind('a'), kind('b')] }, new: { anyOf: [kind('a'), kind('b')] }, rules: [], ok: 'both' },
];

const formats: Case[] = [
  { name: 'int32 format added to an integer', old: { type: 'integer' }, new: { type: 'integer', format: 'int32' }, rules: ['FORMAT_ADDED'], ok: 'forward' },
  { name: 'a string format on an integer checks nothing', old: { type: 'integer' }, new: { type: 'integer', format: 'email' }, rules: [], ok: 'both' },
];

export const TABLES: Array<[string, Case[]]> = [
  ['soundness: oneOf exclusivity', oneOf],
  ['soundness: schemas that accept nothing', empty],
  ['soundness: not', not],
  ['soundness: recursion', recursion],
  ['soundness: property names that are prototype members', names],
  ['soundness: patterns', patterns],
  ['soundness: formats by type', formats],
  ['fewer false alarms: equivalent rewrites', rewrites],
];
