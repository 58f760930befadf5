/**
 * A spec file as text plus a position index: the AsyncAPI parser's dereferenced output
 * forgets which file and line a node came from, so every location we report is
 * recovered here, from our own parse of the raw YAML/JSON.
 */
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { readCache, sha256, writeCache } from '../cache.js';
import type { Diagnostic, SourceLocation } from '../diagnostics.js';

export interface SourceFile {
  /** Absolute path. */
  readonly absPath: string;
  /** Path shown to users: relative to the working directory when inside it. */
  readonly displayPath: string;
  readonly text: string;
  /** The plain JS value of the file, or undefined when it failed to parse. */
  readonly value: unknown;
  /** Syntax problems, already located. */
  readonly diagnostics: readonly Diagnostic[];
  /** Location of the node at a JSON pointer (the key of a map entry, so editors land on `name:`). */
  locate(pointer: string): SourceLocation;
}

export function displayPath(absPath: string, cwd = process.cwd()): string {
  const rel = path.relative(cwd, absPath);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel.split(path.sep).join('/') : absPath;
}

/**
 * A JSON pointer (RFC 6901) to its segments. Written as a URI fragment (`#/a%20b`) it is
 * percent-decoded first (RFC 6901 §6); a plain pointer is not, so a key holding `%` stays
 * itself. Never throws: a malformed percent escape in a fragment is kept as written
 * (the `$ref` scan reports it, see {@link decodeFragment}).
 */
export function decodePointer(pointer: string): string[] {
  if (pointer.startsWith('#')) {
    try {
      return decodeFragment(pointer.slice(1));
    } catch {
      return plainSegments(pointer.slice(1));
    }
  }
  return plainSegments(pointer);
}

/** The fragment of a `$ref` (without `#`) to segments; throws URIError on a malformed percent escape. */
export function decodeFragment(fragment: string): string[] {
  return plainSegments(fragment, decodeURIComponent);
}

function plainSegments(pointer: string, unescape: (segment: string) => string = (s) => s): string[] {
  if (pointer === '' || pointer === '/') return [];
  return pointer
    .split('/')
    .slice(1)
    .map((segment) => unescape(segment).replace(/~1/g, '/').replace(/~0/g, '~'));
}

export function encodePointer(segments: readonly (string | number)[]): string {
  return segments.map((s) => '/' + String(s).replace(/~/g, '~0').replace(/\//g, '~1')).join('');
}

/** Files above this size are refused unread. */
export const MAX_FILE_BYTES = 16 << 20;

export function readSourceFile(absPath: string): SourceFile {
  let text: string;
  const shown = displayPath(absPath);
  try {
    if (statSync(absPath).size > MAX_FILE_BYTES) {
      return brokenFile(absPath, shown, '', {
        code: 'FILE_TOO_LARGE',
        severity: 'error',
        message: `${shown} is larger than ${MAX_FILE_BYTES / (1 << 20)} MB; a contract document is not`,
        location: { file: shown, line: 1, column: 1 },
      });
    }
    text = readFileSync(absPath, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'file not found' : code === 'EISDIR' ? 'a folder, not a file' : code ?? (error as Error).message;
    return brokenFile(absPath, shown, '', {
      code: 'FILE_UNREADABLE',
      severity: 'error',
      message: `cannot read ${shown}: ${reason}`,
      location: { file: shown, line: 1, column: 1 },
    });
  }
  try {
    return parseSourceText(absPath, text, shown);
  } catch (error) {
    // The YAML library's own limits (e.g. the call stack on thousands of nested levels).
    return brokenFile(absPath, shown, text, {
      code: 'UNREADABLE_DOCUMENT',
      severity: 'error',
      message: `${shown} cannot be read: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`,
      location: { file: shown, line: 1, column: 1 },
    });
  }
}

/**
 * Parsing YAML with positions costs ~2 ms per KB: a workspace of large documents spends
 * seconds there. The plain value of a file is therefore cached by the file's content,
 * and the positioned parse is only redone when a location is asked for.
 */
export function parseSourceText(absPath: string, text: string, shown = displayPath(absPath), options: { json?: boolean } = {}): SourceFile {
  let parsed: { doc: Document; at: (offset: number) => SourceLocation } | undefined;
  const positioned = () => {
    if (!parsed) {
      const lineCounter = new LineCounter();
      const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false, strict: true });
      parsed = {
        doc,
        at: (offset: number): SourceLocation => {
          const { line, col } = lineCounter.linePos(offset);
          return { file: shown, line, column: col };
        },
      };
    }
    return parsed;
  };
  const key = sha256(text);
  let value = readCache<{ value: unknown }>('values', key)?.value;
  if (value === undefined && options.json) {
    // A file we wrote ourselves as JSON (the lock): JSON.parse is ~20× faster than the
    // positioned YAML parse, which then runs only if a location is asked for.
    try {
      value = JSON.parse(text) as unknown;
    } catch {
      value = undefined;
    }
  }
  const diagnostics: Diagnostic[] = [];
  if (value === undefined) {
    const { doc, at } = positioned();
    for (const error of doc.errors) {
      diagnostics.push({ code: 'SYNTAX', severity: 'error', message: firstLine(error.message), location: at(error.pos[0]) });
    }
    if (diagnostics.length === 0) {
      try {
        value = doc.toJS({ maxAliasCount: 100 });
        // Only well-formed files are cached: a broken one is parsed again to locate its errors.
        if (value !== undefined) writeCache('values', key, { value });
      } catch (error) {
        diagnostics.push({ code: 'SYNTAX', severity: 'error', message: (error as Error).message, location: at(0) });
      }
    }
  }
  if (value !== undefined && hasForbiddenKey(value)) {
    const { doc, at } = positioned();
    diagnostics.push(...forbiddenKeys(doc, at));
  }
  return {
    absPath,
    displayPath: shown,
    text,
    value: diagnostics.length === 0 ? value : undefined,
    diagnostics,
    locate: (pointer) => {
      try {
        const { doc, at } = positioned();
        return locateInDocument(doc, decodePointer(pointer), at, pointer);
      } catch {
        return { file: shown, line: 1, column: 1, pointer };
      }
    },
  };
}

function hasForbiddenKey(value: unknown): boolean {
  // An explicit stack: a deeply nested document must not exhaust the call stack.
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const node = stack.pop();
    if (Array.isArray(node)) for (const item of node) stack.push(item);
    else if (typeof node === 'object' && node !== null) {
      for (const key of FORBIDDEN_KEYS.keys()) if (Object.hasOwn(node, key)) return true;
      for (const item of Object.values(node)) stack.push(item);
    }
  }
  return false;
}

/**
 * Keys a contract may not use, and why: `__proto__` is a prototype-pollution hazard and
 * crashes the AsyncAPI parser (immer); `hasOwnProperty` shadows the method the parser's
 * reference resolver calls on every object (@stoplight/json-ref-resolver).
 */
const FORBIDDEN_KEYS = new Map([
  ['__proto__', 'the key "__proto__" is not allowed in a contract'],
  ['hasOwnProperty', 'the key "hasOwnProperty" is not allowed in a contract: the AsyncAPI parser cannot read an object that has it'],
]);

function brokenFile(absPath: string, shown: string, text: string, diagnostic: Diagnostic): SourceFile {
  return {
    absPath,
    displayPath: shown,
    text,
    value: undefined,
    diagnostics: [diagnostic],
    locate: (pointer) => ({ file: shown, line: 1, column: 1, pointer }),
  };
}

function firstLine(message: string): string {
  // yaml appends "at line L, column C:" and a code excerpt; the location is reported separately.
  return message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
}

/**
 * Walks as deep as the pointer goes; when a segment is missing, the deepest node found
 * is the best place to send the reader.
 */
function locateInDocument(
  doc: Document,
  segments: readonly string[],
  at: (offset: number) => SourceLocation,
  pointer: string,
): SourceLocation {
  let node: unknown = doc.contents;
  let anchor: number = (doc.contents as Node | null)?.range?.[0] ?? 0;
  for (const segment of segments) {
    if (isMap(node)) {
      const pair = node.items.find((p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)) === segment);
      if (!pair) break;
      anchor = (isScalar(pair.key) ? pair.key.range?.[0] : undefined) ?? anchor;
      node = pair.value;
    } else if (isSeq(node)) {
      const item = node.items[Number(segment)] as Node | undefined;
      if (!item || !/^\d+$/.test(segment)) break;
      anchor = item.range?.[0] ?? anchor;
      node = item;
    } else {
      break;
    }
  }
  return { ...at(anchor), pointer };
}

/** Every key of {@link FORBIDDEN_KEYS}, located. */
function forbiddenKeys(doc: Document, at: (offset: number) => SourceLocation): Diagnostic[] {
  const found: Diagnostic[] = [];
  const stack: unknown[] = [doc.contents];
  while (stack.length > 0) {
    const node = stack.pop();
    if (isMap(node)) {
      for (const pair of node.items) {
        const message = isScalar(pair.key) ? FORBIDDEN_KEYS.get(String(pair.key.value)) : undefined;
        if (message) found.push({ code: 'FORBIDDEN_KEY', severity: 'error', message, location: at((pair.key as Node).range?.[0] ?? 0) });
        stack.push(pair.value);
      }
    } else if (isSeq(node)) {
      for (const item of node.items) stack.push(item);
    }
  }
  // Document order (the stack visits the last entries first).
  found.sort((x, y) => x.location!.line - y.location!.line || x.location!.column - y.location!.column);
  return found;
}
