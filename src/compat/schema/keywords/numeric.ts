/**
 * Numbers: lower and upper bounds and `multipleOf`. Bounds are compared as effective
 * intervals, whichever spelling defines them (`minimum` + draft-04 boolean
 * `exclusiveMinimum`, or draft-06+ numeric `exclusiveMinimum`), so `{minimum: 0}` =>
 * `{exclusiveMinimum: 0}` is one raised lower bound. (Confluent compares the keywords one
 * by one and would call that "minimum removed" + "exclusive minimum added".) For
 * integer-only writers, bounds are normalised to inclusive integers first (snapped to an
 * integer `multipleOf`), so `{type: integer, exclusiveMinimum: 0}` reads like `minimum: 1`.
 */
import type { Engine } from '../engine.js';
import { lowerBound, upperBound } from '../merge.js';
import { isObject, num, nonNegInt, type Loc } from '../node.js';
import { breaksIn, type RuleId } from '../rules.js';
import { kwPtr, writerTypes } from './values.js';

interface Bound {
  value: number;
  exclusive: boolean;
}

function integerOnly(loc: Loc): boolean {
  return !writerTypes(loc).has('number');
}

/** For integer-only schemas: the tightest inclusive bound, snapped to an integer `multipleOf`. */
function normalise(b: Bound | undefined, lower: boolean, ints: boolean, multipleOf: number | undefined): Bound | undefined {
  if (!b || !ints) return b;
  let v = lower ? (b.exclusive ? Math.floor(b.value) + 1 : Math.ceil(b.value)) : b.exclusive ? Math.ceil(b.value) - 1 : Math.floor(b.value);
  if (multipleOf !== undefined && Number.isInteger(multipleOf)) v = (lower ? Math.ceil(v / multipleOf) : Math.floor(v / multipleOf)) * multipleOf;
  return { value: v, exclusive: false };
}

function fmt(b: Bound, lower: boolean): string {
  return `${lower ? (b.exclusive ? '>' : '>=') : b.exclusive ? '<' : '<='} ${b.value}`;
}

/** Positive when `a` is tighter than `b`. */
function tighter(a: Bound, b: Bound, lower: boolean): number {
  if (a.value !== b.value) return lower ? a.value - b.value : b.value - a.value;
  return Number(a.exclusive) - Number(b.exclusive);
}

export function compareNumbers(e: Engine, o: Loc, n: Loc): void {
  // Integer writers only write integers: bounds on both sides are then compared on integers.
  const ints = integerOnly(e.writer(o, n));
  for (const lower of [true, false]) {
    const ob = normalise(lower ? lowerBound(o) : upperBound(o), lower, ints, num(o, 'multipleOf'));
    const nb = normalise(lower ? lowerBound(n) : upperBound(n), lower, ints, num(n, 'multipleOf'));
    const kws = lower ? ['exclusiveMinimum', 'minimum'] : ['exclusiveMaximum', 'maximum'];
    const paths = { o: kwPtr(o, ...kws), n: kwPtr(n, ...kws) };
    const prefix = lower ? 'MINIMUM' : 'MAXIMUM';
    if (!ob && !nb) continue;
    if (!ob && nb) e.emit(`${prefix}_ADDED`, paths, { to: fmt(nb, lower) });
    else if (ob && !nb) e.emit(`${prefix}_REMOVED`, paths, { from: fmt(ob, lower) });
    else if (ob && nb) {
      const t = tighter(nb, ob, lower);
      if (t === 0) continue;
      const rule: RuleId = lower ? (t > 0 ? 'MINIMUM_INCREASED' : 'MINIMUM_DECREASED') : t > 0 ? 'MAXIMUM_DECREASED' : 'MAXIMUM_INCREASED';
      e.emit(rule, paths, { from: fmt(ob, lower), to: fmt(nb, lower) });
    }
  }
  compareMultipleOf(e, o, n, ints);
}

/** ajv rejects a number whose quotient by `multipleOf` is 1e21 or more (`parseInt` of "1e+21"). */
const QUOTIENT_LIMIT = 1e21;

const isPowerOfTwo = (m: number): boolean => m > 0 && Math.log2(m) === Math.round(Math.log2(m));

/**
 * Does every writer number pass the reader's `multipleOf` as ajv computes it? Proven when
 * the writer's own `multipleOf` is equal, or a multiple of the reader's in exact
 * arithmetic (both integers, or a power-of-two ratio such as 0.1 => 0.05) with the writer's bounds keeping the
 * quotient below 1e21; an integer writer meets `multipleOf` 1 (or 1/2^k) within the same
 * bounds. Decimal fractions are not exact in IEEE doubles: `0.3` is not a multiple of `0.1`.
 */
export function multipleProven(w: Loc, wm: number | undefined, rm: number, ints: boolean): boolean {
  if (wm === rm) return true;
  const lo = lowerBound(w);
  const hi = upperBound(w);
  // ajv-formats' int32 bounds integers well below 1e21 (its int64 checks only Number.isInteger)
  const format = isObject(w.node) ? w.node.format : undefined;
  const formatBound = format === 'int32' ? 2 ** 31 : undefined;
  const bounded =
    // the writer's own multipleOf keeps |x / wm| below 1e21, hence |x / rm| too when wm <= rm
    (wm !== undefined && wm <= rm) ||
    (lo !== undefined && hi !== undefined && Math.max(Math.abs(lo.value), Math.abs(hi.value)) / rm < QUOTIENT_LIMIT) ||
    (formatBound !== undefined && formatBound / rm < QUOTIENT_LIMIT);
  if (!bounded) return false;
  if (wm !== undefined) return exactMultiple(wm, rm);
  return ints && (rm === 1 || (rm < 1 && isPowerOfTwo(rm)));
}

function compareMultipleOf(e: Engine, o: Loc, n: Loc, ints: boolean): void {
  const om = num(o, 'multipleOf');
  const nm = num(n, 'multipleOf');
  if (om === nm) return;
  // One side's numbers all pass the other's multipleOf (a bounded integer and 1): no change.
  if (om === undefined && nm !== undefined && multipleProven(o, undefined, nm, integerOnly(o))) return;
  if (nm === undefined && om !== undefined && multipleProven(n, undefined, om, integerOnly(n))) return;
  const paths = { o: kwPtr(o, 'multipleOf'), n: kwPtr(n, 'multipleOf') };
  const w = e.writer(o, n);
  const [wm, rm] = e.dir === 'backward' ? [om, nm] : [nm, om];
  // No finding when the reader's multipleOf is proven for the writer (e.g. an integer writer
  // with bounds, read by `multipleOf: 1`): nothing changes for this direction.
  if (rm !== undefined && multipleProven(w, wm, rm, ints)) {
    if (om !== undefined && nm !== undefined && wm !== undefined) e.emit(e.dir === 'backward' ? 'MULTIPLE_OF_REDUCED' : 'MULTIPLE_OF_EXPANDED', paths, { from: om, to: nm });
    return;
  }
  if (om === undefined && nm !== undefined) e.emit('MULTIPLE_OF_ADDED', paths, { to: nm });
  else if (om !== undefined && nm === undefined) e.emit('MULTIPLE_OF_REMOVED', paths, { from: om });
  else if (om !== undefined && nm !== undefined) {
    const params = { from: om, to: nm };
    // Not proven in this direction: the named rule must break in it, else "changed" does.
    const rule: RuleId = exactMultiple(om, nm) ? 'MULTIPLE_OF_REDUCED' : exactMultiple(nm, om) ? 'MULTIPLE_OF_EXPANDED' : 'MULTIPLE_OF_CHANGED';
    e.emit(breaksIn(rule, e.dir, e.policy) ? rule : 'MULTIPLE_OF_CHANGED', paths, params);
  }
}

/** `a` is a multiple of `b` in exact arithmetic the engine can vouch for. */
function exactMultiple(a: number, b: number): boolean {
  if (Number.isInteger(a) && Number.isInteger(b)) return a % b === 0;
  // a = b·2^k: dividing by b is dividing by a and scaling by 2^k, which is exact
  const r = a / b;
  return Number.isInteger(r) && isPowerOfTwo(r) && b * r === a;
}

/** Is `a` a multiple of `b` (within floating point tolerance)? For display decisions only. */
export function isMultiple(a: number, b: number): boolean {
  const r = a / b;
  return Math.abs(r - Math.round(r)) < 1e-9;
}

/** Counting limits (`minLength`, `maxItems`, ...): one handler for their four rules each. */
export function compareCount(e: Engine, o: Loc, n: Loc, keyword: string, prefix: string, ignoreValue?: number): void {
  let ov = nonNegInt(o, keyword);
  let nv = nonNegInt(n, keyword);
  // `minLength: 0` and friends constrain nothing.
  if (ov === ignoreValue) ov = undefined;
  if (nv === ignoreValue) nv = undefined;
  const paths = { o: kwPtr(o, keyword), n: kwPtr(n, keyword) };
  const id = (s: string) => `${prefix}_${s}` as RuleId;
  if (ov === undefined && nv === undefined) return;
  if (ov === undefined) e.emit(id('ADDED'), paths, { to: nv });
  else if (nv === undefined) e.emit(id('REMOVED'), paths, { from: ov });
  else if (nv > ov) e.emit(id('INCREASED'), paths, { from: ov, to: nv });
  else if (nv < ov) e.emit(id('DECREASED'), paths, { from: ov, to: nv });
}
