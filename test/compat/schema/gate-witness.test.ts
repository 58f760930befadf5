/**
 * The gate shows, for a breaking schema change, an instance that proves it (the witness
 * sampler of the compatibility engine): in its human and GitHub formats, and `schema-diff
 * --explain` on the command line.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { runCli } from '../../helpers/cli.js';
import { useScratchWorkspace } from '../../helpers/scratch.js';

type Doc = Record<string, any>;

const order = (version: string, properties: Doc, required: string[]): Doc => ({
  name: 'order.placed',
  'x-version': version,
  summary: 'An order was placed.',
  payload: { type: 'object', required, properties },
});

function spec(messages: Record<string, Doc>): Doc {
  const channels: Doc = {};
  const operations: Doc = {};
  for (const [key, message] of Object.entries(messages)) {
    const major = Number(String(message['x-version']).split('.')[0]);
    channels[`ch${key}`] = { address: `order.placed.v${major}`, messages: { [key]: { $ref: `#/components/messages/${key}` } } };
    operations[`publish${key}`] = { action: 'send', channel: { $ref: `#/channels/ch${key}` } };
  }
  return { asyncapi: '3.0.0', info: { title: 'Orders', version: '1.0.0' }, channels, operations, components: { messages } };
}

const base = { orderId: { type: 'string' }, total: { type: 'integer', minimum: 0 } };

let dir: string;
useScratchWorkspace('compat-witness', (d) => (dir = d));

const write = (doc: Doc) => writeFileSync(path.join(dir, 'asyncapi/orders.yaml'), stringify(doc));

describe('the gate shows a witness for a breaking change', () => {
  async function breakIt(): Promise<void> {
    write(spec({ OrderPlacedV1: order('1.0.0', base, ['orderId']) }));
    expect((await runCli(['release'])).code).toBe(0);
    // total narrowed to at most 100: an old event with total 101 is now rejected
    write(spec({ OrderPlacedV1: order('1.1.0', { ...base, total: { type: 'integer', minimum: 0, maximum: 100 } }, ['orderId']) }));
  }

  it('human format: a witness line under the finding', async () => {
    await breakIt();
    const result = await runCli(['check']);
    expect(result.code).toBe(1);
    const line = result.stderr.split('\n').find((l) => l.startsWith('  witness: '));
    expect(line).toMatch(/^ {2}witness: \{.*\} is valid under order\.placed@1\.0\.0 and rejected by order\.placed@1\.1\.0$/);
    const value = JSON.parse(line!.replace(/^ {2}witness: /, '').replace(/ is valid under .*$/, '')) as { total?: unknown };
    expect(typeof value.total === 'number' && (value.total > 100 || !Number.isInteger(value.total))).toBe(true);
  });

  it('github format: the witness in the annotation text', async () => {
    await breakIt();
    const result = await runCli(['check', '--format', 'github']);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^::error .*title=MAXIMUM_ADDED::.*%0Awitness: \{.*\} is valid under order\.placed@1\.0\.0 and rejected by order\.placed@1\.1\.0/m);
  });

  it('schema-diff --explain on the command line', async () => {
    writeFileSync(path.join(dir, 'old.json'), JSON.stringify({ type: 'object', properties: { a: { anyOf: [{ type: 'string' }, { type: 'string', maxLength: 3 }] } } }));
    writeFileSync(path.join(dir, 'new.json'), JSON.stringify({ type: 'object', properties: { a: { oneOf: [{ type: 'string' }, { type: 'string', maxLength: 3 }] } } }));
    const result = await runCli(['schema-diff', 'old.json', 'new.json', '--explain']);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('error ONE_OF_OVERLAP_NOT_DISPROVED #/properties/a/oneOf/1');
    expect(result.stdout).toMatch(/^witness \(backward\): \{"a":".{0,3}"\} is valid under the old schema and rejected by the new one$/m);
    const plain = await runCli(['schema-diff', 'old.json', 'new.json']);
    expect(plain.stdout).not.toContain('witness');
  });
});
