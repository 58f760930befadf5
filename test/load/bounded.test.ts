/**
 * Bounded work: our own `$ref` scan stops what the AsyncAPI parser would loop on (a pure
 * reference cycle) and what would multiply through every later step (a reference
 * fan-out), each with a located error, before the parser is loaded.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SourceSet } from '../../src/load/index.js';
import { scanRefs } from '../../src/load/refs.js';
import { runCli } from '../helpers/cli.js';

function workspace(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ec-bounded-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
  return dir;
}

const head = (payload: string) =>
  [
    'asyncapi: 3.0.0',
    'info: { title: Bounded, version: 1.0.0 }',
    'channels:',
    '  c:',
    '    address: bounded.v1',
    '    messages:',
    '      m:',
    '        name: bounded',
    '        x-version: 1.0.0',
    `        payload: ${payload}`,
    'components:',
    '  schemas:',
  ].join('\n') + '\n';

function scan(dir: string, limit?: number) {
  const sources = new SourceSet([dir]);
  return scanRefs(sources, sources.get(path.join(dir, 'api.yaml')), limit).diagnostics.map((d) => `${d.location?.line}:${d.code}`);
}

describe('reference cycles with no schema in between', () => {
  it.each([
    ['two schemas', `{ $ref: '#/components/schemas/A' }`, "    A: { $ref: '#/components/schemas/B' }\n    B: { $ref: '#/components/schemas/A' }\n", ['13:REF_CYCLE']],
    ['a schema to itself', `{ $ref: '#/components/schemas/A' }`, "    A: { $ref: '#/components/schemas/A' }\n", ['13:REF_CYCLE']],
    ['three schemas, entered from the middle', `{ $ref: '#/components/schemas/B' }`, "    A: { $ref: '#/components/schemas/B' }\n    B: { $ref: '#/components/schemas/C' }\n    C: { $ref: '#/components/schemas/A' }\n", ['14:REF_CYCLE']],
    ['a schema with siblings of $ref', `{ $ref: '#/components/schemas/A' }`, "    A: { $ref: '#/components/schemas/B', description: x }\n    B: { $ref: '#/components/schemas/A' }\n", ['13:REF_CYCLE']],
  ])('%s: one located error', (_name, payload, schemas, want) => {
    const dir = workspace({ 'api.yaml': head(payload) + schemas });
    expect(scan(dir)).toEqual(want);
  });

  it('across files', () => {
    const dir = workspace({
      'api.yaml': head(`{ $ref: 'a.yaml#/A' }`) + '    X: { type: string }\n',
      'a.yaml': "A: { $ref: 'b.yaml#/B' }\n",
      'b.yaml': "B: { $ref: 'a.yaml#/A' }\n",
    });
    const sources = new SourceSet([dir]);
    const found = scanRefs(sources, sources.get(path.join(dir, 'api.yaml'))).diagnostics;
    expect(found.map((d) => [d.code, d.location?.file.endsWith('a.yaml')])).toEqual([['REF_CYCLE', true]]);
  });

  it('a recursive schema (an object in between) is fine', () => {
    const dir = workspace({
      'api.yaml': head(`{ $ref: '#/components/schemas/Node' }`) + "    Node: { type: object, properties: { next: { $ref: '#/components/schemas/Node' } } }\n",
    });
    expect(scan(dir)).toEqual([]);
  });

  it('validate ends with the located error instead of running forever', async () => {
    const dir = workspace({ 'api.yaml': head(`{ $ref: '#/components/schemas/A' }`) + "    A: { $ref: '#/components/schemas/B' }\n    B: { $ref: '#/components/schemas/A' }\n" });
    const result = await runCli(['validate', path.join(dir, 'api.yaml')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/api\.yaml:13:\d+: error REF_CYCLE: \$ref "#\/components\/schemas\/B" is part of a reference cycle/);
  });
});

describe('reference fan-out', () => {
  /** `width` references per level to the next level, `depth` levels: expands to width^depth leaves. */
  function fanOut(width: number, depth: number): string {
    let text = head(`{ $ref: '#/components/schemas/L0' }`);
    for (let level = 0; level < depth; level++) {
      const props = Array.from({ length: width }, (_, i) => `p${i}: { $ref: '#/components/schemas/L${level + 1}' }`).join(', ');
      text += `    L${level}: { type: object, properties: { ${props} } }\n`;
    }
    return text + `    L${depth}: { type: object, properties: { s: { type: string, minLength: 1 }, n: { type: integer } } }\n`;
  }

  it('a 2 KB document with 10-way fan-out four levels deep is refused at the level that multiplies', async () => {
    const text = fanOut(10, 4);
    expect(text.length).toBeLessThan(2500);
    const dir = workspace({ 'api.yaml': text });
    const result = await runCli(['generate', path.join(dir, 'api.yaml'), '--out', path.join(dir, 'out'), '--force']);
    expect(result.code).toBe(1);
    // Line 13 is L0, whose properties each reference L1.
    expect(result.stderr).toMatch(/api\.yaml:13:\d+: error DOCUMENT_TOO_LARGE: the document expands to more than 100000 nodes/);
  });

  it('counts shared references once per target: linear work, exact verdicts on both sides of the limit', () => {
    const dir = workspace({ 'api.yaml': fanOut(3, 3) });
    // 3^3 = 27 leaves of a handful of nodes each: a few hundred nodes expanded. Over a
    // limit of 100, the deepest level that alone holds a tenth of it is L2 (line 15).
    expect(scan(dir, 100)).toEqual(['15:DOCUMENT_TOO_LARGE']);
    expect(scan(dir, 2000)).toEqual([]);
  });

  it('a document that is simply that large (no reference reuse) says so', () => {
    const props = Array.from({ length: 400 }, (_, i) => `p${i}: { type: string }`).join(', ');
    const dir = workspace({ 'api.yaml': head(`{ type: object, properties: { ${props} } }`) + '    X: { type: string }\n' });
    const sources = new SourceSet([dir]);
    const [finding] = scanRefs(sources, sources.get(path.join(dir, 'api.yaml')), 500).diagnostics;
    expect(finding).toMatchObject({ code: 'DOCUMENT_TOO_LARGE', location: { line: 1 } });
    expect(finding!.message).toMatch(/hold more than 500 nodes: too large for one contract/);
  });

  it('a deep fan-out (20-way, 30 levels: 20^30 leaves) is judged at once, without expanding it', () => {
    const dir = workspace({ 'api.yaml': fanOut(20, 30) });
    // L27 (line 40): 20^3 leaves below it, the deepest level holding a tenth of the limit.
    expect(scan(dir)).toEqual(['40:DOCUMENT_TOO_LARGE']);
  });
});
