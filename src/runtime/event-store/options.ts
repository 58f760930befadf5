/** Checks of the caller's options, in one place, so every backend receives sane values. */
import { InvalidOptionError } from './errors.js';
import type { BackendReadRange } from './backend.js';
import type { EventFilter, ExpectedVersion, ReadOptions } from './types.js';

const isCount = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;

export function checkExpectedVersion(e: ExpectedVersion): ExpectedVersion {
  if (e === 'any' || e === 'no-stream') return e;
  if (isCount(e)) return e;
  throw new InvalidOptionError(`expectedVersion must be a version (0 or more), 'no-stream' or 'any', not ${JSON.stringify(e)}`);
}

export function checkReadOptions(o: ReadOptions): BackendReadRange {
  for (const [k, v] of [['from', o.from], ['to', o.to], ['limit', o.limit]] as const) {
    if (v !== undefined && !isCount(v)) throw new InvalidOptionError(`${k} must be an integer of 0 or more, not ${JSON.stringify(v)}`);
  }
  const direction = o.direction ?? 'forwards';
  if (direction !== 'forwards' && direction !== 'backwards') throw new InvalidOptionError(`direction must be 'forwards' or 'backwards'`);
  return {
    direction,
    ...(o.from !== undefined ? { from: o.from } : {}),
    ...(o.to !== undefined ? { to: o.to } : {}),
    ...(o.limit !== undefined ? { limit: o.limit } : {}),
  };
}

export function checkFilter(f: EventFilter): void {
  for (const list of [f.aggregates, f.types]) {
    if (list !== undefined && (!Array.isArray(list) || list.some((s) => typeof s !== 'string'))) throw new InvalidOptionError('filter lists must be arrays of strings');
  }
}

/** True when a stream at `current` satisfies `expected`. */
export function expectationHolds(expected: ExpectedVersion, current: number): boolean {
  return expected === 'any' || (expected === 'no-stream' ? current === 0 : current === expected);
}

/** Whether a stream version lies in the range, and the range walked in its direction. */
export function inRange(range: BackendReadRange, version: number): boolean {
  return (range.from === undefined || (range.direction === 'forwards' ? version >= range.from : version <= range.from)) &&
    (range.to === undefined || (range.direction === 'forwards' ? version <= range.to : version >= range.to));
}
