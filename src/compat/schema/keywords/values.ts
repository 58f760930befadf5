/**
 * The value space before the type families: `enum`/`const`, `type` (with `integer`
 * within `number`) and OpenAPI `nullable`, plus keywords the engine does not analyse.
 *
 * An enumerating writer is decided exactly: the reader must accept each of its values
 * (checked with the engine's validator, so a new `maxLength` or `pattern` that rejects an
 * old enum value is found too). A `boolean`/`null`-only writer is enumerated the same way.
 */
import type { Engine } from '../engine.js';
import {
  childPtr, declaredTypes, deepEqual, enumValues, formatTypes, isObject, schemaEqual, show, admits,
  type Loc, type TypeSet,
} from '../node.js';

/** Pointer of the first of `keywords` present on the node, else of the node. */
export function kwPtr(loc: Loc, ...keywords: string[]): string {
  const n = loc.node;
  if (isObject(n)) for (const k of keywords) if (n[k] !== undefined) return childPtr(loc.ptr, k);
  return loc.ptr;
}

/** Returns false when the comparison is complete (an enumerated side decided it). */
export function compareValues(e: Engine, o: Loc, n: Loc): boolean {
  const w = e.writer(o, n);
  const r = e.reader(o, n);
  const backward = e.dir === 'backward';
  const paths = { o: kwPtr(o, 'enum', 'const'), n: kwPtr(n, 'enum', 'const') };
  const wv = enumValues(w);
  const rv = enumValues(r);
  if (wv) {
    // A writer value that may be valid counts; a reader that may reject it, rejects it.
    for (const v of wv.filter((x) => !e.rejects(w, x))) {
      if (e.accepts(r, v)) continue;
      if (rv && !rv.some((x) => deepEqual(x, v))) {
        e.emit(backward ? 'ENUM_VALUE_REMOVED' : 'ENUM_VALUE_ADDED', paths, { value: show(v) });
      } else {
        e.emit('ENUM_VALUE_REJECTED', paths, { value: show(v), writer: w.side, reader: r.side }, true);
      }
    }
    if (rv) {
      for (const v of rv) {
        if (!wv.some((x) => deepEqual(x, v))) e.emit(backward ? 'ENUM_VALUE_ADDED' : 'ENUM_VALUE_REMOVED', paths, { value: show(v) });
      }
    } else {
      e.emit(backward ? 'ENUM_REMOVED' : 'ENUM_ADDED', paths, { values: show(wv) });
    }
    return false;
  }
  if (rv) {
    const wt = e.typesOf(w);
    if (wt.size > 0 && [...wt].every((t) => t === 'null' || t === 'boolean')) {
      // A finite writer: enumerate it.
      const domain = [...(wt.has('null') ? [null] : []), ...(wt.has('boolean') ? [true, false] : [])];
      if (domain.filter((v) => !e.rejects(w, v)).some((v) => !e.accepts(r, v))) {
        e.emit(backward ? 'ENUM_ADDED' : 'ENUM_REMOVED', paths, { values: show(rv) });
      }
      return false;
    }
    e.emit(backward ? 'ENUM_ADDED' : 'ENUM_REMOVED', paths, { values: show(rv) });
    return false;
  }
  compareTypes(e, o, n);
  return true;
}

/**
 * The writer's types, with `number` read as `integer` when an integer `multipleOf` or an
 * `int32`/`int64` format lets only integers through (`{type: number, multipleOf: 1}` writes
 * what `{type: integer}` does).
 */
export function writerTypes(w: Loc): TypeSet {
  const ts = declaredTypes(w);
  const m = isObject(w.node) ? w.node.multipleOf : undefined;
  const f = isObject(w.node) ? w.node.format : undefined;
  const integral = (typeof m === 'number' && Number.isInteger(m)) || f === 'int32' || f === 'int64';
  if (!ts.has('number') || !integral) return ts;
  const out = new Set(ts);
  out.delete('number');
  out.add('integer');
  return out;
}

function compareTypes(e: Engine, o: Loc, n: Loc): void {
  const to = declaredTypes(o);
  const tn = declaredTypes(n);
  // `number` with an integer multipleOf writes integers only: not lost on an integer reader.
  const integral = (w: Loc, r: TypeSet) => (t: string) => !(t === 'number' && !writerTypes(w).has('number') && r.has('integer'));
  const removed = [...to].filter((t) => !admits(tn, t)).filter(integral(o, tn));
  const added = [...tn].filter((t) => !admits(to, t)).filter(integral(n, to));
  if (removed.length === 0 && added.length === 0) return;
  const overlap = [...to].some((t) => admits(tn, t)) || [...tn].some((t) => admits(to, t));
  const paths = { o: kwPtr(o, 'type', 'nullable'), n: kwPtr(n, 'type', 'nullable') };
  const params = { from: formatTypes(to), to: formatTypes(tn) };
  if (to.size > 0 && tn.size > 0 && !overlap) {
    e.emit('TYPE_CHANGED', paths, params);
    return;
  }
  if (removed.length > 0) e.emit('TYPE_NARROWED', paths, params);
  if (added.length > 0) e.emit('TYPE_WIDENED', paths, params);
}
