/**
 * The "evil spec": names, descriptions, enums and consts full of comment terminators,
 * backticks, `${`, quotes, newlines, reserved words, dashes, dots, spaces and non-ASCII.
 * The output must type-check under `tsc --strict`, and the declared keys must be exactly the
 * schema's keys: a checker module assigns a literal object with every key to the type.
 */
import { describe, expect, test } from 'vitest';
import { emitTypes } from '../../../src/emit/types/index.js';
import { typecheck } from './helpers.js';

const EVIL = [
  "it's",
  'say "hi"',
  'back`tick',
  '${inject}',
  'line\nbreak',
  'crlf\r\nx',
  '*/ end',
  '/* start',
  'class',
  'constructor',
  '__proto__',
  'with-dash',
  'with.dot',
  'with space',
  'prénom',
  'Ünïcödé',
  '名前',
  'a½',
  '',
  '0leading',
  '\\back\\slash',
  'tab\there',
  'sep\u2028line',
  'emoji 🎉',
];

const evilDescription = 'Ends */ early, `ticks`, ${x}, "quotes", \'single\'\nnew line\r\n * star\n@deprecated? not really\u2028sep';

function evilSchema(): Record<string, unknown> {
  const properties: Record<string, unknown> = {};
  EVIL.forEach((key, i) => {
    // defineProperty: a plain assignment of `__proto__` would set the prototype, not a key (JSON.parse makes a key).
    Object.defineProperty(properties, key, {
      value: { type: 'string', description: `${evilDescription} #${i}` },
      enumerable: true,
      writable: true,
      configurable: true,
    });
  });
  properties['kind'] = { enum: EVIL, description: evilDescription };
  properties['mixed'] = { enum: [...EVIL.slice(0, 3), 1, -2.5, true, null] };
  properties['constant'] = { const: '*/ `${x}` "q" \n' };
  properties['constObject'] = { const: { 'a-b': [1, 'x*/'], $ref: '#/nope' } };
  properties['nested'] = {
    title: 'class',
    type: 'object',
    description: evilDescription,
    properties: { 'inner key': { type: 'integer' }, 'default': { type: 'boolean' } },
    required: ['inner key'],
  };
  properties['dotted'] = { title: 'with.dot and-dash', type: 'object', properties: { x: { type: 'string' } } };
  properties['unicodeTitle'] = { title: '名前', type: 'object', properties: { y: { type: 'string' } } };
  properties['record'] = { title: 'Record', type: 'object', properties: { z: { type: 'string' } } };
  return { type: 'object', description: evilDescription, properties, required: EVIL };
}

describe('evil spec', () => {
  test('output type-checks and keeps every key exactly', async () => {
    const out = await emitTypes([
      { name: 'EvilEvent', schema: evilSchema(), description: evilDescription },
      { name: 'class', schema: { type: 'object', properties: { 'x-y': { type: 'string' } } } },
    ]);
    // A computed key: a literal `"__proto__":` would set the prototype instead.
    const all = EVIL.map((k) => `  [${JSON.stringify(k)}]: "v",`).join('\n');
    const checker = [
      "import type { EvilEvent } from './types.js';",
      'export const sample: EvilEvent = {',
      all,
      '  kind: "*/ end",',
      '  mixed: null,',
      '  constant: "*/ `${x}` \\"q\\" \\n",',
      '  constObject: { "a-b": [1, "x*/"], $ref: "#/nope" },',
      '  nested: { "inner key": 1, default: true },',
      '};',
      // Every declared key is one of the schema's keys, and vice versa.
      `type Want = ${[...EVIL, 'kind', 'mixed', 'constant', 'constObject', 'nested', 'dotted', 'unicodeTitle', 'record'].map((k) => JSON.stringify(k)).join(' | ')};`,
      'type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;',
      'export const keysMatch: Same<keyof EvilEvent, Want> = true;',
      '',
    ].join('\n');
    const errors = typecheck({ 'types.ts': out.source, 'check.ts': checker});
    expect(errors).toBe('');
    expect(out.source).toMatch(/export interface EvilEvent \{/);
    expect(out.source).not.toMatch(/AnonymousSchema/);
    // Reserved or unsafe names were made safe and reported.
    expect(out.diagnostics.map((d) => d.code)).toContain('TYPES_INVALID_NAME');
  });
});
