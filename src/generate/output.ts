/**
 * Writing generated files: only what changed is written, files we no longer produce are
 * removed, and `--check` compares without writing.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { GENERATED_BANNER, type GeneratedFile } from '../emit/files.js';

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
export function assertOwnedOutput(outDir: string): void {
  const existing = listOutputFiles(outDir);
  if (existing.length === 0) return;
  const readme = path.join(outDir, 'README.md');
  if (existsSync(readme) && readFileSync(readme, 'utf8').includes(GENERATED_BANNER)) return;
  throw new OutputDirError(
    `${outDir} is not empty and was not written by event-contracts (no generated README.md); choose another --out`,
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
  const byPath = new Map(files.map((f) => [f.path, f.content]));
  for (const rel of [...diff.added, ...diff.changed]) {
    const target = path.join(outDir, rel);
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(target, byPath.get(rel)!);
  }
  for (const rel of diff.removed) rmSync(path.join(outDir, rel), { force: true });
  pruneEmptyDirs(outDir);
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
