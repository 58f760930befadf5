/**
 * The generated validators check `date-time` with their own scanner (templates/validators/
 * formats.cjs). It must accept and refuse exactly what ajv-formats' full check does.
 */
import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);
type Format = { validate: (s: string) => boolean };
const ours = (require('../../templates/validators/formats.cjs') as Record<string, Format>)['date-time']!.validate;
const theirs = (require('ajv-formats/dist/formats') as { fullFormats: Record<string, Format> }).fullFormats['date-time']!.validate;

const pad = (n: number, w: number) => String(n).padStart(w, '0');
const piece = fc.oneof(
  fc.integer({ min: 0, max: 9999 }).map((y) => pad(y, 4)),
  fc.integer({ min: 0, max: 99 }).map((n) => pad(n, 2)),
  fc.constantFrom('-', ':', '.', 'T', 't', ' ', '\u00a0', '\u2028', 'Z', 'z', '+', '-', '', 'x', '1', '60', '59', '23', '00'),
);
// Near-valid date-times: right shapes with edge values, plus random splices of pieces.
const shaped = fc
  .tuple(
    fc.integer({ min: 0, max: 9999 }),
    fc.integer({ min: 0, max: 13 }),
    fc.integer({ min: 0, max: 32 }),
    fc.constantFrom('T', 't', ' ', '\t', '\u3000', 'x', '_'),
    fc.integer({ min: 0, max: 25 }),
    fc.integer({ min: 0, max: 61 }),
    fc.integer({ min: 0, max: 61 }),
    fc.option(fc.stringMatching(/^\.[0-9]{0,4}$/), { nil: '' }),
    fc.constantFrom('Z', 'z', '', '+00:00', '-01:00', '+01:00', '+0530', '-23', '+24:00', '+05:60', '+05:', '+5', 'Zx', '+00:00 '),
  )
  .map(([y, mo, d, sep, h, mi, s, frac, tz]) => `${pad(y, 4)}-${pad(mo, 2)}-${pad(d, 2)}${sep}${pad(h, 2)}:${pad(mi, 2)}:${pad(s, 2)}${frac}${tz}`);

describe('date-time format', () => {
  it('agrees with ajv-formats on near-valid date-times', () => {
    fc.assert(
      fc.property(shaped, (s) => {
        expect(ours(s)).toBe(theirs(s));
      }),
      { numRuns: 20_000 },
    );
  });

  it('agrees with ajv-formats on spliced pieces and arbitrary strings', () => {
    fc.assert(
      fc.property(fc.oneof(fc.array(piece, { maxLength: 14 }).map((p) => p.join('')), fc.string({ maxLength: 40 })), (s) => {
        expect(ours(s)).toBe(theirs(s));
      }),
      { numRuns: 20_000 },
    );
  });

  it('still tells leap seconds and calendar days apart', () => {
    for (const [s, ok] of [
      ['2016-12-31T23:59:60Z', true],
      ['2016-12-31T22:59:60-01:00', true],
      ['2016-12-31T23:59:60+01:00', false],
      ['2024-02-29T00:00:00Z', true],
      ['2023-02-29T00:00:00Z', false],
      ['2024-02-29T00:00:00', false],
    ] as const) {
      expect([s, ours(s)]).toEqual([s, ok]);
      expect(theirs(s)).toBe(ok);
    }
  });
});
