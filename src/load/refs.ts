/**
 * Our own view of `$ref`s between raw files: which files a document reaches, which
 * references are broken or remote, and where a node of the dereferenced document was
 * written. The AsyncAPI parser resolves references too, but keeps none of this.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Diagnostic, SourceLocation } from '../diagnostics.js';
import { decodePointer, encodePointer, readSourceFile, type SourceFile } from './source-file.js';

/** Reads each file once per run, whoever asks for it. */
export class SourceSet {
  readonly #files = new Map<string, SourceFile>();

  get(absPath: string): SourceFile {
    let file = this.#files.get(absPath);
    if (!file) {
      file = readSourceFile(absPath);
      this.#files.set(absPath, file);
    }
    return file;
  }

  /** Every file read so far, in path order. */
  all(): SourceFile[] {
    return [...this.#files.values()].sort((a, b) => (a.absPath < b.absPath ? -1 : a.absPath > b.absPath ? 1 : 0));
  }
}

export type RefResolution =
  | { kind: 'ok'; file: SourceFile; pointer: string; value: unknown }
  | { kind: 'remote'; url: string }
  | { kind: 'broken'; reason: string };

export function valueAt(root: unknown, segments: readonly string[]): { found: boolean; value: unknown } {
  let node = root;
  for (const segment of segments) {
    if (Array.isArray(node) && /^\d+$/.test(segment) && Number(segment) < node.length) node = node[Number(segment)];
    else if (isObject(node) && Object.hasOwn(node, segment)) node = node[segment];
    else return { found: false, value: undefined };
  }
  return { found: true, value: node };
}

export function resolveRef(sources: SourceSet, from: SourceFile, ref: string): RefResolution {
  if (/^[a-z][a-z0-9+.-]*:/i.test(ref) && !ref.startsWith('file:')) return { kind: 'remote', url: ref };
  const hash = ref.indexOf('#');
  const filePart = hash === -1 ? ref : ref.slice(0, hash);
  const pointer = hash === -1 ? '' : ref.slice(hash + 1);
  let target = from;
  if (filePart !== '') {
    const absPath = filePart.startsWith('file:')
      ? fileURLToPath(filePart)
      : path.resolve(path.dirname(from.absPath), decodeURI(filePart));
    target = sources.get(absPath);
    if (target.value === undefined) {
      return target.diagnostics.some((d) => d.code === 'FILE_UNREADABLE')
        ? { kind: 'broken', reason: `$ref "${ref}": file ${target.displayPath} not found` }
        : { kind: 'broken', reason: `$ref "${ref}": ${target.displayPath} does not parse` };
    }
  }
  if (pointer !== '' && !pointer.startsWith('/')) {
    return { kind: 'broken', reason: `$ref "${ref}": "#${pointer}" is not a JSON pointer` };
  }
  const { found, value } = valueAt(target.value, decodePointer(pointer));
  if (!found) return { kind: 'broken', reason: `$ref "${ref}": nothing at "#${pointer}" in ${target.displayPath}` };
  return { kind: 'ok', file: target, pointer, value };
}

export interface RefScan {
  /** The entry and every file it reaches, in path order. */
  files: SourceFile[];
  diagnostics: Diagnostic[];
}

/** Follows every `$ref` reachable from the entry file and reports the broken and remote ones where they are written. */
export function scanRefs(sources: SourceSet, entry: SourceFile): RefScan {
  const diagnostics: Diagnostic[] = [];
  const reached = new Map<string, SourceFile>([[entry.absPath, entry]]);
  const visitedTargets = new Set<string>();
  const walk = (file: SourceFile, node: unknown, segments: string[]): void => {
    if (Array.isArray(node)) {
      node.forEach((item, i) => walk(file, item, [...segments, String(i)]));
      return;
    }
    if (!isObject(node)) return;
    const ref = node.$ref;
    if (typeof ref === 'string') {
      // Locating costs a positioned parse of the file: only for references that need a diagnostic.
      const where = () => file.locate(encodePointer([...segments, '$ref']));
      const resolved = resolveRef(sources, file, ref);
      if (resolved.kind === 'remote') {
        diagnostics.push({
          code: 'REMOTE_REF',
          severity: 'error',
          message: `remote $ref "${resolved.url}" cannot be used: contracts are built offline and reproducibly`,
          location: where(),
          hint: 'copy the referenced schema into the workspace and reference it by a relative path',
        });
      } else if (resolved.kind === 'broken') {
        diagnostics.push({ code: 'UNRESOLVED_REF', severity: 'error', message: resolved.reason, location: where() });
      } else {
        reached.set(resolved.file.absPath, resolved.file);
        const key = `${resolved.file.absPath}#${resolved.pointer}`;
        if (!visitedTargets.has(key)) {
          visitedTargets.add(key);
          walk(resolved.file, resolved.value, decodePointer(resolved.pointer));
        }
      }
    }
    for (const [key, value] of Object.entries(node)) {
      if (key !== '$ref') walk(file, value, [...segments, key]);
    }
  };
  walk(entry, entry.value, []);
  const files = [...reached.values()].sort((a, b) => (a.absPath < b.absPath ? -1 : 1));
  return { files, diagnostics };
}

/**
 * Where a node of the dereferenced document was written: walk the raw files along the
 * path, jumping through each `$ref` met on the way.
 */
export function originOf(sources: SourceSet, entry: SourceFile, segments: readonly (string | number)[]): SourceLocation {
  return originFrom(sources, entry, [], segments);
}

/** As `originOf`, starting from a node other than the document root (e.g. a payload schema). */
export function originFrom(
  sources: SourceSet,
  start: SourceFile,
  startSegments: readonly string[],
  segments: readonly (string | number)[],
): SourceLocation {
  let file = start;
  let pointerSegments: string[] = [...startSegments];
  let node: unknown = valueAt(start.value, startSegments).value;
  const follow = (): boolean => {
    for (let hops = 0; hops < 32 && isObject(node) && typeof node.$ref === 'string'; hops++) {
      const resolved = resolveRef(sources, file, node.$ref);
      if (resolved.kind !== 'ok') return false;
      file = resolved.file;
      pointerSegments = decodePointer(resolved.pointer);
      node = resolved.value;
    }
    return true;
  };
  for (const raw of segments) {
    const segment = String(raw);
    if (!follow()) break;
    const step = valueAt(node, [segment]);
    if (!step.found) break;
    pointerSegments = [...pointerSegments, segment];
    node = step.value;
  }
  // A node that is itself a reference was written where the reference points.
  follow();
  return file.locate(encodePointer(pointerSegments));
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
