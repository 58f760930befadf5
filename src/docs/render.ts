/**
 * The one place that creates the docs' Handlebars instance. HTML escaping stays on (only
 * {@link Html} values pass through), only the built-in block helpers are allowed
 * (`knownHelpersOnly`: templates print and loop, they do not compute), and templates are
 * read from `templates/docs/` at the package root: `src/docs/` and `dist/docs/` are both
 * two levels below it.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Handlebars from 'handlebars';
import { trace } from '../trace.js';

const require = createRequire(import.meta.url);

export const TEMPLATE_DIR = fileURLToPath(new URL('../../templates/docs/', import.meta.url));

const COMPILE: CompileOptions = { knownHelpersOnly: true, preventIndent: true, noEscape: false };

export type PageTemplate = 'layout' | 'index' | 'service' | 'event' | 'channel';

export interface DocsTemplates {
  page(name: PageTemplate, view: object): string;
  /** A static asset (`site.css`, `search.js`) as text. */
  asset(name: string): string;
}

let cached: DocsTemplates | undefined;

/** Templates are compiled once per process: they are part of the package, not of the input. */
export function docsTemplates(): DocsTemplates {
  cached ??= load(TEMPLATE_DIR);
  return cached;
}

/** Every template as it is compiled: pages and partials, trimmed, by name. */
export function templateSources(dir: string): { pages: Map<string, string>; partials: Map<string, string> } {
  const partialDir = path.join(dir, 'partials');
  const partials = new Map<string, string>();
  for (const file of readdirSync(partialDir).sort()) {
    if (file.endsWith('.hbs')) partials.set(file.slice(0, -4), trimTemplate(readFileSync(path.join(partialDir, file), 'utf8')));
  }
  const pages = new Map<string, string>();
  for (const name of PAGES) pages.set(name, trimTemplate(readFileSync(path.join(dir, `${name}.hbs`), 'utf8')));
  return { pages, partials };
}

const PAGES = ['layout', 'index', 'service', 'event', 'channel'] as const;

/** The compile options every template is compiled with, at build time or at run time. */
export const COMPILE_OPTIONS = COMPILE;

/** `templates/precompile.mjs` writes this at build time: each template's spec and the hash of the source it came from. */
const PRECOMPILED = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'docs', 'templates.precompiled.cjs');

interface Precompiled {
  handlebars: string;
  templates: Record<string, { hash: string; spec: TemplateSpecification }>;
}

const hashOf = (source: string) => createHash('sha256').update(source).digest('hex');

/**
 * Parsing and compiling the templates costs about 70 ms per process; `npm run build`
 * precompiles them. A precompiled template is used only while its source is unchanged
 * (same hash) and built by this Handlebars version; otherwise it is compiled here.
 */
function load(dir: string): DocsTemplates {
  const hbs = Handlebars.create();
  const { pages: pageSources, partials } = templateSources(dir);
  let precompiled: Precompiled | undefined;
  try {
    // EVENT_CONTRACTS_PRECOMPILED=0 compiles every template here (tests compare both ways).
    if (process.env.EVENT_CONTRACTS_PRECOMPILED !== '0') precompiled = require(PRECOMPILED) as Precompiled;
    if (precompiled?.handlebars !== Handlebars.VERSION) precompiled = undefined;
  } catch {
    precompiled = undefined;
  }
  let used = 0;
  const template = (key: string, source: string): HandlebarsTemplateDelegate => {
    const built = precompiled?.templates[key];
    if (built && built.hash === hashOf(source)) {
      used++;
      return hbs.template(built.spec);
    }
    return hbs.compile(source, COMPILE);
  };
  for (const [name, source] of partials) hbs.registerPartial(name, template(`partials/${name}`, source));
  const pages = new Map<string, HandlebarsTemplateDelegate>();
  for (const [name, source] of pageSources) pages.set(name, template(name, source));
  trace(`docs templates: ${used} precompiled, ${partials.size + pageSources.size - used} compiled now`);
  const assets = new Map<string, string>();
  return {
    page(name, view) {
      return (pages.get(name) as HandlebarsTemplateDelegate)(view);
    },
    asset(name) {
      let text = assets.get(name);
      if (text === undefined) assets.set(name, (text = readFileSync(path.join(dir, 'assets', name), 'utf8')));
      return text;
    },
  };
}

/**
 * Templates are written indented for people; pages are shipped without that indentation
 * (about a fifth of an event page). Only leading whitespace and blank lines go, so `<pre>`
 * content, which comes from the view model, is untouched.
 */
export function trimTemplate(source: string): string {
  return source
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !(l.startsWith('{{!') && l.endsWith('}}')))
    .join('\n');
}
