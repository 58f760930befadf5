/**
 * A code file that tracks the symbols it imports: emitters ask for a symbol and get its
 * name; import lines are written once, sorted, at the end. No emitter writes an import
 * line by hand.
 */
import { banner } from './files.js';

export class CodeFile {
  readonly #imports = new Map<string, Map<string, boolean>>();
  readonly #lines: string[] = [];

  constructor(readonly path: string) {}

  /** Imports `name` from `from` (a value unless `type` is set) and returns the name to use. */
  use(name: string, from: string, kind: 'value' | 'type' = 'value'): string {
    let names = this.#imports.get(from);
    if (!names) {
      names = new Map();
      this.#imports.set(from, names);
    }
    // A symbol used once as a value is imported as a value.
    names.set(name, (names.get(name) ?? true) && kind === 'type');
    return name;
  }

  type(name: string, from: string): string {
    return this.use(name, from, 'type');
  }

  line(text = ''): this {
    this.#lines.push(text);
    return this;
  }

  /** Appends pre-rendered text (e.g. a doc comment that already ends with a newline). */
  raw(text: string): this {
    if (text !== '') this.#lines.push(text.replace(/\n$/, ''));
    return this;
  }

  render(): string {
    const imports = [...this.#imports.keys()].sort().map((from) => {
      const names = this.#imports.get(from)!;
      const list = [...names.keys()].sort().map((n) => (names.get(n) ? `type ${n}` : n));
      const allTypes = [...names.values()].every(Boolean);
      const body = allTypes ? [...names.keys()].sort().join(', ') : list.join(', ');
      return `import ${allTypes ? 'type ' : ''}{ ${body} } from ${JSON.stringify(from)};`;
    });
    const body = this.#lines.join('\n').replace(/\n{3,}/g, '\n\n').replace(/^\n+/, '').trimEnd();
    return `${banner('//')}${imports.join('\n')}${imports.length ? '\n\n' : '\n'}${body}\n`;
  }
}
