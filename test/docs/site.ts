/** Helpers that read an emitted docs site: write it out, check its links, look for active content. */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { GeneratedFile } from '../../src/emit/files.js';

export function writeSite(files: readonly GeneratedFile[], dir: string): string {
  rmSync(dir, { recursive: true, force: true });
  for (const f of files) {
    const p = path.join(dir, f.path);
    mkdirSync(path.dirname(p), { recursive: true });
    writeFileSync(p, f.content);
  }
  return dir;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', '#x27': "'", '#x3D': '=', '#x60': '`', '#39': "'" };
export const decode = (s: string) => s.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (m, e: string) => ENTITIES[e] ?? (e.startsWith('#x') ? String.fromCodePoint(parseInt(e.slice(2), 16)) : e.startsWith('#') ? String.fromCodePoint(Number(e.slice(1))) : m));

/** Every tag of a page with its attributes. Literal `<` only ever starts a tag: text is escaped. */
export function tags(html: string): { name: string; attrs: Map<string, string>; raw: string }[] {
  const out: { name: string; attrs: Map<string, string>; raw: string }[] = [];
  for (const m of html.matchAll(/<([a-zA-Z][\w:-]*)((?:\s+[^\s=>/]+(?:=(?:"[^"]*"|'[^']*'|[^\s>]+))?)*)\s*\/?>/g)) {
    const attrs = new Map<string, string>();
    for (const a of (m[2] ?? '').matchAll(/([^\s=>/]+)(?:=("[^"]*"|'[^']*'|[^\s>]+))?/g)) {
      const raw = a[2] ?? '';
      attrs.set((a[1] ?? '').toLowerCase(), decode(raw.replace(/^["']|["']$/g, '')));
    }
    out.push({ name: (m[1] ?? '').toLowerCase(), attrs, raw: m[0] });
  }
  return out;
}

/** Internal links (href/src) that do not resolve to an emitted file, or to an id in it. */
export function brokenLinks(files: readonly GeneratedFile[]): string[] {
  const byPath = new Map(files.map((f) => [f.path, f.content]));
  const ids = new Map<string, Set<string>>();
  const idsOf = (p: string) => {
    let set = ids.get(p);
    if (!set) {
      set = new Set(tags(byPath.get(p) ?? '').flatMap((t) => (t.attrs.has('id') ? [t.attrs.get('id') as string] : [])));
      ids.set(p, set);
    }
    return set;
  };
  const broken: string[] = [];
  for (const f of files) {
    if (!f.path.endsWith('.html')) continue;
    for (const t of tags(f.content)) {
      for (const attr of ['href', 'src', 'action']) {
        const value = t.attrs.get(attr);
        if (value === undefined || /^(https?:|mailto:)/i.test(value)) continue;
        const [target = '', fragment] = value.split('#', 2);
        const resolved = target === '' ? f.path : path.posix.normalize(path.posix.join(path.posix.dirname(f.path), target));
        if (!byPath.has(resolved)) broken.push(`${f.path}: ${attr}="${value}" → missing ${resolved}`);
        else if (fragment !== undefined && fragment !== '' && resolved.endsWith('.html') && !idsOf(resolved).has(fragment)) broken.push(`${f.path}: ${attr}="${value}" → no id "${fragment}" in ${resolved}`);
      }
    }
  }
  return broken;
}

/** Tags the docs may contain: what our templates write plus the sanitiser's allow-list. */
const ALLOWED_TAGS = new Set([
  'html', 'head', 'meta', 'title', 'link', 'script', 'body', 'a', 'header', 'form', 'label', 'input', 'p', 'ul', 'ol', 'li', 'nav', 'main', 'footer',
  'h1', 'h2', 'h3', 'h4', 'section', 'div', 'table', 'thead', 'tbody', 'tr', 'th', 'td', 'code', 'pre', 'span', 'br', 'strong', 'b', 'em', 'i',
  'dl', 'dt', 'dd', 'details', 'summary', 'svg', 'defs', 'marker', 'path', 'g', 'rect', 'text', 'desc', 'hr', 'kbd', 'sub', 'sup', 'del', 's', 'blockquote',
]);

/** Anything that could run or load: scripts other than ours, handlers, script URLs, foreign tags. */
export function activeContent(files: readonly GeneratedFile[]): string[] {
  const problems: string[] = [];
  for (const f of files) {
    if (!f.path.endsWith('.html')) continue;
    for (const t of tags(f.content)) {
      if (!ALLOWED_TAGS.has(t.name)) problems.push(`${f.path}: <${t.name}> ${t.raw}`);
      if (t.name === 'script' && !/^(\.\.\/)?assets\/search(-index)?\.js$/.test(t.attrs.get('src') ?? '')) problems.push(`${f.path}: script ${t.raw}`);
      for (const [name, value] of t.attrs) {
        if (name.startsWith('on')) problems.push(`${f.path}: handler ${t.raw}`);
        if (name === 'style' || name === 'srcdoc' || name === 'formaction') problems.push(`${f.path}: ${name} ${t.raw}`);
        if (/^\s*(javascript|data|vbscript):/i.test(value.replace(/[\u0000-\u0020]/g, ''))) problems.push(`${f.path}: script URL ${t.raw}`);
      }
      if (t.name === 'meta' && t.attrs.has('http-equiv') && t.attrs.get('http-equiv') !== 'Content-Security-Policy') problems.push(`${f.path}: ${t.raw}`);
    }
  }
  return problems;
}
