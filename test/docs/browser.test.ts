/**
 * The docs in a real browser: Debian's Chromium driven by playwright-core, pages loaded
 * over file://. No skip when Chromium is missing: CI installs it, and a docs site that
 * was never opened in a browser is not tested.
 */
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emitDocs } from '../../src/docs/index.js';
import type { GeneratedFile } from '../../src/emit/files.js';
import { evilCatalog, workspaceCatalog } from './fixtures.js';
import { writeSite } from './site.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = path.resolve('test-artifacts/docs');
const SCREENSHOTS = path.join(ARTIFACTS, 'screenshots');

let browser: Browser;
let context: BrowserContext;
let site: { dir: string; files: GeneratedFile[] };
let evil: { dir: string; files: GeneratedFile[] };

/** Problems a page reported: console errors, page errors, failed or non-file requests, dialogs. */
interface Watched {
  page: Page;
  problems: string[];
}

async function open(url: string, ctx: BrowserContext = context): Promise<Watched> {
  const page = await ctx.newPage();
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText ?? ''}`));
  page.on('request', (r) => {
    if (!r.url().startsWith('file://')) problems.push(`network request: ${r.url()}`);
  });
  page.on('dialog', (d) => {
    problems.push(`dialog: ${d.message()}`);
    void d.dismiss();
  });
  await page.goto(url, { waitUntil: 'load' });
  return { page, problems };
}

const url = (dir: string, file: string) => {
  const [name = '', fragment] = file.split('#');
  return pathToFileURL(path.join(dir, name)).href + (fragment !== undefined ? `#${fragment}` : '');
};
// Page-side code is passed as strings: the test project has no DOM types.
const pwned = (page: Page) => page.evaluate<unknown>('window.__pwned');

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium package (apt-get install -y chromium)`);
  const catalog = await workspaceCatalog();
  const files = emitDocs(catalog);
  site = { dir: writeSite(files, path.join(ARTIFACTS, 'site')), files };
  const evilFiles = emitDocs(evilCatalog(), { title: '<script>window.__pwned=1</script>' });
  evil = { dir: writeSite(evilFiles, path.join(ARTIFACTS, 'evil')), files: evilFiles };
  mkdirSync(SCREENSHOTS, { recursive: true });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
});

afterAll(async () => {
  await browser?.close();
});

describe('docs in Chromium over file://', () => {
  it('every page loads with no console error, no failed request and no network request', async () => {
    const pages = site.files.filter((f) => f.path.endsWith('.html')).map((f) => f.path);
    expect(pages.length).toBeGreaterThan(30);
    const problems: string[] = [];
    for (const p of pages) {
      const w = await open(url(site.dir, p));
      // The search script ran: it found its index (a script global, not fetch()).
      const ready = await w.page.evaluate<boolean>("typeof window.__eventContractsSearch === 'object'");
      if (!ready) problems.push(`${p}: search index not loaded`);
      problems.push(...w.problems.map((x) => `${p}: ${x}`));
      await w.page.close();
    }
    expect(problems).toEqual([]);
  }, 180_000);

  it('search finds an event by name and by property; clicking a result opens its page', async () => {
    const w = await open(url(site.dir, 'index.html'));
    await w.page.fill('#q', 'health status');
    const result = w.page.locator('#q-results a', { hasText: 'system.health.status' });
    await expect.poll(() => result.count()).toBe(1);
    await result.click();
    await w.page.waitForURL(/events\/system\.health\.status\.html$/);
    expect(await w.page.locator('h1').innerText()).toBe('system.health.status');

    // From an event page (other folder), by a property name only events carry.
    await w.page.fill('#q', 'givenName');
    const byProperty = w.page.locator('#q-results a').first();
    await expect.poll(() => byProperty.innerText()).toContain('user.created');
    expect(await byProperty.innerText()).toContain('property givenName');
    await w.page.keyboard.press('Enter');
    await w.page.waitForURL(/events\/user\.created\.html$/);
    expect(await w.page.locator('#q-status').innerText()).toBe('');
    expect(w.problems).toEqual([]);
    await w.page.close();
  });

  it('navigates between versions of user.created and to deep links', async () => {
    const w = await open(url(site.dir, 'events/user.created.html'));
    const inView = (id: string) =>
      w.page.evaluate<boolean>(`(() => { const r = document.getElementById(${JSON.stringify(id)}).getBoundingClientRect(); return r.top >= -1 && r.top < window.innerHeight; })()`);
    await w.page.click('nav.versions a[href="#v1.2.0"]');
    expect(new URL(w.page.url()).hash).toBe('#v1.2.0');
    expect(await inView('v1.2.0')).toBe(true);
    await w.page.click('[id="v1.2.0"] a[rel="next"]');
    expect(new URL(w.page.url()).hash).toBe('#v2.0.0');
    expect(await inView('v2.0.0')).toBe(true);
    await w.page.click('[id="v2.0.0"] a[rel="prev"]');
    expect(new URL(w.page.url()).hash).toBe('#v1.2.0');
    // The deprecation notice links to the replacement version.
    await w.page.click('[id="v1.2.0"] .callout a');
    expect(new URL(w.page.url()).hash).toBe('#v2.0.0');
    // Changelog findings link to the property rows they talk about.
    await w.page.click('[id="v2.0.0"] .findings a[href="#v2.0.0-p-givenName"] >> nth=0');
    expect(await inView('v2.0.0-p-givenName')).toBe(true);
    expect(w.problems).toEqual([]);
    await w.page.close();

    const deep = await open(url(site.dir, 'events/user.created.html#v2.0.0-p-address.city'));
    expect(await deep.page.evaluate<string | undefined>("document.querySelector(':target')?.id")).toBe('v2.0.0-p-address.city');
    await deep.page.close();
  });

  it('the evil site never runs injected script, loads nothing, and its search stays inert', async () => {
    const problems: string[] = [];
    for (const f of evil.files.filter((x) => x.path.endsWith('.html'))) {
      const w = await open(url(evil.dir, f.path));
      // Hover and click everything a visitor could, then search for the evil names.
      for (const el of await w.page.locator('main a, main summary, main div').all()) await el.hover({ timeout: 1000 }).catch(() => undefined);
      for (const el of await w.page.locator('details summary').all()) await el.click({ timeout: 1000 }).catch(() => undefined);
      await w.page.fill('#q', 'evil');
      await w.page.waitForSelector('#q-results a');
      if ((await w.page.locator('#q-results img, #q-results script').count()) > 0) problems.push(`${f.path}: markup in search results`);
      if ((await pwned(w.page)) !== undefined) problems.push(`${f.path}: window.__pwned was set`);
      problems.push(...w.problems.map((x) => `${f.path}: ${x}`));
      await w.page.close();
    }
    expect(problems).toEqual([]);
    // The marker works: a page that does run the payload sets it.
    const control = await context.newPage();
    await control.setContent('<img src=x onerror=window.__pwned=1>');
    await expect.poll(() => pwned(control)).toBe(1);
    await control.close();
  }, 180_000);

  it('writes screenshots of the index and an event page (light, dark, phone)', async () => {
    const shots: [string, string, { width: number; height: number }, 'light' | 'dark'][] = [
      ['index.png', 'index.html', { width: 1280, height: 900 }, 'light'],
      ['event-user.created.png', 'events/user.created.html', { width: 1280, height: 900 }, 'light'],
      ['event-user.created-dark.png', 'events/user.created.html#v2.0.0', { width: 1280, height: 900 }, 'dark'],
      ['event-transaction.created-phone.png', 'events/transaction.created.html', { width: 390, height: 844 }, 'light'],
      ['service-platform.png', 'services/platform-service.html', { width: 1280, height: 900 }, 'light'],
    ];
    for (const [name, page, viewport, colorScheme] of shots) {
      const ctx = await browser.newContext({ viewport, colorScheme });
      const w = await open(url(site.dir, page), ctx);
      const file = path.join(SCREENSHOTS, name);
      await w.page.screenshot({ path: file, fullPage: name === 'index.png' });
      expect(existsSync(file)).toBe(true);
      // Readable on a phone: nothing but scrollable regions is wider than the screen.
      if (viewport.width < 500) expect(await w.page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(viewport.width);
      expect(w.problems).toEqual([]);
      await ctx.close();
    }
  }, 120_000);
});
