/**
 * The soundness oracle. Random schema pairs evolve by the mutations schemas really go
 * through (see `oracle.ts`); each pair is judged by the engine at BACKWARD and FORWARD under
 * both policies, and by ajv (configured as the project's validators) on candidate
 * instances: the witness sampler's (generated instances varied with the boundary values
 * both schemas mention) plus json-schema-faker samples.
 *
 * - "compatible" must hold on every candidate: zero counterexamples, except where the
 *   lenient policy's documented allowances (`lenientAllows`: the rules that assume writers
 *   write only declared properties) explain the strict verdict;
 * - "incompatible" should come with a witness: the share without one (false alarms, or
 *   breaks the sampler cannot reach) is printed and kept below 10 %.
 *
 * Seeds are fixed, so a run is reproducible; every pair that once failed is kept in
 * `fixtures/oracle-regressions.json` and judged first. `ORACLE_PAIRS` changes the count.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { judgePair, type Json, type PairResult } from './oracle.js';

const PAIRS = Number(process.env.ORACLE_PAIRS ?? 10_000);
const FIRST_SEED = 1;

const regressions = JSON.parse(readFileSync(new URL('./fixtures/oracle-regressions.json', import.meta.url), 'utf8')) as Array<{ seed: number; old: Json; next: Json }>;

function summarise(results: PairResult[]) {
  const judged = results.filter((r) => !r.skipped);
  const witnessed = judged.reduce((n, r) => n + r.witnessed.length, 0);
  const unwitnessed = judged.reduce((n, r) => n + r.unwitnessed.length, 0);
  return {
    pairs: judged.length,
    skipped: results.length - judged.length,
    verdicts: judged.reduce((n, r) => n + r.verdicts.length, 0),
    compatible: judged.reduce((n, r) => n + r.verdicts.filter((v) => v.compatible).length, 0),
    counterexamples: judged.flatMap((r) => r.counterexamples.map((c) => ({ seed: r.seed, ...c, old: r.old, next: r.next }))),
    falseAlarmRate: unwitnessed / Math.max(1, witnessed + unwitnessed),
    witnessed,
    unwitnessed,
  };
}

describe('soundness oracle against ajv', () => {
  it('pairs that once disproved a verdict stay sound', () => {
    const s = summarise(regressions.map((r) => judgePair(r.seed, 1, 250, r)));
    expect(s.counterexamples).toEqual([]);
    expect(s.pairs).toBe(regressions.length);
  });

  it(`${PAIRS} random pairs: no "compatible" verdict has a counterexample; false alarms below 10 %`, () => {
    const started = Date.now();
    const results: PairResult[] = [];
    for (let seed = FIRST_SEED; seed < FIRST_SEED + PAIRS; seed++) results.push(judgePair(seed));
    const s = summarise(results);
    console.log(
      `oracle: ${s.pairs} pairs (${s.skipped} ajv could not compile), ${s.verdicts} verdicts (BACKWARD and FORWARD, strict and lenient), ` +
        `${s.compatible} compatible, ${s.counterexamples.length} counterexamples; incompatible (strict): ${s.witnessed} with a witness, ` +
        `${s.unwitnessed} without, false-alarm rate ${(s.falseAlarmRate * 100).toFixed(1)} %; ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
    // a failing seed: add { seed, old, next } to fixtures/oracle-regressions.json
    expect(s.counterexamples.slice(0, 3)).toEqual([]);
    expect(s.pairs).toBeGreaterThanOrEqual(PAIRS * 0.95);
    expect(s.compatible).toBeGreaterThan(s.verdicts / 5);
    expect(s.witnessed).toBeGreaterThan(s.pairs / 5);
    expect(s.falseAlarmRate).toBeLessThan(0.1);
  }, 600_000);
});
