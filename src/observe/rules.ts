/**
 * Prometheus alerting rules derived from the contract: for every consumer group and the
 * event types it receives (high error rate, slow processing, dead letters, queue buildup),
 * every producing service and the event types it sends (stopped publishing), and every
 * service's connection (disconnected, reconnecting). Thresholds come from each operation's
 * `x-slo` (slo.ts). Series and label names are the runtime's (runtime/otel/names.ts).
 *
 * Build a view model here; render.ts only writes it out.
 */
import type { Catalog, EventKey, Operation, Service } from '../catalog/model.js';
import type { Diagnostic } from '../diagnostics.js';
import { formatLocation } from '../diagnostics.js';
import { defaultGroup } from '../provision/nats-plan.js';
import { PROM } from '../runtime/otel/names.js';
import { promDuration, sloOf, type Slo } from './slo.js';

export interface AlertRule {
  readonly alert: string;
  readonly expr: string;
  readonly for?: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
}

export interface RuleGroup {
  readonly name: string;
  readonly rules: readonly AlertRule[];
}

/** The alerts, by name, as a reader looks them up. */
export const ALERTS = {
  errorRate: 'EventHandlingErrorRateHigh',
  slow: 'EventProcessingSlow',
  deadLetters: 'EventDeadLettered',
  buildup: 'EventQueueBuildup',
  silent: 'EventProducerSilent',
  disconnected: 'EventBusDisconnected',
  reconnecting: 'EventBusReconnecting',
} as const;

const L = PROM.label;
/** A PromQL string literal. */
const q = (s: string): string => JSON.stringify(s);
const sel = (labels: Record<string, string>): string =>
  `{${Object.entries(labels)
    .map(([k, v]) => (v.startsWith('!=') ? `${k}!=${q(v.slice(2))}` : `${k}=${q(v)}`))
    .join(',')}}`;
const pct = (f: number): string => `${Math.round(f * 10000) / 100}%`;
const ms = (s: number): string => (s < 1 ? `${Math.round(s * 1000)} ms` : `${s} s`);

function typesOf(keys: readonly EventKey[]): string[] {
  return [...new Set(keys.map((k) => k.slice(0, k.lastIndexOf('@'))))].sort();
}

/** `type` and major of each key ('user.created@2.0.0' → ['user.created', '2']), distinct. */
function majorsOf(keys: readonly EventKey[]): Array<[string, string]> {
  const seen = new Map<string, [string, string]>();
  for (const k of keys) {
    const at = k.lastIndexOf('@');
    const type = k.slice(0, at);
    const major = k.slice(at + 1).split('.')[0]!;
    seen.set(`${type}@${major}`, [type, major]);
  }
  return [...seen.keys()].sort().map((k) => seen.get(k)!);
}

export interface ConsumerSlo {
  readonly service: Service;
  readonly operation: Operation;
  readonly group: string;
  readonly types: readonly string[];
  readonly slo: Slo;
}

export interface ProducerSlo {
  readonly service: Service;
  readonly operation: Operation;
  readonly types: readonly string[];
  readonly slo: Slo;
}

/** Every receive operation (its group, the types it handles) and send operation, with thresholds. */
export function slos(catalog: Catalog): { consumers: ConsumerSlo[]; producers: ProducerSlo[]; diagnostics: Diagnostic[] } {
  const consumers: ConsumerSlo[] = [];
  const producers: ProducerSlo[] = [];
  const diagnostics: Diagnostic[] = [];
  for (const service of catalog.services) {
    for (const operation of service.operations) {
      const { slo, diagnostics: d } = sloOf(service, operation);
      diagnostics.push(...d);
      const types = typesOf(operation.messages);
      if (types.length === 0) continue;
      if (operation.action === 'receive') consumers.push({ service, operation, group: operation.consumerGroup ?? defaultGroup(service.id, operation.id), types, slo });
      else producers.push({ service, operation, types, slo });
    }
  }
  return { consumers, producers, diagnostics };
}

export function alertRules(catalog: Catalog): { groups: RuleGroup[]; diagnostics: Diagnostic[] } {
  const { consumers, producers, diagnostics } = slos(catalog);
  const groups: RuleGroup[] = [];
  for (const service of catalog.services) {
    const rules: AlertRule[] = [];
    const seenGroups = new Set<string>();
    for (const c of consumers.filter((x) => x.service === service)) {
      const where = formatLocation(c.operation.location);
      const source = { contract: where, operation: c.operation.id };
      for (const type of c.types) {
        const labels = { severity: 'warning', service: service.id, consumer_group: c.group, event_type: type };
        const all = sel({ [L.group]: c.group, [L.eventType]: type });
        const failed = sel({ [L.group]: c.group, [L.eventType]: type, [L.errorType]: '!=' });
        const by = `${L.group}, ${L.eventType}`;
        rules.push({
          alert: ALERTS.errorRate,
          expr: `(sum by (${by}) (rate(${PROM.consumed}${failed}[5m])) / sum by (${by}) (rate(${PROM.consumed}${all}[5m]))) > ${c.slo.errorRate}`,
          for: '5m',
          labels,
          annotations: {
            summary: `${type} handling in ${c.group} fails more than ${pct(c.slo.errorRate)} of the time`,
            description: `Failed handlings of ${type} in consumer group ${c.group} have been above the x-slo errorRate of ${pct(c.slo.errorRate)} for 5 minutes (now {{ $value | humanizePercentage }}).`,
            ...source,
          },
        });
        rules.push({
          alert: ALERTS.slow,
          expr: `histogram_quantile(0.95, sum by (le, ${by}) (rate(${PROM.processDuration}_bucket${all}[5m]))) > ${c.slo.p95Seconds}`,
          for: '10m',
          labels,
          annotations: {
            summary: `${type} handling in ${c.group}: p95 above ${ms(c.slo.p95Seconds)}`,
            description: `The 95th percentile of ${type} handling time in ${c.group} has been above the x-slo p95 of ${ms(c.slo.p95Seconds)} for 10 minutes (now {{ $value | humanizeDuration }}).`,
            ...source,
          },
        });
      }
      if (seenGroups.has(c.group)) continue;
      seenGroups.add(c.group);
      const g = sel({ [L.group]: c.group });
      const glabels = { severity: 'warning', service: service.id, consumer_group: c.group };
      rules.push({
        alert: ALERTS.deadLetters,
        expr: `sum by (${L.group}, ${L.eventType}, ${L.errorType}) (increase(${PROM.deadLetters}${g}[5m])) > 0`,
        labels: glabels,
        annotations: {
          summary: `${c.group} dead-lettered events`,
          description: `Consumer group ${c.group} dead-lettered {{ $value | humanize }} {{ $labels.${L.eventType} }} events in the last 5 minutes (reason {{ $labels.${L.errorType} }}).`,
          ...source,
        },
      });
      rules.push({
        alert: ALERTS.buildup,
        expr: `(max by (${L.group}) (${PROM.pending}${g}) > ${c.slo.maxPending}) and (max by (${L.group}) (deriv(${PROM.pending}${g}[5m])) > 0)`,
        for: c.slo.buildupFor,
        labels: glabels,
        annotations: {
          summary: `${c.group}: more than ${c.slo.maxPending} messages pending and growing`,
          description: `Consumer group ${c.group} has had more than ${c.slo.maxPending} messages pending (x-slo maxPending), still growing, for ${c.slo.buildupFor}.`,
          ...source,
        },
      });
    }
    const seenMajors = new Set<string>();
    for (const p of producers.filter((x) => x.service === service)) {
      const source = { contract: formatLocation(p.operation.location), operation: p.operation.id };
      for (const [type, major] of majorsOf(p.operation.messages)) {
        // Two operations sending one type and major: the first one's x-slo decides.
        if (seenMajors.has(`${type}@${major}`)) continue;
        seenMajors.add(`${type}@${major}`);
        const ok = sel({ [L.service]: service.id, [L.eventType]: type, [L.eventMajor]: major, [L.errorType]: '' });
        const by = `${L.service}, ${L.eventType}, ${L.eventMajor}`;
        rules.push({
          alert: ALERTS.silent,
          expr: `(sum by (${by}) (increase(${PROM.sent}${ok}[1h] offset ${p.slo.silentAfter})) > 0) unless (sum by (${by}) (increase(${PROM.sent}${ok}[${p.slo.silentAfter}])) > 0)`,
          labels: { severity: 'warning', service: service.id, event_type: type, event_major: major },
          annotations: {
            summary: `${service.id} stopped publishing ${type} v${major}`,
            description: `${service.id} published ${type} v${major} in the hour before the last ${p.slo.silentAfter} and none since (x-slo silentAfter).`,
            ...source,
          },
        });
      }
    }
    const s = sel({ [L.service]: service.id });
    rules.push({
      alert: ALERTS.disconnected,
      expr: `max by (${L.service}) (${PROM.connectionUp}${s}) == 0`,
      for: '1m',
      labels: { severity: 'critical', service: service.id },
      annotations: { summary: `${service.id} lost its broker connection`, description: `${service.id} has had no broker connection for a minute.`, contract: formatLocation(service.location) },
    });
    rules.push({
      alert: ALERTS.reconnecting,
      expr: `sum by (${L.service}) (increase(${PROM.reconnects}${s}[15m])) > 3`,
      labels: { severity: 'warning', service: service.id },
      annotations: { summary: `${service.id} keeps reconnecting to its broker`, description: `${service.id} reconnected {{ $value | humanize }} times in 15 minutes.`, contract: formatLocation(service.location) },
    });
    groups.push({ name: `event-contracts.${service.id}`, rules });
  }
  return { groups, diagnostics };
}

export { promDuration };
