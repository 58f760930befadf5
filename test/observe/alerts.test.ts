/**
 * Alert rules and the dashboard generated from the contract: x-slo read into thresholds
 * (given/want), the rules checked by `promtool check rules` and unit-tested with
 * `promtool test rules` (each alert firing on series that break its threshold and silent on
 * series that do not), and every dashboard query parsed and run by a real Prometheus.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import type { Catalog, Operation, Service } from '../../src/catalog/model.js';
import { ALERTS, alertRules, DEFAULT_SLO, emitMonitoring, sloOf } from '../../src/observe/index.js';
import { openWorkspace } from '../../src/workspace.js';
import { PrometheusServer } from './prometheus-server.js';

const exec = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'ec-alerts-'));
let catalog: Catalog;
beforeAll(async () => {
  const ws = await openWorkspace(['asyncapi'], { examples: false });
  if (!ws.ok) throw new Error('workspace does not load');
  catalog = ws.catalog;
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('x-slo', () => {
  const service = { id: 'svc' } as Service;
  const op = (slo: unknown): Operation => ({ id: 'onX', slo, location: { file: 'a.yaml', line: 3, column: 5 } }) as unknown as Operation;
  const rows: Array<[string, unknown, Partial<typeof DEFAULT_SLO> | string]> = [
    ['absent: the defaults', undefined, {}],
    ['the issue example', { p95: '250ms', errorRate: '1%', maxPending: 10000 }, { p95Seconds: 0.25, errorRate: 0.01, maxPending: 10000 }],
    ['seconds, a fraction, a number of ms', { p95: '1.5s', errorRate: 0.002 }, { p95Seconds: 1.5, errorRate: 0.002 }],
    ['p95 as a number is milliseconds', { p95: 300 }, { p95Seconds: 0.3 }],
    ['durations of the buildup and silence', { buildupFor: '30m', silentAfter: '2h' }, { buildupFor: '30m', silentAfter: '2h' }],
    ['an unknown key', { p99: '1s' }, 'unknown key "p99"'],
    ['a p95 without a unit', { p95: '250' }, 'p95 "250" is not a duration'],
    ['a rate above 100 %', { errorRate: '150%' }, 'errorRate "150%" is not a rate'],
    ['a fractional maxPending', { maxPending: 1.5 }, 'maxPending 1.5 is not a whole number'],
    ['a buildup shorter than a minute', { buildupFor: '30s' }, 'buildupFor "30s" is not a duration of at least 1m'],
    ['not an object', 'fast', 'must be an object'],
  ];
  it.each(rows)('%s', (_name, given, want) => {
    const r = sloOf(service, op(given));
    if (typeof want === 'string') {
      expect(r.diagnostics).toHaveLength(1);
      expect(r.diagnostics[0]).toMatchObject({ code: 'SLO_INVALID', severity: 'error', location: { file: 'a.yaml', line: 3, column: 5 } });
      expect(r.diagnostics[0]!.message).toContain(want);
    } else {
      expect(r.diagnostics).toEqual([]);
      expect(r.slo).toEqual({ ...DEFAULT_SLO, ...want });
    }
  });
});

describe('generated alert rules', () => {
  it('generated/monitoring is what the contract gives, and promtool accepts it', async () => {
    const { files, diagnostics } = emitMonitoring(catalog);
    expect(diagnostics).toEqual([]);
    for (const f of files) expect(readFileSync(join('generated', f.path), 'utf8')).toBe(f.content);
    const { stdout } = await exec('promtool', ['check', 'rules', join('generated', 'monitoring', 'alerts.yml')]);
    expect(stdout).toMatch(/SUCCESS: \d+ rules found/);
  });

  it('the operation x-slo sets the thresholds (notifications-welcome: p95 250 ms, 1 %, 10 000 pending)', () => {
    const rules = alertRules(catalog).groups.flatMap((g) => g.rules);
    const of = (alert: string, group: string) => rules.find((r) => r.alert === alert && r.labels['consumer_group'] === group)!;
    expect(of(ALERTS.errorRate, 'notifications-welcome').expr).toMatch(/\) > 0\.01$/);
    expect(of(ALERTS.slow, 'notifications-welcome').expr).toMatch(/> 0\.25$/);
    expect(of(ALERTS.buildup, 'notifications-welcome').expr).toContain('> 10000');
    // Without x-slo, the defaults.
    expect(of(ALERTS.errorRate, 'notifications-receipts').expr).toMatch(/\) > 0\.05$/);
    expect(of(ALERTS.slow, 'notifications-receipts').expr).toMatch(/> 1$/);
    expect(of(ALERTS.buildup, 'notifications-receipts').expr).toContain('> 1000)');
    // Every alert names where it came from.
    for (const r of rules) expect(r.annotations['contract']).toMatch(/^asyncapi\/\w+\.yaml:\d+:\d+$/);
  });

  it('promtool test rules: every alert fires on series that break its threshold and stays silent on series that do not', async () => {
    const group = 'notifications-welcome';
    const type = 'user.created';
    const g = `messaging_consumer_group_name="${group}"`;
    const consumer = { severity: 'warning', service: 'notifications-service', consumer_group: group };
    const byType = { ...consumer, event_type: type, messaging_consumer_group_name: group };
    type Series = { series: string; values: string };
    const cases: Array<{ name: string; alert: string; evalAt: string; fire: Series[]; calm: Series[]; labels: Record<string, string> }> = [
      {
        name: 'error rate above 1 %',
        alert: ALERTS.errorRate,
        evalAt: '20m',
        fire: [
          { series: `messaging_client_consumed_messages_total{${g},event_type="${type}"}`, values: '0+100x30' },
          { series: `messaging_client_consumed_messages_total{${g},event_type="${type}",error_type="TypeError"}`, values: '0+2x30' },
        ],
        calm: [
          { series: `messaging_client_consumed_messages_total{${g},event_type="${type}"}`, values: '0+100x30' },
          { series: `messaging_client_consumed_messages_total{${g},event_type="${type}",error_type="TypeError"}`, values: '0+0.5x30' },
        ],
        labels: byType,
      },
      {
        name: 'p95 above 250 ms',
        alert: ALERTS.slow,
        evalAt: '20m',
        fire: ['0.1', '0.25', '0.5', '+Inf'].map((le) => ({ series: `messaging_process_duration_bucket{${g},event_type="${type}",le="${le}"}`, values: le === '0.1' || le === '0.25' ? '0+0x30' : '0+10x30' })),
        calm: ['0.1', '0.25', '0.5', '+Inf'].map((le) => ({ series: `messaging_process_duration_bucket{${g},event_type="${type}",le="${le}"}`, values: '0+10x30' })),
        labels: byType,
      },
      {
        name: 'a dead letter',
        alert: ALERTS.deadLetters,
        evalAt: '5m',
        fire: [{ series: `event_contracts_dead_letters_total{${g},event_type="${type}",error_type="validation-failed"}`, values: '0 0 0 1 1 1 1 1 1 1' }],
        calm: [{ series: `event_contracts_dead_letters_total{${g},event_type="${type}",error_type="validation-failed"}`, values: '0x10' }],
        labels: { ...consumer, messaging_consumer_group_name: group, event_type: type, error_type: 'validation-failed' },
      },
      {
        name: 'pending above 10 000 and growing for 10 minutes',
        alert: ALERTS.buildup,
        evalAt: '28m',
        fire: [{ series: `event_contracts_queue_pending{${g}}`, values: '0+1000x30' }],
        // Above the threshold but not growing: a backlog being held, not building up.
        calm: [{ series: `event_contracts_queue_pending{${g}}`, values: '20000x30' }],
        labels: { ...consumer, messaging_consumer_group_name: group },
      },
      {
        name: 'a producer that stopped publishing',
        alert: ALERTS.silent,
        evalAt: '90m',
        fire: [{ series: 'messaging_client_sent_messages_total{service="users-service",event_type="user.created",event_major="2"}', values: '0+10x60 600x30' }],
        calm: [{ series: 'messaging_client_sent_messages_total{service="users-service",event_type="user.created",event_major="2"}', values: '0+10x90' }],
        labels: { severity: 'warning', service: 'users-service', event_type: 'user.created', event_major: '2' },
      },
      {
        name: 'the connection is down',
        alert: ALERTS.disconnected,
        evalAt: '6m',
        fire: [{ series: 'event_contracts_connection_up{service="notifications-service"}', values: '1 1 0 0 0 0 0 0' }],
        calm: [{ series: 'event_contracts_connection_up{service="notifications-service"}', values: '1x8' }],
        labels: { severity: 'critical', service: 'notifications-service' },
      },
      {
        name: 'the connection keeps reconnecting',
        alert: ALERTS.reconnecting,
        evalAt: '6m',
        fire: [{ series: 'event_contracts_connection_reconnects_total{service="notifications-service"}', values: '0 1 2 3 4 5 6' }],
        calm: [{ series: 'event_contracts_connection_reconnects_total{service="notifications-service"}', values: '0 0 0 1 1 1 1' }],
        labels: { severity: 'critical', service: 'notifications-service' },
      },
    ];
    // The reconnecting alert is a warning.
    cases[cases.length - 1]!.labels = { severity: 'warning', service: 'notifications-service' };
    const rules = join(dir, 'alerts.yml');
    // The generated rules as they are, less their annotations (templated with $value, which
    // promtool would compare too; `promtool check rules` above checks their templates).
    const generated = parse(readFileSync(join('generated', 'monitoring', 'alerts.yml'), 'utf8')) as { groups: Array<{ rules: Array<Record<string, unknown>> }> };
    for (const grp of generated.groups) for (const r of grp.rules) delete r['annotations'];
    writeFileSync(rules, stringify(generated));
    const tests = cases.flatMap((c) => [
      { name: `${c.alert} fires: ${c.name}`, interval: '1m', input_series: c.fire, alert_rule_test: [{ eval_time: c.evalAt, alertname: c.alert, exp_alerts: [{ exp_labels: c.labels }] }] },
      { name: `${c.alert} stays silent: not ${c.name}`, interval: '1m', input_series: c.calm, alert_rule_test: [{ eval_time: c.evalAt, alertname: c.alert, exp_alerts: [] }] },
    ]);
    const file = join(dir, 'alerts.test.yml');
    writeFileSync(file, stringify({ rule_files: ['alerts.yml'], evaluation_interval: '1m', tests }));
    const run = await exec('promtool', ['test', 'rules', file]).catch((e: { stdout: string; stderr: string }) => e);
    expect(`${run.stdout}${run.stderr}`).toContain('SUCCESS');
    // Every alert the rules define is exercised both ways.
    expect(new Set(cases.map((c) => c.alert))).toEqual(new Set(Object.values(ALERTS)));
  });
});

describe('generated dashboard', () => {
  let prom: PrometheusServer | undefined;
  afterAll(async () => prom?.stop());

  it('has a row per service, and a real Prometheus parses and runs every query', async () => {
    const dashboard = JSON.parse(readFileSync(join('generated', 'monitoring', 'dashboard.json'), 'utf8')) as { panels: Array<{ type: string; title: string; targets?: Array<{ expr: string }> }> };
    const rows = dashboard.panels.filter((p) => p.type === 'row').map((p) => p.title);
    expect(rows).toEqual(catalog.services.map((s) => s.title));
    const titles = new Set(dashboard.panels.map((p) => p.title));
    for (const t of ['Published / s', 'Consumed / s', 'Processing time', 'Handling errors / s', 'Queue depth', 'Dead letters / s', 'End-to-end lag p95']) expect(titles).toContain(t);
    const exprs = dashboard.panels.flatMap((p) => p.targets ?? []).map((t) => t.expr.replaceAll('$__rate_interval', '1m'));
    expect(exprs.length).toBeGreaterThan(20);
    prom = await PrometheusServer.start([]);
    for (const e of exprs) await expect(prom.query(e), e).resolves.toBeInstanceOf(Array);
  });
});
