/**
 * The soundness oracle. Random schema pairs evolve by the mutations schemas really go
 * through (see `oracle.ts`); each pair is judged by the engine at BACKWARD and FORWARD under
 * both policies, and by ajv (configured as the project's validators) on candidate
 * instances: the witness sampler's (generated instances varied with the boundary values
 * both schemas mention) plus json-schema-faker samples.
 *
 * - "compatible" must hold on every candidate: zero counterexamples. Lenient verdicts are
 *   judged against the writer as lenient documents it (writers write only the properties
 *   they declare: `closeContentModels`), which is what its allowances
 *   (`LENIENT_ALLOWANCES`) assume;
 * - "incompatible" should come with a witness: the share without one (false alarms, or
 *   breaks the sampler cannot reach) is printed and kept below 10 %.
 *
 * Seeds are fixed, so a run is reproducible; every pair that once failed is kept in
 * `fixtures/oracle-regressions.json` and judged first. The 10,000 pairs of a run are split
 * over this file and `soundness-more.test.ts`, so that the two halves run in parallel.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { judgePair, runOracle, type Json } from './oracle.js';

const regressions = JSON.parse(readFileSync(new URL('./fixtures/oracle-regressions.json', import.meta.url), 'utf8')) as Array<{ seed: number; old: Json; next: Json }>;

describe('soundness oracle against ajv', () => {
  it('pairs that once disproved a verdict stay sound', () => {
    const results = regressions.map((r) => judgePair(r.seed, 1, 250, r));
    expect(results.flatMap((r) => r.counterexamples.map((c) => ({ seed: r.seed, ...c })))).toEqual([]);
    expect(results.filter((r) => !r.skipped)).toHaveLength(regressions.length);
  });

  runOracle('first half', 1, 5_000);
});
