/**
 * The example contract says what the gate does: its closed `user.created` 2.x payload
 * takes no new field in a minor version (PROPERTY_ADDED_TO_CLOSED_CONTENT_MODEL), while
 * the open 1.x payload does. Run on a copy of asyncapi/ with its released lock.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { runCli } from '../helpers/cli.js';
import { useScratchWorkspace } from '../helpers/scratch.js';

let dir: string;
useScratchWorkspace('example-contract', (d) => (dir = d), { copyRepo: true });

/** Gives a message a new version and its payload schema a new optional property. */
function addOptionalField(message: string, schema: string, version: string): void {
  const doc = parseDocument(readFileSync('asyncapi/users.yaml', 'utf8'));
  doc.setIn(['components', 'messages', message, 'x-version'], version);
  doc.setIn(['components', 'schemas', schema, 'properties', 'nickname'], doc.createNode({ type: 'string' }));
  writeFileSync('asyncapi/users.yaml', doc.toString());
}

const errors = async () =>
  (JSON.parse((await runCli(['check', '--format', 'json'])).stdout) as { findings: Array<{ rule: string; severity: string; event?: string }> }).findings
    .filter((f) => f.severity === 'error')
    .map((f) => `${f.rule} ${f.event ?? ''}`);

describe('the example contract and the gate agree', () => {
  it('user.created 2.x is closed: a new optional field in 2.1.0 is breaking', async () => {
    expect(readFileSync('asyncapi/users.yaml', 'utf8')).toMatch(/even a new optional field breaks\s+it and needs a new major/);
    addOptionalField('UserCreatedV2', 'UserCreatedV2Payload', '2.1.0');
    expect(await errors()).toContain('PROPERTY_ADDED_TO_CLOSED_CONTENT_MODEL user.created@2.1.0');
  });
});
