/** load → catalog → example checks: what `validate`, `catalog`, `generate` and `check` all start from. */
import { buildCatalog } from './catalog/build.js';
import type { Catalog } from './catalog/model.js';
import { hasErrors, sortDiagnostics, type Diagnostic } from './diagnostics.js';
import { loadWorkspace, type SourceFile } from './load/index.js';
import { checkExamples } from './validation/examples.js';

export interface Workspace {
  catalog: Catalog;
  /** Every file read, for caching and --watch. */
  files: SourceFile[];
  diagnostics: Diagnostic[];
  ok: boolean;
}

export async function openWorkspace(specs: readonly string[]): Promise<Workspace> {
  const loaded = await loadWorkspace(specs);
  const { catalog, diagnostics: catalogDiagnostics } = buildCatalog(loaded.documents);
  const byShownPath = new Map(loaded.files.map((f) => [f.displayPath, f]));
  const locate = (file: string, pointer: string) => byShownPath.get(file)?.locate(pointer);
  const diagnostics = sortDiagnostics([...loaded.diagnostics, ...catalogDiagnostics, ...checkExamples(catalog, locate)]);
  return { catalog, files: loaded.files, diagnostics, ok: !hasErrors(diagnostics) };
}
