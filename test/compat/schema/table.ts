/**
 * Given/want table support: each case states an old and a new schema, the rule ids the
 * change must produce (in either direction), and which levels accept it. Expectations are
 * written from the rules, by thinking about what values each schema accepts.
 */
import { describe, expect, it } from 'vitest';
import {
  checkCompatibility, classifyChange, declaredBreaks, ruleIds, type CompatOptions, type JsonSchema, type RuleId,
} from '../../../src/compat/schema/index.js';

/** Which readers still work: `both`, only `backward` (new reads old), only `forward`, or `none`. */
export type Verdict = 'both' | 'backward' | 'forward' | 'none';

export interface Case {
  name: string;
  old: JsonSchema;
  new: JsonSchema;
  /** Every rule id the change produces, breaking or not. */
  rules: RuleId[];
  /** Verdict under the strict (default) policy. */
  ok: Verdict;
  /** Verdict under the lenient policy, when it differs. */
  lenient?: Verdict;
  opts?: CompatOptions;
}

const levels = (v: Verdict) => ({
  BACKWARD: v === 'both' || v === 'backward',
  FORWARD: v === 'both' || v === 'forward',
  FULL: v === 'both',
});

export function runTable(title: string, cases: Case[]): void {
  describe(title, () => {
    for (const c of cases) {
      it(c.name, () => {
        const got = ruleIds(classifyChange(c.old, c.new, { level: 'FULL', ...c.opts }).changes);
        expect(got).toEqual([...new Set(c.rules)].sort());
        for (const [policy, verdict] of [['strict', c.ok], ['lenient', c.lenient ?? c.ok]] as const) {
          const want = levels(verdict);
          for (const level of ['BACKWARD', 'FORWARD', 'FULL'] as const) {
            const result = checkCompatibility([c.old], c.new, level, { ...c.opts, policy });
            expect({ policy, level, compatible: result.compatible, breaking: result.changes.filter((x) => x.breaking).map((x) => x.rule) })
              .toMatchObject({ policy, level, compatible: want[level] });
            // A rule with a declared direction must break exactly in that direction
            // (checked for one-direction levels, where every finding comes from one run).
            if (level === 'FULL') continue;
            for (const change of result.changes) {
              const declared = declaredBreaks(change.rule, policy);
              if (declared === 'depends' || change.path.includes('/not')) continue;
              const shouldBreak = declared === 'both' || declared === level.toLowerCase();
              expect({ rule: change.rule, path: change.path, breaking: change.breaking }).toEqual({ rule: change.rule, path: change.path, breaking: shouldBreak });
            }
          }
        }
      });
    }
  });
}

export const S = (type: string, extra: Record<string, unknown> = {}) => ({ type, ...extra });
