/** `EVENT_CONTRACTS_TRACE=1` prints where a run spends its time (and how it parsed), on stderr. */
const enabled = Boolean(process.env.EVENT_CONTRACTS_TRACE);
const started = performance.now();

export function trace(message: string): void {
  if (enabled) process.stderr.write(`[trace +${Math.round(performance.now() - started)} ms] ${message}\n`);
}
