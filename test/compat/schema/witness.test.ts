/** Witnesses: an instance the writer's schema accepts and the reader's rejects, judged by ajv. */
import { describe, expect, it } from 'vitest';
import { findWitness, findWitnesses, judge, sampleCandidates, type Judge } from '../../../src/compat/schema/witness.js';
import { parseAnchored, patternCovers, patternIncluded, patternsDisjoint, samplePattern } from '../../../src/compat/schema/pattern.js';
import type { JsonSchema } from '../../../src/compat/schema/index.js';

const must = (j: Judge | undefined): Judge => {
  if (!j) throw new Error('ajv could not compile');
  return j;
};

describe('findWitness', () => {
  it.each<[string, JsonSchema, JsonSchema]>([
    ['anyOf => oneOf with overlapping branches', { anyOf: [{ type: 'string' }, { type: 'string', maxLength: 3 }] }, { oneOf: [{ type: 'string' }, { type: 'string', maxLength: 3 }] }],
    ['multipleOf 0.3 => 0.1', { type: 'number', multipleOf: 0.3 }, { type: 'number', multipleOf: 0.1 }],
    ['integer => multipleOf 1 (1e21)', { type: 'integer' }, { multipleOf: 1 }],
    ['a pattern narrowed', { type: 'string', pattern: '^[a-zA-Z]+$' }, { type: 'string', pattern: '^[a-z]+$' }],
    ['"constructor" required', { type: 'object' }, { type: 'object', required: ['constructor'] }],
    ['a closed model', { type: 'object', properties: { a: { type: 'string' } } }, { type: 'object', properties: { a: { type: 'string' } }, additionalProperties: false }],
    ['a tuple item narrowed', { type: 'array', prefixItems: [{ type: 'number' }] }, { type: 'array', prefixItems: [{ type: 'integer' }] }],
  ])('%s: valid under the writer, rejected by the reader', (_name, writer, reader) => {
    const w = findWitness(writer, reader);
    expect(w).toBeDefined();
    expect(must(judge(writer))(w!.value)).toBe(true);
    expect(must(judge(reader))(w!.value)).toBe(false);
  });
  it('finds none when the reader reads everything the writer writes', () => {
    expect(findWitness({ type: 'string', maxLength: 3 }, { type: 'string' })).toBeUndefined();
    expect(findWitnesses({ type: 'integer' }, { type: 'number' }, ['backward', 'forward'])).toEqual({ forward: expect.anything() });
  });
  it('is deterministic for a seed', () => {
    const a = sampleCandidates({ type: 'object', properties: { a: { type: 'integer', minimum: 3 } } }, { type: 'object' }, { seed: 5 });
    const b = sampleCandidates({ type: 'object', properties: { a: { type: 'integer', minimum: 3 } } }, { type: 'object' }, { seed: 5 });
    expect(a).toEqual(b);
    expect(a).toContainEqual({ a: 2 }); // a boundary neighbour at the property's position
  });
  it('judges own properties only, as the generated validators do', () => {
    expect(must(judge({ required: ['constructor'] }))({})).toBe(false);
    expect(must(judge({ required: ['constructor'] }))({ constructor: 1 })).toBe(true);
  });
});

describe('anchored character-class patterns', () => {
  it.each<[string, string, boolean]>([
    ['^[a-z]+$', '^[a-zA-Z]+$', true],
    ['^[a-zA-Z]+$', '^[a-z]+$', false],
    ['^[0-9]{4}$', '^\\d{4}$', true],
    ['^\\d{4}$', '^\\d{2,6}$', true],
    ['^\\d{2,6}$', '^\\d{4}$', false],
    ['^[a-z]{3}-[0-9]+$', '^[a-z0-9-]+$', true],
    ['^[a-z]*$', '^[a-z]+$', false],
    ['^abc$', '^[a-c]+$', true],
    ['^[^0-9]+$', '^.+$', false],
    ['a', '[a]', false],
    ['^(a|b)$', '^[ab]$', false],
  ])('%s within %s: %s', (a, b, want) => {
    expect(patternIncluded(a, b)).toBe(want);
    // every sample of a proven inclusion matches both
    if (want) for (const s of samplePattern(a, () => 0)) expect(new RegExp(b, 'u').test(s)).toBe(true);
  });
  it('parses only what it models', () => {
    expect(parseAnchored('^[a-z]+$')).toEqual([{ set: [[97, 122]], min: 1, max: Infinity }]);
    expect(parseAnchored('^[a-z]+?$')).toBeUndefined();
    expect(parseAnchored('^(ab)+$')).toBeUndefined();
    expect(parseAnchored('abc')).toBeUndefined();
  });
  it('proves pattern property names disjoint or covered', () => {
    expect(patternsDisjoint('^x-', '^y-')).toBe(true);
    expect(patternsDisjoint('^a', '^ab')).toBe(false);
    expect(patternsDisjoint('^[a-z]+$', '^[0-9]+$')).toBe(true);
    expect(patternCovers('^a', '^ab')).toBe(true);
    expect(patternCovers('^ab', '^a')).toBe(false);
  });
});
