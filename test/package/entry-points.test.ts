/**
 * The package's entry points: the programmatic API at `event-contracts`, the broker-neutral
 * runtime that loads no broker client, and the generator that never loads one either (a
 * NATS user never pays for amqplib, an AMQP user never for nats.js, and `generate` for
 * neither). Broker clients are refused by a module resolution hook in a child process.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const exec = promisify(execFile);
const dir = mkdtempSync(path.join(os.tmpdir(), 'ec-entry-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs an ESM script in the repo with `@nats-io/*` and `amqplib` made unresolvable (or not). */
async function run(script: string, refuse: boolean): Promise<string> {
  const hooks = path.join(dir, 'hooks.mjs');
  writeFileSync(
    hooks,
    `export async function resolve(specifier, context, next) {
  if (/^(@nats-io\\/|amqplib|@platformatic\\/kafka|kafkajs)/.test(specifier)) throw new Error('broker client loaded: ' + specifier + ' from ' + context.parentURL);
  return next(specifier, context);
}`,
  );
  const register = path.join(dir, 'register.mjs');
  writeFileSync(register, `import { register } from 'node:module';\nregister(${JSON.stringify('file://' + hooks)});\n`);
  const args = [...(refuse ? ['--import', register] : []), '--input-type=module', '-e', script];
  const { stdout } = await exec(process.execPath, args, { cwd: process.cwd(), maxBuffer: 1 << 24 });
  return stdout.trim();
}

describe('entry points', () => {
  it("the hook really refuses a broker client (so the checks below can fail)", async () => {
    await expect(run(`await import('event-contracts/runtime/nats');`, true)).rejects.toThrow(/broker client loaded: @nats-io/);
    await expect(run(`await import('event-contracts/runtime/amqp');`, true)).rejects.toThrow(/broker client loaded: amqplib/);
    await expect(run(`await import('event-contracts/runtime/kafka');`, true)).rejects.toThrow(/broker client loaded: @platformatic\/kafka/);
  });

  it('event-contracts is the programmatic API: load, generate, check', async () => {
    const out = await run(
      `const api = await import('event-contracts');
       const ws = await api.openWorkspace(['asyncapi'], { examples: false });
       console.log(JSON.stringify({ fns: ['openWorkspace', 'generate', 'check', 'loadConfig', 'formatDiagnostic'].map((n) => typeof api[n]), events: ws.catalog.events.length }));`,
      true,
    );
    const r = JSON.parse(out) as { fns: string[]; events: number };
    expect(r.fns).toEqual(['function', 'function', 'function', 'function', 'function']);
    expect(r.events).toBeGreaterThan(5);
  });

  it('the broker-neutral runtime and the generator load no broker client', async () => {
    const target = path.join(dir, 'out');
    const out = await run(
      `const rt = await import('event-contracts/runtime');
       const { generate } = await import('event-contracts');
       const r = await generate({ specs: ['asyncapi'], out: ${JSON.stringify(target)}, check: false, force: true, packageName: 'x', packageVersion: '0.0.0' });
       console.log(JSON.stringify({ bus: typeof rt.createEventBus, memory: typeof rt.MemoryTransport, nats: 'NatsTransport' in rt, amqp: 'AmqpTransport' in rt, errors: r.diagnostics.filter((d) => d.severity === 'error').length, files: r.fileCount }));`,
      true,
    );
    expect(JSON.parse(out)).toMatchObject({ bus: 'function', memory: 'function', nats: false, amqp: false, errors: 0 });
  });

  it('each transport has its own entry point', async () => {
    const out = await run(
      `const n = await import('event-contracts/runtime/nats'); const a = await import('event-contracts/runtime/amqp');
       const k = await import('event-contracts/runtime/kafka');
       console.log(JSON.stringify([typeof n.NatsTransport, typeof n.provisionNats, typeof n.KvDedupeStore, typeof a.AmqpTransport, typeof a.provisionAmqp, typeof k.KafkaTransport]));`,
      false,
    );
    expect(JSON.parse(out)).toEqual(['function', 'function', 'function', 'function', 'function', 'function']);
  });
});
