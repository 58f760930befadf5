/** Given a root schema, want the declaration: strings and formats, numbers, null, unknown, const, enums, nullable. */
import { describe, expect, test } from 'vitest';
import { asNamespaces, emitOne, typecheck } from './helpers.js';

const cases: [string, unknown, string][] = [
  ['string', { type: 'string' }, 'export type T = string;\n'],
  ['date-time stays string', { type: 'string', format: 'date-time' }, 'export type T = string;\n'],
  ['uuid/email/binary stay string', { type: 'string', format: 'email', contentEncoding: 'base64' }, 'export type T = string;\n'],
  ['integer', { type: 'integer', minimum: 0 }, 'export type T = number;\n'],
  ['number', { type: 'number' }, 'export type T = number;\n'],
  ['boolean', { type: 'boolean' }, 'export type T = boolean;\n'],
  ['null', { type: 'null' }, 'export type T = null;\n'],
  ['empty schema is unknown, not any', {}, 'export type T = unknown;\n'],
  ['true schema', true, 'export type T = unknown;\n'],
  ['false schema', false, 'export type T = never;\n'],
  ['annotations only', { description: 'x', format: 'uuid' }, '/** x */\nexport type T = unknown;\n'],
  ['type list', { type: ['string', 'integer'] }, 'export type T = string | number;\n'],
  ['type list with null', { type: ['string', 'null'] }, 'export type T = string | null;\n'],
  ['OpenAPI nullable', { type: 'string', nullable: true }, 'export type T = string | null;\n'],
  ['nullable without type', { nullable: true }, 'export type T = unknown;\n'],
  ['const string', { const: 'user.created' }, 'export type T = "user.created";\n'],
  ['const escaped', { const: 'a"b\n`${c}`' }, 'export type T = "a\\"b\\n`${c}`";\n'],
  ['const number', { type: 'integer', const: 2 }, 'export type T = 2;\n'],
  ['const negative', { const: -1.5 }, 'export type T = -1.5;\n'],
  ['const boolean', { const: false }, 'export type T = false;\n'],
  ['const null', { const: null }, 'export type T = null;\n'],
  ['const object', { const: { a: [1, 'x'] } }, 'export type T = {\n  a: [1, "x"];\n};\n'],
  ['string enum', { type: 'string', enum: ['a', 'b'] }, 'export type T = "a" | "b";\n'],
  ['enum quotes', { enum: ['a"b', "it's", 'x*/y'] }, 'export type T = "a\\"b" | "it\'s" | "x*/y";\n'],
  ['mixed enum', { enum: [1, 'one', true, null] }, 'export type T = 1 | "one" | true | null;\n'],
  ['nullable enum', { type: 'string', enum: ['a'], nullable: true }, 'export type T = "a" | null;\n'],
  ['enum with null in type list', { type: ['string', 'null'], enum: ['a', null] }, 'export type T = "a" | null;\n'],
];

describe('primitives', () => {
  test.each(cases)('%s', async (_name, given, want) => {
    expect(await emitOne(given as never)).toBe(want);
  });

  test('every want type-checks', () => {
    expect(typecheck({ 'all.ts': asNamespaces(cases.map((c) => c[2])) })).toBe('');
  });
});

describe('enum as a property', () => {
  test('gets its own named union', async () => {
    const source = await emitOne({ type: 'object', properties: { status: { enum: ['on', 'off'] } } });
    expect(source).toBe('export interface T {\n  status?: TStatus;\n}\n\nexport type TStatus = "on" | "off";\n');
  });
});
