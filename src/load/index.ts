/**
 * load: spec paths in, parsed AsyncAPI documents out, with every problem located.
 * Nothing downstream reads files or knows the AsyncAPI parser.
 */
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import type { AsyncAPIDocumentInterface } from '@asyncapi/parser';
import { internalError, type Diagnostic, type SourceLocation } from '../diagnostics.js';
import { parseAsyncApi } from './asyncapi-parser.js';
import { isObject, originFrom, originOf, scanRefs, SourceSet, SPEC_EXTENSIONS } from './refs.js';
import type { SourceFile } from './source-file.js';

import { decodePointer } from './source-file.js';
export { decodePointer, displayPath, encodePointer } from './source-file.js';
export type { SourceFile } from './source-file.js';
export { isObject, SourceSet } from './refs.js';

export interface LoadedDocument {
  entry: SourceFile;
  /** The entry and every file it references. */
  files: readonly SourceFile[];
  asyncapiVersion: string;
  document: AsyncAPIDocumentInterface;
  /** Where a node of the dereferenced document was written (following `$ref`s through files). */
  locate(path: readonly (string | number)[]): SourceLocation;
}

export interface SpecDiscovery {
  entries: string[];
  diagnostics: Diagnostic[];
}

/**
 * Expands the user's paths: a directory contributes every YAML/JSON file below it that
 * is an AsyncAPI document (the others are fragments, read only when referenced); a file
 * named explicitly must be one.
 */
export function discoverSpecs(paths: readonly string[], sources: SourceSet): SpecDiscovery {
  const entries = new Set<string>();
  const diagnostics: Diagnostic[] = [];
  for (const given of paths) {
    const abs = path.resolve(given);
    let stats;
    try {
      stats = statSync(abs);
    } catch {
      diagnostics.push({ code: 'SPEC_NOT_FOUND', severity: 'error', message: `no such file or directory: ${given}` });
      continue;
    }
    if (stats.isDirectory()) {
      for (const file of listSpecFiles(abs)) {
        const source = sources.get(file);
        if (source.value === undefined || isAsyncApiValue(source.value)) entries.add(file);
      }
    } else {
      const source = sources.get(abs);
      if (source.value !== undefined && !isAsyncApiValue(source.value)) {
        diagnostics.push({
          code: 'NOT_ASYNCAPI',
          severity: 'error',
          message: 'not an AsyncAPI document (no top-level "asyncapi" field)',
          location: source.locate(''),
        });
      } else {
        entries.add(abs);
      }
    }
  }
  if (entries.size === 0 && diagnostics.length === 0) {
    diagnostics.push({
      code: 'NO_SPECS',
      severity: 'error',
      message: `no AsyncAPI document found in ${paths.join(', ')} (a document has a top-level "asyncapi" field)`,
    });
  }
  return { entries: [...entries].sort(), diagnostics };
}

/**
 * Every file the given paths may name as a spec: the YAML/JSON files below a directory,
 * a file as given, and a path that does not exist yet as itself (so its appearance is
 * noticed by whoever hashes this list).
 */
export function listSpecPaths(paths: readonly string[]): string[] {
  return paths.flatMap((given) => {
    const abs = path.resolve(given);
    try {
      return statSync(abs).isDirectory() ? listSpecFiles(abs) : [abs];
    } catch {
      return [abs];
    }
  });
}

function listSpecFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name.startsWith('.') || entry.name === 'node_modules') continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listSpecFiles(full));
    else if (entry.isFile() && SPEC_EXTENSIONS.has(path.extname(entry.name).toLowerCase())) out.push(full);
  }
  return out.sort();
}

function isAsyncApiValue(value: unknown): boolean {
  return isObject(value) && typeof value.asyncapi === 'string';
}

/**
 * The folders a `$ref` may reach. Inside a workspace (a folder with a config file) that is
 * the workspace; a spec given from outside it is its own workspace (the folder named, or a
 * file's folder). `extra` adds roots the config names explicitly.
 */
export function workspaceRoots(specs: readonly string[], options: { configDir?: string; extra?: readonly string[] } = {}): string[] {
  const roots = new Set<string>((options.extra ?? []).map((r) => path.resolve(options.configDir ?? '.', r)));
  const configDir = options.configDir !== undefined ? path.resolve(options.configDir) : undefined;
  if (configDir !== undefined) roots.add(configDir);
  for (const spec of specs) {
    const abs = path.resolve(spec);
    if (configDir !== undefined && (abs === configDir || abs.startsWith(configDir + path.sep))) continue;
    let isDir = false;
    try {
      isDir = statSync(abs).isDirectory();
    } catch {
      isDir = false;
    }
    roots.add(isDir ? abs : path.dirname(abs));
  }
  return [...roots].sort();
}

export interface PreparedEntry {
  entry: SourceFile;
  /** The entry and every file it reaches, in path order. */
  files: SourceFile[];
  /** False when the entry or a file it references is broken: nothing to parse. */
  ok: boolean;
}

export interface PreparedWorkspace {
  entries: PreparedEntry[];
  sources: SourceSet;
  diagnostics: Diagnostic[];
  locateBelow(location: SourceLocation, pointer: string): SourceLocation;
}

/**
 * Everything before the AsyncAPI parser: discovery, our own parse of every file, and the
 * `$ref` scan. Cheap, and enough to know each document's inputs (for caching).
 */
export function prepareWorkspace(paths: readonly string[], sources: SourceSet): PreparedWorkspace {
  const discovery = discoverSpecs(paths, sources);
  const diagnostics: Diagnostic[] = [...discovery.diagnostics];
  const entries: PreparedEntry[] = [];
  for (const absPath of discovery.entries) {
    const entry = sources.get(absPath);
    if (entry.value === undefined) {
      diagnostics.push(...entry.diagnostics);
      entries.push({ entry, files: [entry], ok: false });
      continue;
    }
    let scan;
    try {
      scan = scanRefs(sources, entry);
    } catch (error) {
      diagnostics.push(internalError(entry.displayPath, 'following $refs', error));
      entries.push({ entry, files: [entry], ok: false });
      continue;
    }
    const brokenFiles = scan.files.filter((f) => f !== entry && f.value === undefined);
    for (const f of brokenFiles) diagnostics.push(...f.diagnostics);
    diagnostics.push(...scan.diagnostics);
    // The parser would stumble on the same problems with worse locations (or try the network).
    entries.push({ entry, files: scan.files, ok: scan.diagnostics.length === 0 && brokenFiles.length === 0 });
  }
  const locateBelow = (location: SourceLocation, pointer: string): SourceLocation => {
    const file = sources.all().find((f) => f.displayPath === location.file);
    if (!file || location.pointer === undefined) return location;
    return originFrom(sources, file, decodePointer(location.pointer), decodePointer(pointer));
  };
  return { entries, sources, diagnostics, locateBelow };
}

/** Runs one prepared document through the AsyncAPI parser. */
export async function parseEntry(prepared: PreparedEntry, sources: SourceSet): Promise<{ document?: LoadedDocument; diagnostics: Diagnostic[] }> {
  const { entry } = prepared;
  const parsed = await parseAsyncApi(entry.absPath, entry.text, sources);
  if (!parsed.document) return { diagnostics: parsed.diagnostics };
  return {
    diagnostics: parsed.diagnostics,
    document: {
      entry,
      files: prepared.files,
      asyncapiVersion: parsed.document.version(),
      document: parsed.document,
      locate: (segments) => originOf(sources, entry, segments),
    },
  };
}

/** A fragment shared by several documents reports its problem once. */
export function dedupe(diagnostics: Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return diagnostics.filter((d) => {
    const key = `${d.code}|${d.location?.file}|${d.location?.line}|${d.location?.column}|${d.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
