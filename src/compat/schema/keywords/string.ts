/**
 * Strings: `minLength`, `maxLength`, `pattern`, `format`. Regular-expression inclusion is
 * not decided: a textually different pattern is treated as changed both ways.
 */
import type { Engine } from '../engine.js';
import { regex, str, type Loc } from '../node.js';
import { compareCount } from './numeric.js';
import { kwPtr } from './values.js';

export function compareStrings(e: Engine, o: Loc, n: Loc): void {
  compareCount(e, o, n, 'minLength', 'MIN_LENGTH', 0);
  compareCount(e, o, n, 'maxLength', 'MAX_LENGTH');
  const op = str(o, 'pattern');
  const np = str(n, 'pattern');
  if (op !== undefined) regex(o, op, 'pattern');
  if (np !== undefined) regex(n, np, 'pattern');
  const pp = { o: kwPtr(o, 'pattern'), n: kwPtr(n, 'pattern') };
  if (op === undefined && np !== undefined) e.emit('PATTERN_ADDED', pp, { to: JSON.stringify(np) });
  else if (op !== undefined && np === undefined) e.emit('PATTERN_REMOVED', pp, { from: JSON.stringify(op) });
  else if (op !== undefined && np !== undefined && op !== np) e.emit('PATTERN_CHANGED', pp, { from: JSON.stringify(op), to: JSON.stringify(np) });
  const of = str(o, 'format');
  const nf = str(n, 'format');
  const fp = { o: kwPtr(o, 'format'), n: kwPtr(n, 'format') };
  if (of === undefined && nf !== undefined) e.emit('FORMAT_ADDED', fp, { to: JSON.stringify(nf) });
  else if (of !== undefined && nf === undefined) e.emit('FORMAT_REMOVED', fp, { from: JSON.stringify(of) });
  else if (of !== undefined && nf !== undefined && of !== nf) e.emit('FORMAT_CHANGED', fp, { from: JSON.stringify(of), to: JSON.stringify(nf) });
}
