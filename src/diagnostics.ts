/**
 * Diagnostics are values: every stage collects them and the CLI alone prints them and
 * decides the exit code. A diagnostic points at a file position when one is known.
 */
export type Severity = 'error' | 'warning' | 'info';

export interface SourceLocation {
  /** Path as given by the user (relative to the working directory when possible). */
  file: string;
  /** 1-based line. */
  line: number;
  /** 1-based column. */
  column: number;
  /** JSON pointer of the node inside its file, when the node came from a document. */
  pointer?: string;
}

export interface Diagnostic {
  code: string;
  severity: Severity;
  message: string;
  location?: SourceLocation;
  /** A second location, e.g. the previous definition of a duplicate, or the old schema. */
  related?: SourceLocation;
  hint?: string;
}

export function formatLocation(loc: SourceLocation | undefined): string {
  if (!loc) return '<unknown>';
  return `${loc.file}:${loc.line}:${loc.column}`;
}

/** `file:line:col: error CODE: message` — the form editors and CI annotate. */
export function formatDiagnostic(d: Diagnostic): string {
  const where = d.location ? `${formatLocation(d.location)}: ` : '';
  let text = `${where}${d.severity} ${d.code}: ${d.message}`;
  if (d.related) text += `\n  (see ${formatLocation(d.related)})`;
  if (d.hint) text += `\n  hint: ${d.hint}`;
  return text;
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === 'error');
}

export function sortDiagnostics(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  return [...diagnostics].sort((a, b) => {
    const fa = a.location?.file ?? '';
    const fb = b.location?.file ?? '';
    if (fa !== fb) return fa < fb ? -1 : 1;
    const la = a.location?.line ?? 0;
    const lb = b.location?.line ?? 0;
    if (la !== lb) return la - lb;
    return (a.location?.column ?? 0) - (b.location?.column ?? 0);
  });
}

/**
 * A failure of our own (or of a library) while handling one file: located at the file,
 * one line, asking for a report. Never a stack trace (`EVENT_CONTRACTS_TRACE=1` prints it).
 */
export function internalError(file: string, stage: string, error: unknown): Diagnostic {
  if (process.env.EVENT_CONTRACTS_TRACE && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
  const message = error instanceof Error ? error.message : String(error);
  return {
    code: 'INTERNAL_ERROR',
    severity: 'error',
    message: `${stage} failed: ${message.split('\n')[0]!.slice(0, 300)}. This is a bug in event-contracts: please report it with this file`,
    location: { file, line: 1, column: 1 },
  };
}
