/**
 * 500 events × (payload + headers) in one call: every type comes out, once. How long it
 * takes is measured by `npm run bench -- generate` (a figure, never an assertion here).
 */
import { expect, test } from 'vitest';
import { emitTypes, type TypeRequest } from '../../../src/emit/types/index.js';
// @ts-expect-error -- a plain ESM helper shared with the benches
import { typeRequests } from '../../../bench/workspace.mjs';

test('1000 requests give 1000 types plus their nested ones, without a diagnostic', async () => {
  const requests = (typeRequests as (count: number) => TypeRequest[])(500);
  expect(requests).toHaveLength(1000);
  const out = await emitTypes(requests);
  expect(out.diagnostics).toEqual([]);
  // Each event: its payload, headers, and four nested object types (user, address, item, meta); Money once.
  expect(out.source.match(/^export (interface|type) /gm)?.length).toBe(1000 + 500 * 4 + 1 + 1);
});
