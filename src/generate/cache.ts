/**
 * The "nothing changed" fast path. A run records what it read (every spec file and
 * fragment) and what it wrote, each with a content hash, keyed by the tool's own build.
 * The next run hashes the same files (plus any new spec file) and, when nothing differs,
 * stops before loading the AsyncAPI parser — which alone costs about a second to import.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { readCache, sha256 as hash, toolFingerprint as tool, writeCache } from '../cache.js';
import { listSpecPaths } from '../load/index.js';
import { listOutputFiles } from './output.js';

interface CacheRecord {
  key: string;
  inputs: string[];
  outputs: Record<string, string>;
}

function inputKey(settingsKey: string, files: readonly string[]): string {
  const h = createHash('sha256').update(tool()).update(settingsKey);
  for (const file of [...new Set(files)].sort()) {
    h.update(file);
    h.update(existsSync(file) ? readFileSync(file) : '<missing>');
  }
  return h.digest('hex');
}

const cacheKey = (outDir: string) => hash(path.resolve(outDir)).slice(0, 16);

/** True when the last run read exactly these inputs and its outputs are still on disk, unedited. */
export function isUpToDate(outDir: string, specs: readonly string[], settingsKey: string): boolean {
  const record = readCache<CacheRecord>('generate', cacheKey(outDir));
  if (!record) return false;
  const inputs = [...record.inputs, ...listSpecPaths(specs)];
  if (inputKey(settingsKey, inputs) !== record.key) return false;
  const present = listOutputFiles(outDir);
  if (present.length !== Object.keys(record.outputs).length) return false;
  for (const [rel, digest] of Object.entries(record.outputs)) {
    const file = path.join(outDir, rel);
    if (!existsSync(file) || hash(readFileSync(file)) !== digest) return false;
  }
  return true;
}

export function recordRun(
  outDir: string,
  specs: readonly string[],
  settingsKey: string,
  inputs: readonly string[],
  outputs: ReadonlyArray<{ path: string; content: string }>,
): void {
  const all = [...new Set([...inputs.map((p) => path.resolve(p)), ...listSpecPaths(specs)])].sort();
  const record: CacheRecord = {
    key: inputKey(settingsKey, all),
    inputs: all,
    outputs: Object.fromEntries(outputs.map((f) => [f.path, hash(f.content)])),
  };
  writeCache('generate', cacheKey(outDir), record);
}
