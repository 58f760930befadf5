/** JSDoc from descriptions (escaped) and `@deprecated`, on types and properties. */
import { describe, expect, test } from 'vitest';
import { asNamespaces, emitOne, typecheck } from './helpers.js';

const cases: [string, unknown, string | undefined, string][] = [
  ['type description', { type: 'string', description: 'An id.' }, undefined, '/** An id. */\nexport type T = string;\n'],
  ['request description wins', { type: 'string', description: 'schema' }, 'request', '/** request */\nexport type T = string;\n'],
  [
    'multi-line, trailing spaces and CRLF',
    { type: 'string', description: 'First line.  \r\n\r\nSecond line.\n' },
    undefined,
    '/**\n * First line.\n *\n * Second line.\n */\nexport type T = string;\n',
  ],
  ['comment terminator', { type: 'string', description: 'a */ b /* c' }, undefined, '/** a *\\/ b /* c */\nexport type T = string;\n'],
  ['line-leading @ is not a tag', { type: 'string', description: '@deprecated? no' }, undefined, '/** \\@deprecated? no */\nexport type T = string;\n'],
  ['deprecated type', { type: 'string', deprecated: true }, undefined, '/** @deprecated */\nexport type T = string;\n'],
  [
    'property descriptions and deprecation',
    {
      type: 'object',
      properties: {
        a: { type: 'string', description: 'The `a` (${a}).' },
        b: { type: 'string', description: 'Old.', deprecated: true },
        c: { type: 'object', description: 'Nested.', properties: { d: { type: 'string' } } },
      },
    },
    undefined,
    'export interface T {\n  /** The `a` (${a}). */\n  a?: string;\n  /**\n   * Old.\n   * @deprecated\n   */\n  b?: string;\n  c?: TC;\n}\n\n' +
      '/** Nested. */\nexport interface TC {\n  d?: string;\n}\n',
  ],
  [
    'a $ref with a sibling description documents the property',
    { type: 'object', properties: { self: { $ref: '#', description: 'Parent.' } } },
    undefined,
    'export interface T {\n  /** Parent. */\n  self?: T;\n}\n',
  ],
];

describe('descriptions', () => {
  test.each(cases)('%s', async (_name, given, description, want) => {
    expect(await emitOne(given as never, description)).toBe(want);
  });

  test('every want type-checks', () => {
    expect(typecheck({ 'all.ts': asNamespaces(cases.map((c) => c[3])) })).toBe('');
  });
});
