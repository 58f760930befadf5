/** A recursive payload generates a self-referencing type and a validator that checks every level. */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { artifactDir, compile, generateInto, runNode, typecheck } from '../helpers/generate.js';

describe('recursive payloads', () => {
  it('type-check and validate at depth', async () => {
    const out = artifactDir('recursive');
    const result = await generateInto(['test/fixtures/recursive'], out);
    expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const types = readFileSync(path.join(out, 'types.ts'), 'utf8');
    expect(types).toMatch(/export interface Category \{[\s\S]*children\?: Category\[\];/);
    writeFileSync(
      path.join(out, 'usage.ts'),
      "import type { CategoryChangedV1 } from './types.js';\nexport const deep: CategoryChangedV1 = { root: { name: 'a', children: [{ name: 'b', children: [{ name: 'c' }] }] } };\n",
    );
    await typecheck(out);
    const dist = await compile(out);
    const script = `
      const { validateCategoryChangedV1 } = await import(${JSON.stringify('file://' + dist + '/validators/index.js')});
      const ok = validateCategoryChangedV1({ root: { name: 'a', children: [{ name: 'b', children: [{ name: 'c' }] }] } });
      const bad = validateCategoryChangedV1({ root: { name: 'a', children: [{ name: 'b', children: [{ name: '' }] }] } });
      console.log(JSON.stringify({ ok: ok.ok, bad: bad.ok ? null : bad.errors }));`;
    const { ok, bad } = JSON.parse(await runNode(script, out)) as { ok: boolean; bad: Array<{ path: string }> };
    expect(ok).toBe(true);
    expect(bad.map((e) => e.path)).toContain('/root/children/0/children/0/name');
  }, 60_000);
});
