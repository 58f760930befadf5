/**
 * The observability entry points load only what their user asked for: the runtime loads no
 * OpenTelemetry package, `runtime/otel` loads no broker client and no OpenTelemetry SDK (the
 * API only), `runtime/prometheus` the exporter and sdk-metrics. Checked in a child process
 * whose module resolution hook refuses the packages in question (needs `npm run build`).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const exec = promisify(execFile);
const dir = mkdtempSync(path.join(os.tmpdir(), 'ec-otel-entry-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(script: string, refused: RegExp): Promise<string> {
  const hooks = path.join(dir, `hooks-${Math.random().toString(36).slice(2)}.mjs`);
  writeFileSync(
    hooks,
    `export async function resolve(specifier, context, next) {
  if (${refused.toString()}.test(specifier)) throw new Error('refused: ' + specifier);
  return next(specifier, context);
}`,
  );
  const register = `${hooks}.register.mjs`;
  writeFileSync(register, `import { register } from 'node:module';\nregister(${JSON.stringify('file://' + hooks)});\n`);
  const { stdout } = await exec(process.execPath, ['--import', register, '--input-type=module', '-e', script], { cwd: process.cwd() });
  return stdout.trim();
}

describe('observability entry points', () => {
  it('the hook refuses (so the checks below can fail)', async () => {
    await expect(run(`await import('event-contracts/runtime/otel');`, /^@opentelemetry\/api$/)).rejects.toThrow(/refused: @opentelemetry\/api/);
  });

  it('event-contracts/runtime loads no OpenTelemetry package', async () => {
    expect(await run(`const rt = await import('event-contracts/runtime'); console.log(typeof rt.createEventBus);`, /^@opentelemetry\//)).toBe('function');
  });

  it('event-contracts/runtime/otel loads the API only: no SDK, no exporter, no broker client', async () => {
    const out = await run(
      `const o = await import('event-contracts/runtime/otel'); console.log([typeof o.createObservability, typeof o.observeNats, typeof o.observeAmqp].join());`,
      /^(@opentelemetry\/(sdk-|exporter-|core|resources)|@nats-io\/|amqplib)/,
    );
    expect(out).toBe('function,function,function');
  });

  it('event-contracts/runtime/prometheus loads no broker client', async () => {
    expect(await run(`const p = await import('event-contracts/runtime/prometheus'); console.log(typeof p.serveMetrics);`, /^(@nats-io\/|amqplib)/)).toBe('function');
  });
});
