/**
 * Same input, same bytes: the workspace generated twice, with its documents named in
 * opposite orders, into two folders, is identical file for file. (That the committed
 * generated/ folder is current is `generate --check`, part of `npm test`.)
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { listOutputFiles } from '../../src/generate/output.js';
import { artifactDir, generateInto } from '../helpers/generate.js';

const documents = ['asyncapi/users.yaml', 'asyncapi/payments.yaml', 'asyncapi/platform.yaml', 'asyncapi/notifications.yaml'];

function snapshot(dir: string): Map<string, string> {
  return new Map(listOutputFiles(dir).map((f) => [f, readFileSync(path.join(dir, f), 'utf8')]));
}

describe('deterministic output', () => {
  it('does not depend on the order specs are given in', async () => {
    const a = artifactDir('determinism-a');
    const b = artifactDir('determinism-b');
    await generateInto(documents, a);
    await generateInto([...documents].reverse(), b);
    const first = snapshot(a);
    const second = snapshot(b);
    expect([...second.keys()]).toEqual([...first.keys()]);
    for (const [file, content] of first) expect(second.get(file), file).toBe(content);
    expect(first.size).toBeGreaterThan(20);
  }, 60_000);
});
