/** `npm test` (.ci/test.mjs): a failing stage does not stop the later ones, and the run still fails. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error -- a plain ESM script
import { failedTests, runStages, STAGES } from '../.ci/test.mjs';

type Run = (stages: Array<{ name: string; what: string; cmd: string[]; failures?: () => string[] }>, log: (line: string) => void) => { code: number; results: Array<{ name: string; ok: boolean; code: number }> };
const failed = failedTests as (reportPath: string, max?: number) => string[];

describe('npm test runs every stage', () => {
  it('reports each stage, runs those after a failure, and exits 1', () => {
    const lines: string[] = [];
    const node = process.execPath;
    const { code, results } = (runStages as Run)(
      [
        { name: 'first', what: 'passes', cmd: [node, '-e', '0'] },
        { name: 'second', what: 'fails', cmd: [node, '-e', 'process.exit(3)'] },
        { name: 'third', what: 'still runs', cmd: [node, '-e', '0'] },
      ],
      (line) => lines.push(line),
    );
    expect(code).toBe(1);
    expect(results.map((r) => [r.name, r.ok, r.code])).toEqual([
      ['first', true, 0],
      ['second', false, 3],
      ['third', true, 0],
    ]);
    const summary = lines.join('\n');
    expect(summary).toMatch(/FAILED \(exit 3\)\s+second/);
    expect(summary).toMatch(/1 of 3 stages failed: second/);
  });

  it('all passing: exit 0', () => {
    const { code } = (runStages as Run)([{ name: 'only', what: 'passes', cmd: [process.execPath, '-e', '0'] }], () => {});
    expect(code).toBe(0);
  });

  it('the stages are the ones the README promises', () => {
    expect((STAGES as Array<{ name: string }>).map((s) => s.name)).toEqual(['build', 'link-self', 'vitest', 'failover', 'generated', 'tsc-generated', 'tsc-test', 'check']);
  });

  it('names the failed tests under the table, the last thing a CI log shows', () => {
    const lines: string[] = [];
    const node = process.execPath;
    (runStages as Run)(
      [
        { name: 'unit', what: 'fails', cmd: [node, '-e', 'process.exit(1)'], failures: () => ['a.test.ts > adds: expected 1 to be 2'] },
        { name: 'other', what: 'passes', cmd: [node, '-e', '0'], failures: () => ['never printed'] },
      ],
      (line) => lines.push(line),
    );
    const out = lines.join('\n');
    expect(out).toContain('unit failed on:\n  ✗ a.test.ts > adds: expected 1 to be 2');
    expect(out).not.toContain('never printed');
    expect(lines.at(-1)).toMatch(/1 of 2 stages failed: unit/);
  });

  it("reads vitest's JSON report: a failed test with its error's first line, a file that failed outside its tests", () => {
    const dir = mkdtempSync(join(tmpdir(), 'ec-runner-'));
    writeFileSync(join(dir, 'x.test.js'), "describe('group', () => { it('fails', () => { expect(1).toBe(2); }); it('passes', () => {}); });\n");
    writeFileSync(join(dir, 'y.test.js'), "throw new Error('broken at import');\n");
    const report = join(dir, 'report.json');
    const run = spawnSync(process.execPath, ['node_modules/vitest/vitest.mjs', 'run', '--root', dir, '--globals', '--reporter=json', `--outputFile.json=${report}`], { encoding: 'utf8' });
    expect(run.status).toBe(1);
    const lines = failed(report);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/x\.test\.js > group fails: AssertionError: expected 1 to be 2/);
    expect(lines[1]).toMatch(/y\.test\.js: broken at import$/);
    expect(failed(join(dir, 'missing.json'))).toEqual([]);
    // Bounded: a run where everything failed does not bury the table.
    const many = { testResults: Array.from({ length: 30 }, (_, i) => ({ name: `f${i}.test.ts`, status: 'failed', message: 'boom', assertionResults: [] })) };
    writeFileSync(report, JSON.stringify(many));
    expect(failed(report, 5)).toEqual(['f0.test.ts: boom', 'f1.test.ts: boom', 'f2.test.ts: boom', 'f3.test.ts: boom', 'f4.test.ts: boom', '… and 25 more']);
  });
});
