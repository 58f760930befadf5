/**
 * Trusted markup. Templates escape every value except an {@link Html}: Handlebars'
 * `escapeExpression` passes objects with a `toHTML()` method through as they are. Only
 * two places make one: the Markdown sanitiser and the layout's page body, so a template
 * never needs a triple-stash and nothing from a spec reaches a page unescaped by accident.
 */
export class Html {
  constructor(private readonly markup: string) {}
  toHTML(): string {
    return this.markup;
  }
  toString(): string {
    return this.markup;
  }
}

/**
 * Text for element content (never an attribute): only `&`, `<` and `>` are escaped, which
 * is all element content needs. Used for JSON (examples, enum values, bindings), where
 * Handlebars' attribute-safe escaping would turn every `"` into six bytes.
 */
export function text(value: string): Html {
  return new Html(value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;'));
}
