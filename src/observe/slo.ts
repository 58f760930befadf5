/**
 * `x-slo` on an AsyncAPI operation: the thresholds its generated alerts use.
 *
 * ```yaml
 * operations:
 *   onUserCreated:
 *     action: receive
 *     x-consumer-group: notifications-welcome
 *     x-slo:
 *       p95: 250ms          # processing time, 95th percentile (ms, s, m; a number is ms)
 *       errorRate: 1%       # failed handlings / all handlings ("1%" or 0.01)
 *       maxPending: 10000   # messages waiting for the group before a buildup alert
 *       buildupFor: 10m     # how long pending must stay above maxPending and growing
 *   publishUserCreated:
 *     action: send
 *     x-slo:
 *       silentAfter: 30m    # no publish of an event it sent in the hour before
 * ```
 *
 * Every key is optional; DEFAULT_SLO fills the rest. A key this file does not know, or a
 * value it cannot read, is an error at the operation (a threshold silently replaced by a
 * default would alert on the wrong thing).
 */
import type { Operation, Service } from '../catalog/model.js';
import type { Diagnostic } from '../diagnostics.js';

export interface Slo {
  /** Processing time p95 budget, seconds. */
  readonly p95Seconds: number;
  /** Fraction of failed handlings, 0..1. */
  readonly errorRate: number;
  readonly maxPending: number;
  /** Prometheus duration, e.g. '10m'. */
  readonly buildupFor: string;
  readonly silentAfter: string;
}

export const DEFAULT_SLO: Slo = { p95Seconds: 1, errorRate: 0.05, maxPending: 1000, buildupFor: '10m', silentAfter: '15m' };

const KEYS = ['p95', 'errorRate', 'maxPending', 'buildupFor', 'silentAfter'] as const;

/** A duration as written in x-slo ('250ms', '1.5s', '10m', '1h', or a number of ms) in seconds. */
export function durationSeconds(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) && v >= 0 ? v / 1000 : undefined;
  if (typeof v !== 'string') return undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)\s*$/.exec(v);
  if (!m) return undefined;
  const n = Number(m[1]);
  return m[2] === 'ms' ? n / 1000 : m[2] === 's' ? n : m[2] === 'm' ? n * 60 : n * 3600;
}

/** Seconds as a Prometheus duration ('90s' → '90s', 600 → '10m'). */
export function promDuration(seconds: number): string {
  if (seconds >= 3600 && seconds % 3600 === 0) return `${seconds / 3600}h`;
  if (seconds >= 60 && seconds % 60 === 0) return `${seconds / 60}m`;
  if (Number.isInteger(seconds)) return `${seconds}s`;
  return `${Math.round(seconds * 1000)}ms`;
}

function fraction(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) && v >= 0 && v <= 1 ? v : undefined;
  if (typeof v !== 'string') return undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*%\s*$/.exec(v);
  if (!m) return undefined;
  const n = Number(m[1]) / 100;
  return n <= 1 ? n : undefined;
}

/** The operation's thresholds (defaults where it says nothing) and what was wrong with its x-slo. */
export function sloOf(service: Service, op: Operation): { slo: Slo; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const raw = op.slo;
  if (raw === undefined) return { slo: DEFAULT_SLO, diagnostics };
  const bad = (message: string): void =>
    void diagnostics.push({ code: 'SLO_INVALID', severity: 'error', message: `${service.id} operation ${op.id}: x-slo ${message}`, location: op.location, hint: 'see src/observe/slo.ts or the README (Observability) for the x-slo keys' });
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    bad('must be an object');
    return { slo: DEFAULT_SLO, diagnostics };
  }
  const o = raw as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!(KEYS as readonly string[]).includes(k)) bad(`has an unknown key ${JSON.stringify(k)} (known: ${KEYS.join(', ')})`);
  const slo: { -readonly [K in keyof Slo]: Slo[K] } = { ...DEFAULT_SLO };
  if (o['p95'] !== undefined) {
    const s = durationSeconds(o['p95']);
    if (s === undefined || s <= 0) bad(`p95 ${JSON.stringify(o['p95'])} is not a duration such as 250ms or 2s`);
    else slo.p95Seconds = s;
  }
  if (o['errorRate'] !== undefined) {
    const f = fraction(o['errorRate']);
    if (f === undefined) bad(`errorRate ${JSON.stringify(o['errorRate'])} is not a rate such as 1% or 0.01`);
    else slo.errorRate = f;
  }
  if (o['maxPending'] !== undefined) {
    const n = o['maxPending'];
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) bad(`maxPending ${JSON.stringify(n)} is not a whole number of messages`);
    else slo.maxPending = n;
  }
  for (const k of ['buildupFor', 'silentAfter'] as const) {
    if (o[k] === undefined) continue;
    const s = durationSeconds(o[k]);
    if (s === undefined || s < 60) bad(`${k} ${JSON.stringify(o[k])} is not a duration of at least 1m (such as 10m or 1h)`);
    else slo[k] = promDuration(s);
  }
  return { slo, diagnostics };
}
