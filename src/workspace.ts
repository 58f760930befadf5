/**
 * load → catalog → example checks: what `validate`, `catalog`, `generate` and `check`
 * all start from. Each document's contribution to the catalog is cached by the content
 * of every file it reaches, so an unchanged document skips the AsyncAPI parser (its
 * heaviest step) on the next run.
 */
import { mergeDocuments, describeDocument, type DocumentModel } from './catalog/build.js';
import type { Catalog } from './catalog/model.js';
import { readCache, sha256, toolFingerprint, writeCache } from './cache.js';
import { formatDiagnostic, hasErrors, internalError, sortDiagnostics, type Diagnostic, type SourceLocation } from './diagnostics.js';
import { dedupe, parseEntry, prepareWorkspace, SourceSet, workspaceRoots, type PreparedEntry, type SourceFile } from './load/index.js';
import type { Config } from './config.js';
import { trace } from './trace.js';
import { checkExamples } from './validation/examples.js';

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

async function documentModel(entry: PreparedEntry, sources: SourceSet): Promise<CachedDocument> {
  const key = documentKey(entry);
  const cached = readCache<CachedDocument>('documents', key);
  if (cached) return cached;
  let result: CachedDocument;
  try {
    const parsed = await parseEntry(entry, sources);
    result = parsed.document
      ? { model: describeDocument(parsed.document), diagnostics: parsed.diagnostics }
      : { diagnostics: parsed.diagnostics };
  } catch (error) {
    // Not cached: a later build of the tool may not fail.
    return { diagnostics: [internalError(entry.entry.displayPath, 'reading the document', error)] };
  }
  writeCache('documents', key, result);
  return result;
}

export interface OpenOptions {
  /**
   * Validate message examples against their schemas (compiles every schema: costly on a
   * cold cache). `'warning'` reports an invalid example as a warning (`generate`, `docs`);
   * `true` (the default) as an error.
   */
  examples?: boolean | 'warning';
  /**
   * Where the workspace is: the config's folder and the extra roots it names. Without it,
   * each spec path is its own workspace.
   */
  config?: Pick<Config, 'root' | 'refRoots'>;
}

/** The folders `$ref`s of these specs may reach under this config. */
export function rootsOf(specs: readonly string[], config: Pick<Config, 'root' | 'refRoots'> | undefined): string[] {
  return workspaceRoots(specs, { ...(config?.root !== undefined ? { configDir: config.root } : {}), extra: config?.refRoots ?? [] });
}

export async function openWorkspace(specs: readonly string[], options: OpenOptions = {}): Promise<Workspace> {
  const prepared = prepareWorkspace(specs, new SourceSet(rootsOf(specs, options.config)));
  const loadDiagnostics = [...prepared.diagnostics];
  const models: DocumentModel[] = [];
  const ready = prepared.entries.filter((e) => e.ok);
  // Parsing is not spread over worker threads: measured on two cores, a worker's own parser
  // start-up (import and meta-schema compile) cost more than it saved, up to 80 documents.
  let parsed = 0;
  for (const entry of ready) {
    const cached = readCache<CachedDocument>('documents', documentKey(entry));
    if (!cached) parsed++;
    const result = cached ?? (await documentModel(entry, prepared.sources));
    loadDiagnostics.push(...result.diagnostics);
    if (result.model) models.push(result.model);
  }
  trace(`documents: ${ready.length} (${ready.length - parsed} from cache, ${parsed} parsed)`);
  let merged;
  try {
    merged = mergeDocuments(models);
  } catch (error) {
    const file = models.length === 1 ? models[0]!.service.file : specs.join(', ');
    merged = { catalog: { services: [], events: [] }, diagnostics: [internalError(file, 'building the catalog', error)] };
  }
  const { catalog, diagnostics: catalogDiagnostics } = merged;
  const files = prepared.sources.all();
  const byShownPath = new Map(files.map((f) => [f.displayPath, f]));
  const locate = (file: string, pointer: string) => byShownPath.get(file)?.locate(pointer);
  const all = [...dedupe(loadDiagnostics), ...catalogDiagnostics, ...(options.examples === false ? [] : checkExamples(catalog, locate, options.examples === 'warning' ? 'warning' : 'error'))];
  // The same problem reached through two paths (a oneOf's branches, a shared fragment) is reported once.
  const seen = new Set<string>();
  const unique = all.filter((d) => {
    const key = formatDiagnostic(d);
    return seen.has(key) ? false : (seen.add(key), true);
  });
  const diagnostics = sortDiagnostics(unique);
  return { catalog, files, locateBelow: prepared.locateBelow, diagnostics, ok: !hasErrors(diagnostics) };
}
