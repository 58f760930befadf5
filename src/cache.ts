/**
 * A small content-addressed cache in node_modules/.cache/event-contracts: results keyed
 * by a hash of their inputs and of the tool's own build, so a rebuilt tool never reads a
 * stale entry. Losing it only costs time; a failing write is ignored.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

let fingerprint: string | undefined;

/** Hash of the tool's compiled code and templates. */
export function toolFingerprint(): string {
  if (fingerprint) return fingerprint;
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
  fingerprint = h.digest('hex');
  return fingerprint;
}

const cacheRoot = () => process.env.EVENT_CONTRACTS_CACHE_DIR ?? path.join(packageRoot, 'node_modules', '.cache', 'event-contracts');

export function cachePath(kind: string, key: string): string {
  return path.join(cacheRoot(), kind, `${key}.json`);
}

export function readCache<T>(kind: string, key: string): T | undefined {
  if (process.env.EVENT_CONTRACTS_NO_CACHE) return undefined;
  try {
    return JSON.parse(readFileSync(cachePath(kind, key), 'utf8')) as T;
  } catch {
    return undefined;
  }
}

export function writeCache(kind: string, key: string, value: unknown): void {
  if (process.env.EVENT_CONTRACTS_NO_CACHE) return;
  const file = cachePath(kind, key);
  try {
    mkdirSync(path.dirname(file), { recursive: true });
    // Write then rename: a concurrent reader never sees half a file.
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(value));
    renameSync(tmp, file);
  } catch {
    // A read-only node_modules only costs time.
  }
}
