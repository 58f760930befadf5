/**
 * The workspace loads the same whichever way it is read: documents parsed now or taken
 * from the per-document cache give byte-identical catalogs and diagnostics.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
// @ts-expect-error -- a plain ESM helper shared with the benches
import { buildWorkspace } from '../bench/workspace.mjs';
import { artifactDir } from './helpers/generate.js';

const exec = promisify(execFile);

async function catalog(specs: string, env: Record<string, string>): Promise<{ stdout: string; stderr: string }> {
  return exec(process.execPath, [path.resolve('bin/event-contracts.js'), 'catalog', '--format', 'json', '--spec', specs], {
    env: { ...process.env, ...env },
    maxBuffer: 1 << 26,
  });
}

describe('workspace loading', () => {
  it('gives the same catalog parsed and from the cache', async () => {
    const dir = artifactDir('workspace-parallel');
    (buildWorkspace as (dir: string, shape: { services: number; perService: number }) => unknown)(dir, { services: 6, perService: 3 });
    const fresh = () => mkdtempSync(path.join(os.tmpdir(), 'ec-cache-'));
    const shared = fresh();
    const parsed = await catalog(dir, { EVENT_CONTRACTS_CACHE_DIR: shared, EVENT_CONTRACTS_TRACE: '1' });
    expect(parsed.stderr).toMatch(/documents: 6 \(0 from cache, 6 parsed\)/);
    const cached = await catalog(dir, { EVENT_CONTRACTS_CACHE_DIR: shared, EVENT_CONTRACTS_TRACE: '1' });
    expect(cached.stderr).toMatch(/documents: 6 \(6 from cache, 0 parsed\)/);
    expect(JSON.parse(parsed.stdout).services).toHaveLength(6);
    expect(cached.stdout).toBe(parsed.stdout);
    const withoutTrace = (text: string) => text.replace(/^\[trace.*\n/gm, '');
    expect(withoutTrace(cached.stderr)).toBe(withoutTrace(parsed.stderr));
  }, 120_000);
});
