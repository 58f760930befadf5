/**
 * The CLI's contract with its users: help and version, exit codes (0 ok, 1 problems,
 * 2 usage), no stack traces for user errors, `generate --check` catching drift, and
 * `--watch` regenerating on change.
 */
import { spawn } from 'node:child_process';
import { cpSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import { artifactDir } from './helpers/generate.js';

describe('event-contracts CLI', () => {
  it('prints help for every command', async () => {
    const top = await runCli(['--help']);
    expect(top.code).toBe(0);
    for (const command of ['validate', 'catalog', 'generate', 'docs', 'check', 'release', 'provision', 'schema-diff']) {
      expect(top.stdout + top.stderr).toContain(command);
      const own = await runCli([command, '--help']);
      expect(own.code, command).toBe(0);
      expect(own.stdout + own.stderr, command).toMatch(/--help/);
    }
  });

  it('help at 80 columns: each format listed once, no word cut in two', async () => {
    const columns = process.stdout.columns;
    process.stdout.columns = 80;
    try {
      const flat = (text: string) => text.replace(/\s+/g, ' ');
      const top = await runCli(['--help']);
      for (const line of top.stdout.split('\n')) expect(line.length, line).toBeLessThanOrEqual(80);
      expect(flat(top.stdout)).toContain('Fail on breaking changes: specs against the released registry (and, with --against, the base branch)');
      expect(flat(top.stdout)).toContain('Create or update the streams and durable consumers, queues or topics the contract implies (idempotent)');
      const check = await runCli(['check', '--help']);
      expect(flat(check.stdout)).toContain('[choices: "human", "json", "sarif", "github"]');
      expect(flat(check.stdout)).toContain('git ref of the baseline (e.g. origin/main): also compare channels, operations, replies and the lock');
      const catalog = await runCli(['catalog', '--help']);
      expect(flat(catalog.stdout)).toContain('[choices: "human", "json"] [default: "human"]');
      for (const help of [top.stdout, check.stdout, catalog.stdout]) expect(help).not.toMatch(/"human", "json", "human"/);
    } finally {
      process.stdout.columns = columns;
    }
  });

  it('an unknown or missing command lists the commands', async () => {
    for (const args of [['no-such-command'], []]) {
      const result = await runCli(args);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('commands: validate, catalog, generate, docs, check, release, provision, schema-diff');
    }
  });

  it('one exit-code scheme: a missing spec is invalid input (1) for every command that reads specs', async () => {
    const missing = 'test/fixtures/no-such-folder';
    for (const args of [
      ['validate', missing],
      ['catalog', missing],
      ['generate', missing, '--out', 'test-artifacts/never-written', '--force'],
      ['docs', missing, '--out', 'test-artifacts/never-written-docs'],
      ['check', missing],
      ['release', missing],
      ['provision', 'nats', '--spec', missing, '--dry-run'],
    ]) {
      const result = await runCli(args);
      expect(result.code, args.join(' ')).toBe(1);
      expect(result.stderr, args.join(' ')).toMatch(/SPEC_NOT_FOUND/);
    }
    expect(existsSync('test-artifacts/never-written')).toBe(false);
  });

  it('prints its version', async () => {
    const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    const result = await runCli(['--version']);
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toBe(version);
  });

  it.each([
    [['no-such-command']],
    [['validate', '--format', 'xml']],
    [['check', '--format', 'yaml']],
    [['schema-diff', 'only-one.json']],
    [[]],
  ])('%j is a usage error: exit 2, one line, no stack trace', async (args) => {
    const result = await runCli(args);
    expect(result.code).toBe(2);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('validate exits 0 on the workspace and 1 on a broken spec', async () => {
    expect((await runCli(['validate'])).code).toBe(0);
    expect((await runCli(['validate', 'test/fixtures/broken/invalid-example'])).code).toBe(1);
    const missing = await runCli(['validate', '--spec', 'no/such/dir']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no such file or directory: no/such/dir');
  });

  it('catalog --format json prints the whole model', async () => {
    const result = await runCli(['catalog', '--format', 'json']);
    expect(result.code).toBe(0);
    const catalog = JSON.parse(result.stdout) as { services: Array<{ id: string }>; events: Array<{ type: string; versions: Array<{ version: string; location: { file: string; line: number } }> }> };
    expect(catalog.services.map((s) => s.id)).toEqual(['notifications-service', 'payments-service', 'platform-service', 'users-service']);
    const userCreated = catalog.events.find((e) => e.type === 'user.created')!;
    expect(userCreated.versions.map((v) => v.version)).toEqual(['1.2.0', '2.0.0']);
    expect(userCreated.versions[1]!.location).toMatchObject({ file: 'asyncapi/users.yaml', line: expect.any(Number) });
  });

  it('generate --check lists a stale file and exits 1; generate fixes it', async () => {
    const out = artifactDir('cli-check');
    expect((await runCli(['generate', '--out', out])).code).toBe(0);
    expect((await runCli(['generate', '--out', out, '--check'])).code).toBe(0);
    writeFileSync(path.join(out, 'events.ts'), readFileSync(path.join(out, 'events.ts'), 'utf8') + '\n// edited by hand\n');
    writeFileSync(path.join(out, 'stray.ts'), 'export {};\n');
    const stale = await runCli(['generate', '--out', out, '--check']);
    expect(stale.code).toBe(1);
    expect(stale.stderr).toMatch(/differs +events\.ts/);
    expect(stale.stderr).toMatch(/extra +stray\.ts/);
    expect((await runCli(['generate', '--out', out])).code).toBe(0);
    expect(existsSync(path.join(out, 'stray.ts'))).toBe(false);
    expect((await runCli(['generate', '--out', out, '--check'])).code).toBe(0);
  });

  it('generate refuses to prune a folder it did not write', async () => {
    const out = artifactDir('cli-foreign');
    writeFileSync(path.join(out, 'precious.txt'), 'keep me');
    const result = await runCli(['generate', '--out', out]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/not written by event-contracts/);
    expect(readFileSync(path.join(out, 'precious.txt'), 'utf8')).toBe('keep me');
  });

  it('generate --watch regenerates when a spec changes', async () => {
    const dir = artifactDir('cli-watch');
    cpSync('test/fixtures/broken/invalid-example/api.yaml', path.join(dir, 'specs/api.yaml'));
    const spec = path.join(dir, 'specs/api.yaml');
    // Start from a valid spec: drop the bad example.
    writeFileSync(spec, readFileSync(spec, 'utf8').replace(/\n {8}- name: bad[\s\S]*$/, '\n'));
    const out = path.join(dir, 'out');
    const child = spawn(process.execPath, [path.resolve('bin/event-contracts.js'), 'generate', '--spec', path.join(dir, 'specs'), '--out', out, '--watch'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const waitFor = async (what: () => boolean) => {
      for (let i = 0; i < 200 && !what(); i++) await new Promise((r) => setTimeout(r, 100));
      expect(what()).toBe(true);
    };
    try {
      await waitFor(() => stderr.includes('watching'));
      writeFileSync(spec, readFileSync(spec, 'utf8').replace('name: order.placed', 'name: order.submitted'));
      await waitFor(() => existsSync(path.join(out, 'events.ts')) && readFileSync(path.join(out, 'events.ts'), 'utf8').includes('"order.submitted"'));
    } finally {
      child.kill('SIGINT');
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('event-contracts schema-diff', () => {
  const write = (dir: string, name: string, schema: unknown) => {
    writeFileSync(path.join(dir, name), JSON.stringify(schema));
    return path.join(dir, name);
  };

  it('exits 0 for a compatible change, 1 for a breaking one, with the JSON shape the docs promise', async () => {
    const dir = artifactDir('schema-diff');
    const old = write(dir, 'old.json', { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] });
    const added = write(dir, 'optional.json', { type: 'object', properties: { id: { type: 'string' }, note: { type: 'string' } }, required: ['id'] });
    const required = write(dir, 'required.json', { type: 'object', properties: { id: { type: 'string' }, note: { type: 'string' } }, required: ['id', 'note'] });

    const ok = await runCli(['schema-diff', old, added, '--format', 'json']);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ compatible: true });

    const broken = await runCli(['schema-diff', old, required, '--format', 'json']);
    expect(broken.code).toBe(1);
    const report = JSON.parse(broken.stdout) as { compatible: boolean; changes: Array<{ rule: string; path: string; breaking: boolean }> };
    expect(report.compatible).toBe(false);
    expect(report.changes).toContainEqual(expect.objectContaining({ rule: 'REQUIRED_PROPERTY_ADDED', breaking: true }));

    // FORWARD asks the other question: can the old schema read data written with the new one? It can.
    expect((await runCli(['schema-diff', old, required, '--level', 'FORWARD'])).code).toBe(0);
  });

  it('reads YAML and reports bad input with exit 1 (invalid input, as for every command) and a location', async () => {
    const dir = artifactDir('schema-diff-bad');
    writeFileSync(path.join(dir, 'old.yaml'), 'type: object\nproperties:\n  id: {type: string\n');
    writeFileSync(path.join(dir, 'new.yaml'), 'type: object\n');
    const result = await runCli(['schema-diff', path.join(dir, 'old.yaml'), path.join(dir, 'new.yaml')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/old\.yaml:\d+:\d+/);
    const missing = await runCli(['schema-diff', path.join(dir, 'nope.json'), path.join(dir, 'new.yaml')]);
    expect(missing.code).toBe(1);
  });
});

describe('event-contracts provision amqp', () => {
  it('plans the exchanges, group queues and bindings of one vhost, and names what lives elsewhere', async () => {
    const result = await runCli(['provision', 'amqp', '--dry-run']);
    expect(result.code).toBe(0);
    const plan = JSON.parse(result.stdout) as { exchanges: Array<{ name: string }>; queues: Array<{ name: string }>; bindings: Array<{ queue: string; exchange: string; pattern: string }> };
    // events.rpc: the platform service answers health checks, and responders may not declare it.
    expect(plan.exchanges.map((e) => e.name)).toEqual(['events', 'events.dlx', 'events.retry', 'events.rpc']);
    expect(plan.queues.map((q) => q.name)).toContain('payments-user-cleanup');
    expect(plan.bindings).toContainEqual({ queue: 'payments-user-cleanup', exchange: 'events', pattern: 'user.deleted.v1' });
    // payments' ledger exchange is declared on the /ledger vhost of its amqp server binding.
    expect(result.stderr).toContain('skipped exchange transactions (vhost /ledger)');
  });
});

describe('the up-to-date record', () => {
  it('notices a spec file added to a spec folder', async () => {
    const dir = artifactDir('cli-uptodate');
    const specs = path.join(dir, 'specs');
    cpSync('test/fixtures/recursive/api.yaml', path.join(specs, 'api.yaml'));
    const out = path.join(dir, 'out');
    expect((await runCli(['generate', '--spec', specs, '--out', out])).code).toBe(0);
    expect((await runCli(['generate', '--spec', specs, '--out', out, '--check'])).code).toBe(0);
    // A second document appears beside the first: the output is stale.
    writeFileSync(path.join(specs, 'second.yaml'), readFileSync(path.join(specs, 'api.yaml'), 'utf8').replace('title: Catalog', 'title: Second').replace(/category\.changed/g, 'category.moved'));
    const stale = await runCli(['generate', '--spec', specs, '--out', out, '--check']);
    expect(stale.code).toBe(1);
    expect(stale.stderr).toMatch(/missing +clients\/second\.ts/);
  });
});
