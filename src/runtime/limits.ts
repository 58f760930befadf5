/**
 * Bounds on what a consumer accepts before validating it. A validator walks a value
 * recursively, so JSON nested 20,000 levels deep (a few dozen kilobytes) overflows the
 * stack in the validator of any recursive schema; the depth is checked first, with a walk
 * that itself never recurses deeper than the limit.
 */

export interface InboundLimits {
  /** Largest decoded (decompressed) body, in bytes. */
  readonly maxDecodedBytes: number;
  /** Deepest nesting of arrays and objects in the payload (the payload itself is depth 1). */
  readonly maxDepth: number;
}

export const DEFAULT_LIMITS: InboundLimits = { maxDecodedBytes: 16 * 1024 * 1024, maxDepth: 100 };

/**
 * True when `value` nests arrays/objects no deeper than `max`. Stops at the first branch
 * that goes deeper, so a hostile value costs at most `max` frames and the nodes seen so far.
 */
export function withinDepth(value: unknown, max: number): boolean {
  if (typeof value !== 'object' || value === null) return true;
  return max >= 1 && walk(value as object, max - 1);
}

function walk(o: object, left: number): boolean {
  if (Array.isArray(o)) {
    for (let i = 0; i < o.length; i++) {
      const v: unknown = o[i];
      if (typeof v === 'object' && v !== null && (left === 0 || !walk(v, left - 1))) return false;
    }
    return true;
  }
  for (const k in o) {
    const v: unknown = (o as Record<string, unknown>)[k];
    if (typeof v === 'object' && v !== null && (left === 0 || !walk(v, left - 1))) return false;
  }
  return true;
}
