/**
 * A baseline read from git without touching the work tree: the spec files and the lock
 * as they are at a ref, extracted into a temporary folder.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export class BaselineError extends Error {
  readonly userFacing = true;
}

export interface Baseline {
  ref: string;
  /** Temporary folder holding the files; remove with `dispose()`. */
  root: string;
  /** The spec paths, as they lie under `root`. */
  specs: string[];
  /** Lock text at the ref, if it had one. */
  lockText?: string;
  /** Maps a path under `root` to `ref:path` for messages. */
  display(file: string): string;
  dispose(): void;
}

const git = (args: string[], cwd: string): string =>
  execFileSync('git', args, { cwd, encoding: 'utf8', maxBuffer: 1 << 28, stdio: ['ignore', 'pipe', 'pipe'] });

export function readBaseline(ref: string, specs: readonly string[], lockFile: string, cwd = process.cwd()): Baseline {
  let top: string;
  try {
    top = git(['rev-parse', '--show-toplevel'], cwd).trim();
    git(['rev-parse', '--verify', '--quiet', `${ref}^{commit}`], cwd);
  } catch {
    throw new BaselineError(`cannot read "${ref}" from git: not a git repository, or no such commit/branch`);
  }
  const rel = (p: string) => path.relative(top, path.resolve(cwd, p)).split(path.sep).join('/');
  // One folder per (repository, commit): the same baseline lands at the same paths every
  // time, so the per-document cache recognises it and skips the AsyncAPI parser.
  const commit = git(['rev-parse', `${ref}^{commit}`], top).trim();
  const root = path.join(os.tmpdir(), `event-contracts-baseline-${createHash('sha256').update(`${top}\0${commit}`).digest('hex').slice(0, 16)}`);
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  const listed = git(['ls-tree', '-r', '--name-only', ref, '--', ...specs.map(rel)], top)
    .split('\n')
    .filter((f) => /\.(ya?ml|json)$/i.test(f));
  for (const file of listed) {
    const target = path.join(root, file);
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(target, git(['show', `${ref}:${file}`], top));
  }
  let lockText: string | undefined;
  try {
    lockText = git(['show', `${ref}:${rel(lockFile)}`], top);
  } catch {
    lockText = undefined;
  }
  const cwdRel = path.relative(top, cwd);
  return {
    ref,
    root,
    specs: specs.map((s) => path.join(root, rel(s))),
    ...(lockText !== undefined ? { lockText } : {}),
    display: (file) => {
      const abs = path.isAbsolute(file) ? file : path.resolve(file);
      if (!abs.startsWith(root + path.sep)) return file;
      const inRepo = path.relative(root, abs).split(path.sep).join('/');
      return `${ref}:${cwdRel ? path.posix.relative(cwdRel.split(path.sep).join('/'), inRepo) : inRepo}`;
    },
    dispose: () => rmSync(root, { recursive: true, force: true }),
  };
}
