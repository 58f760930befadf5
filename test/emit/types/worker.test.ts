/**
 * The compiled tool discovers models in a worker started before the parse (so modelina's
 * import overlaps it; forced on here, since the tool skips it on a busy machine); run from
 * source, discovery stays in the thread. Both give the same
 * types.ts, byte for byte (the only output discovery decides).
 */
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { artifactDir, generateInto } from '../../helpers/generate.js';

const exec = promisify(execFile);

function files(dir: string, prefix = ''): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(dir)) {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) Object.assign(out, files(full, `${prefix}${name}/`));
    else out[`${prefix}${name}`] = readFileSync(full, 'utf8');
  }
  return out;
}

describe('model discovery in a worker', () => {
  it('gives the same output as discovery in the thread', async () => {
    const viaWorker = artifactDir('discovery-worker');
    const inThread = artifactDir('discovery-thread');
    const { stderr } = await exec(process.execPath, [path.resolve('bin/event-contracts.js'), 'generate', '--spec', 'asyncapi', '--out', viaWorker, '--force'], {
      env: { ...process.env, EVENT_CONTRACTS_TRACE: '1', EVENT_CONTRACTS_NO_CACHE: '1', EVENT_CONTRACTS_DISCOVERY_WORKER: '1' },
      maxBuffer: 1 << 26,
    });
    expect(stderr).toContain('types: models discovered in the prewarmed worker');
    const result = await generateInto(['asyncapi'], inThread);
    expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(readFileSync(path.join(viaWorker, 'types.ts'), 'utf8')).toBe(readFileSync(path.join(inThread, 'types.ts'), 'utf8'));
    expect(Object.keys(files(viaWorker)).sort()).toEqual(Object.keys(files(inThread)).sort());
  }, 120_000);
});
