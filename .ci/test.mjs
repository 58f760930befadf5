#!/usr/bin/env node
// `npm test`: every stage runs, whatever an earlier one did, and each is reported; the
// exit code is non-zero when any failed. (One `&&` chain used to stop at the first
// failure, so a flaky unit test hid whether generated/ was stale or the gate passed.)
// Stages can be picked by name: `npm test -- vitest check`.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const npx = process.platform === 'win32' ? 'npx.cmd' : 'npx';

// Named, not created: importing this module (the runner's own test does) leaves nothing behind.
const vitestReport = join(tmpdir(), `event-contracts-vitest-${process.pid}.json`);
const failoverReport = join(tmpdir(), `event-contracts-failover-${process.pid}.json`);

/**
 * `file > test: first line of the error` for each failed test (or file, when it failed
 * outside a test) in a vitest JSON report; [] when the report is missing or unreadable.
 */
export function failedTests(reportPath, max = 20) {
  let report;
  try {
    report = JSON.parse(readFileSync(reportPath, 'utf8'));
  } catch {
    return [];
  }
  const firstLine = (text) => String(text ?? '').replace(/\x1b\[[0-9;]*m/g, '').trim().split('\n')[0].slice(0, 240);
  const relative = (file) => String(file).replace(`${process.cwd()}/`, '');
  const lines = [];
  for (const file of report.testResults ?? []) {
    const failed = (file.assertionResults ?? []).filter((t) => t.status === 'failed');
    for (const t of failed) lines.push(`${relative(file.name)} > ${t.fullName}: ${firstLine(t.failureMessages?.[0])}`);
    if (failed.length === 0 && file.status === 'failed') lines.push(`${relative(file.name)}: ${firstLine(file.message)}`);
  }
  return lines.length > max ? [...lines.slice(0, max), `… and ${lines.length - max} more`] : lines;
}

export const STAGES = [
  { name: 'build', what: 'compile src/ to dist/', cmd: [npm, 'run', '--silent', 'build'] },
  { name: 'link-self', what: 'node_modules/event-contracts → the repo', cmd: [npm, 'run', '--silent', 'link-self'] },
  // The JSON report names the failed tests again below the stage table: a CI log is often
  // read from its end, and vitest's own account of a failure is hundreds of lines above it.
  { name: 'vitest', what: 'every vitest suite', cmd: [npx, 'vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${vitestReport}`], failures: () => failedTests(vitestReport) },
  // Alone, after the rest: three Kafka brokers killed and restarted under load (vitest.failover.config.ts).
  {
    name: 'failover',
    what: 'a three-broker Kafka cluster with brokers killed (test/failover, `npm run test:failover`)',
    cmd: [npx, 'vitest', 'run', '--config', 'vitest.failover.config.ts', '--reporter=default', '--reporter=json', `--outputFile.json=${failoverReport}`],
    failures: () => failedTests(failoverReport),
  },
  { name: 'generated', what: 'generated/ is what `npm run generate` writes', cmd: [npm, 'run', '--silent', 'generate', '--', '--check'] },
  { name: 'tsc-generated', what: 'generated/ type-checks under strict', cmd: [npx, 'tsc', '-p', 'generated', '--noEmit'] },
  { name: 'tsc-test', what: 'tests, benches and sources type-check', cmd: [npx, 'tsc', '-p', 'tsconfig.test.json'] },
  { name: 'check', what: 'the compatibility gate on this workspace', cmd: [npm, 'run', '--silent', 'check'] },
];

/**
 * Runs every stage (each even when an earlier one failed), prints each as it starts and a
 * table at the end; resolves with the exit code: 0 when all passed, else 1.
 */
export function runStages(stages, log = console.log) {
  const results = [];
  for (const stage of stages) {
    log(`\n▶ ${stage.name}: ${stage.what}\n  $ ${stage.cmd.join(' ')}`);
    const started = process.hrtime.bigint();
    const run = spawnSync(stage.cmd[0], stage.cmd.slice(1), { stdio: 'inherit' });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const code = run.status ?? 1;
    results.push({ ...stage, ok: code === 0, code, seconds, signal: run.signal });
  }
  log('\nnpm test: stages');
  for (const r of results) {
    const status = r.ok ? 'ok' : `FAILED (${r.signal ?? `exit ${r.code}`})`;
    log(`  ${status.padEnd(18)} ${r.name.padEnd(14)} ${r.seconds.toFixed(1).padStart(7)} s  ${r.what}`);
  }
  const failed = results.filter((r) => !r.ok);
  for (const r of failed) {
    const lines = r.failures?.() ?? [];
    if (lines.length > 0) log(`\n${r.name} failed on:\n${lines.map((l) => `  ✗ ${l}`).join('\n')}`);
  }
  const total = results.reduce((n, r) => n + r.seconds, 0);
  log(failed.length === 0 ? `all ${results.length} stages passed (${total.toFixed(0)} s)` : `${failed.length} of ${results.length} stages failed: ${failed.map((r) => r.name).join(', ')} (${total.toFixed(0)} s)`);
  return { code: failed.length === 0 ? 0 : 1, results };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const picked = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  const unknown = picked.filter((p) => !STAGES.some((s) => s.name === p));
  if (unknown.length > 0) {
    console.error(`unknown stage ${unknown.join(', ')}; stages: ${STAGES.map((s) => s.name).join(', ')}`);
    process.exit(2);
  }
  process.exit(runStages(STAGES.filter((s) => picked.length === 0 || picked.includes(s.name))).code);
}
