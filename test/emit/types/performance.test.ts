/** 500 events × (payload + headers) in one call: the figure the generate bench depends on. */
import { expect, test } from 'vitest';
import { emitTypes } from '../../../src/emit/types/index.js';
import type { TypeRequest } from '../../../src/emit/types/index.js';

function workspace(): TypeRequest[] {
  const money = {
    title: 'Money',
    type: 'object',
    required: ['amount', 'currency'],
    properties: { amount: { type: 'string' }, currency: { type: 'string', enum: ['EUR', 'USD', 'GBP'] } },
  };
  const requests: TypeRequest[] = [];
  for (let i = 0; i < 500; i++) {
    requests.push({
      name: `Event${i}V1`,
      description: `Event ${i}`,
      schema: {
        type: 'object',
        required: ['id', 'at'],
        properties: {
          id: { type: 'string', format: 'uuid' },
          at: { type: 'string', format: 'date-time' },
          status: { type: 'string', enum: ['a', 'b', 'c'] },
          amount: money,
          user: {
            type: 'object',
            properties: {
              name: { type: 'string' },
              address: { type: 'object', properties: { street: { type: 'string' }, zip: { type: 'string' } } },
              tags: { type: 'array', items: { type: 'string' } },
            },
          },
          items: {
            type: 'array',
            items: { type: 'object', properties: { sku: { type: 'string' }, qty: { type: 'integer' }, price: money } },
          },
          meta: { type: 'object', additionalProperties: { type: 'string' } },
          u: { oneOf: [{ type: 'string' }, { type: 'integer' }] },
        },
      },
    });
    requests.push({
      name: `Event${i}V1Headers`,
      schema: { type: 'object', properties: { 'x-correlation-id': { type: 'string' }, 'content-type': { const: 'application/json' } } },
    });
  }
  return requests;
}

test('1000 requests in well under 5 s', async () => {
  const requests = workspace();
  await emitTypes(requests.slice(0, 2)); // modelina's import (~1 s) is paid once per process
  const started = performance.now();
  const out = await emitTypes(requests);
  const ms = performance.now() - started;
  console.log(`emitTypes: 1000 requests in ${ms.toFixed(0)} ms, ${out.source.length} chars`);
  expect(out.diagnostics).toEqual([]);
  expect(out.source.match(/^export (interface|type) /gm)?.length).toBe(1000 + 500 * 4 + 1 + 1);
  expect(ms).toBeLessThan(2500);
});
