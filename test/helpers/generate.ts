import { execFile } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { generate, type GenerateResult } from '../../src/generate/index.js';

const exec = promisify(execFile);

/**
 * Scratch output folders live under test-artifacts/ inside the repo (git-ignored), so that
 * generated code resolves `event-contracts/runtime` through the repo's node_modules.
 */
export function artifactDir(...parts: string[]): string {
  const dir = path.resolve('test-artifacts', ...parts);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** `workspace`: the folder `$ref`s may reach (as a config file there would make it); default each spec's own folder. */
export async function generateInto(specs: string[], out: string, workspace?: string): Promise<GenerateResult> {
  return generate({
    specs,
    out,
    check: false,
    force: true,
    packageName: 'test-events',
    packageVersion: '0.0.0',
    ...(workspace !== undefined ? { config: { root: workspace, refRoots: [] } } : {}),
  });
}

/** `tsc --noEmit` on a project; resolves with the compiler's output, rejects on errors. */
export async function typecheck(project: string): Promise<string> {
  try {
    const { stdout } = await exec(path.resolve('node_modules/.bin/tsc'), ['-p', project, '--noEmit'], { maxBuffer: 1 << 24 });
    return stdout;
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string };
    throw new Error(`tsc failed on ${project}:\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
}

/** Compiles a generated package to JavaScript in its own dist/ and returns that folder. */
export async function compile(project: string): Promise<string> {
  try {
    await exec(path.resolve('node_modules/.bin/tsc'), ['-p', project], { maxBuffer: 1 << 24 });
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string };
    throw new Error(`tsc failed on ${project}:\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
  return path.join(project, 'dist');
}

export async function runNode(script: string, cwd: string): Promise<string> {
  const { stdout } = await exec(process.execPath, ['--input-type=module', '-e', script], { cwd, maxBuffer: 1 << 24 });
  return stdout;
}
