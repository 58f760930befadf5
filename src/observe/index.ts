/**
 * Monitoring derived from the contract, emitted into `monitoring/` of the generated package:
 * `alerts.yml` (Prometheus alerting rules) and `dashboard.json` (Grafana).
 */
import { stringify } from 'yaml';
import type { Catalog } from '../catalog/model.js';
import type { Diagnostic } from '../diagnostics.js';
import { banner, GENERATED_BANNER, type GeneratedFile } from '../emit/files.js';
import { dashboardJson, dashboardRows } from './dashboard.js';
import { alertRules } from './rules.js';

export { alertRules, ALERTS, slos } from './rules.js';
export type { AlertRule, RuleGroup, ConsumerSlo, ProducerSlo } from './rules.js';
export { dashboardRows, dashboardJson } from './dashboard.js';
export { sloOf, DEFAULT_SLO, durationSeconds } from './slo.js';
export type { Slo } from './slo.js';

export function emitMonitoring(catalog: Catalog): { files: GeneratedFile[]; diagnostics: Diagnostic[] } {
  const { groups, diagnostics } = alertRules(catalog);
  const rules = stringify({ groups }, { lineWidth: 0, aliasDuplicateObjects: false });
  return {
    files: [
      { path: 'monitoring/alerts.yml', content: `${banner('#')}# Prometheus alerting rules from the contracts' operations and their x-slo.\n${rules}` },
      { path: 'monitoring/dashboard.json', content: `${JSON.stringify(dashboardJson(dashboardRows(catalog), GENERATED_BANNER), null, 2)}\n` },
    ],
    diagnostics,
  };
}
