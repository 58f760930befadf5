/** Given an object schema, want the declarations: required/optional, keys as on the wire, additional/pattern properties. */
import { describe, expect, test } from 'vitest';
import { asNamespaces, emitOne, typecheck } from './helpers.js';

const cases: [string, unknown, string][] = [
  [
    'required and optional',
    { type: 'object', required: ['id'], properties: { id: { type: 'string' }, note: { type: 'string' } } },
    'export interface T {\n  id: string;\n  note?: string;\n}\n',
  ],
  [
    'keys exactly as on the wire, quoted only when needed',
    {
      type: 'object',
      properties: { user_id: {}, 'x-trace-id': {}, "it's": {}, 'a\nb': {}, camelCase: {}, 'with space': {}, class: {}, $ok: {} },
    },
    'export interface T {\n  user_id?: unknown;\n  "x-trace-id"?: unknown;\n  "it\'s"?: unknown;\n  "a\\nb"?: unknown;\n' +
      '  camelCase?: unknown;\n  "with space"?: unknown;\n  class?: unknown;\n  $ok?: unknown;\n}\n',
  ],
  ['properties without type', { properties: { a: { type: 'boolean' } } }, 'export interface T {\n  a?: boolean;\n}\n'],
  ['object with no properties is open', { type: 'object' }, 'export interface T {\n  [key: string]: unknown;\n}\n'],
  ['closed empty object', { type: 'object', additionalProperties: false }, 'export interface T {\n  [key: string]: never;\n}\n'],
  [
    'open object with properties stays a closed interface',
    { type: 'object', properties: { a: { type: 'string' } }, additionalProperties: true },
    'export interface T {\n  a?: string;\n}\n',
  ],
  [
    'additionalProperties schema alone is a Record',
    { type: 'object', additionalProperties: { type: 'integer' } },
    'export type T = Record<string, number>;\n',
  ],
  [
    'additionalProperties beside properties widens the index signature',
    { type: 'object', required: ['a'], properties: { a: { type: 'string' }, b: { type: 'boolean' } }, additionalProperties: { type: 'integer' } },
    'export interface T {\n  a: string;\n  b?: boolean;\n  [key: string]: number | string | boolean | undefined;\n}\n',
  ],
  [
    'patternProperties',
    { type: 'object', patternProperties: { '^x-': { type: 'string' }, '^n-': { type: 'number' } }, additionalProperties: false },
    'export interface T {\n  [key: string]: string | number;\n}\n',
  ],
  [
    'nested anonymous objects are named from parent and property',
    { type: 'object', properties: { 'home-address': { type: 'object', properties: { geo: { type: 'object', properties: { lat: { type: 'number' } } } } } } },
    'export interface T {\n  "home-address"?: THomeAddress;\n}\n\nexport interface THomeAddress {\n  geo?: THomeAddressGeo;\n}\n\n' +
      'export interface THomeAddressGeo {\n  lat?: number;\n}\n',
  ],
  [
    'map of objects',
    { type: 'object', additionalProperties: { type: 'object', properties: { n: { type: 'integer' } } } },
    'export type T = Record<string, TValue>;\n\nexport interface TValue {\n  n?: number;\n}\n',
  ],
  [
    'nullable object',
    { type: ['object', 'null'], properties: { a: { type: 'string' } } },
    'export type T = {\n  a?: string;\n} | null;\n',
  ],
  [
    'nullable object property',
    { type: 'object', properties: { o: { type: 'object', nullable: true, properties: { a: { type: 'string' } } } } },
    'export interface T {\n  o?: TO;\n}\n\nexport type TO = {\n  a?: string;\n} | null;\n',
  ],
  ['false property', { type: 'object', properties: { gone: false } }, 'export interface T {\n  gone?: never;\n}\n'],
];

describe('objects', () => {
  test.each(cases)('%s', async (_name, given, want) => {
    expect(await emitOne(given as never)).toBe(want);
  });

  test('every want type-checks', () => {
    expect(typecheck({ 'all.ts': asNamespaces(cases.map((c) => c[2])) })).toBe('');
  });
});
