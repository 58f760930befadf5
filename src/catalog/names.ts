/** Identifier helpers: everything from a spec is made safe before it becomes a name in code or a file name. */
import { createHash } from 'node:crypto';

const RESERVED = new Set(
  (
    'break case catch class const continue debugger default delete do else enum export extends false finally for ' +
    'function if import in instanceof new null return super switch this throw true try typeof var void while with ' +
    'yield let static implements interface package private protected public await any boolean number string symbol ' +
    'unknown never object undefined bigint type namespace declare module require arguments eval constructor'
  ).split(' '),
);

/** Splits on anything that is not a letter or digit (Unicode-aware). */
function words(text: string): string[] {
  return text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean);
}

/** `user.created` → `UserCreated`; never empty, never starting with a digit. */
export function pascalCase(text: string): string {
  const out = words(text)
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join('')
    .replace(/[^\p{L}\p{N}_$]/gu, '');
  if (out === '') return 'Unnamed';
  return /^\p{N}/u.test(out) ? `N${out}` : out;
}

/** `publish-user.created` → `publishUserCreated`; reserved words get a trailing underscore. */
export function camelCase(text: string): string {
  const pascal = pascalCase(text);
  const camel = pascal[0]!.toLowerCase() + pascal.slice(1);
  return RESERVED.has(camel) ? `${camel}_` : camel;
}

export function kebabCase(text: string): string {
  return words(text).map((w) => w.toLowerCase()).join('-') || 'unnamed';
}

/** Whether `name` can stand unquoted as a property name. */
export function isIdentifierName(name: string): boolean {
  return /^[\p{L}$_][\p{L}\p{N}$_]*$/u.test(name);
}

/** A property key for generated code: bare when safe, otherwise a JSON string literal. */
export function propertyKey(name: string): string {
  return isIdentifierName(name) ? name : JSON.stringify(name);
}

export function isReservedWord(name: string): boolean {
  return RESERVED.has(name);
}

/** Longest name (in characters) the generator derives from a spec for an identifier or a file. */
export const MAX_NAME_LENGTH = 80;

/**
 * A name cut to `max` characters: when longer, its start plus a hash of the whole text, so
 * two long names that share a start stay distinct and the same text always gives the same
 * name. `text` must already consist of safe characters (the hash adds the separator and hex digits).
 */
export function boundedName(name: string, max = MAX_NAME_LENGTH, text = name, separator: '_' | '-' = '_'): string {
  if (name.length <= max) return name;
  const hash = createHash('sha256').update(text).digest('hex').slice(0, 10);
  return `${name.slice(0, max - hash.length - 1)}${separator}${hash}`;
}

/** A service id that is safe as a file name on every file system: ASCII letters, digits, `.`, `_`, `-`; no leading dot. */
export const SAFE_SERVICE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$/;
