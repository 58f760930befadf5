import { describe, expect, it } from 'vitest';
import { MarkdownRenderer, sanitize } from '../../src/docs/markdown.js';

const render = (text: string) => new MarkdownRenderer().render(text)?.toString() ?? '';

describe('markdown in descriptions: rendered, then sanitised to inert HTML', () => {
  const cases: { name: string; given: string; want: string }[] = [
    { name: 'plain markdown', given: 'Use `eventId` to **de-duplicate**.', want: '<p>Use <code>eventId</code> to <strong>de-duplicate</strong>.</p>' },
    { name: 'script tag and its content dropped', given: 'a <script>window.__pwned=1</script> b', want: '<p>a  b</p>' },
    { name: 'img with onerror dropped', given: 'x <img src="x" onerror="window.__pwned=1"> y', want: '<p>x  y</p>' },
    // Not valid inline HTML for CommonMark (`=` in an unquoted value): it stays visible text.
    { name: 'malformed img tag is escaped text', given: 'x <img src=x onerror=window.__pwned=1> y', want: '<p>x &lt;img src=x onerror=window.__pwned=1&gt; y</p>' },
    { name: 'javascript: markdown link is not a link', given: '[click](javascript:window.__pwned=1)', want: '<p>[click](javascript:window.__pwned=1)</p>' },
    { name: 'javascript: raw link loses its href', given: '<a href="javascript:window.__pwned=1">x</a>', want: '<p><a rel="nofollow noopener noreferrer">x</a></p>' },
    { name: 'entity-obfuscated scheme loses its href', given: '<a href="jav&#x09;ascript:alert(1)">x</a>', want: '<p><a rel="nofollow noopener noreferrer">x</a></p>' },
    { name: 'relative link loses its href (no target on the site)', given: '[docs](./other.md)', want: '<p><a rel="nofollow noopener noreferrer">docs</a></p>' },
    { name: 'https link kept, made nofollow', given: '[wiki](https://wiki.example.com/x)', want: '<p><a rel="nofollow noopener noreferrer" href="https://wiki.example.com/x">wiki</a></p>' },
    { name: 'event handler attribute stripped', given: '<b onclick="window.__pwned=1">bold</b>', want: '<p><b>bold</b></p>' },
    { name: 'broken HTML is closed', given: '<b>unclosed <i>tags', want: '<p><b>unclosed <i>tags</i></b></p>' },
    { name: 'split script tag stays text', given: '<scr<script>ipt>x</script>', want: '<p>&lt;scr</p>' },
    { name: 'iframe, style, svg dropped', given: '<iframe srcdoc="<script>1</script>"></iframe><style>*{}</style><svg onload=alert(1)></svg>ok', want: 'ok' },
    { name: 'headings become paragraphs (page heading order)', given: '# Title', want: '<p class="mdh">Title</p>' },
    { name: 'style attribute stripped', given: '<p style="position:fixed">x</p>', want: '<p>x</p>' },
  ];
  for (const { name, given, want } of cases) {
    it(name, () => {
      expect(render(given)).toBe(want);
    });
  }

  it('inline rendering drops the wrapper of a single paragraph only', () => {
    const md = new MarkdownRenderer();
    expect(md.render('one *line*', true)?.toString()).toBe('one <em>line</em>');
    expect(md.render('one\n\ntwo', true)?.toString()).toBe('<p>one</p>\n<p>two</p>');
  });

  it('empty text renders nothing', () => {
    expect(new MarkdownRenderer().render('  ')).toBeUndefined();
    expect(new MarkdownRenderer().render(undefined)).toBeUndefined();
  });

  it('sanitize keeps nothing that runs, whatever the input', () => {
    const out = sanitize('<a href="data:text/html,x" onmouseover=1>a</a><form action="javascript:1"><button formaction="javascript:1">b</button></form><meta http-equiv=refresh content="0;url=javascript:1">');
    expect(out).not.toMatch(/data:|javascript:|on\w+=|<form|<button|<meta/i);
  });
});
