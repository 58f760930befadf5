/**
 * The changelog between consecutive versions of an event type: the compatibility
 * engine's findings (payload and headers), the semver bump they need (at `FULL`, the
 * strictest non-transitive level: a change is breaking when either side's readers
 * reject the other's events) and whether the declared version numbers agree.
 */
import semver from 'semver';
import type { EventVersion, JsonSchema } from '../catalog/model.js';
import { classifyChange, SchemaError, type SchemaChange, type SemverBump } from '../compat/schema/index.js';

export interface ChangelogFinding {
  readonly part: 'payload' | 'headers';
  readonly change: SchemaChange;
}

export interface Changelog {
  readonly required: SemverBump;
  /** The bump the version numbers show, or `unknown` when either is not semver. */
  readonly declared: SemverBump | 'unknown';
  /** The declared bump is smaller than the findings need. */
  readonly underVersioned: boolean;
  readonly findings: readonly ChangelogFinding[];
  /** Why the schemas could not be compared (a malformed schema), when they could not. */
  readonly error?: string;
}

const RANK: Record<SemverBump, number> = { none: 0, patch: 1, minor: 2, major: 3 };

export function declaredBump(from: string, to: string): SemverBump | 'unknown' {
  if (!semver.valid(from) || !semver.valid(to)) return 'unknown';
  const diff = semver.diff(from, to);
  if (diff === null) return 'none';
  const base = diff.replace(/^pre/, '');
  return base === 'major' || base === 'minor' || base === 'patch' ? base : 'patch';
}

export function changelog(prev: EventVersion, next: EventVersion): Changelog {
  const declared = declaredBump(prev.version, next.version);
  const findings: ChangelogFinding[] = [];
  let required: SemverBump = 'none';
  const parts: ['payload' | 'headers', JsonSchema, JsonSchema][] = [['payload', prev.payload, next.payload]];
  // A missing headers schema allows any headers: compared as `{}`.
  if (prev.headers !== undefined || next.headers !== undefined) parts.push(['headers', prev.headers ?? {}, next.headers ?? {}]);
  try {
    for (const [part, a, b] of parts) {
      const result = classifyChange(a, b);
      if (RANK[result.bump] > RANK[required]) required = result.bump;
      for (const change of result.changes) findings.push({ part, change });
    }
  } catch (e) {
    if (!(e instanceof SchemaError)) throw e;
    return { required: 'none', declared, underVersioned: false, findings, error: e.message };
  }
  const underVersioned = declared !== 'unknown' && RANK[declared] < RANK[required];
  return { required, declared, underVersioned, findings };
}
