/**
 * Strings: `minLength`, `maxLength`, `pattern`; and `format`, on the JSON type its check
 * applies to (ajv-formats checks `email` on strings, `int32` on numbers, unknown formats
 * not at all). A changed pattern is compatible in a direction only with a proof that the
 * writer's pattern is within the reader's (equal text, or anchored character-class
 * patterns, see `pattern.ts`); otherwise it is reported as not proven.
 */
import type { Engine } from '../engine.js';
import { declaredTypes, admits, regex, str, type Loc } from '../node.js';
import { patternIncluded } from '../pattern.js';
import { formatFamily } from '../validate.js';
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
  else if (op !== undefined && np !== undefined && op !== np) {
    const params = { from: JSON.stringify(op), to: JSON.stringify(np) };
    const widened = patternIncluded(op, np);
    const narrowed = patternIncluded(np, op);
    if (widened && narrowed) return;
    e.emit(widened ? 'PATTERN_WIDENED' : narrowed ? 'PATTERN_NARROWED' : 'PATTERN_CHANGED', pp, params);
  }
}

/** `format` where the writer can hold values of the type the format checks. */
export function compareFormats(e: Engine, o: Loc, n: Loc): void {
  const of = str(o, 'format');
  const nf = str(n, 'format');
  if (of === nf) return;
  const wt = declaredTypes(e.writer(o, n));
  const applies = (f: string | undefined) => {
    if (f === undefined) return false;
    const family = formatFamily(f);
    return family === 'none' ? false : family === 'number' ? admits(wt, 'integer') : admits(wt, 'string');
  };
  if (!applies(of) && !applies(nf)) return;
  const fp = { o: kwPtr(o, 'format'), n: kwPtr(n, 'format') };
  if (of === undefined && nf !== undefined) e.emit('FORMAT_ADDED', fp, { to: JSON.stringify(nf) });
  else if (of !== undefined && nf === undefined) e.emit('FORMAT_REMOVED', fp, { from: JSON.stringify(of) });
  else if (of !== undefined && nf !== undefined && of !== nf) e.emit('FORMAT_CHANGED', fp, { from: JSON.stringify(of), to: JSON.stringify(nf) });
}
