/**
 * Our own view of `$ref`s between raw files: which files a document reaches, which
 * references are broken or remote, and where a node of the dereferenced document was
 * written. The AsyncAPI parser resolves references too, but keeps none of this.
 */
import { realpathSync } from 'node:fs';
import path from 'node:path';
import type { Diagnostic, SourceLocation } from '../diagnostics.js';
import { decodeFragment, encodePointer, readSourceFile, type SourceFile } from './source-file.js';

/** The only files a `$ref` may name (and the only files read as specs). */
export const SPEC_EXTENSIONS = new Set(['.yaml', '.yml', '.json']);
/** What a `$ref` may reach: spec files, and Avro schema files (`.avsc`, JSON) for Avro payloads. */
export const REF_EXTENSIONS = new Set([...SPEC_EXTENSIONS, '.avsc']);

/**
 * Reads each file once per run, whoever asks for it, and knows the workspace roots: the
 * folders a `$ref` may reach (compared after resolving symlinks).
 */
export class SourceSet {
  readonly #files = new Map<string, SourceFile>();
  /** Real paths of the roots. */
  readonly roots: readonly string[];

  constructor(roots: readonly string[]) {
    this.roots = [...new Set(roots.map((r) => realPathOf(path.resolve(r))))].sort();
  }

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

  /** Whether a path lies inside a root once symlinks are resolved (a missing file: judged by its nearest existing folder). */
  contains(absPath: string): boolean {
    const real = realPathOf(absPath);
    return this.roots.some((root) => real === root || real.startsWith(root.endsWith(path.sep) ? root : root + path.sep));
  }
}

/** The real path, or for a path that does not exist, its nearest existing ancestor's real path joined with the rest. */
export function realPathOf(absPath: string): string {
  let rest = '';
  let current = absPath;
  for (;;) {
    try {
      return path.join(realpathSync.native(current), rest);
    } catch {
      const parent = path.dirname(current);
      if (parent === current) return absPath;
      rest = path.join(path.basename(current), rest);
      current = parent;
    }
  }
}

export type RefProblemCode = 'UNRESOLVED_REF' | 'REF_OUTSIDE_WORKSPACE' | 'REF_NOT_RELATIVE' | 'REF_FILE_TYPE' | 'REF_MALFORMED';

export type RefResolution =
  | { kind: 'ok'; file: SourceFile; segments: string[]; value: unknown }
  | { kind: 'remote'; url: string }
  | { kind: 'broken'; code: RefProblemCode; reason: string; hint?: string };

export function valueAt(root: unknown, segments: readonly string[]): { found: boolean; value: unknown } {
  let node = root;
  for (const segment of segments) {
    if (Array.isArray(node) && /^\d+$/.test(segment) && Number(segment) < node.length) node = node[Number(segment)];
    else if (isObject(node) && Object.hasOwn(node, segment)) node = node[segment];
    else return { found: false, value: undefined };
  }
  return { found: true, value: node };
}

const RELATIVE_HINT = 'reference a .yaml, .yml, .json or .avsc file inside the workspace by a path relative to this file';

/**
 * Resolves one `$ref` against the raw files. Only relative paths to YAML/JSON files inside
 * a workspace root are followed; absolute paths, `file:` URLs and anything that leaves the
 * roots (also through a symlink) are refused before the file is read.
 */
export function resolveRef(sources: SourceSet, from: SourceFile, ref: string): RefResolution {
  const shown = JSON.stringify(ref.length > 200 ? ref.slice(0, 200) + '…' : ref);
  const broken = (code: RefProblemCode, reason: string, hint?: string): RefResolution => ({
    kind: 'broken',
    code,
    reason: `$ref ${shown}: ${reason}`,
    ...(hint ? { hint } : {}),
  });
  if (/^file:/i.test(ref)) return broken('REF_NOT_RELATIVE', 'file: URLs are not allowed', RELATIVE_HINT);
  if (/^[a-z][a-z0-9+.-]*:/i.test(ref) && !/^[a-z]:[\\/]/i.test(ref)) return { kind: 'remote', url: ref };
  const hash = ref.indexOf('#');
  const filePart = hash === -1 ? ref : ref.slice(0, hash);
  const fragment = hash === -1 ? '' : ref.slice(hash + 1);
  let target = from;
  if (filePart !== '') {
    let decoded: string;
    try {
      decoded = decodeURI(filePart);
    } catch {
      return broken('REF_MALFORMED', 'malformed percent-encoding in the file path');
    }
    if (decoded.includes('\0')) return broken('REF_MALFORMED', 'the file path contains a NUL character');
    if (path.posix.isAbsolute(decoded) || path.win32.isAbsolute(decoded)) {
      return broken('REF_NOT_RELATIVE', 'absolute paths are not allowed', RELATIVE_HINT);
    }
    if (!REF_EXTENSIONS.has(path.extname(decoded).toLowerCase())) {
      return broken('REF_FILE_TYPE', 'only .yaml, .yml, .json and (Avro) .avsc files can be referenced', RELATIVE_HINT);
    }
    const absPath = path.resolve(path.dirname(from.absPath), decoded);
    if (!sources.contains(absPath)) {
      return broken(
        'REF_OUTSIDE_WORKSPACE',
        `resolves outside the workspace (${sources.roots.join(', ')})`,
        'keep shared schemas inside the workspace, or add their folder to "refRoots" in the config',
      );
    }
    target = sources.get(absPath);
    if (target.value === undefined) {
      return target.diagnostics.some((d) => d.code === 'FILE_UNREADABLE')
        ? broken('UNRESOLVED_REF', `file ${target.displayPath} not found`)
        : broken('UNRESOLVED_REF', `${target.displayPath} does not parse`);
    }
  }
  if (fragment !== '' && !fragment.startsWith('/')) return broken('UNRESOLVED_REF', `"#${fragment}" is not a JSON pointer`);
  let segments: string[];
  try {
    segments = decodeFragment(fragment);
  } catch {
    return broken('REF_MALFORMED', `malformed percent-encoding in "#${fragment}"`);
  }
  const { found, value } = valueAt(target.value, segments);
  if (!found) return broken('UNRESOLVED_REF', `nothing at "#${fragment}" in ${target.displayPath}`);
  return { kind: 'ok', file: target, segments, value };
}

export interface RefScan {
  /** The entry and every file it reaches, in path order. */
  files: SourceFile[];
  diagnostics: Diagnostic[];
}

/**
 * How many nodes a document may expand to once every `$ref` is replaced by its target.
 * Shared fragments are fine; a reference fan-out (ten references to a schema that holds
 * ten references, four levels down) multiplies, and every later step — the parser's
 * dereferenced view, example checking, types, validators — pays the expanded size.
 */
export const MAX_EXPANDED_NODES = 100_000;

const isRefNode = (node: unknown): node is Record<string, unknown> & { $ref: string } => isObject(node) && typeof node.$ref === 'string';

/**
 * Follows every `$ref` reachable from the entry file and reports, where each is written:
 * broken, remote and refused references, reference cycles with no schema in between
 * (`A: {$ref: B}`, `B: {$ref: A}`, on which the AsyncAPI parser loops forever), and a
 * document whose expansion exceeds {@link MAX_EXPANDED_NODES}. Linear in the size of the
 * files: each reference target is walked once.
 */
export function scanRefs(sources: SourceSet, entry: SourceFile, maxExpandedNodes = MAX_EXPANDED_NODES): RefScan {
  const diagnostics: Diagnostic[] = [];
  const reached = new Map<string, SourceFile>([[entry.absPath, entry]]);
  const visitedTargets = new Set<string>();
  const chainDone = new Set<string>();
  const keyOf = (file: SourceFile, segments: readonly string[]) => `${file.absPath}#${encodePointer(segments)}`;

  /** Follows a chain of nodes that are only references; reports the chain that returns to itself. */
  const checkChain = (file: SourceFile, segments: string[], node: { $ref: string }): void => {
    const chain: Array<{ key: string; file: SourceFile; segments: string[]; ref: string }> = [];
    let current = { file, segments, ref: node.$ref };
    for (;;) {
      const key = keyOf(current.file, current.segments);
      if (chainDone.has(key)) break;
      const seenAt = chain.findIndex((c) => c.key === key);
      if (seenAt !== -1) {
        const cycle = chain.slice(seenAt);
        const first = cycle[0]!;
        diagnostics.push({
          code: 'REF_CYCLE',
          severity: 'error',
          message: `$ref ${JSON.stringify(first.ref)} is part of a reference cycle with no schema in between: ${[...cycle, first]
            .map((c) => `${c.file.displayPath}#${encodePointer(c.segments)}`)
            .join(' → ')}`,
          location: first.file.locate(encodePointer([...first.segments, '$ref'])),
          hint: 'one of the references must point at a schema (an object without $ref)',
        });
        break;
      }
      chain.push({ key, ...current });
      const resolved = resolveRef(sources, current.file, current.ref);
      if (resolved.kind !== 'ok' || !isRefNode(resolved.value)) break;
      current = { file: resolved.file, segments: resolved.segments, ref: resolved.value.$ref };
    }
    for (const c of chain) chainDone.add(c.key);
  };

  // An explicit stack: a deeply nested document must not exhaust the call stack.
  const stack: Array<{ file: SourceFile; node: unknown; segments: string[] }> = [{ file: entry, node: entry.value, segments: [] }];
  let written = 0; // nodes as written, each reference target once
  while (stack.length > 0) {
    const { file, node, segments } = stack.pop()!;
    written++;
    if (Array.isArray(node)) {
      for (let i = node.length - 1; i >= 0; i--) stack.push({ file, node: node[i], segments: [...segments, String(i)] });
      continue;
    }
    if (!isObject(node)) continue;
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
        diagnostics.push({ code: resolved.code, severity: 'error', message: resolved.reason, location: where(), ...(resolved.hint ? { hint: resolved.hint } : {}) });
      } else {
        reached.set(resolved.file.absPath, resolved.file);
        if (isRefNode(resolved.value)) checkChain(file, segments, node as { $ref: string });
        const key = keyOf(resolved.file, resolved.segments);
        if (!visitedTargets.has(key)) {
          visitedTargets.add(key);
          stack.push({ file: resolved.file, node: resolved.value, segments: resolved.segments });
        }
      }
    }
    const keys = Object.keys(node);
    for (let i = keys.length - 1; i >= 0; i--) {
      const key = keys[i]!;
      if (key !== '$ref') stack.push({ file, node: node[key], segments: [...segments, key] });
    }
  }
  if (diagnostics.length === 0 && written > maxExpandedNodes) {
    diagnostics.push({
      code: 'DOCUMENT_TOO_LARGE',
      severity: 'error',
      message: `the document and the files it references hold more than ${maxExpandedNodes} nodes: too large for one contract`,
      location: entry.locate(''),
      hint: 'split it into one document per service',
    });
  } else if (diagnostics.length === 0) {
    const blowUp = expansion(sources, entry, maxExpandedNodes);
    if (blowUp) diagnostics.push(blowUp);
  }
  const files = [...reached.values()].sort((a, b) => (a.absPath < b.absPath ? -1 : 1));
  return { files, diagnostics };
}

/**
 * The size of the document with every `$ref` replaced by its target, counted on the raw
 * files with one memo per target (so linear), saturating just above the limit. Over the
 * limit, the diagnostic points at where the fan-out multiplies: from the root, down the
 * largest child while that child alone holds more than a tenth of the limit.
 */
function expansion(sources: SourceSet, entry: SourceFile, limit: number): Diagnostic | undefined {
  const memo = new Map<string, number>();
  const cap = limit + 1;
  const sizeOf = (file: SourceFile, node: unknown, segments: string[], depth: number): number => {
    if (depth > 2000) return cap;
    if (isRefNode(node)) {
      const resolved = resolveRef(sources, file, node.$ref);
      if (resolved.kind !== 'ok') return 1;
      const key = `${resolved.file.absPath}#${encodePointer(resolved.segments)}`;
      const known = memo.get(key);
      if (known !== undefined) return known;
      memo.set(key, 1); // a recursive schema counts once
      const size = sizeOf(resolved.file, resolved.value, resolved.segments, depth + 1);
      memo.set(key, size);
      return size;
    }
    let total = 1;
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length && total < cap; i++) total += sizeOf(file, node[i], [...segments, String(i)], depth + 1);
    } else if (isObject(node)) {
      for (const key of Object.keys(node)) {
        if (total >= cap) break;
        total += sizeOf(file, node[key], [...segments, key], depth + 1);
      }
    }
    return Math.min(total, cap);
  };
  if (sizeOf(entry, entry.value, [], 0) <= limit) return undefined;
  // Descend along the largest child while it alone holds more than a tenth of the limit.
  let at = { file: entry, node: entry.value as unknown, segments: [] as string[] };
  for (let steps = 0; steps < 10_000; steps++) {
    let node = at.node;
    let file = at.file;
    let segments = at.segments;
    if (isRefNode(node)) {
      const resolved = resolveRef(sources, file, node.$ref);
      if (resolved.kind !== 'ok') break;
      ({ file, segments } = resolved);
      node = resolved.value;
    }
    const children: Array<[string, unknown]> = Array.isArray(node) ? node.map((v, i) => [String(i), v]) : isObject(node) ? Object.entries(node) : [];
    let largest: { key: string; child: unknown; size: number } | undefined;
    for (const [key, child] of children) {
      const size = sizeOf(file, child, [...segments, key], 0);
      if (size > limit / 10 && (!largest || size > largest.size)) largest = { key, child, size };
    }
    if (!largest) break;
    at = { file, node: largest.child, segments: [...segments, largest.key] };
  }
  return {
    code: 'DOCUMENT_TOO_LARGE',
    severity: 'error',
    message: `the document expands to more than ${limit} nodes once its $refs are resolved: references here multiply (a schema referenced many times that itself references many)`,
    location: at.file.locate(encodePointer(at.segments)),
    hint: 'reference one shared schema instead of repeating references in every branch, or split the document',
  };
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
      pointerSegments = resolved.segments;
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
