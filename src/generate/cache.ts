/**
 * The "nothing changed" fast path. A run records what it read (every spec file and
 * fragment) and what it wrote, each with a content hash, keyed by the tool's own build.
 * The next run hashes the same files (plus any new spec file) and, when nothing differs,
 * stops before loading the AsyncAPI parser — which alone costs about a second to import.
 * The record lives in node_modules/.cache, never in the repository.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { listOutputFiles } from './output.js';

interface CacheRecord {
  key: string;
  inputs: string[];
  outputs: Record<string, string>;
}

const hash = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

let toolFingerprint: string | undefined;
/** Hash of the generator's own compiled code and templates: a rebuilt tool invalidates every cache. */
function tool(): string {
  if (toolFingerprint) return toolFingerprint;
  const h = createHash('sha256');
  const walk = (dir: string) => {
    if (!existsSync(dir)) return;
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (/\.(js|hbs|css|json)$/.test(entry.name)) h.update(full).update(readFileSync(full));
    }
  };
  walk(path.join(packageRoot, 'dist'));
  walk(path.join(packageRoot, 'templates'));
  h.update(readFileSync(path.join(packageRoot, 'package.json')));
  toolFingerprint = h.digest('hex');
  return toolFingerprint;
}

function specFilesUnder(paths: readonly string[]): string[] {
  const out: string[] = [];
  const walk = (p: string) => {
    let st;
    try {
      st = statSync(p);
    } catch {
      out.push(p);
      return;
    }
    if (st.isDirectory()) {
      for (const e of readdirSync(p)) if (!e.startsWith('.') && e !== 'node_modules') walk(path.join(p, e));
    } else if (/\.(ya?ml|json)$/i.test(p) || paths.includes(p)) out.push(p);
  };
  for (const p of paths) walk(path.resolve(p));
  return out;
}

function inputKey(settingsKey: string, files: readonly string[]): string {
  const h = createHash('sha256').update(tool()).update(settingsKey);
  for (const file of [...new Set(files)].sort()) {
    h.update(file);
    h.update(existsSync(file) ? readFileSync(file) : '<missing>');
  }
  return h.digest('hex');
}

function cacheFile(outDir: string): string {
  return path.join(packageRoot, 'node_modules', '.cache', 'event-contracts', `generate-${hash(path.resolve(outDir)).slice(0, 16)}.json`);
}

/** True when the last run read exactly these inputs and its outputs are still on disk, unedited. */
export function isUpToDate(outDir: string, specs: readonly string[], settingsKey: string): boolean {
  let record: CacheRecord;
  try {
    record = JSON.parse(readFileSync(cacheFile(outDir), 'utf8')) as CacheRecord;
  } catch {
    return false;
  }
  const inputs = [...record.inputs, ...specFilesUnder(specs)];
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
  const all = [...new Set([...inputs.map((p) => path.resolve(p)), ...specFilesUnder(specs)])].sort();
  const record: CacheRecord = {
    key: inputKey(settingsKey, all),
    inputs: all,
    outputs: Object.fromEntries(outputs.map((f) => [f.path, hash(f.content)])),
  };
  try {
    mkdirSync(path.dirname(cacheFile(outDir)), { recursive: true });
    writeFileSync(cacheFile(outDir), JSON.stringify(record));
  } catch {
    // A read-only node_modules only costs the fast path.
  }
}
