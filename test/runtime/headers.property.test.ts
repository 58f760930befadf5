/**
 * The NATS transport parses inbound header blocks itself (it is on the hot path) and
 * falls back to nats.js's MsgHdrs when its parser declines. Whenever it does not decline,
 * it must read exactly what MsgHdrs reads: same names, same (first) values.
 */
import { MsgHdrsImpl } from '@nats-io/nats-core/internal';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseHeaderBlock, toNatsHeaders } from '../../src/runtime/nats/headers.js';

const nameChar = fc.integer({ min: 33, max: 126 }).filter((c) => c !== 58).map((c) => String.fromCharCode(c));
const name = fc.array(nameChar, { minLength: 1, maxLength: 12 }).map((cs) => cs.join(''));
const value = fc.string({ maxLength: 30 }).filter((v) => !/[\r\n]/.test(v));
const line = fc.oneof(
  { weight: 8, arbitrary: fc.tuple(name, value).map(([k, v]) => `${k}: ${v}`) },
  { weight: 1, arbitrary: fc.tuple(name, value).map(([k, v]) => `${k}:${v}  `) },
  // Lines MsgHdrs ignores or rejects: no colon, a space in the name, an empty line, a CR or
  // LF on its own, values to trim.
  { weight: 1, arbitrary: fc.constantFrom('no colon here', 'bad name: x', '', ' leading: space', 'k: a\nb', 'k: a\rb', 'k: v\n', 'no colon\r', 'k:\tv\t', 'k: \u00a0v', 'k:  ') },
);

describe('parseHeaderBlock', () => {
  it('agrees with nats.js MsgHdrs wherever it does not decline', () => {
    fc.assert(
      fc.property(fc.array(line, { maxLength: 12 }), fc.boolean(), (lines, trailer) => {
        const text = `NATS/1.0\r\n${lines.join('\r\n')}${trailer ? '\r\n\r\n' : ''}`;
        const ours = parseHeaderBlock(text);
        let theirs: MsgHdrsImpl;
        try {
          theirs = MsgHdrsImpl.decode(new TextEncoder().encode(text));
        } catch {
          // MsgHdrs refuses the block: ours must decline too, leaving the decision to it.
          expect(ours).toBeUndefined();
          return;
        }
        if (ours === undefined) return; // declined: MsgHdrs decides, as the transport does
        expect([...ours.keys()].sort()).toEqual([...new Set(theirs.keys())].sort());
        for (const key of ours.keys()) expect(ours.get(key)).toBe(theirs.get(key));
      }),
      { numRuns: 3000 },
    );
  });

  it('declines status lines, so replies like 503 No Responders are read by MsgHdrs', () => {
    expect(parseHeaderBlock('NATS/1.0 503\r\n\r\n')).toBeUndefined();
    expect(parseHeaderBlock('NATS/1.0\r\nce-id: 1\r\nce-id: 2\r\n\r\n')?.get('ce-id')).toBe('1');
  });
});

describe('toNatsHeaders', () => {
  it('puts on the wire exactly the bytes nats.js MsgHdrs would', () => {
    const anyValue = fc.string({ unit: 'grapheme', maxLength: 30 }).filter((v) => !/[\r\n]/.test(v));
    fc.assert(
      fc.property(fc.dictionary(name, anyValue, { maxKeys: 12 }), fc.option(fc.uuid(), { nil: undefined }), (record, msgId) => {
        // The same entries, encoded by nats.js (set() would also trim values; we send them as given).
        const theirs = new MsgHdrsImpl();
        for (const [k, v] of Object.entries(record)) theirs.headers.set(k, [v]);
        if (msgId !== undefined) theirs.set('Nats-Msg-Id', msgId);
        expect(Buffer.from((toNatsHeaders(record, msgId) as MsgHdrsImpl).encode()).toString('utf8')).toBe(Buffer.from(theirs.encode()).toString('utf8'));
      }),
      { numRuns: 2000 },
    );
  });
});
