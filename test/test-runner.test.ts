/** `npm test` (.ci/test.mjs): a failing stage does not stop the later ones, and the run still fails. */
import { describe, expect, it } from 'vitest';
// @ts-expect-error -- a plain ESM script
import { runStages, STAGES } from '../.ci/test.mjs';

type Run = (stages: Array<{ name: string; what: string; cmd: string[] }>, log: (line: string) => void) => { code: number; results: Array<{ name: string; ok: boolean; code: number }> };

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
    expect((STAGES as Array<{ name: string }>).map((s) => s.name)).toEqual(['build', 'link-self', 'vitest', 'generated', 'tsc-generated', 'tsc-test', 'check']);
  });
});
