/**
 * Property: the decoder never crashes on anything the wire can carry; every input is either
 * decoded into an envelope or refused with a dead-letter reason, and a consumer fed the
 * same inputs handles or dead-letters each one and keeps running.
 */
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createEventBus, DecodeError, decodeMessage, MemoryTransport, recordHeaders, type DeadLetter, type HeaderRecord } from '../../src/runtime/index.js';
import { waitFor } from './helpers.js';

const REASONS = ['undecodable', 'unsupported-content-type', 'missing-attributes', 'unknown-type', 'unknown-version', 'validation-failed', 'handler-failed'];

const headerValue = fc.oneof(fc.string(), fc.constantFrom('1.0', '1.0.0', '2.1.3', 'x.y', '', 'gzip', 'application/json', 'application/cloudevents+json', 'text/plain', '2025-01-27T10:00:00Z', 'not-a-time', '{}', '[]', '{"a":1}'));
const headerName = fc.constantFrom('ce-specversion', 'ce-id', 'ce-type', 'ce-source', 'ce-time', 'ce-eventversion', 'ce-metadata', 'ce-correlationid', 'ce-partitionkey', 'content-type', 'content-encoding', 'x-other');
const valid: HeaderRecord = {
  'ce-specversion': '1.0',
  'ce-id': 'id',
  'ce-type': 'thing.happened',
  'ce-source': 's',
  'ce-time': '2025-01-27T10:00:00Z',
  'ce-eventversion': '1.0.0',
  'content-type': 'application/json',
};
/** Start from a valid header set and mutate it, so inputs reach deep into the decoder. */
const headers = fc.oneof(
  fc.dictionary(headerName, headerValue),
  fc.tuple(fc.dictionary(headerName, headerValue), fc.subarray(Object.keys(valid))).map(([extra, drop]) => {
    const h: HeaderRecord = { ...valid, ...extra };
    for (const k of drop) delete h[k];
    return h;
  }),
);
const structured = fc.record({ specversion: fc.constantFrom('1.0', '0.3'), id: fc.string(), type: fc.constantFrom('thing.happened', 'x'), source: fc.string(), time: fc.constantFrom('2025-01-27T10:00:00Z', 'bad'), eventversion: fc.constantFrom('1.0.0', '9.9.9'), data: fc.jsonValue() }, { requiredKeys: [] });
const body = fc.oneof(
  fc.uint8Array({ maxLength: 200 }),
  fc.jsonValue().map((v) => Buffer.from(JSON.stringify(v) ?? 'null')),
  fc.jsonValue().map((v) => gzipSync(Buffer.from(JSON.stringify(v) ?? 'null'))),
  structured.map((v) => Buffer.from(JSON.stringify(v))),
);
const message = fc.record({ headers, body });

describe('decoder property', () => {
  it('decodes or refuses with a reason, never throws anything else', async () => {
    await fc.assert(
      fc.asyncProperty(message, async ({ headers, body }) => {
        try {
          const env = await decodeMessage({ subject: 's', headers: recordHeaders(headers), body }, 1 << 20);
          expect(typeof env.id).toBe('string');
          expect(env.timestamp.getTime()).not.toBeNaN();
        } catch (err) {
          expect(err).toBeInstanceOf(DecodeError);
          expect(REASONS).toContain((err as DecodeError).reason);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('a consumer fed random messages handles or dead-letters every one and keeps running', async () => {
    const inputs = fc.sample(message, { numRuns: 400, seed: 42 });
    const broker = new MemoryTransport();
    const bus = createEventBus({ transport: broker.connection(), source: 'prop' });
    const ev = { type: 'thing.happened', version: '1.0.0', address: 'p.in', parameters: [], validate: (d: unknown) => ({ ok: true as const, value: d }) };
    let handled = 0;
    const dls: DeadLetter[] = [];
    await bus.subscribeDeadLetters({ subject: 'p.dlq', group: 'r' }, async (d) => void dls.push(d));
    // No dedupe: random inputs reuse ids, and we count every input.
    await bus.subscribe({ group: 'p', dedupe: null, concurrency: 4, deadLetter: { subject: 'p.dlq' }, handlers: [{ type: ev.type, accepts: [ev], handle: async () => void handled++ }] });
    const t = broker.connection();
    for (const [i, m] of inputs.entries()) await t.publish({ subject: 'p.in', id: String(i), headers: m.headers, body: m.body });
    await waitFor(() => handled + dls.length === inputs.length, 10_000, 'every input settled');
    expect(handled).toBeGreaterThan(0);
    expect(dls.length).toBeGreaterThan(0);
    expect(dls.every((d) => REASONS.includes(d.reason))).toBe(true);
    await bus.close();
    await t.close();
    broker.destroy();
  });
});
