import { describe, expect, it } from 'vitest';
import type { Catalog } from '../../src/catalog/model.js';
import { emitDocs } from '../../src/docs/index.js';
import { GENERATED_BANNER, type GeneratedFile } from '../../src/emit/files.js';
import { evilCatalog, workspaceCatalog } from './fixtures.js';
import { activeContent, brokenLinks, tags } from './site.js';

const bytes = (f: GeneratedFile) => Buffer.byteLength(f.content, 'utf8');

describe('emitDocs on the workspace', () => {
  it('emits the index, one page per event type, service and channel, assets and schemas', async () => {
    const catalog = await workspaceCatalog();
    const paths = emitDocs(catalog).map((f) => f.path);
    expect(paths).toContain('index.html');
    expect(paths).toEqual(expect.arrayContaining(['assets/site.css', 'assets/search.js', 'assets/search-index.js', 'events/user.created.html', 'services/platform-service.html', 'schemas/user.created/1.2.0.json', 'schemas/user.created/2.0.0.json', 'schemas/user.created/2.0.0.headers.json']));
    expect(paths.filter((p) => p.startsWith('events/'))).toHaveLength(catalog.events.length);
    expect(paths.filter((p) => p.startsWith('services/'))).toHaveLength(catalog.services.length);
    expect(paths.filter((p) => p.startsWith('channels/'))).toHaveLength(catalog.services.reduce((n, s) => n + s.channels.length, 0));
    expect([...paths].sort()).toEqual(paths);
  });

  it('is deterministic: the same catalog gives the same bytes', async () => {
    const catalog = await workspaceCatalog();
    const copy = JSON.parse(JSON.stringify(catalog)) as Catalog;
    expect(emitDocs(copy)).toEqual(emitDocs(catalog));
  });

  it('every internal link and fragment resolves to an emitted file and id', async () => {
    const files = emitDocs(await workspaceCatalog());
    expect(brokenLinks(files)).toEqual([]);
    // The check itself finds breakage: drop a page and its links break.
    expect(brokenLinks(files.filter((f) => f.path !== 'services/users-service.html')).length).toBeGreaterThan(0);
  });

  it('every version and property has an id, and the downloadable schema is the payload', async () => {
    const catalog = await workspaceCatalog();
    const files = emitDocs(catalog);
    const page = files.find((f) => f.path === 'events/user.created.html')!.content;
    const ids = new Set(tags(page).map((t) => t.attrs.get('id')));
    for (const id of ['v1.2.0', 'v2.0.0', 'v2.0.0-p-givenName', 'v2.0.0-p-address.city', 'v2.0.0-p-roles', 'v2.0.0-h-traceparent', 'v1.2.0-p-name']) expect(ids).toContain(id);
    const schema = files.find((f) => f.path === 'schemas/user.created/2.0.0.json')!;
    const v2 = catalog.events.find((t) => t.type === 'user.created')!.versions[1]!;
    expect(JSON.parse(schema.content)).toEqual(v2.payload);
  });

  it('pages are self-contained: no absolute or remote resource URL, generated banner on every file', async () => {
    const files = emitDocs(await workspaceCatalog());
    for (const f of files.filter((x) => x.path.endsWith('.html'))) {
      expect(f.content).toContain(GENERATED_BANNER);
      for (const t of tags(f.content)) {
        for (const attr of ['src', 'href']) {
          const v = t.attrs.get(attr);
          if (v === undefined || (t.name === 'a' && /^(https?:|mailto:)/.test(v))) continue;
          expect(v, `${f.path} ${t.raw}`).not.toMatch(/^([a-z]+:|\/)/i);
        }
      }
    }
  });

  it('accessible structure: one h1, no skipped heading level, landmarks, labelled controls and regions', async () => {
    const files = emitDocs(await workspaceCatalog());
    const problems: string[] = [];
    for (const f of files.filter((x) => x.path.endsWith('.html'))) {
      const t = tags(f.content);
      const levels = t.filter((x) => /^h[1-6]$/.test(x.name)).map((x) => Number(x.name.slice(1)));
      if (levels.filter((l) => l === 1).length !== 1 || levels[0] !== 1) problems.push(`${f.path}: h1 count/position`);
      levels.forEach((l, i) => {
        if (i > 0 && l > (levels[i - 1] as number) + 1) problems.push(`${f.path}: h${levels[i - 1]} followed by h${l}`);
      });
      for (const landmark of ['header', 'main', 'footer']) if (!t.some((x) => x.name === landmark)) problems.push(`${f.path}: no <${landmark}>`);
      if (!t.some((x) => x.name === 'form' && x.attrs.get('role') === 'search')) problems.push(`${f.path}: no search landmark`);
      if (!t.some((x) => x.name === 'html' && x.attrs.get('lang') === 'en')) problems.push(`${f.path}: no lang`);
      const labelled = new Set(t.filter((x) => x.name === 'label').map((x) => x.attrs.get('for')));
      for (const input of t.filter((x) => x.name === 'input')) if (!labelled.has(input.attrs.get('id'))) problems.push(`${f.path}: unlabelled ${input.raw}`);
      // Scrollable regions are focusable (keyboard scrolling) and named.
      for (const region of t.filter((x) => x.attrs.get('role') === 'region')) {
        if (region.attrs.get('tabindex') !== '0' || !(region.attrs.has('aria-label') || region.attrs.has('aria-labelledby'))) problems.push(`${f.path}: ${region.raw}`);
      }
      for (const svg of t.filter((x) => x.name === 'svg')) if (svg.attrs.get('role') !== 'img' || !svg.attrs.has('aria-labelledby')) problems.push(`${f.path}: ${svg.raw}`);
    }
    expect(problems).toEqual([]);
  });

  it('search index holds every event name, summary and property name', async () => {
    const catalog = await workspaceCatalog();
    const index = emitDocs(catalog).find((f) => f.path === 'assets/search-index.js')!.content;
    const data = JSON.parse(index.slice(index.indexOf('=') + 1).trim().replace(/;$/, '')) as { w: string[]; e: [string, string, string, string, number, number[]][] };
    expect(data.e.map((e) => e[0])).toEqual(catalog.events.map((t) => t.type));
    const created = data.e.find((e) => e[0] === 'user.created')!;
    expect(created.slice(1, 5)).toEqual(['user.created', '2.0.0', 'A user account was created.', 0]);
    expect(created[5].map((i) => data.w[i])).toEqual(expect.arrayContaining(['givenName', 'name', 'city', 'x-correlation-id']));
  });
});

describe('an evil catalog produces inert pages', () => {
  it('no script other than ours, no handler, no script URL, no foreign tag', () => {
    const files = emitDocs(evilCatalog(), { title: '<script>window.__pwned=1</script>' });
    expect(activeContent(files)).toEqual([]);
    expect(brokenLinks(files)).toEqual([]);
    // The downloadable .json schemas hold the spec's strings verbatim: data, never rendered.
    for (const f of files.filter((x) => !x.path.endsWith('.json'))) expect(f.content, f.path).not.toMatch(/<script>window|<img|<iframe|<svg onload|<style/i);
    // File names stay inside the site and on safe characters.
    for (const f of files) expect(f.path).toMatch(/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/);
  });

  it('the checks would notice active content', () => {
    const bad = [{ path: 'x.html', content: '<p onclick="x">a</p><a href=" javascript:x">b</a><script>1</script><img src=x>' }];
    expect(activeContent(bad)).toHaveLength(4);
  });

  it('the search index is data only', () => {
    const index = emitDocs(evilCatalog()).find((f) => f.path === 'assets/search-index.js')!.content;
    expect(index).not.toContain('<');
    expect(index.split('\n').filter((l) => l && !l.startsWith('//'))).toHaveLength(1);
  });
});

describe('size budget on a 500-event workspace (issue 6)', () => {
  it('shared assets < 200 KB, event pages < 20 KB on average, every item still on the page', async () => {
    const bench = (await import('../../bench/docs.mjs' as string)) as {
      syntheticCatalog: (events: number, services: number) => Catalog;
      docsSizes: (files: GeneratedFile[]) => { assets: number; averageEventPage: number; eventPages: number };
    };
    const catalog = bench.syntheticCatalog(500, 25);
    // How long emitDocs takes is `npm run bench -- docs`'s figure, not an assertion.
    const files = emitDocs(catalog);
    const sizes = bench.docsSizes(files);
    expect(sizes.eventPages).toBe(500);
    expect(sizes.assets).toBeLessThan(200_000);
    expect(sizes.averageEventPage).toBeLessThan(20_000);
    // Small must not mean thin: a three-version page still carries every part.
    const page = files.find((f) => f.path.startsWith('events/') && f.content.includes('deprecated') && f.content.includes('Changes from'))!;
    for (const part of ['Who talks to whom', '<svg', 'Payload', 'Headers', 'Examples', 'download', 'Changes from', 'required']) expect(page.content).toContain(part);
    expect(files.filter((f) => f.path.startsWith('assets/')).reduce((n, f) => n + bytes(f), 0)).toBe(sizes.assets);
  });
});
