/**
 * The docs templates precompiled at build time (templates/precompile.mjs) render
 * the same site, byte for byte, as templates compiled at run time.
 */
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { artifactDir } from '../helpers/generate.js';

const exec = promisify(execFile);

function tree(dir: string, prefix = ''): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(dir).sort()) {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) Object.assign(out, tree(full, `${prefix}${name}/`));
    else out[`${prefix}${name}`] = readFileSync(full, 'utf8');
  }
  return out;
}

async function docs(out: string, env: Record<string, string>): Promise<string> {
  const { stderr } = await exec(process.execPath, [path.resolve('bin/event-contracts.js'), 'docs', '--spec', 'asyncapi', '--out', out], {
    env: { ...process.env, EVENT_CONTRACTS_TRACE: '1', ...env },
    maxBuffer: 1 << 26,
  });
  return stderr;
}

describe('precompiled docs templates', () => {
  it('render the same site as templates compiled at run time', async () => {
    const pre = artifactDir('docs-precompiled');
    const now = artifactDir('docs-compiled');
    expect(await docs(pre, {})).toMatch(/docs templates: 9 precompiled, 0 compiled now/);
    expect(await docs(now, { EVENT_CONTRACTS_PRECOMPILED: '0' })).toMatch(/docs templates: 0 precompiled, 9 compiled now/);
    expect(tree(pre)).toEqual(tree(now));
  }, 60_000);
});
