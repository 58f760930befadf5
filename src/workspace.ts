/** load → catalog → example checks: what `validate`, `catalog`, `generate` and `check` all start from. */
import { buildCatalog } from './catalog/build.js';
import type { Catalog } from './catalog/model.js';
import { formatDiagnostic, hasErrors, sortDiagnostics, type Diagnostic, type SourceLocation } from './diagnostics.js';
import { loadWorkspace, type SourceFile } from './load/index.js';
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

export async function openWorkspace(specs: readonly string[]): Promise<Workspace> {
  const loaded = await loadWorkspace(specs);
  const { catalog, diagnostics: catalogDiagnostics } = buildCatalog(loaded.documents);
  const byShownPath = new Map(loaded.files.map((f) => [f.displayPath, f]));
  const locate = (file: string, pointer: string) => byShownPath.get(file)?.locate(pointer);
  const all = [...loaded.diagnostics, ...catalogDiagnostics, ...checkExamples(catalog, locate)];
  // The same problem reached through two paths (a oneOf's branches, a shared fragment) is reported once.
  const seen = new Set<string>();
  const unique = all.filter((d) => {
    const key = formatDiagnostic(d);
    return seen.has(key) ? false : (seen.add(key), true);
  });
  const diagnostics = sortDiagnostics(unique);
  return { catalog, files: loaded.files, locateBelow: loaded.locateBelow, diagnostics, ok: !hasErrors(diagnostics) };
}
