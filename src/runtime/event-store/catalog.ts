/**
 * The store's read-only view of its contract: every declared version of every event type,
 * the newest major of each, and the upcaster chains from older majors to it. Built once by
 * createEventStore; reading a stored record asks it how to turn the record into the newest
 * version (decode.ts).
 */
import type { EventDescriptor } from '../types.js';
import { parseSemver, type SemVer } from '../versions.js';
import { MissingUpcasterError, UnknownEventTypeError } from './errors.js';
import type { Upcasters } from './types.js';

export interface TypeEntry {
  readonly type: string;
  /** Ascending by version. */
  readonly versions: ReadonlyArray<{ readonly semver: SemVer; readonly descriptor: EventDescriptor }>;
  readonly newest: EventDescriptor;
  readonly newestMajor: number;
}

export interface Catalog {
  readonly types: ReadonlyMap<string, TypeEntry>;
  readonly upcasters: Upcasters;
  /** The declared descriptor with this type and version, else undefined. */
  declared(type: string, version: string): EventDescriptor | undefined;
  /** `{ domain, aggregate }` of every aggregate the contract declares. */
  readonly aggregates: ReadonlyArray<{ domain: string; aggregate: string }>;
}

const upcasterKey = (type: string, major: number) => `${type}@${major}`;

export function buildCatalog(events: readonly EventDescriptor[], upcasters: Upcasters = {}): Catalog {
  const byType = new Map<string, Array<{ semver: SemVer; descriptor: EventDescriptor }>>();
  const byKey = new Map<string, EventDescriptor>();
  const aggregates = new Map<string, { domain: string; aggregate: string }>();
  for (const d of events) {
    const semver = parseSemver(d.version);
    if (!semver) throw new UnknownEventTypeError(d.type, d.version, 'the version is not semver');
    const list = byType.get(d.type) ?? [];
    list.push({ semver, descriptor: d });
    byType.set(d.type, list);
    byKey.set(`${d.type}@${d.version}`, d);
    if (d.aggregate) aggregates.set(`${d.aggregate.domain}.${d.aggregate.type}`, { domain: d.aggregate.domain, aggregate: d.aggregate.type });
  }
  const types = new Map<string, TypeEntry>();
  const missing: string[] = [];
  for (const [type, list] of byType) {
    list.sort((a, b) => a.semver.major - b.semver.major || a.semver.minor - b.semver.minor || a.semver.patch - b.semver.patch);
    const newest = list[list.length - 1]!;
    types.set(type, { type, versions: list, newest: newest.descriptor, newestMajor: newest.semver.major });
    // Only aggregate-bound types are read back from streams, so only they need a chain at start-up.
    if (!list.some((v) => v.descriptor.aggregate)) continue;
    const majors = new Set(list.map((v) => v.semver.major));
    for (const major of majors) {
      for (let m = major; m < newest.semver.major; m++) {
        const key = upcasterKey(type, m);
        if (typeof upcasters[key] !== 'function' && !missing.includes(key)) missing.push(key);
      }
    }
  }
  if (missing.length > 0) throw new MissingUpcasterError(missing.sort());
  return {
    types,
    upcasters,
    declared: (type, version) => byKey.get(`${type}@${version}`),
    aggregates: [...aggregates.values()],
  };
}

export { upcasterKey };
