/** Names: roots as requested, titles kept, anonymous parts named from their position, clashes, recursion, determinism. */
import { describe, expect, test } from 'vitest';
import { emitTypes } from '../../../src/emit/types/index.js';
import type { TypeRequest } from '../../../src/emit/types/index.js';
import { asNamespaces, emitOne, typecheck } from './helpers.js';

const money = (amountType: string) => ({
  title: 'Money',
  type: 'object',
  required: ['amount'],
  properties: { amount: { type: amountType } },
});

describe('names', () => {
  test('root names are exactly the requested names, titles of roots are ignored', async () => {
    const out = await emitTypes([
      { name: 'UserCreatedV2', schema: { title: 'User', type: 'object', properties: { a: { type: 'string' } } } },
      { name: 'UserCreatedV2Headers', schema: { type: 'object', properties: { b: { type: 'string' } } } },
    ]);
    expect(out.source).toBe(
      'export interface UserCreatedV2 {\n  a?: string;\n}\n\nexport interface UserCreatedV2Headers {\n  b?: string;\n}\n',
    );
  });

  test('named component schemas keep their titles, PascalCased', async () => {
    const source = await emitOne({
      type: 'object',
      properties: { addr: { title: 'postal-address', type: 'object', properties: { city: { type: 'string' } } } },
    });
    expect(source).toBe('export interface PostalAddress {\n  city?: string;\n}\n\nexport interface T {\n  addr?: PostalAddress;\n}\n');
  });

  test('identical shared schemas become one type', async () => {
    const out = await emitTypes([
      { name: 'A', schema: { type: 'object', properties: { price: money('string') } } },
      { name: 'B', schema: { type: 'object', properties: { total: money('string'), fee: money('string') } } },
    ]);
    expect(out.source).toBe(
      'export interface A {\n  price?: Money;\n}\n\nexport interface B {\n  total?: Money;\n  fee?: Money;\n}\n\n' +
        'export interface Money {\n  amount: string;\n}\n',
    );
    expect(out.diagnostics).toEqual([]);
  });

  test('different schemas with the same title are both kept, the second suffixed, with a warning', async () => {
    const out = await emitTypes([
      { name: 'B', schema: { type: 'object', properties: { total: money('number') } } },
      { name: 'A', schema: { type: 'object', properties: { price: money('string'), again: money('number') } } },
    ]);
    expect(out.source).toBe(
      'export interface A {\n  price?: Money;\n  again?: Money2;\n}\n\nexport interface B {\n  total?: Money2;\n}\n\n' +
        'export interface Money {\n  amount: string;\n}\n\nexport interface Money2 {\n  amount: number;\n}\n',
    );
    expect(out.diagnostics).toEqual([
      {
        code: 'TYPES_NAME_CLASH',
        severity: 'warning',
        message: 'Schemas titled "Money" differ in shape; the one at A#/properties/again is emitted as Money2.',
      },
    ]);
  });

  test('a title clashing with a positional name does not merge the shapes', async () => {
    const source = await emitOne({
      type: 'object',
      properties: {
        a: { type: 'object', properties: { x: { type: 'string' } } },
        b: { title: 'TA', type: 'object', properties: { y: { type: 'string' } } },
      },
    });
    expect(source).toBe(
      'export interface T {\n  a?: TA;\n  b?: TA2;\n}\n\nexport interface TA {\n  x?: string;\n}\n\nexport interface TA2 {\n  y?: string;\n}\n',
    );
  });

  test('duplicate and unsafe request names are reported, never merged', async () => {
    const out = await emitTypes([
      { name: 'Same', schema: { type: 'string' } },
      { name: 'Same', schema: { type: 'number' } },
      { name: 'user.created-v1', schema: { type: 'boolean' } },
    ]);
    // Same names are ordered by canonical schema, not by request order: `{"type":"number"}` first.
    expect(out.source).toBe('export type Same = number;\n\nexport type Same2 = string;\n\nexport type UserCreatedV1 = boolean;\n');
    expect(out.diagnostics.map((d) => [d.code, d.severity])).toEqual([
      ['TYPES_NAME_CLASH', 'error'],
      ['TYPES_INVALID_NAME', 'warning'],
    ]);
  });

  test('titles that are not usable identifiers fall back to safe names', async () => {
    const source = await emitOne({
      type: 'object',
      properties: {
        a: { title: 'class', type: 'object', properties: {} , additionalProperties: false },
        b: { title: '2fa settings', type: 'object', properties: { on: { type: 'boolean' } } },
        c: { title: 'Ärger', type: 'object', properties: { on: { type: 'string' } } },
        d: { title: '名前', type: 'object', properties: { on: { type: 'number' } } },
        e: { title: 'Array', type: 'object', properties: { on: { type: 'null' } } },
      },
    });
    expect(source.match(/^export \w+ \w+/gm)).toEqual([
      'export interface Arger',
      'export interface Class',
      'export interface N2faSettings',
      'export interface ReservedArray',
      'export interface T',
      'export interface TD',
    ]);
    expect(typecheck({ 'a.ts': source })).toBe('');
  });
});

describe('recursion', () => {
  test('a $ref to the root makes a self-referencing type', async () => {
    const source = await emitOne({
      type: 'object',
      required: ['name'],
      properties: { name: { type: 'string' }, children: { type: 'array', items: { $ref: '#' } } },
    });
    expect(source).toBe('export interface T {\n  name: string;\n  children?: T[];\n}\n');
  });

  test('a $ref to an inner ancestor names that ancestor', async () => {
    const source = await emitOne({
      type: 'object',
      properties: {
        tree: {
          type: 'object',
          properties: { value: { type: 'integer' }, left: { $ref: '#/properties/tree' }, right: { $ref: '#/properties/tree' } },
        },
      },
    });
    expect(source).toBe(
      'export interface T {\n  tree?: TTree;\n}\n\nexport interface TTree {\n  value?: number;\n  left?: TTree;\n  right?: TTree;\n}\n',
    );
  });

  test('recursion through a union and an escaped pointer', async () => {
    const source = await emitOne({
      type: 'object',
      properties: {
        'a/b': {
          oneOf: [{ type: 'string' }, { type: 'array', items: { $ref: '#/properties/a~1b' } }],
        },
      },
    });
    expect(source).toBe('export interface T {\n  "a/b"?: TAB;\n}\n\nexport type TAB = string | TAB[];\n');
    expect(typecheck({ 'a.ts': source })).toBe('');
  });

  test('a $ref loop with no schema in between is unknown, not a hang', async () => {
    const out = await emitTypes([{ name: 'T', schema: { $ref: '#' } }]);
    expect(out.source).toBe('export type T = unknown;\n');
    expect(out.diagnostics.map((d) => d.code)).toEqual(['TYPES_UNRESOLVED_REF']);
  });

  test('a root $ref into definitions takes the shape it points to', async () => {
    const out = await emitTypes([
      {
        name: 'T',
        schema: {
          $ref: '#/definitions/node',
          definitions: { node: { type: 'object', properties: { next: { $ref: '#/definitions/node' } } } },
        },
      },
    ]);
    expect(out.source).toBe('export interface T {\n  next?: T;\n}\n');
    expect(typecheck({ 'a.ts': out.source })).toBe('');
  });

  test('an unresolvable $ref is unknown with a warning', async () => {
    const out = await emitTypes([{ name: 'T', schema: { type: 'object', properties: { x: { $ref: '#/nowhere' } } } }]);
    expect(out.source).toBe('export interface T {\n  x?: unknown;\n}\n');
    expect(out.diagnostics.map((d) => d.code)).toEqual(['TYPES_UNRESOLVED_REF']);
  });
});

describe('determinism', () => {
  const requests: TypeRequest[] = [
    { name: 'Zeta', schema: { type: 'object', properties: { m: money('number'), tags: { type: 'array', items: { enum: ['a', 'b'] } } } } },
    { name: 'Alpha', schema: { type: 'object', properties: { m: money('string'), n: { type: 'object', properties: { x: {} } } } } },
    { name: 'Mid', schema: { oneOf: [money('string'), money('integer'), { type: 'null' }] } },
    { name: 'MidHeaders', schema: { type: 'object', properties: { 'x-id': { type: 'string' } } } },
  ];

  test('shuffled requests give byte-identical source and diagnostics', async () => {
    const first = await emitTypes(requests);
    for (const order of [[3, 2, 1, 0], [1, 3, 0, 2], [2, 0, 3, 1]]) {
      const again = await emitTypes(order.map((i) => requests[i]!));
      expect(again.source).toBe(first.source);
      expect(again.diagnostics).toEqual(first.diagnostics);
    }
    expect(first.source.match(/^export \w+ \w+/gm)).toEqual([
      'export interface Alpha',
      'export interface AlphaN',
      'export type Mid',
      'export interface MidHeaders',
      'export interface Money',
      'export interface Money2',
      'export interface Money3',
      'export interface Zeta',
      'export type ZetaTagsItem',
    ]);
    expect(typecheck({ 'a.ts': asNamespaces([first.source]) })).toBe('');
  });
});
