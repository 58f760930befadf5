/**
 * A small, exact model of anchored character-class patterns, the shape most `pattern`s in
 * contracts take: `^[a-z]+$`, `^[A-Z]{3}$`, `^[a-z0-9-]{1,63}$`, `^\d{4}-\d{2}$`. Such a
 * pattern is a sequence of atoms, each a set of code points repeated between `min` and
 * `max` times. For these the engine can prove `L(a) ⊆ L(b)`; any other pattern (groups,
 * alternation, look-around, back-references, unanchored) is not modelled and a textual
 * change to it cannot be proven safe.
 *
 * Semantics are ECMA-262 with the `u` flag, as ajv compiles `pattern` (`unicodeRegExp`).
 */

/** Sorted, disjoint, inclusive code-point ranges. */
export type CharSet = ReadonlyArray<readonly [number, number]>;

export interface Atom {
  set: CharSet;
  min: number;
  /** `Infinity` for `+`, `*`, `{n,}`. */
  max: number;
}

const MAX_CP = 0x10ffff;
const DIGIT: CharSet = [[0x30, 0x39]];
const WORD: CharSet = [[0x30, 0x39], [0x41, 0x5a], [0x5f, 0x5f], [0x61, 0x7a]];
const LINE_TERMINATORS: CharSet = [[0x0a, 0x0a], [0x0d, 0x0d], [0x2028, 0x2029]];

export function normalise(ranges: Array<readonly [number, number]>): CharSet {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  const out: Array<[number, number]> = [];
  for (const [lo, hi] of sorted) {
    const last = out[out.length - 1];
    if (last && lo <= last[1] + 1) last[1] = Math.max(last[1], hi);
    else out.push([lo, hi]);
  }
  return out;
}

export function complement(set: CharSet): CharSet {
  const out: Array<[number, number]> = [];
  let next = 0;
  for (const [lo, hi] of set) {
    if (lo > next) out.push([next, lo - 1]);
    next = hi + 1;
  }
  if (next <= MAX_CP) out.push([next, MAX_CP]);
  return out;
}

export function subset(a: CharSet, b: CharSet): boolean {
  return a.every(([lo, hi]) => b.some(([blo, bhi]) => blo <= lo && hi <= bhi));
}

const ESCAPE_CLASSES: Record<string, CharSet> = { d: DIGIT, D: complement(DIGIT), w: WORD, W: complement(WORD) };
/** Escaped characters that stand for themselves under the `u` flag. */
const SYNTAX = new Set('^$\\.*+?()[]{}|/-'.split(''));

/** Reads `\x` at `i` (the backslash); returns the set and the index after it, or undefined. */
function escape(src: string, i: number, inClass: boolean): { set: CharSet; next: number } | undefined {
  const c = src[i + 1];
  if (c === undefined) return undefined;
  const cls = ESCAPE_CLASSES[c];
  if (cls) return { set: cls, next: i + 2 };
  if (SYNTAX.has(c) || (inClass && c === '-')) return { set: [[c.codePointAt(0)!, c.codePointAt(0)!]], next: i + 2 };
  if (c === 'n') return { set: [[10, 10]], next: i + 2 };
  if (c === 't') return { set: [[9, 9]], next: i + 2 };
  return undefined;
}

function parseClass(src: string, start: number): { set: CharSet; next: number } | undefined {
  let i = start + 1;
  let negate = false;
  if (src[i] === '^') {
    negate = true;
    i++;
  }
  const ranges: Array<readonly [number, number]> = [];
  let first = true;
  for (;;) {
    const c = src[i];
    if (c === undefined) return undefined;
    if (c === ']' && !first) break;
    if (c === ']' || c === '[') return undefined;
    first = false;
    let lo: CharSet;
    if (c === '\\') {
      const e = escape(src, i, true);
      if (!e) return undefined;
      lo = e.set;
      i = e.next;
    } else {
      const cp = src.codePointAt(i)!;
      lo = [[cp, cp]];
      i += cp > 0xffff ? 2 : 1;
    }
    if (src[i] === '-' && src[i + 1] !== ']' && src[i + 1] !== undefined) {
      // a range: both ends must be single characters
      let hiCp: number;
      if (src[i + 1] === '\\') {
        const e = escape(src, i + 1, true);
        if (!e || e.set.length !== 1 || e.set[0]![0] !== e.set[0]![1]) return undefined;
        hiCp = e.set[0]![0];
        i = e.next;
      } else {
        hiCp = src.codePointAt(i + 1)!;
        i += hiCp > 0xffff ? 3 : 2;
      }
      if (lo.length !== 1 || lo[0]![0] !== lo[0]![1] || hiCp < lo[0]![0]) return undefined;
      ranges.push([lo[0]![0], hiCp]);
    } else {
      ranges.push(...lo);
    }
  }
  const set = normalise(ranges);
  return { set: negate ? complement(set) : set, next: i + 1 };
}

function parseQuantifier(src: string, i: number): { min: number; max: number; next: number } {
  const c = src[i];
  if (c === '+') return { min: 1, max: Infinity, next: i + 1 };
  if (c === '*') return { min: 0, max: Infinity, next: i + 1 };
  if (c === '?') return { min: 0, max: 1, next: i + 1 };
  if (c === '{') {
    const m = /^\{(\d+)(,(\d*))?\}/.exec(src.slice(i));
    if (m) {
      const min = Number(m[1]);
      const max = m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3]);
      if (max >= min) return { min, max, next: i + m[0].length };
    }
  }
  return { min: 1, max: 1, next: i };
}

const CACHE = new Map<string, Atom[] | null>();

/** The atoms of an anchored character-class pattern, or undefined when it has another shape. */
export function parseAnchored(src: string): Atom[] | undefined {
  const cached = CACHE.get(src);
  if (cached !== undefined) return cached ?? undefined;
  const atoms = parse(src);
  if (CACHE.size > 2000) CACHE.clear();
  CACHE.set(src, atoms ?? null);
  return atoms;
}

function parse(src: string): Atom[] | undefined {
  if (!src.startsWith('^') || !src.endsWith('$') || src.endsWith('\\$')) return undefined;
  const body = src.slice(1, -1);
  const atoms: Atom[] = [];
  let i = 0;
  while (i < body.length) {
    const c = body[i]!;
    let set: CharSet;
    if (c === '[') {
      const r = parseClass(body, i);
      if (!r) return undefined;
      set = r.set;
      i = r.next;
    } else if (c === '\\') {
      const e = escape(body, i, false);
      if (!e) return undefined;
      set = e.set;
      i = e.next;
    } else if (c === '.') {
      set = complement(LINE_TERMINATORS);
      i++;
    } else if ('^$*+?(){}|]'.includes(c)) {
      return undefined;
    } else {
      const cp = body.codePointAt(i)!;
      set = [[cp, cp]];
      i += cp > 0xffff ? 2 : 1;
    }
    const q = parseQuantifier(body, i);
    const after = body[q.next];
    if (after !== undefined && '*+?{'.includes(after)) return undefined; // lazy or stacked quantifiers
    i = q.next;
    atoms.push({ set, min: q.min, max: q.max });
  }
  return atoms;
}

/**
 * Is every string matching `a` matched by `b`? True only when proven: equal text, or both
 * anchored character-class patterns with `a`'s atoms pairwise within `b`'s, or `b` a single
 * repeated class covering every character and every length `a` allows.
 */
export function patternIncluded(a: string, b: string): boolean {
  if (a === b) return true;
  const pa = parseAnchored(a);
  const pb = parseAnchored(b);
  if (!pa || !pb) return false;
  // a matches nothing: an atom with an empty set that must occur
  if (pa.some((x) => x.set.length === 0 && x.min > 0)) return true;
  if (pa.length === pb.length && pa.every((x, i) => {
    const y = pb[i]!;
    return (x.max === 0 || subset(x.set, y.set)) && y.min <= x.min && x.max <= y.max;
  })) return true;
  if (pb.length === 1) {
    const y = pb[0]!;
    const min = pa.reduce((s, x) => s + x.min, 0);
    const max = pa.reduce((s, x) => s + x.max, 0);
    return pa.every((x) => x.max === 0 || subset(x.set, y.set)) && y.min <= min && max <= y.max;
  }
  return false;
}

/** The literal text an anchored pattern must start with (`^abc` gives `abc`). */
export function anchoredPrefix(src: string): string | undefined {
  if (!src.startsWith('^')) return undefined;
  const m = /^[A-Za-z0-9_\-:/ ]*/.exec(src.slice(1));
  let prefix = m ? m[0] : '';
  // a quantifier after the last literal makes that literal optional
  const after = src[1 + prefix.length];
  if (after !== undefined && '*?{'.includes(after)) prefix = prefix.slice(0, -1);
  return prefix;
}

/**
 * Can no name match both patterns? Proven for anchored patterns with literal prefixes
 * that diverge (`^x-` and `^y-`), or anchored class patterns whose atoms cannot line up.
 */
export function patternsDisjoint(a: string, b: string): boolean {
  const pa = anchoredPrefix(a);
  const pb = anchoredPrefix(b);
  if (pa !== undefined && pb !== undefined && !pa.startsWith(pb) && !pb.startsWith(pa)) return true;
  const xa = parseAnchored(a);
  const xb = parseAnchored(b);
  if (xa && xb && xa.length === 1 && xb.length === 1) {
    const [x, y] = [xa[0]!, xb[0]!];
    if (x.max < y.min || y.max < x.min) return true;
    const both = x.set.some(([lo, hi]) => y.set.some(([l2, h2]) => lo <= h2 && l2 <= hi));
    if (!both && x.min > 0 && y.min > 0) return true;
  }
  return false;
}

/** A few strings matching an anchored class pattern (shortest, longer, varied), for samplers. */
export function samplePattern(src: string, pick: (n: number) => number): string[] {
  const atoms = parseAnchored(src);
  if (!atoms) return [];
  const char = (set: CharSet, k: number): string => {
    if (set.length === 0) return '';
    const [lo, hi] = set[k % set.length]!;
    const cp = lo + ((k * 7 + pick(1000)) % (hi - lo + 1));
    return String.fromCodePoint(cp);
  };
  const out: string[] = [];
  for (const mode of ['min', 'more', 'max'] as const) {
    let s = '';
    for (const a of atoms) {
      const n = mode === 'min' ? a.min : mode === 'max' ? Math.min(a.max, a.min + 12) : Math.min(a.max, a.min + 1 + pick(4));
      for (let k = 0; k < n; k++) s += char(a.set, k + pick(3));
    }
    out.push(s);
  }
  return out;
}

/** Does every name matching `p` match `q`? Proven when `q` is a bare anchored prefix (`^x-`) that `p`'s own anchored prefix extends. */
export function patternCovers(q: string, p: string): boolean {
  if (q === p) return true;
  if (!/^\^[A-Za-z0-9_\-:/ ]*$/.test(q)) return false;
  const pp = anchoredPrefix(p);
  return pp !== undefined && pp.startsWith(q.slice(1));
}
