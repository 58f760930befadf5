/**
 * Legal JSON Schema that ajv's strict mode refuses compiles with that strictness relaxed,
 * says which keyword, and still validates; unknown keywords stay reported as unchecked.
 */
import { describe, expect, it } from 'vitest';
import { createSchemaCompiler } from '../../src/validation/ajv.js';

describe('strict mode relaxed for legal schemas', () => {
  it('additionalItems beside a non-array items (draft-07; in 2020-12 it is no keyword at all)', () => {
    const compiled = createSchemaCompiler().compile(
      { type: 'object', properties: { c: { type: 'array', items: { type: 'number' }, additionalItems: false } } },
      'draft-07',
    );
    expect(compiled.relaxed).toEqual(['"additionalItems" is ignored when "items" is not an array of schemas']);
    expect(compiled.validate({ c: [1, 2, 3] })).toBe(true);
    expect(compiled.validate({ c: ['a'] })).toBe(false);
  });

  it('an unknown keyword met after relaxing is still reported as unchecked', () => {
    const compiled = createSchemaCompiler().compile({ type: 'array', items: { type: 'string' }, additionalItems: false, frobnicate: 1 }, 'draft-07');
    expect(compiled.relaxed.length).toBe(1);
    expect(compiled.unchecked).toEqual(['keyword "frobnicate"']);
  });

  it('a schema strict mode accepts is not relaxed', () => {
    expect(createSchemaCompiler().compile({ type: 'array', items: [{ type: 'string' }], additionalItems: false }, 'draft-07').relaxed).toEqual([]);
  });
});
