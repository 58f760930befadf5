// The compatibility gate on the 500-event workspace against a previous version of it with
// 10 documents changed (an optional property added, minor bump), whole process: `check`
// against the lock, and `check --against` a git baseline, with and without warm caches.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildWorkspace } from './workspace.mjs';

const cli = path.resolve('bin/event-contracts.js');

function timed(fn) {
  const start = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function run() {
  const repo = path.resolve('test-artifacts/bench-check');
  rmSync(repo, { recursive: true, force: true });
  buildWorkspace(path.join(repo, 'asyncapi'));
  const cacheDir = mkdtempSync(path.join(os.tmpdir(), 'ec-bench-cache-'));
  const env = (cold) => ({ ...process.env, EVENT_CONTRACTS_CACHE_DIR: cold ? mkdtempSync(path.join(os.tmpdir(), 'ec-cold-')) : cacheDir });
  const sh = (cmd, args, cold = false) => execFileSync(cmd, args, { cwd: repo, env: env(cold), stdio: 'pipe', maxBuffer: 1 << 26 });
  const git = (...args) => sh('git', ['-c', 'user.email=bench@example.com', '-c', 'user.name=bench', ...args]);
  sh(process.execPath, [cli, 'release']);
  git('init', '-q', '-b', 'main');
  git('add', '-A');
  git('commit', '-q', '-m', 'baseline');
  // The tool has seen the baseline before (a previous CI run, a developer's last check).
  sh(process.execPath, [cli, 'check']);
  sh(process.execPath, [cli, 'check', '--against', 'main']);
  // Ten documents gain an optional property in one event each, with a minor bump.
  for (let s = 0; s < 10; s++) {
    const file = path.join(repo, 'asyncapi', `service${String(s).padStart(2, '0')}.yaml`);
    const text = readFileSync(file, 'utf8')
      .replace("x-version: 1.1.0", "x-version: 1.2.0")
      .replace(/(\n {10}field1:\n)/, '\n          giftWrap:\n            type: boolean\n$1');
    writeFileSync(file, text);
  }
  const check = (args, cold) => () => {
    try {
      sh(process.execPath, [cli, 'check', ...args], cold);
    } catch (error) {
      throw new Error(`check failed: ${error.stderr?.toString().slice(0, 500)}`);
    }
  };
  const rows = [];
  rows.push({ name: 'check --against main, 10 documents changed since the last run (whole process)', value: timed(check(['--against', 'main'], false)), unit: 'ms' });
  rows.push({ name: 'check vs lock, cold caches (whole process)', value: timed(check([], true)), unit: 'ms' });
  rows.push({ name: 'check vs lock, warm (whole process)', value: median([1, 2, 3].map(() => timed(check([], false)))), unit: 'ms' });
  rows.push({ name: 'check --against main, cold caches (whole process)', value: timed(check(['--against', 'main'], true)), unit: 'ms' });
  timed(check(['--against', 'main'], false));
  rows.push({ name: 'check --against main, warm (whole process)', value: median([1, 2, 3].map(() => timed(check(['--against', 'main'], false)))), unit: 'ms' });
  rmSync(cacheDir, { recursive: true, force: true });
  return rows;
}
