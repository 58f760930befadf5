/**
 * A spec written to break generated code: names that are reserved words or hold dashes,
 * dots, spaces, quotes and non-ASCII letters; descriptions with `*\/`, backticks, `${`
 * and newlines. The output must type-check, load, and run nothing from the spec.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { artifactDir, compile, generateInto, runNode, typecheck } from '../helpers/generate.js';

describe('escaping everything that comes from a spec', () => {
  let out: string;
  beforeAll(async () => {
    out = artifactDir('evil');
    const result = await generateInto(['test/fixtures/evil'], out);
    expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  }, 60_000);

  it('type-checks under strict, and keeps wire names exactly', async () => {
    // A user's file: the payload type must accept exactly the wire names, and reject a misspelt one.
    writeFileSync(
      path.join(out, 'usage.ts'),
      [
        "import type { ClassV1 } from './types.js';",
        'export const ok: ClassV1 = { "it\'s": "x", "a-b": 1, "ünï cödé": "y", "${x}": "z", "new\\nline": true, class: "*/", constructor: 1, __ok: "*/" };',
        '// @ts-expect-error "a_b" is not the wire name "a-b"',
        'export const misspelt: ClassV1 = { "it\'s": "x", "a_b": 1, "ünï cödé": "y" };',
        '// @ts-expect-error enum values are exact',
        'export const badEnum: ClassV1 = { "it\'s": "x", "a-b": 1, "ünï cödé": "y", class: "other" };',
        '',
      ].join('\n'),
    );
    await typecheck(out);
  });

  it('loads in Node without running anything from the spec', async () => {
    const dist = await compile(out);
    const script = `
      const index = await import(${JSON.stringify('file://' + dist + '/index.js')});
      const names = Object.keys(index).sort();
      const r = index.validateClassV1({ "it's": "x", "a-b": 1, "ünï cödé": "y", class: "it's" });
      console.log(JSON.stringify({ names, ok: r.ok, hacked: globalThis.hacked ?? null, injected: 'injected' in index }));`;
    const result = JSON.parse(await runNode(script, out)) as { names: string[]; ok: boolean; hacked: unknown; injected: boolean };
    expect(result.ok).toBe(true);
    expect(result.hacked).toBeNull();
    expect(result.injected).toBe(false);
    expect(result.names).toContain('EvilServiceProcessExit1Client');
  });

  it('comments carry the text but can never close early', () => {
    const events = readFileSync(path.join(out, 'events.ts'), 'utf8');
    expect(events).toContain('*\\/ export const injected = 1; /*');
    expect(events).not.toMatch(/\*\/ export const injected/);
  });
});
