/**
 * TypeScript types for payload and header JSON Schemas (issue 2, item 5).
 *
 * build (names, clashes: `build.ts`) → discover (which schemas get a declaration of their
 * own: modelina, `discover.ts`) → render (`print.ts`) → sort. Same requests in any order →
 * byte-identical source.
 */
import type { Diagnostic } from '../../diagnostics.js';
import { sortDiagnostics } from '../../diagnostics.js';
import { buildNodes } from './build.js';
import type { TypeNode, TypeRequest } from './build.js';
import { discoverModels } from './discover.js';
import { Printer } from './print.js';

export type { TypeRequest } from './build.js';

export interface TypesOutput {
  /** The body of a `types.ts` module: only `export interface`/`export type` declarations, sorted by name. */
  source: string;
  diagnostics: Diagnostic[];
}

/** `reserved`: names other modules of the package export (see `packageNames`); types are named around them. */
export async function emitTypes(requests: readonly TypeRequest[], reserved: ReadonlySet<string> = new Set()): Promise<TypesOutput> {
  const built = buildNodes(requests, reserved);
  const discovery = await discoverModels(built.roots);
  const diagnostics = [...built.diagnostics, ...discovery.diagnostics];
  const failed = discovery.diagnostics.length > 0;

  // One representative node per declared name (identical shapes share a name).
  const byStamp = new Map<string, TypeNode>();
  for (const node of built.nodes) if (node.claimed && !byStamp.has(node.stamp)) byStamp.set(node.stamp, node);

  const declared = new Set<string>();
  for (const root of built.roots) declared.add(root.stamp);
  for (const node of built.nodes) {
    // Cycle targets always need a name; the rest is modelina's call (or all, if it failed).
    if (node.backEdge && node.ref) declared.add(node.ref.stamp);
    if (node.claimed && (failed || discovery.models.has(node.stamp))) declared.add(node.stamp);
  }

  const printer = new Printer(declared);
  const requestOf = new Map(built.roots.map((r, i) => [r, built.requests[i]!]));
  const blocks = [...declared]
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    .map((name) => {
      const node = byStamp.get(name)!;
      return printer.declaration(node, requestOf.get(node));
    });
  return { source: blocks.join('\n'), diagnostics: sortDiagnostics(diagnostics) };
}
