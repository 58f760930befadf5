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
