/**
 * The one place that creates the docs' Handlebars instance. HTML escaping stays on (only
 * {@link Html} values pass through), only the built-in block helpers are allowed
 * (`knownHelpersOnly`: templates print and loop, they do not compute), and templates are
 * read from `templates/docs/` at the package root: `src/docs/` and `dist/docs/` are both
 * two levels below it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Handlebars from 'handlebars';

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

function load(dir: string): DocsTemplates {
  const hbs = Handlebars.create();
  const partialDir = path.join(dir, 'partials');
  for (const file of readdirSync(partialDir).sort()) {
    if (file.endsWith('.hbs')) hbs.registerPartial(file.slice(0, -4), trimTemplate(readFileSync(path.join(partialDir, file), 'utf8')));
  }
  const pages = new Map<string, HandlebarsTemplateDelegate>();
  for (const name of ['layout', 'index', 'service', 'event', 'channel'] as const) {
    pages.set(name, hbs.compile(trimTemplate(readFileSync(path.join(dir, `${name}.hbs`), 'utf8')), COMPILE));
  }
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
function trimTemplate(source: string): string {
  return source
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !(l.startsWith('{{!') && l.endsWith('}}')))
    .join('\n');
}
