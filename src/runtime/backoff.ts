/**
 * The one backoff formula of the runtime: handler retries, publish retries, reconnects,
 * dead-letter retries and pull-loop pauses all take their delays from here, so a change of
 * policy is made once.
 */
import type { BackoffOptions } from './types.js';

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 250, maxMs: 30_000, factor: 2, jitter: 0.5 };

/** Delays of the runtime's own loops (reconnects, publish retries): quick, no jitter needed. */
export const RECONNECT_BACKOFF: BackoffOptions = { initialMs: 100, maxMs: 5_000, factor: 2, jitter: 0 };

/**
 * Delay before try `attempt + 1`, given `attempt` failed tries so far (1-based; 0 is
 * treated as 1): `initialMs * factor^(attempt-1)` capped at `maxMs`, of which the
 * fraction `jitter` is randomised ("equal jitter" at 0.5).
 */
export function backoffDelay(b: BackoffOptions, attempt: number, random: () => number = Math.random): number {
  // Exponent capped: factor^64 is already past any maxMs, and Infinity * 0 would be NaN.
  const exp = Math.min(64, Math.max(0, attempt - 1));
  const base = Math.min(b.maxMs, b.initialMs * Math.pow(b.factor, exp));
  const j = Math.min(1, Math.max(0, b.jitter));
  return Math.round(base * (1 - j) + random() * base * j);
}

/** `backoffDelay` with some fields of the options overridden. */
export function backoff(initialMs: number, maxMs: number, attempt: number, factor = 2, jitter = 0): number {
  return backoffDelay({ initialMs, maxMs, factor, jitter }, attempt);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
