/**
 * Markdown in spec descriptions → sanitised HTML. markdown-it renders (raw HTML allowed,
 * so that a harmless `<br>` or `<em>` in a description still works), then sanitize-html
 * keeps only an allow-list of inert tags: no scripts, no event handlers, no images or
 * other embedded resources (the site must not make a single request), links only to
 * http(s)/mailto. Spec headings become bold paragraphs so that they cannot break the
 * page's heading order.
 */
import MarkdownIt from 'markdown-it';
import sanitizeHtml from 'sanitize-html';
import { Html } from './html.js';

const md = new MarkdownIt({ html: true, linkify: false, typographer: false });

const ABSOLUTE_LINK = /^(https?:\/\/|mailto:)/i;
const heading: sanitizeHtml.Transformer = (_tag, _attribs) => ({ tagName: 'p', attribs: { class: 'mdh' } });

const OPTIONS: sanitizeHtml.IOptions = {
  allowedTags: [
    'p', 'br', 'hr', 'strong', 'b', 'em', 'i', 'code', 'pre', 'kbd', 'sub', 'sup', 'del', 's',
    'a', 'ul', 'ol', 'li', 'blockquote', 'table', 'thead', 'tbody', 'tr', 'th', 'td',
  ],
  allowedAttributes: { a: ['href', 'title', 'rel'], ol: ['start'], p: ['class'] },
  allowedClasses: { p: ['mdh'] },
  allowedSchemes: ['http', 'https', 'mailto'],
  allowedSchemesByTag: {},
  allowProtocolRelative: false,
  disallowedTagsMode: 'discard',
  transformTags: {
    h1: heading, h2: heading, h3: heading, h4: heading, h5: heading, h6: heading,
    // Relative links would point into the docs site, where the spec's targets do not exist.
    a: (_tag, attribs) => {
      const href = attribs.href ?? '';
      const out: sanitizeHtml.Attributes = { rel: 'nofollow noopener noreferrer' };
      if (ABSOLUTE_LINK.test(href.trim())) out.href = href;
      if (attribs.title !== undefined) out.title = attribs.title;
      return { tagName: 'a', attribs: out };
    },
  },
};

/** Sanitises an HTML fragment with the docs allow-list. */
export function sanitize(html: string): string {
  return sanitizeHtml(html, OPTIONS);
}

/**
 * Renders Markdown to sanitised HTML, memoised per renderer: specs repeat the same
 * descriptions (shared `$ref` schemas) hundreds of times in a large workspace.
 */
export class MarkdownRenderer {
  private readonly cache = new Map<string, Html>();

  /**
   * `inline`: a description that is a single paragraph is returned without its `<p>`
   * (table cells hold hundreds of them; the wrapper adds nothing there).
   */
  render(text: string | undefined, inline = false): Html | undefined {
    if (text === undefined || text.trim() === '') return undefined;
    const key = (inline ? 'i' : 'b') + text;
    let html = this.cache.get(key);
    if (html === undefined) {
      let out = sanitize(md.render(text)).trim();
      if (inline && out.startsWith('<p>') && out.endsWith('</p>') && out.indexOf('<p', 1) < 0) out = out.slice(3, -4);
      html = new Html(out);
      this.cache.set(key, html);
    }
    return html;
  }
}
