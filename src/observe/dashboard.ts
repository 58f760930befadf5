/**
 * A Grafana dashboard derived from the contract: one row per service with its publish
 * rates, the consume rates of its consumer groups, processing-time percentiles against the
 * x-slo p95, errors, end-to-end lag, queue depth and dead letters. Queries use the
 * runtime's series (runtime/otel/names.ts) and a Prometheus data source picked by the
 * dashboard's `datasource` variable.
 */
import type { Catalog } from '../catalog/model.js';
import { PROM } from '../runtime/otel/names.js';
import { slos } from './rules.js';

export interface Target {
  readonly expr: string;
  readonly legendFormat: string;
  readonly refId: string;
}

export interface Panel {
  readonly title: string;
  readonly unit: string;
  readonly targets: readonly Target[];
  /** A dashed threshold line (the x-slo budget), when there is one. */
  readonly threshold?: number;
}

export interface Row {
  readonly title: string;
  readonly service: string;
  readonly panels: readonly Panel[];
}

const L = PROM.label;
const q = (s: string): string => JSON.stringify(s);
const alt = (xs: readonly string[]): string => q(xs.map((x) => x.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'));
const RATE = '$__rate_interval';

/** The dashboard's rows: what each panel shows, decided here; dashboardJson renders it. */
export function dashboardRows(catalog: Catalog): Row[] {
  const { consumers } = slos(catalog);
  return catalog.services.map((service) => {
    const s = `${L.service}=${q(service.id)}`;
    const groups = [...new Set(consumers.filter((c) => c.service === service).map((c) => c.group))].sort();
    const g = groups.length > 0 ? `${L.group}=~${alt(groups)}` : undefined;
    const budgets = consumers.filter((c) => c.service === service).map((c) => c.slo.p95Seconds);
    const panels: Panel[] = [
      {
        title: 'Published / s',
        unit: 'ops',
        targets: [
          { refId: 'A', expr: `sum by (${L.eventType}, ${L.eventMajor}) (rate(${PROM.sent}{${s},${L.errorType}=""}[${RATE}]))`, legendFormat: `{{${L.eventType}}} v{{${L.eventMajor}}}` },
          { refId: 'B', expr: `sum by (${L.eventType}, ${L.errorType}) (rate(${PROM.sent}{${s},${L.errorType}!=""}[${RATE}]))`, legendFormat: `{{${L.eventType}}} failed: {{${L.errorType}}}` },
        ],
      },
    ];
    if (g !== undefined) {
      panels.push(
        {
          title: 'Consumed / s',
          unit: 'ops',
          targets: [{ refId: 'A', expr: `sum by (${L.group}, ${L.eventType}) (rate(${PROM.consumed}{${g}}[${RATE}]))`, legendFormat: `{{${L.group}}} {{${L.eventType}}}` }],
        },
        {
          title: 'Processing time',
          unit: 's',
          ...(budgets.length > 0 ? { threshold: Math.min(...budgets) } : {}),
          targets: ['0.5', '0.95', '0.99'].map((p, i) => ({
            refId: String.fromCharCode(65 + i),
            expr: `histogram_quantile(${p}, sum by (le, ${L.group}, ${L.eventType}) (rate(${PROM.processDuration}_bucket{${g}}[${RATE}])))`,
            legendFormat: `p${Number(p) * 100} {{${L.group}}} {{${L.eventType}}}`,
          })),
        },
        {
          title: 'Handling errors / s',
          unit: 'ops',
          targets: [{ refId: 'A', expr: `sum by (${L.group}, ${L.eventType}, ${L.errorType}) (rate(${PROM.consumed}{${g},${L.errorType}!=""}[${RATE}]))`, legendFormat: `{{${L.group}}} {{${L.eventType}}} {{${L.errorType}}}` }],
        },
        {
          title: 'End-to-end lag p95',
          unit: 's',
          targets: [{ refId: 'A', expr: `histogram_quantile(0.95, sum by (le, ${L.group}, ${L.eventType}) (rate(${PROM.lag}_bucket{${g}}[${RATE}])))`, legendFormat: `{{${L.group}}} {{${L.eventType}}}` }],
        },
        {
          title: 'Queue depth',
          unit: 'short',
          targets: [
            { refId: 'A', expr: `max by (${L.group}) (${PROM.pending}{${g}})`, legendFormat: `pending {{${L.group}}}` },
            { refId: 'B', expr: `max by (${L.group}) (${PROM.ackPending}{${g}})`, legendFormat: `unacknowledged {{${L.group}}}` },
          ],
        },
        {
          title: 'Dead letters / s',
          unit: 'ops',
          targets: [{ refId: 'A', expr: `sum by (${L.group}, ${L.errorType}) (rate(${PROM.deadLetters}{${g}}[${RATE}]))`, legendFormat: `{{${L.group}}} {{${L.errorType}}}` }],
        },
      );
    }
    return { title: service.title, service: service.id, panels };
  });
}

/** Grafana's dashboard JSON model (schemaVersion 39): a row panel per service, then its panels, 3 a line. */
export function dashboardJson(rows: readonly Row[], generatedBy: string): unknown {
  const panels: unknown[] = [];
  let id = 1;
  let y = 0;
  for (const row of rows) {
    panels.push({ id: id++, type: 'row', title: row.title, collapsed: false, gridPos: { h: 1, w: 24, x: 0, y: y++ }, panels: [] });
    row.panels.forEach((p, i) => {
      panels.push({
        id: id++,
        type: 'timeseries',
        title: p.title,
        datasource: { type: 'prometheus', uid: '${datasource}' },
        gridPos: { h: 8, w: 8, x: (i % 3) * 8, y: y + Math.floor(i / 3) * 8 },
        fieldConfig: {
          defaults: {
            unit: p.unit,
            ...(p.threshold !== undefined
              ? { custom: { thresholdsStyle: { mode: 'dashed' } }, thresholds: { mode: 'absolute', steps: [{ color: 'green', value: null }, { color: 'red', value: p.threshold }] } }
              : {}),
          },
          overrides: [],
        },
        options: { legend: { displayMode: 'list', placement: 'bottom' }, tooltip: { mode: 'multi' } },
        targets: p.targets.map((t) => ({ datasource: { type: 'prometheus', uid: '${datasource}' }, ...t })),
      });
    });
    y += Math.ceil(row.panels.length / 3) * 8;
  }
  return {
    title: 'Event contracts',
    uid: 'event-contracts',
    description: generatedBy,
    tags: ['event-contracts'],
    editable: true,
    schemaVersion: 39,
    time: { from: 'now-1h', to: 'now' },
    refresh: '30s',
    templating: { list: [{ name: 'datasource', label: 'Prometheus', type: 'datasource', query: 'prometheus' }] },
    panels,
  };
}
