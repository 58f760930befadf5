/**
 * The alert thresholds of each event type, for its docs page: what the alert rules in
 * `monitoring/alerts.yml` (src/observe/rules.ts) fire on, per operation that sends or
 * receives the type, from the operation's `x-slo` or the defaults.
 */
import type { Catalog } from '../catalog/model.js';
import { slos } from '../observe/rules.js';
import { DEFAULT_SLO } from '../observe/slo.js';

export interface AlertRow {
  readonly serviceId: string;
  readonly operation: string;
  readonly group?: string;
  /** Receivers: alert when processing p95 is above this (10m), failures above this rate (5m), more pending than this and growing (for `buildupFor`); any dead letter alerts too. */
  readonly p95?: string;
  readonly errorRate?: string;
  readonly maxPending?: string;
  /** Senders: alert when none was published for this long after publishing in the hour before. */
  readonly silentAfter?: string;
  /** True when the operation states no x-slo (the defaults apply). */
  readonly defaults: boolean;
}

const ms = (s: number): string => (s < 1 ? `${Math.round(s * 1000)} ms` : `${s} s`);
const pct = (f: number): string => `${Math.round(f * 10000) / 100} %`;

/** Rows per event type. */
export function alertIndex(catalog: Catalog): Map<string, AlertRow[]> {
  const { consumers, producers } = slos(catalog);
  const out = new Map<string, AlertRow[]>();
  const add = (type: string, row: AlertRow) => out.set(type, [...(out.get(type) ?? []), row]);
  for (const c of consumers) {
    for (const type of c.types) {
      add(type, {
        serviceId: c.service.id,
        operation: c.operation.id,
        group: c.group,
        p95: ms(c.slo.p95Seconds),
        errorRate: pct(c.slo.errorRate),
        maxPending: `${c.slo.maxPending} (${c.slo.buildupFor})`,
        defaults: c.operation.slo === undefined,
      });
    }
  }
  for (const p of producers) {
    for (const type of p.types) add(type, { serviceId: p.service.id, operation: p.operation.id, silentAfter: p.slo.silentAfter, defaults: p.operation.slo === undefined });
  }
  return out;
}

/** The default thresholds in one sentence, for the docs index (event pages list only operations with their own x-slo). */
export function alertDefaultsText(): string {
  const d = DEFAULT_SLO;
  return `Unless an operation's x-slo says otherwise, the generated alerts fire when processing p95 is above ${ms(d.p95Seconds)}, more than ${pct(d.errorRate)} of handlings fail, more than ${d.maxPending} messages are pending and growing for ${d.buildupFor}, any event is dead-lettered, a producer publishes nothing for ${d.silentAfter} after publishing in the hour before, or a service loses its broker connection.`;
}
