/** Given an array schema, want the declaration: lists, tuples (draft-07 `items: []` and 2020-12 `prefixItems`). */
import { describe, expect, test } from 'vitest';
import { asNamespaces, emitOne, typecheck } from './helpers.js';

const cases: [string, unknown, string][] = [
  ['list', { type: 'array', items: { type: 'string' } }, 'export type T = string[];\n'],
  ['list without items', { type: 'array' }, 'export type T = unknown[];\n'],
  ['list of a union', { type: 'array', items: { type: ['string', 'number'] } }, 'export type T = (string | number)[];\n'],
  ['list of lists', { type: 'array', items: { type: 'array', items: { type: 'integer' } } }, 'export type T = number[][];\n'],
  ['list of negative const', { type: 'array', items: { const: -1 } }, 'export type T = (-1)[];\n'],
  [
    'list of objects',
    { type: 'array', items: { type: 'object', properties: { sku: { type: 'string' } } } },
    'export type T = TItem[];\n\nexport interface TItem {\n  sku?: string;\n}\n',
  ],
  [
    'closed tuple',
    { type: 'array', items: [{ type: 'string' }, { type: 'number' }], minItems: 2, additionalItems: false },
    'export type T = [string, number];\n',
  ],
  [
    'tuple with optional tail and open rest',
    { type: 'array', items: [{ type: 'string' }, { type: 'number' }], minItems: 1 },
    'export type T = [string, number?, ...unknown[]];\n',
  ],
  [
    'tuple closed by maxItems',
    { type: 'array', items: [{ type: 'string' }, { type: 'number' }], minItems: 2, maxItems: 2 },
    'export type T = [string, number];\n',
  ],
  [
    'tuple with additionalItems schema',
    { type: 'array', items: [{ type: 'string' }], minItems: 1, additionalItems: { type: 'boolean' } },
    'export type T = [string, ...boolean[]];\n',
  ],
  [
    '2020-12 prefixItems',
    { type: 'array', prefixItems: [{ type: 'string' }, { type: ['number', 'null'] }], minItems: 2, items: false },
    'export type T = [string, number | null];\n',
  ],
  [
    'nullable list',
    { type: ['array', 'null'], items: { type: 'string' } },
    'export type T = string[] | null;\n',
  ],
];

describe('arrays', () => {
  test.each(cases)('%s', async (_name, given, want) => {
    expect(await emitOne(given as never)).toBe(want);
  });

  test('every want type-checks', () => {
    expect(typecheck({ 'all.ts': asNamespaces(cases.map((c) => c[2])) })).toBe('');
  });
});
