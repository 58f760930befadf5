/**
 * The workspace loads the same whichever way it is read: documents parsed in worker
 * threads, in this thread, or taken from the per-document cache give byte-identical
 * catalogs.
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
  it('gives the same catalog from worker threads, one thread, and the cache', async () => {
    const dir = artifactDir('workspace-parallel');
    (buildWorkspace as (dir: string, shape: { services: number; perService: number }) => unknown)(dir, { services: 6, perService: 3 });
    const fresh = () => mkdtempSync(path.join(os.tmpdir(), 'ec-cache-'));
    const parallel = await catalog(dir, { EVENT_CONTRACTS_CACHE_DIR: fresh(), EVENT_CONTRACTS_TRACE: '1' });
    expect(parallel.stderr).toMatch(/documents: 6 \(0 from cache, 3 parsed here, 3 in worker threads\)/);
    const serial = await catalog(dir, { EVENT_CONTRACTS_CACHE_DIR: fresh(), EVENT_CONTRACTS_NO_WORKERS: '1' });
    const shared = fresh();
    await catalog(dir, { EVENT_CONTRACTS_CACHE_DIR: shared });
    const cached = await catalog(dir, { EVENT_CONTRACTS_CACHE_DIR: shared });
    expect(JSON.parse(parallel.stdout).services).toHaveLength(6);
    expect(parallel.stdout).toBe(serial.stdout);
    expect(cached.stdout).toBe(serial.stdout);
    expect(parallel.stderr.replace(/^\[trace.*\n/gm, '')).toBe(serial.stderr);
  }, 120_000);
});
