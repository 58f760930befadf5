/**
 * File names and fragment ids of the docs site. Names and versions come from specs and
 * may hold anything (spaces, `/`, `<`, quotes), so every name that ends up in a path or
 * an `id` goes through {@link encodeId}: a reversible encoding onto `[A-Za-z0-9.-]` plus
 * `_xx_` escapes. Reversible means two different names never share an id.
 */

import { boundedName } from '../catalog/names.js';

/** Characters kept as they are in ids and file names. */
const SAFE = /[A-Za-z0-9.-]/;

/**
 * Encodes text onto `[A-Za-z0-9._-]`: safe characters stay, every other UTF-16 code
 * unit becomes `_<hex>_` (so `_` itself becomes `_5f_`). Injective; readable for the
 * usual `user.created` / `2.0.0` / `givenName`.
 */
export function encodeId(text: string): string {
  let out = '';
  for (const ch of text) {
    out += SAFE.test(ch) ? ch : `_${(ch.codePointAt(0) ?? 0).toString(16)}_`;
  }
  return out === '' ? '_' : out;
}

/**
 * Hands out file slugs: the encoded name (a long one cut to a start plus a hash of the
 * whole), made unique ignoring case (case-insensitive file systems would otherwise merge
 * `User.html` and `user.html`) by a numeric suffix.
 * Callers pass names in a deterministic order, so the same catalog gives the same slugs.
 */
export class SlugAllocator {
  private readonly taken = new Set<string>();
  private readonly byName = new Map<string, string>();

  slug(name: string): string {
    const known = this.byName.get(name);
    if (known !== undefined) return known;
    const base = boundedName(encodeId(name), 100, name, '-');
    let slug = base;
    for (let i = 2; this.taken.has(slug.toLowerCase()); i++) slug = `${base}-${i}`;
    this.taken.add(slug.toLowerCase());
    this.byName.set(name, slug);
    return slug;
  }
}

/** Fragment id of an event version section. */
export function versionId(version: string): string {
  return `v${encodeId(version)}`;
}

/** A step in a property path: a named property, or the items of an array. */
export type PathSegment = { readonly name: string } | { readonly items: true };

/**
 * Fragment id of a property row: `v2.0.0-p-address.city` for the payload,
 * `v2.0.0-h-traceparent` for headers. Array items are `_i` (never produced by
 * {@link encodeId}, whose escapes hold only hex digits), so `roles._i`.
 */
export function propertyId(version: string, part: 'payload' | 'headers', path: readonly PathSegment[]): string {
  const segments = path.map((s) => ('items' in s ? '_i' : encodeId(s.name).replace(/\./g, '_2e_')));
  return `${versionId(version)}-${part === 'payload' ? 'p' : 'h'}-${segments.join('.')}`;
}

/** Path shown to readers: `address.city`, `roles[]`, `lineItems[].sku`. */
export function displayPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const s of path) {
    if ('items' in s) out += '[]';
    else out += (out === '' ? '' : '.') + s.name;
  }
  return out;
}

/** Every page lives at the root (`index.html`) or one folder down; links are relative. */
export function rootOf(pagePath: string): string {
  return pagePath.includes('/') ? '../' : '';
}
