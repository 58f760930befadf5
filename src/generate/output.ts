/**
 * Writing generated files: only what changed is written, files we no longer produce are
 * removed, and `--check` compares without writing. Every path is checked to stay inside
 * the output folder before anything is written, and the files are first written to a
 * temporary folder beside it, then moved in: a run that fails writes nothing.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { GENERATED_BANNER, type GeneratedFile } from '../emit/files.js';
import { realPathOf } from '../load/refs.js';

/** Build products and installs inside the output folder that are not ours to compare. */
const UNOWNED = new Set(['node_modules', 'dist']);

export interface OutputDiff {
  added: string[];
  changed: string[];
  removed: string[];
}

export function isEmptyDiff(diff: OutputDiff): boolean {
  return diff.added.length + diff.changed.length + diff.removed.length === 0;
}

export class OutputDirError extends Error {}

/** Longest file or folder name written (bytes); most file systems stop at 255. */
export const MAX_NAME_BYTES = 200;

/**
 * Why a generated path may not be written, or undefined when it may: relative, forward
 * slashes, no `.`/`..`/empty segment, no control or reserved characters, short names.
 */
export function unsafePathReason(rel: string): string | undefined {
  if (rel === '') return 'empty path';
  if (rel.includes('\\')) return 'contains a backslash';
  if (/[\u0000-\u001f<>:"|?*]/.test(rel)) return 'contains a control or reserved character';
  if (path.posix.isAbsolute(rel) || path.win32.isAbsolute(rel)) return 'absolute';
  for (const segment of rel.split('/')) {
    if (segment === '' || segment === '.' || segment === '..') return `has a "${segment}" segment`;
    if (Buffer.byteLength(segment) > MAX_NAME_BYTES) return `has a name longer than ${MAX_NAME_BYTES} bytes`;
  }
  return undefined;
}

function isInside(child: string, parent: string): boolean {
  return child === parent || child.startsWith(parent.endsWith(path.sep) ? parent : parent + path.sep);
}

/** Refuses the whole output when any path would land outside `outDir`. */
export function assertSafePaths(outDir: string, files: readonly GeneratedFile[]): void {
  const root = path.resolve(outDir);
  const bad: string[] = [];
  for (const file of files) {
    const reason = unsafePathReason(file.path) ?? (isInside(path.resolve(root, file.path), root) ? undefined : 'outside the output folder');
    if (reason) bad.push(`${JSON.stringify(file.path.slice(0, 120))}: ${reason}`);
  }
  if (bad.length > 0) {
    throw new OutputDirError(`refusing to write outside ${outDir} (nothing was written): ${bad.slice(0, 5).join('; ')}${bad.length > 5 ? ` and ${bad.length - 5} more` : ''}`);
  }
}

export function listOutputFiles(outDir: string): string[] {
  const out: string[] = [];
  const walk = (dir: string, prefix: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (prefix === '' && UNOWNED.has(entry.name)) continue;
      const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(path.join(dir, entry.name), rel);
      else out.push(rel);
    }
  };
  if (existsSync(outDir)) walk(outDir, '');
  return out.sort();
}

/** Refuses to prune a folder that holds things event-contracts did not write. */
export function assertOwnedOutput(outDir: string, marker = 'README.md'): void {
  const existing = listOutputFiles(outDir);
  if (existing.length === 0) return;
  const readme = path.join(outDir, marker);
  if (existsSync(readme) && readFileSync(readme, 'utf8').includes(GENERATED_BANNER)) return;
  throw new OutputDirError(
    `${outDir} is not empty and was not written by event-contracts (no generated ${marker}); choose another --out`,
  );
}

export function diffOutput(outDir: string, files: readonly GeneratedFile[]): OutputDiff {
  const wanted = new Map(files.map((f) => [f.path, f.content]));
  const existing = new Set(listOutputFiles(outDir));
  const diff: OutputDiff = { added: [], changed: [], removed: [] };
  for (const [rel, content] of wanted) {
    if (!existing.has(rel)) diff.added.push(rel);
    else if (readFileSync(path.join(outDir, rel), 'utf8') !== content) diff.changed.push(rel);
  }
  for (const rel of existing) if (!wanted.has(rel)) diff.removed.push(rel);
  return diff;
}

export function writeOutput(outDir: string, files: readonly GeneratedFile[], diff: OutputDiff): void {
  assertSafePaths(outDir, files);
  const root = path.resolve(outDir);
  const byPath = new Map(files.map((f) => [f.path, f.content]));
  const toWrite = [...diff.added, ...diff.changed];
  if (toWrite.length + diff.removed.length === 0) return;
  mkdirSync(path.dirname(root), { recursive: true });
  const staging = path.join(path.dirname(root), `.${path.basename(root)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    // Stage every file first: a name the file system refuses fails here, before the output is touched.
    for (const rel of toWrite) {
      const target = path.join(staging, rel);
      mkdirSync(path.dirname(target), { recursive: true });
      writeFileSync(target, byPath.get(rel)!);
    }
    if (!existsSync(root)) {
      renameSync(staging, root);
      return;
    }
    const realRoot = realpathSync(root);
    // A folder inside the output that is a symlink to elsewhere must not carry a write out.
    for (const rel of toWrite) {
      if (!isInside(realPathOf(path.dirname(path.join(root, rel))), realRoot)) {
        throw new OutputDirError(`refusing to write ${rel}: its folder inside ${outDir} leads outside it (a symlink); nothing was written`);
      }
    }
    for (const rel of toWrite) {
      const target = path.join(root, rel);
      mkdirSync(path.dirname(target), { recursive: true });
      moveFile(path.join(staging, rel), target);
    }
    for (const rel of diff.removed) {
      if (unsafePathReason(rel) === undefined) rmSync(path.join(root, rel), { force: true });
    }
    pruneEmptyDirs(root);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/** Rename; across file systems (an output folder that is a mount point, as in a container) copy instead. */
function moveFile(from: string, to: string): void {
  try {
    renameSync(from, to);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
    copyFileSync(from, to);
  }
}

function pruneEmptyDirs(dir: string): boolean {
  if (!existsSync(dir)) return true;
  let empty = true;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory() && !UNOWNED.has(entry.name)) {
      const full = path.join(dir, entry.name);
      if (pruneEmptyDirs(full)) rmSync(full, { recursive: true, force: true });
      else empty = false;
    } else empty = false;
  }
  return empty;
}
