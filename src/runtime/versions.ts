import type { EventDescriptor } from './types.js';

export interface SemVer {
  major: number;
  minor: number;
  patch: number;
}

const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:[-+].*)?$/;
const parsed = new Map<string, SemVer | null>();

/** Parse major.minor.patch (pre-release/build suffixes ignored); null when not semver. */
export function parseSemver(v: string): SemVer | null {
  let r = parsed.get(v);
  if (r !== undefined) return r;
  const m = SEMVER.exec(v);
  r = m ? { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]) } : null;
  if (parsed.size < 10_000) parsed.set(v, r); // versions on the wire are few; bound it anyway
  return r;
}

function compare(a: SemVer, b: SemVer): number {
  return a.major - b.major || a.minor - b.minor || a.patch - b.patch;
}

export type VersionMatch<T> =
  | { ok: true; descriptor: EventDescriptor<T> }
  | { ok: false; detail: string };

/**
 * Chooses which descriptor validates an incoming version, per the compatibility promise of
 * semver: within an accepted major, the newest known descriptor not newer than the incoming
 * version (so a newer minor is read with the newest schema we know, and an older minor with
 * the schema it was written against when we know it, else the oldest of that major).
 */
export class VersionResolver<T> {
  private readonly byMajor = new Map<number, Array<{ v: SemVer; d: EventDescriptor<T> }>>();
  private readonly cache = new Map<string, VersionMatch<T>>();

  constructor(
    readonly type: string,
    accepts: readonly EventDescriptor<T>[],
  ) {
    for (const d of accepts) {
      if (d.type !== type) throw new Error(`handler for '${type}' lists a descriptor of '${d.type}'`);
      const v = parseSemver(d.version);
      if (!v) throw new Error(`descriptor ${d.type}@${d.version}: version is not semver`);
      const list = this.byMajor.get(v.major) ?? [];
      list.push({ v, d });
      list.sort((a, b) => compare(a.v, b.v));
      this.byMajor.set(v.major, list);
    }
    if (this.byMajor.size === 0) throw new Error(`handler for '${type}' accepts no version`);
  }

  resolve(version: string): VersionMatch<T> {
    let r = this.cache.get(version);
    if (r) return r;
    r = this.compute(version);
    if (this.cache.size < 1000) this.cache.set(version, r);
    return r;
  }

  private compute(version: string): VersionMatch<T> {
    const v = parseSemver(version);
    const known = [...this.byMajor.keys()].sort((a, b) => a - b).map((m) => `${m}.x`).join(', ');
    if (!v) return { ok: false, detail: `${this.type} version '${version}' is not semver; this consumer accepts ${known}` };
    const list = this.byMajor.get(v.major);
    if (!list) return { ok: false, detail: `${this.type}@${version}: major ${v.major} is not accepted by this consumer (accepts ${known})` };
    let pick = list[0]!;
    for (const e of list) if (compare(e.v, v) <= 0) pick = e;
    return { ok: true, descriptor: pick.d };
  }
}
