/**
 * Arrays: positional items (`prefixItems`, or draft-07 tuple `items`), the schema for the
 * remaining items (`items` / `additionalItems`), `minItems`, `maxItems`, `uniqueItems`,
 * `contains`. Positions are compared one by one, each against the other side's positional
 * schema or, past its tuple, its rest schema.
 */
import type { Engine } from '../engine.js';
import { bool, nonNegInt, type Loc } from '../node.js';
import { tupleShape } from '../validate.js';
import { compareCount } from './numeric.js';
import { kwPtr } from './values.js';

export function compareArrays(e: Engine, o: Loc, n: Loc): void {
  const os = tupleShape(e.regs.old, o);
  const ns = tupleShape(e.regs.new, n);
  const oRest = os.rest ?? e.trueAt(o, os.restKeyword);
  const nRest = ns.rest ?? e.trueAt(n, ns.restKeyword);
  const len = Math.max(os.prefix.length, ns.prefix.length);
  for (let i = 0; i < len; i++) {
    const oi = os.prefix[i];
    const ni = ns.prefix[i];
    if (oi && ni) {
      e.pair(oi, ni);
      continue;
    }
    const a = oi ?? oRest;
    const b = ni ?? nRest;
    const found = e.trial(() => e.pair(a, b));
    const breaking = found.some((f) => f.breaking);
    e.emit(oi ? 'TUPLE_ITEM_REMOVED' : 'TUPLE_ITEM_ADDED', { o: oi ? oi.ptr : undefined, n: ni ? ni.ptr : undefined }, { index: i }, breaking);
    e.keep(found);
  }
  e.pair(oRest, nRest);
  compareCount(e, o, n, 'minItems', 'MIN_ITEMS', 0);
  compareCount(e, o, n, 'maxItems', 'MAX_ITEMS');
  const ou = bool(o, 'uniqueItems') === true;
  const nu = bool(n, 'uniqueItems') === true;
  const up = { o: kwPtr(o, 'uniqueItems'), n: kwPtr(n, 'uniqueItems') };
  if (!ou && nu) e.emit('UNIQUE_ITEMS_ADDED', up);
  else if (ou && !nu) e.emit('UNIQUE_ITEMS_REMOVED', up);
  compareContains(e, o, n);
}

/**
 * `contains` with `minContains` (default 1) and `maxContains` (default unbounded). A writer
 * array holds between its min and max items matching its `contains`. The reader's lower
 * count is met when the writer's `contains` is within the reader's and the writer's min is
 * not lower; its upper count when the writer's `maxItems` is within it, or when the reader's
 * `contains` is within the writer's and the writer's max is not higher.
 */
function compareContains(e: Engine, o: Loc, n: Loc): void {
  const oc = e.child(o, 'contains');
  const nc = e.child(n, 'contains');
  const cp = { o: kwPtr(o, 'contains', 'minContains', 'maxContains'), n: kwPtr(n, 'contains', 'minContains', 'maxContains') };
  const counts = (loc: Loc) => ({ min: nonNegInt(loc, 'minContains') ?? 1, max: nonNegInt(loc, 'maxContains') ?? Infinity });
  if (!oc || !nc) {
    if (nc) e.emit('CONTAINS_ADDED', cp);
    else if (oc) e.emit('CONTAINS_REMOVED', cp);
    return;
  }
  const [w, r] = [e.writer(o, n), e.reader(o, n)];
  const [wc, rc] = e.dir === 'backward' ? [oc, nc] : [nc, oc];
  const wn = counts(w);
  const rn = counts(r);
  const found = e.trial(() => e.pair(oc, nc)); // writer's contains within the reader's
  const inside = !found.some((f) => f.breaking);
  const lowerOk = rn.min === 0 || (inside && wn.min >= rn.min);
  const maxItems = nonNegInt(w, 'maxItems');
  const upperOk = rn.max === Infinity || (maxItems !== undefined && maxItems <= rn.max) || (wn.max <= rn.max && e.within(rc, wc));
  const changed = wn.min !== rn.min || wn.max !== rn.max;
  if (!lowerOk && !inside && !changed) {
    e.keep(found); // the contains schema itself explains it
    return;
  }
  if (!lowerOk || !upperOk || changed) {
    const fmt = (c: { min: number; max: number }) => (c.max === Infinity ? `at least ${c.min}` : `${c.min} to ${c.max}`);
    const [oc2, nc2] = [counts(o), counts(n)];
    e.emit('CONTAINS_COUNT_CHANGED', cp, { from: fmt(oc2), to: fmt(nc2) }, !lowerOk || !upperOk);
  }
  if (!inside) e.keep(found);
}
