/**
 * Arrays: positional items (`prefixItems`, or draft-07 tuple `items`), the schema for the
 * remaining items (`items` / `additionalItems`), `minItems`, `maxItems`, `uniqueItems`,
 * `contains`. Positions are compared one by one, each against the other side's positional
 * schema or, past its tuple, its rest schema.
 */
import type { Engine } from '../engine.js';
import { bool, type Loc } from '../node.js';
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
  const oc = e.child(o, 'contains');
  const nc = e.child(n, 'contains');
  const cp = { o: kwPtr(o, 'contains'), n: kwPtr(n, 'contains') };
  // A writer array holds an item matching its `contains`; if that schema is within the
  // reader's, the reader's `contains` is met as well.
  if (oc && nc) e.pair(oc, nc);
  else if (nc) e.emit('CONTAINS_ADDED', cp);
  else if (oc) e.emit('CONTAINS_REMOVED', cp);
}
