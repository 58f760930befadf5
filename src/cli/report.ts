/** Printing diagnostics: the CLI is the only layer that writes to the terminal. */
import { formatDiagnostic, hasErrors, type Diagnostic } from '../diagnostics.js';

export type OutputFormat = 'human' | 'json';

export const EXIT = { ok: 0, problems: 1, usage: 2 } as const;

export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
}

export const processIo: Io = {
  out: (text) => process.stdout.write(text.endsWith('\n') ? text : text + '\n'),
  err: (text) => process.stderr.write(text.endsWith('\n') ? text : text + '\n'),
};

export function summary(diagnostics: readonly Diagnostic[]): string {
  const errors = diagnostics.filter((d) => d.severity === 'error').length;
  const warnings = diagnostics.filter((d) => d.severity === 'warning').length;
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  return `${plural(errors, 'error')}, ${plural(warnings, 'warning')}`;
}

/** Human: one `file:line:col: severity CODE: message` per problem on stderr. JSON: one document on stdout. */
export function reportDiagnostics(io: Io, format: OutputFormat, diagnostics: readonly Diagnostic[], extra: Record<string, unknown> = {}): void {
  if (format === 'json') {
    io.out(JSON.stringify({ ok: !hasErrors(diagnostics), ...extra, diagnostics }, null, 2));
    return;
  }
  for (const d of diagnostics) io.err(formatDiagnostic(d));
}
