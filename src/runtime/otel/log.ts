/**
 * The logger the observability modules write to: pino's calling convention (an object of
 * fields first, then the message), so a pino logger (or a child of one) is passed as it is.
 */
export interface ObservabilityLog {
  error(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  info(fields: Record<string, unknown>, message: string): void;
  debug?(fields: Record<string, unknown>, message: string): void;
}

/** One line per problem for things that could repeat per event or per scrape: logged once per key. */
export class OnceLog {
  private readonly seen = new Set<string>();
  constructor(private readonly log: ObservabilityLog | undefined) {}
  error(key: string, fields: Record<string, unknown>, message: string): void {
    if (this.seen.has(key)) return;
    if (this.seen.size < 1000) this.seen.add(key);
    try {
      this.log?.error(fields, message);
    } catch {
      // A logger that throws must not stop what reported to it.
    }
  }
  /** Lets the problem `key` be reported again (it went away and may come back). */
  clear(key: string): void {
    this.seen.delete(key);
  }
}

/** An error as `Name: message`, for a log field or a span status. */
export function errorLabel(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return String(err);
}
