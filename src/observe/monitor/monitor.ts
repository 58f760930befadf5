/**
 * The contract monitor's bookkeeping: every tapped message is decoded and checked against
 * the contract, and counted per event type and version (rate, end-to-end lag percentiles,
 * violations by kind, the last offending example). Broker-neutral: taps.ts feeds it.
 */
import { decodeMessageSync, type DecodedEnvelope } from '../../runtime/codec.js';
import { DecodeError, EventValidationError } from '../../runtime/errors.js';
import { readContractHeaders } from '../../runtime/headers.js';
import type { InboundMessage } from '../../runtime/types.js';
import type { MonitorContract } from './contract.js';

export type ViolationKind = 'undecodable' | 'unknown-type' | 'unknown-major' | 'wrong-subject' | 'missing-headers' | 'invalid-headers' | 'invalid-payload';

export interface Violation {
  readonly kind: ViolationKind;
  readonly subject: string;
  readonly type?: string;
  readonly version?: string;
  readonly id?: string;
  readonly detail: string;
  /** The offending message, shortened: its headers and the start of its body. */
  readonly headers: Record<string, string>;
  readonly body: string;
  readonly at: string;
}

export interface TypeStats {
  /** `type@version` as received; '(undecodable)' for what could not be read. */
  readonly key: string;
  readonly count: number;
  readonly ratePerSecond: number;
  readonly lagMs: { readonly p50: number; readonly p95: number; readonly p99: number } | undefined;
  readonly violations: Partial<Record<ViolationKind, number>>;
  readonly lastViolation?: Violation;
}

export interface MonitorReport {
  readonly at: string;
  readonly intervalMs: number;
  readonly total: number;
  readonly violations: number;
  readonly types: readonly TypeStats[];
}

const RESERVOIR = 2048;

class Bucket {
  count = 0;
  total = 0;
  seen = 0;
  readonly lags: number[] = [];
  readonly violations: Partial<Record<ViolationKind, number>> = {};
  last: Violation | undefined;

  lag(ms: number): void {
    // Reservoir sampling: percentiles over a bounded sample of the interval.
    this.seen++;
    if (this.lags.length < RESERVOIR) this.lags.push(ms);
    else {
      const j = Math.floor(Math.random() * this.seen);
      if (j < RESERVOIR) this.lags[j] = ms;
    }
  }
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const MAX_BUCKETS = 1000;
const dec = new TextDecoder('utf-8', { fatal: false });

export class ContractMonitor {
  private buckets = new Map<string, Bucket>();
  private intervalStart = Date.now();
  private total = 0;
  private violationTotal = 0;
  /** Messages observed so far. */
  get seen(): number {
    return this.total;
  }
  /** Called on every violation, as it happens (--fail-on-violation). */
  onViolation: ((v: Violation) => void) | undefined;

  constructor(
    private readonly contract: MonitorContract,
    private readonly maxDecodedBytes = 16 * 1024 * 1024,
  ) {}

  private bucket(key: string): Bucket {
    let b = this.buckets.get(key);
    if (!b) {
      // A producer inventing versions must not grow this without bound.
      if (this.buckets.size >= MAX_BUCKETS) key = '(other)';
      b = this.buckets.get(key) ?? new Bucket();
      this.buckets.set(key, b);
    }
    return b;
  }

  /** One tapped message. Never throws. */
  observe(msg: InboundMessage & { readonly malformed?: string }, nowMs = Date.now()): void {
    this.total++;
    let env: DecodedEnvelope;
    try {
      if (msg.malformed !== undefined) throw new DecodeError('undecodable', `header block refused: ${msg.malformed}`);
      env = decodeMessageSync(msg, this.maxDecodedBytes);
    } catch (err) {
      const u = this.bucket('(undecodable)');
      u.count++;
      this.violation(u, 'undecodable', msg, undefined, err instanceof DecodeError ? `${err.reason}: ${err.message}` : String(err));
      return;
    }
    const b = this.bucket(`${env.type}@${env.version}`);
    b.count++;
    const lag = nowMs - env.timestamp.getTime();
    if (Number.isFinite(lag)) b.lag(Math.max(0, lag));
    const t = this.contract.types.get(env.type);
    if (!t) return this.violation(b, 'unknown-type', msg, env, `no event type '${env.type}' in the contract`);
    const m = t.resolver.resolve(env.version);
    if (!m.ok) return this.violation(b, 'unknown-major', msg, env, m.detail);
    const v = t.versions.get(m.descriptor)!;
    if (v.addresses.length > 0 && !v.addresses.some((a) => a.extract(msg.subject) !== undefined)) {
      return this.violation(b, 'wrong-subject', msg, env, `${env.type}@${env.version} travels on ${v.addresses.map((a) => a.template).join(' or ')}, not '${msg.subject}'`);
    }
    // Nats-Msg-Id is the event id by definition, whatever the transport carries.
    const missing = v.requiredHeaders.filter((h) => h !== 'Nats-Msg-Id' && msg.headers.get(h) === undefined);
    if (missing.length > 0) return this.violation(b, 'missing-headers', msg, env, `missing required header${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`);
    try {
      const hc = m.descriptor.headers;
      const problem = hc ? readContractHeaders(hc, msg.headers, env.id) : undefined;
      if (problem !== undefined) return this.violation(b, 'invalid-headers', msg, env, problem);
      const r = m.descriptor.validate(env.data);
      if (!r.ok) return this.violation(b, 'invalid-payload', msg, env, new EventValidationError(env.id, env.type, env.version, r.errors).message);
    } catch (err) {
      return this.violation(b, 'invalid-payload', msg, env, `could not be validated: ${(err as Error)?.message ?? String(err)}`);
    }
  }

  private violation(b: Bucket, kind: ViolationKind, msg: InboundMessage, env: DecodedEnvelope | undefined, detail: string): void {
    this.violationTotal++;
    b.violations[kind] = (b.violations[kind] ?? 0) + 1;
    const headers: Record<string, string> = {};
    let n = 0;
    try {
      for (const k of msg.headers.keys()) {
        if (n++ >= 40) break;
        headers[k.slice(0, 100)] = (msg.headers.get(k) ?? '').slice(0, 200);
      }
    } catch {
      // Headers that cannot be read are left out of the example.
    }
    const v: Violation = {
      kind,
      subject: msg.subject,
      ...(env ? { type: env.type, version: env.version, id: env.id } : {}),
      detail: detail.slice(0, 2000),
      headers,
      body: dec.decode(msg.body.subarray(0, 4096)),
      at: new Date().toISOString(),
    };
    b.last = v;
    this.onViolation?.(v);
  }

  /** The interval since the last report (rates, lag percentiles) plus running totals; starts a new interval. */
  report(nowMs = Date.now()): MonitorReport {
    const intervalMs = Math.max(1, nowMs - this.intervalStart);
    const types: TypeStats[] = [];
    for (const [key, b] of [...this.buckets].sort(([a], [c]) => (a < c ? -1 : a > c ? 1 : 0))) {
      b.total += b.count;
      const sorted = b.lags.sort((x, y) => x - y);
      types.push({
        key,
        count: b.total,
        ratePerSecond: Math.round((b.count / intervalMs) * 1000 * 10) / 10,
        lagMs: sorted.length > 0 ? { p50: percentile(sorted, 50), p95: percentile(sorted, 95), p99: percentile(sorted, 99) } : undefined,
        violations: { ...b.violations },
        ...(b.last ? { lastViolation: b.last } : {}),
      });
      b.count = 0;
      b.seen = 0;
      b.lags.length = 0;
    }
    this.intervalStart = nowMs;
    return { at: new Date(nowMs).toISOString(), intervalMs, total: this.total, violations: this.violationTotal, types };
  }
}
