/**
 * Fixture folders of broken workspaces: each holds the specs and `expected.txt`, the
 * exact `file:line:col: severity CODE: message` lines `validate` must print. The lines
 * were checked by hand against the files: each points at the offending node.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

const root = 'test/fixtures/broken';

describe('validate on broken specs', () => {
  for (const name of readdirSync(root).sort()) {
    it(`${name}: exit 1 with located problems`, async () => {
      const dir = path.join(root, name);
      const expected = readFileSync(path.join(dir, 'expected.txt'), 'utf8').trimEnd().split('\n');
      const result = await runCli(['validate', dir]);
      expect(result.code).toBe(1);
      const lines = result.stderr.trimEnd().split('\n').filter((l) => !/^\d+ documents?,/.test(l));
      expect(lines).toEqual(expected);
      for (const line of lines.filter((l) => !l.startsWith(' ') && !l.startsWith('error NO_SPECS'))) {
        expect(line).toMatch(/^test\/fixtures\/broken\/[^:]+:\d+:\d+: error [A-Za-z0-9_-]+: /);
      }
    });
  }

  it('json format carries the same diagnostics as data', async () => {
    const result = await runCli(['validate', '--format', 'json', path.join(root, 'invalid-example')]);
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout) as { ok: boolean; diagnostics: Array<{ code: string; location: { line: number } }> };
    expect(report.ok).toBe(false);
    expect(report.diagnostics.map((d) => [d.code, d.location.line])).toEqual([
      ['EXAMPLE_INVALID', 33],
      ['EXAMPLE_INVALID', 34],
    ]);
  });
});
