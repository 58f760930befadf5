/**
 * Annotations: keywords that never affect validation (`title`, `description`, `examples`,
 * `deprecated`, `x-*`, AsyncAPI's `discriminator` and `externalDocs`, ...). Their changes
 * are `documentation` findings (semver patch); `default` weighs as additive because
 * readers that fill in defaults behave differently.
 */
import type { Engine } from '../engine.js';
import { childPtr, isAnnotationKeyword, isObject, schemaEqual, show, type Loc } from '../node.js';
import type { RuleId } from '../rules.js';

/** Containers of definitions are compared where they are referenced, not as annotations. */
const CONTAINERS = new Set(['definitions', '$defs']);

const own = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);

const DEDICATED: Record<string, RuleId> = {
  description: 'DESCRIPTION_CHANGED',
  title: 'TITLE_CHANGED',
  examples: 'EXAMPLES_CHANGED',
  example: 'EXAMPLES_CHANGED',
  deprecated: 'DEPRECATED_CHANGED',
  default: 'DEFAULT_CHANGED',
};

export function compareAnnotations(e: Engine, o: Loc, n: Loc): void {
  // Reported by one run only when both directions are checked (they would find the same).
  if (!e.opts.annotations) return;
  const on = o.node;
  const nn = n.node;
  if (!isObject(on) && !isObject(nn)) return;
  const ok = isObject(on) ? on : {};
  const nk = isObject(nn) ? nn : {};
  const keys = new Set([...Object.keys(ok), ...Object.keys(nk)]);
  const seenRules = new Set<RuleId>();
  for (const k of keys) {
    if (!isAnnotationKeyword(k) || CONTAINERS.has(k)) continue;
    const a = own(ok, k) ? ok[k] : undefined;
    const b = own(nk, k) ? nk[k] : undefined;
    if (schemaEqual(a, b)) continue;
    const rule = (own(DEDICATED, k) ? DEDICATED[k] : undefined) ?? 'ANNOTATION_CHANGED';
    if (rule === 'EXAMPLES_CHANGED' && seenRules.has(rule)) continue;
    seenRules.add(rule);
    e.emit(
      rule,
      { o: own(ok, k) ? childPtr(o.ptr, k) : o.ptr, n: own(nk, k) ? childPtr(n.ptr, k) : n.ptr },
      { keyword: k, from: a === undefined ? 'none' : show(a), to: b === undefined ? 'none' : show(b) },
    );
  }
}
