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
import { declaredTypes, num, nonNegInt, type Loc } from '../node.js';
import type { RuleId } from '../rules.js';
import { kwPtr } from './values.js';

interface Bound {
  value: number;
  exclusive: boolean;
}

function integerOnly(loc: Loc): boolean {
  return !declaredTypes(loc).has('number');
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
  const om = num(o, 'multipleOf');
  const nm = num(n, 'multipleOf');
  const paths = { o: kwPtr(o, 'multipleOf'), n: kwPtr(n, 'multipleOf') };
  if (om === undefined && nm !== undefined) {
    // Every integer is a multiple of 1 (or of 1/k): no constraint for integer-only writers.
    if (!(ints && isMultiple(1, nm))) e.emit('MULTIPLE_OF_ADDED', paths, { to: nm });
  } else if (om !== undefined && nm === undefined) {
    if (!(ints && isMultiple(1, om))) e.emit('MULTIPLE_OF_REMOVED', paths, { from: om });
  } else if (om !== undefined && nm !== undefined && om !== nm) {
    const params = { from: om, to: nm };
    if (isMultiple(om, nm)) e.emit('MULTIPLE_OF_REDUCED', paths, params);
    else if (isMultiple(nm, om)) e.emit('MULTIPLE_OF_EXPANDED', paths, params);
    else e.emit('MULTIPLE_OF_CHANGED', paths, params);
  }
}

/** Is `a` a multiple of `b` (within floating point tolerance)? */
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
