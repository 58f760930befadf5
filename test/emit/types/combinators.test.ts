/** Given oneOf/anyOf/allOf (and nullable around them), want unions, merged interfaces or intersections. */
import { describe, expect, test } from 'vitest';
import { asNamespaces, emitOne, typecheck } from './helpers.js';

const card = { title: 'Card', type: 'object', required: ['pan'], properties: { pan: { type: 'string' } } };
const iban = { title: 'Iban', type: 'object', required: ['iban'], properties: { iban: { type: 'string' } } };

const cases: [string, unknown, string][] = [
  ['oneOf primitives', { oneOf: [{ type: 'string' }, { type: 'integer' }] }, 'export type T = string | number;\n'],
  [
    'oneOf named objects',
    { oneOf: [card, iban] },
    'export interface Card {\n  pan: string;\n}\n\nexport interface Iban {\n  iban: string;\n}\n\nexport type T = Card | Iban;\n',
  ],
  [
    'anyOf anonymous objects get Option names',
    { type: 'object', properties: { p: { anyOf: [{ type: 'object', properties: { a: { type: 'string' } } }, { type: 'null' }] } } },
    'export interface T {\n  p?: TPOption1 | null;\n}\n\nexport interface TPOption1 {\n  a?: string;\n}\n',
  ],
  [
    'nullable oneOf',
    { oneOf: [{ type: 'string' }, { type: 'number' }], nullable: true },
    'export type T = string | number | null;\n',
  ],
  [
    'allOf of plain objects merges into one interface',
    {
      allOf: [
        { type: 'object', required: ['id'], properties: { id: { type: 'string' } } },
        { type: 'object', properties: { at: { type: 'string', format: 'date-time' } }, required: ['at'] },
      ],
    },
    'export interface T {\n  id: string;\n  at: string;\n}\n',
  ],
  [
    'allOf with own properties and required across members',
    {
      type: 'object',
      required: ['b'],
      properties: { c: { type: 'boolean' } },
      allOf: [{ properties: { a: { type: 'string' } } }, { properties: { b: { type: 'number' } } }],
    },
    'export interface T {\n  c?: boolean;\n  a?: string;\n  b: number;\n}\n',
  ],
  [
    'allOf with a declared member is an intersection',
    { type: 'object', properties: { card: card, extended: { allOf: [card, { type: 'object', properties: { cvv: { type: 'string' } } }] } } },
    'export interface Card {\n  pan: string;\n}\n\nexport interface T {\n  card?: Card;\n  extended?: TExtended;\n}\n\n' +
      'export type TExtended = Card & {\n  cvv?: string;\n};\n',
  ],
  [
    'allOf of primitives',
    { allOf: [{ type: 'string' }, { minLength: 1 }] },
    'export type T = string;\n',
  ],
  [
    'properties beside oneOf are intersected',
    {
      type: 'object',
      required: ['kind'],
      properties: { kind: { type: 'string' } },
      oneOf: [
        { properties: { kind: { const: 'a' } } },
        { properties: { kind: { const: 'b' } } },
      ],
    },
    'export type T = {\n  kind: string;\n} & (TOption1 | TOption2);\n\nexport interface TOption1 {\n  kind?: "a";\n}\n\nexport interface TOption2 {\n  kind?: "b";\n}\n',
  ],
  [
    'type beside oneOf of formats',
    { type: 'string', oneOf: [{ format: 'email' }, { format: 'uri' }] },
    'export type T = string;\n',
  ],
];

describe('combinators', () => {
  test.each(cases)('%s', async (_name, given, want) => {
    expect(await emitOne(given as never)).toBe(want);
  });

  test('every want type-checks', () => {
    expect(typecheck({ 'all.ts': asNamespaces(cases.map((c) => c[2])) })).toBe('');
  });
});
