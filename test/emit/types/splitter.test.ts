/**
 * The canary for the one place that reaches into modelina's private layout
 * (`src/emit/types/splitter.ts`): its fast path must split exactly as modelina's own
 * `TypeScriptGenerator.processInput` does, on every kind of schema the types step sends —
 * this workspace's payloads and headers, a synthetic 500-event workspace, and hand-picked
 * combinators, recursion, tuples, maps and enums. A modelina upgrade that moves or
 * changes those modules fails here.
 */
import { describe, expect, it } from 'vitest';
import { buildNodes, type TypeRequest } from '../../../src/emit/types/build.js';
import { combinedDocument } from '../../../src/emit/types/discover.js';
import { fastSplitter, fullSplitter, type Json } from '../../../src/emit/types/splitter.js';
import { openWorkspace } from '../../../src/workspace.js';
// @ts-expect-error -- a plain ESM helper shared with the benches
import { typeRequests } from '../../../bench/workspace.mjs';

/** Each model's name and kind (ObjectModel, EnumModel, …), sorted. */
async function splitOf(splitter: { split(input: Json): Promise<{ models: Record<string, { name: string }> }> }, input: Json): Promise<string[]> {
  const { models } = await splitter.split(structuredClone(input));
  return Object.values(models)
    .map((m) => `${m.name}:${m.constructor.name}`)
    .sort();
}

const handPicked: TypeRequest[] = [
  { name: 'Union', schema: { oneOf: [{ title: 'Card', type: 'object', properties: { pan: { type: 'string' } } }, { type: 'object', properties: { iban: { type: 'string' } } }] } },
  { name: 'Merged', schema: { allOf: [{ type: 'object', properties: { a: { type: 'string' } } }, { type: 'object', properties: { b: { type: 'integer' } } }] } },
  { name: 'Nullable', schema: { type: ['object', 'null'], properties: { x: { anyOf: [{ type: 'string' }, { type: 'null' }] } } } },
  { name: 'Tree', schema: { type: 'object', properties: { children: { type: 'array', items: { $ref: '#' } } } } },
  { name: 'Tuple', schema: { type: 'array', items: [{ type: 'string' }, { type: 'object', properties: { n: { type: 'number' } } }], additionalItems: false } },
  { name: 'Map', schema: { type: 'object', additionalProperties: { type: 'object', properties: { v: { type: 'string' } } }, patternProperties: { '^x-': { type: 'string' } } } },
  { name: 'Choice', schema: { type: 'string', enum: ['a', 'b', 'c'] } },
  { name: 'Constant', schema: { const: 'fixed' } },
  { name: 'Anything', schema: {} },
  { name: 'Nothing', schema: false as never },
];

describe('modelina fast split (canary)', () => {
  const fast = fastSplitter();

  it('finds modelina\'s modules where it expects them', () => {
    expect(fast).toBeDefined();
  });

  it.each([
    ['hand-picked schema kinds', async () => handPicked],
    ['a synthetic 500-event workspace', async () => (typeRequests as (n: number) => TypeRequest[])(500)],
    [
      'this workspace',
      async () => {
        const ws = await openWorkspace(['asyncapi']);
        return ws.catalog.events.flatMap((t) =>
          t.versions.flatMap((v) => [
            { name: `${v.codeName}`, schema: v.payload as never },
            ...(v.headers !== undefined ? [{ name: `${v.codeName}Headers`, schema: v.headers as never }] : []),
          ]),
        );
      },
    ],
  ])('splits %s as modelina does', async (_name, requests) => {
    const full = fullSplitter(await import('@asyncapi/modelina'));
    const input = combinedDocument(buildNodes(await requests()).roots);
    const want = await splitOf(full, input);
    expect(want.length).toBeGreaterThan(1);
    expect(await splitOf(fast!, input)).toEqual(want);
  }, 60_000);
});
