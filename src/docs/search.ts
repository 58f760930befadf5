/**
 * The client-side search index, shipped as a script (`assets/search-index.js`) because
 * `fetch()` of a local file is refused on `file://`. Property names repeat across events
 * (`eventId`, `createdAt`…), so they are stored once in a word list and events refer to
 * them by position; this keeps a 500-event index well under the size budget.
 *
 * Shape: `{ w: string[], e: [type, slug, latestVersion, summary, deprecated(0|1), wordIndexes][] }`.
 */
export interface SearchEntry {
  readonly type: string;
  readonly slug: string;
  readonly latest: string;
  readonly summary: string;
  readonly deprecated: boolean;
  readonly properties: readonly string[];
}

export const SEARCH_GLOBAL = '__eventContractsSearch';

export function searchIndexScript(entries: readonly SearchEntry[], banner: string): string {
  const words = [...new Set(entries.flatMap((e) => e.properties))].sort();
  const position = new Map(words.map((w, i) => [w, i]));
  const e = entries.map((x) => [x.type, x.slug, x.latest, x.summary, x.deprecated ? 1 : 0, [...new Set(x.properties)].map((p) => position.get(p)).sort((a, b) => a! - b!)]);
  // JSON is a JavaScript expression; U+2028/2029 are escaped for older parsers, `<` so
  // that the file stays inert even if someone inlines it into a page.
  const data = JSON.stringify({ w: words, e }).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
  return `// ${banner}\nwindow.${SEARCH_GLOBAL}=${data};\n`;
}
