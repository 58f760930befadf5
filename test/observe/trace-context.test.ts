/**
 * W3C trace context read from an event's headers: what a producer (or an attacker) writes
 * in `traceparent` is either a valid remote span context or ignored (a new trace starts);
 * it never throws and never yields an invalid context.
 */
import { describe, expect, it } from 'vitest';
import { readTraceContext, writeTraceContext } from '../../src/runtime/otel/index.js';

const T = '0af7651916cd43dd8448eb211c80319c';
const S = 'b7ad6b7169203331';
const reader = (h: Record<string, string>) => ({ get: (k: string) => h[k], keys: () => Object.keys(h)[Symbol.iterator]() });
const read = (tp: string, ts?: string) => readTraceContext(reader(ts === undefined ? { traceparent: tp } : { traceparent: tp, tracestate: ts }) as never);

describe('readTraceContext', () => {
  it('reads a version-00 traceparent, sampled or not, with surrounding whitespace', () => {
    expect(read(`00-${T}-${S}-01`)).toEqual({ traceId: T, spanId: S, traceFlags: 1, isRemote: true });
    expect(read(`00-${T}-${S}-00`)).toMatchObject({ traceFlags: 0 });
    // Only the sampled bit is kept of the flags.
    expect(read(`00-${T}-${S}-03`)).toMatchObject({ traceFlags: 1 });
    expect(read(` 00-${T}-${S}-01\t`)).toMatchObject({ traceId: T, spanId: S });
  });

  it('reads a future version, with more fields after the flags', () => {
    expect(read(`01-${T}-${S}-01`)).toMatchObject({ traceId: T, spanId: S, traceFlags: 1 });
    expect(read(`cc-${T}-${S}-01-whatever-comes-next`)).toMatchObject({ traceId: T, spanId: S });
  });

  it.each([
    ['version ff', `ff-${T}-${S}-01`],
    ['version 00 with a fifth field', `00-${T}-${S}-01-extra`],
    ['a future version with junk glued to the flags', `01-${T}-${S}-01x`],
    ['a future version whose extra fields span lines', `01-${T}-${S}-01-a\nb`],
    ['upper-case hex', `00-${T.toUpperCase()}-${S}-01`],
    ['an all-zero trace id', `00-${'0'.repeat(32)}-${S}-01`],
    ['an all-zero span id', `00-${T}-${'0'.repeat(16)}-01`],
    ['a short trace id', `00-${T.slice(1)}-${S}-01`],
    ['a long span id', `00-${T}-${S}0-01`],
    ['a non-hex character', `00-${T.slice(0, 31)}g-${S}-01`],
    ['one-character flags', `00-${T}-${S}-1`],
    ['underscores for dashes', `00_${T}_${S}_01`],
    ['a one-character version', `0-${T}-${S}-01`],
    ['empty', ''],
    ['code', '<script>alert(1)</script>'],
    ['a huge value', `00-${T}-${S}-01`.padEnd(100_000, 'a')],
    ['unicode digits', `00-${'٠'.repeat(32)}-${S}-01`],
  ])('ignores %s', (_why, tp) => {
    expect(read(tp)).toBeUndefined();
  });

  it('keeps a valid tracestate and drops an unreadable one', () => {
    expect(read(`00-${T}-${S}-01`, 'vendor=abc,other=x')?.traceState?.serialize()).toBe('vendor=abc,other=x');
    expect(read(`00-${T}-${S}-01`, '=')?.traceState?.serialize() ?? '').toBe('');
  });

  it('what writeTraceContext writes reads back the same', () => {
    const h: Record<string, string> = {};
    writeTraceContext({ traceId: T, spanId: S, traceFlags: 1 }, h);
    expect(read(h['traceparent']!)).toEqual({ traceId: T, spanId: S, traceFlags: 1, isRemote: true });
  });
});
