/**
 * load → catalog → example checks: what `validate`, `catalog`, `generate` and `check`
 * all start from. Each document's contribution to the catalog is cached by the content
 * of every file it reaches, so an unchanged document skips the AsyncAPI parser (its
 * heaviest step) on the next run.
 */
import { mergeDocuments, describeDocument, type DocumentModel } from './catalog/build.js';
import type { Catalog } from './catalog/model.js';
import { readCache, sha256, toolFingerprint, writeCache } from './cache.js';
import { formatDiagnostic, hasErrors, sortDiagnostics, type Diagnostic, type SourceLocation } from './diagnostics.js';
import { dedupe, parseEntry, prepareWorkspace, type PreparedEntry, type SourceFile } from './load/index.js';
import type { SourceSet } from './load/refs.js';
import { trace } from './trace.js';
import { checkExamples } from './validation/examples.js';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

export interface Workspace {
  catalog: Catalog;
  /** Every file read, for caching and --watch. */
  files: SourceFile[];
  /** Where a node below a located node (e.g. a property of a payload) was written. */
  locateBelow(location: SourceLocation, pointer: string): SourceLocation;
  diagnostics: Diagnostic[];
  ok: boolean;
}

interface CachedDocument {
  model?: DocumentModel;
  diagnostics: Diagnostic[];
}

function documentKey(entry: PreparedEntry): string {
  const h = [toolFingerprint(), process.cwd()];
  for (const file of entry.files) h.push(file.absPath, sha256(file.text));
  return sha256(h.join('\0'));
}

export async function documentModel(entry: PreparedEntry, sources: SourceSet): Promise<CachedDocument> {
  const key = documentKey(entry);
  const cached = readCache<CachedDocument>('documents', key);
  if (cached) return cached;
  const parsed = await parseEntry(entry, sources);
  const result: CachedDocument = parsed.document
    ? { model: describeDocument(parsed.document), diagnostics: parsed.diagnostics }
    : { diagnostics: parsed.diagnostics };
  writeCache('documents', key, result);
  return result;
}

/**
 * Cold documents are parsed on every core: the AsyncAPI parser is CPU-bound at ~0.1–0.3 s
 * a document. Worker threads take a share each while this thread parses the rest;
 * results are keyed by file, so the catalog does not depend on who finished first. Only
 * the built tool uses workers (a worker cannot run the TypeScript sources).
 */
function startWorkers(cold: PreparedEntry[]): { mine: PreparedEntry[]; results: Promise<Map<string, CachedDocument>> } {
  const script = new URL('./workspace-worker.js', import.meta.url);
  const cores = availableParallelism();
  if (cold.length < 4 || cores < 2 || process.env.EVENT_CONTRACTS_NO_WORKERS || !import.meta.url.endsWith('.js') || !existsSync(script)) {
    return { mine: cold, results: Promise.resolve(new Map()) };
  }
  const workers = Math.min(cores - 1, 3);
  const share = Math.floor(cold.length / (workers + 1));
  const jobs = Array.from({ length: workers }, (_, i) => cold.slice(i * share, (i + 1) * share));
  const runs = jobs.map(
    (job) =>
      new Promise<Array<CachedDocument & { absPath: string }>>((resolve, reject) => {
        const worker = new Worker(script, { workerData: { entries: job.map((e) => e.entry.absPath) } });
        worker.once('message', resolve);
        worker.once('error', reject);
        worker.once('exit', (code) => (code === 0 ? undefined : reject(new Error(`document worker exited with ${code}`))));
      }),
  );
  const results = Promise.allSettled(runs).then((settled) => {
    const map = new Map<string, CachedDocument>();
    for (const outcome of settled) {
      // What a failed worker did not deliver, the main loop parses itself.
      if (outcome.status === 'fulfilled') for (const { absPath, ...result } of outcome.value) map.set(absPath, result);
    }
    return map;
  });
  return { mine: cold.slice(workers * share), results };
}

export interface OpenOptions {
  /**
   * Validate message examples against their schemas (compiles every schema: costly on a
   * cold cache). The compatibility gate does without: examples do not change what is compatible.
   */
  examples?: boolean;
}

export async function openWorkspace(specs: readonly string[], options: OpenOptions = {}): Promise<Workspace> {
  const prepared = prepareWorkspace(specs);
  const loadDiagnostics = [...prepared.diagnostics];
  const models: DocumentModel[] = [];
  const ready = prepared.entries.filter((e) => e.ok);
  const { mine, results } = startWorkers(ready.filter((e) => readCache('documents', documentKey(e)) === undefined));
  const parsedHere = new Map<string, CachedDocument>();
  for (const entry of mine) parsedHere.set(entry.entry.absPath, await documentModel(entry, prepared.sources));
  const fromWorkers = await results;
  trace(`documents: ${ready.length} (${ready.length - mine.length - fromWorkers.size} from cache, ${mine.length} parsed here, ${fromWorkers.size} in worker threads)`);
  for (const entry of ready) {
    const path = entry.entry.absPath;
    const result = parsedHere.get(path) ?? fromWorkers.get(path) ?? (await documentModel(entry, prepared.sources));
    loadDiagnostics.push(...result.diagnostics);
    if (result.model) models.push(result.model);
  }
  const { catalog, diagnostics: catalogDiagnostics } = mergeDocuments(models);
  const files = prepared.sources.all();
  const byShownPath = new Map(files.map((f) => [f.displayPath, f]));
  const locate = (file: string, pointer: string) => byShownPath.get(file)?.locate(pointer);
  const all = [...dedupe(loadDiagnostics), ...catalogDiagnostics, ...(options.examples === false ? [] : checkExamples(catalog, locate))];
  // The same problem reached through two paths (a oneOf's branches, a shared fragment) is reported once.
  const seen = new Set<string>();
  const unique = all.filter((d) => {
    const key = formatDiagnostic(d);
    return seen.has(key) ? false : (seen.add(key), true);
  });
  const diagnostics = sortDiagnostics(unique);
  return { catalog, files, locateBelow: prepared.locateBelow, diagnostics, ok: !hasErrors(diagnostics) };
}
