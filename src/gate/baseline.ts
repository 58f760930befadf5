/**
 * A baseline read from git without touching the work tree: the config, the spec files
 * and the lock as they are at a ref, extracted into a temporary folder. Which files those
 * are comes from the base's own config, never from the branch's: a branch that moves the
 * lock or renames the spec folder is compared against what the base really released.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { CONFIG_FILES, resolveConfig, type Config } from '../config.js';
import { prepareWorkspace, SourceSet, workspaceRoots } from '../load/index.js';

export class BaselineError extends Error {
  readonly userFacing = true;
}

export interface Baseline {
  ref: string;
  /** Temporary folder holding the files; remove with `dispose()`. */
  root: string;
  /** The spec paths, as they lie under `root`. */
  specs: string[];
  /** The base's config (its paths relative to the workspace folder under `root`). */
  config: Config;
  /** The workspace folder (the config's folder) as it lies under `root`. */
  workspace: string;
  /** Lock text at the ref, if it had one. */
  lockText?: string;
  /** Where the lock is, under `root`. */
  lockPath: string;
  /** Maps a path under `root` to `ref:path` for messages. */
  display(file: string): string;
  dispose(): void;
}

const git = (args: string[], cwd: string): string =>
  execFileSync('git', args, { cwd, encoding: 'utf8', maxBuffer: 1 << 28, stdio: ['ignore', 'pipe', 'pipe'] });

export async function readBaseline(ref: string, cwd = process.cwd()): Promise<Baseline> {
  let top: string;
  try {
    top = git(['rev-parse', '--show-toplevel'], cwd).trim();
    git(['rev-parse', '--verify', '--quiet', `${ref}^{commit}`], cwd);
  } catch {
    throw new BaselineError(`cannot read "${ref}" from git: not a git repository, or no such commit/branch`);
  }
  const rel = (p: string) => path.relative(top, path.resolve(cwd, p)).split(path.sep).join('/');
  const show = (file: string): string | undefined => {
    try {
      return git(['show', `${ref}:${file}`], top);
    } catch {
      return undefined;
    }
  };
  // One folder per (repository, commit): the same baseline lands at the same paths every
  // time, so the per-document cache recognises it and skips the AsyncAPI parser.
  const commit = git(['rev-parse', `${ref}^{commit}`], top).trim();
  const root = path.join(os.tmpdir(), `event-contracts-baseline-${createHash('sha256').update(`${top}\0${commit}`).digest('hex').slice(0, 16)}`);
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  const cwdRel = path.relative(top, cwd);
  const workspace = path.join(root, cwdRel);
  mkdirSync(workspace, { recursive: true });
  const extract = (file: string, text: string): void => {
    const target = path.join(root, file);
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(target, text);
  };
  // The base's config, as the base had it (none: the defaults).
  let config: Config = resolveConfig({}, undefined, workspace);
  for (const name of CONFIG_FILES) {
    const text = show(rel(name));
    if (text === undefined) continue;
    extract(rel(name), text);
    config = await readBaseConfig(name, text, path.join(root, rel(name)), workspace);
    break;
  }
  const inBase = (p: string) => path.relative(workspace, path.resolve(workspace, p)).split(path.sep).join('/');
  const listed = git(['ls-tree', '-r', '--name-only', ref, '--', ...config.specs.map((s) => rel(inBase(s)))], top)
    .split('\n')
    .filter((f) => /\.(ya?ml|json)$/i.test(f));
  for (const file of listed) extract(file, git(['show', `${ref}:${file}`], top));
  // Files the base's documents reference outside the spec folders (shared fragments
  // elsewhere in the workspace, `refRoots`): found by the loader's own `$ref` scan, read
  // from git, until nothing new is missing.
  const specs = config.specs.map((s) => path.resolve(workspace, s));
  for (let round = 0; round < 32; round++) {
    const sources = new SourceSet(workspaceRoots(specs, { configDir: workspace, extra: config.refRoots }));
    prepareWorkspace(specs.filter((s) => existsSync(s)), sources);
    let fetched = 0;
    for (const file of sources.all()) {
      if (file.value !== undefined || !file.diagnostics.some((d) => d.code === 'FILE_UNREADABLE')) continue;
      if (!file.absPath.startsWith(root + path.sep) || existsSync(file.absPath)) continue;
      const inRepo = path.relative(root, file.absPath).split(path.sep).join('/');
      const text = show(inRepo);
      if (text === undefined) continue;
      extract(inRepo, text);
      fetched++;
    }
    if (fetched === 0) break;
  }
  const lockText = show(rel(inBase(config.lockFile)));
  return {
    ref,
    root,
    workspace,
    config,
    specs,
    ...(lockText !== undefined ? { lockText } : {}),
    lockPath: path.resolve(workspace, config.lockFile),
    display: (file) => {
      const abs = path.isAbsolute(file) ? file : path.resolve(file);
      if (!abs.startsWith(root + path.sep)) return file;
      const inRepo = path.relative(root, abs).split(path.sep).join('/');
      return `${ref}:${cwdRel ? path.posix.relative(cwdRel.split(path.sep).join('/'), inRepo) : inRepo}`;
    },
    dispose: () => rmSync(root, { recursive: true, force: true }),
  };
}

async function readBaseConfig(name: string, text: string, extracted: string, workspace: string): Promise<Config> {
  try {
    // An .mjs config is the base's own code, already reviewed and merged.
    const raw: unknown = name.endsWith('.mjs')
      ? ((await import(pathToFileURL(extracted).href)) as { default: unknown }).default
      : name.endsWith('.json')
        ? JSON.parse(text)
        : parseYaml(text);
    return resolveConfig(raw, name, workspace);
  } catch (error) {
    throw new BaselineError(`${name} in the baseline: ${(error as Error).message}`);
  }
}
