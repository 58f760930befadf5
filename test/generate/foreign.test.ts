/**
 * Documents written by others, the way they come (issue 12): each folder of
 * test/fixtures/foreign holds one document that the AsyncAPI parser accepts but that
 * breaks this workspace's conventions, and `expected.txt`, the exact warnings of our own
 * that `generate` prints (the parser's style hints left out). Every one generates; the
 * corpus test type-checks their output under strict with the public corpus, in one run.
 */
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { assumedVersion } from '../../src/catalog/build.js';
import { formatDiagnostic } from '../../src/diagnostics.js';
import { artifactDir, compile, generateInto, runNode } from '../helpers/generate.js';
import { runCli } from '../helpers/cli.js';
import { generate } from '../../src/generate/index.js';

const root = 'test/fixtures/foreign';
const ours = (code: string) => /^[A-Z][A-Z0-9_]*$/.test(code);

describe('foreign documents generate, with located warnings', () => {
  it('every fixture generates and its warnings are expected.txt', async () => {
    const artifacts = artifactDir('foreign');
    const names = readdirSync(root).sort();
    for (const name of names) {
      const dir = path.join(root, name);
      const result = await generateInto([dir], path.join(artifacts, name), dir);
      const lines = result.diagnostics.filter((d) => ours(d.code)).map(formatDiagnostic).join('\n').split('\n');
      const expected = readFileSync(path.join(dir, 'expected.txt'), 'utf8').trimEnd().split('\n');
      expect(lines, name).toEqual(expected);
      expect(result.diff, name).toBeDefined();
    }
  }, 120_000);
});

describe('info.version that is not semver', () => {
  it.each([
    ['2.0', '2.0.0'],
    ['2', '2.0.0'],
    ['v3.1', '3.1.0'],
    ['1.2.3.4', '1.2.3'],
    ['v9-1.0.0', '9.0.0'],
    ['01.02', '1.2.0'],
    ['XYZ', '1.0.0'],
    ['', '1.0.0'],
    ['<b>2</b>', '1.0.0'],
    ['99999999999999999999.0', '1.0.0'],
  ])('%j is assumed to be %s', (written, want) => {
    expect(assumedVersion(written)).toBe(want);
  });
});

describe('invalid examples', () => {
  const fixture = path.join(root, 'invalid-example');

  it('are errors in validate', async () => {
    const result = await runCli(['validate', fixture]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/api\.yaml:19:24: error EXAMPLE_INVALID: /);
  });

  it('are warnings in docs', async () => {
    const out = artifactDir('foreign-docs');
    const result = await runCli(['docs', fixture, '--out', path.join(out, 'site')]);
    expect(result.code).toBe(0);
  });

  it('are errors in generate when the config says invalidExamples: "error"', async () => {
    const out = artifactDir('foreign-strict-examples');
    const result = await generate({
      specs: [fixture], out, check: false, force: true, packageName: 'x', packageVersion: '0.0.0',
      config: { root: fixture, refRoots: [], invalidExamples: 'error' },
    });
    expect(result.diff).toBeUndefined();
    expect(result.diagnostics.filter((d) => d.severity === 'error').map((d) => d.code)).toEqual(['EXAMPLE_INVALID', 'EXAMPLE_INVALID']);
  });

  it('are errors in check and release', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ec-foreign-check-'));
    cpSync(fixture, path.join(dir, 'asyncapi'), { recursive: true });
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      const result = await runCli(['check']);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/error EXAMPLE_INVALID: example "contradicts its schema" of status@1\.8\.0/);
      const release = await runCli(['release']);
      expect(release.code).toBe(1);
      expect(release.stderr).toMatch(/error EXAMPLE_INVALID: /);
      expect(existsSync(path.join(dir, 'registry.lock.json'))).toBe(false);
    } finally {
      process.chdir(cwd);
    }
  });
});

describe('a document with no x- extensions (WebSocket and HTTP channels)', () => {
  const fixture = path.join(root, 'no-extensions');
  let out: string;
  let dist: string;
  beforeAll(async () => {
    out = artifactDir('foreign-no-extensions');
    const result = await generateInto([fixture], out, fixture);
    expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    dist = await compile(out);
  }, 120_000);

  it('docs: the service from its title, events from message keys, versions said to be assumed', () => {
    const index = readFileSync(path.join(out, 'docs/index.html'), 'utf8');
    expect(index).toContain('Chat Gateway');
    for (const type of ['chatMessage', 'typing', 'delivered']) expect(index).toContain(`events/${type}.html`);
    const event = readFileSync(path.join(out, 'docs/events/chatMessage.html'), 'utf8');
    expect(event).toContain('version from info.version (not semver: assumed)');
    expect(event).toContain('/rooms/{roomId}/messages');
    const service = readFileSync(path.join(out, 'docs/services/chat-gateway.html'), 'utf8');
    expect(service).toMatch(/wss[\s\S]*https|https[\s\S]*wss/);
  });

  it('the catalog client and the service client publish and receive every event over a bus', async () => {
    const script = `
      import { createEventBus, MemoryTransport } from 'event-contracts/runtime';
      const { CatalogClient, ChatGatewayClient, DeliveredV2Event } = await import(${JSON.stringify('file://' + dist + '/index.js')});
      const bus = createEventBus({ transport: new MemoryTransport().connection(), source: 'chat-gateway' });
      const seen = [];
      await new CatalogClient(bus).subscribeAll('archive', async (event) => { seen.push(event.type + '@' + event.version); });
      const rooms = [];
      await new ChatGatewayClient(bus).onRoomActivity(async (event) => { rooms.push(event.type); });
      await new ChatGatewayClient(bus).postMessage({ roomId: 'r1' }, { text: 'hello', sentAt: '2026-03-14T09:26:53Z' });
      await new CatalogClient(bus).publish(DeliveredV2Event, { messageId: 'm1' });
      let refused = '';
      try { await new CatalogClient(bus).publish(DeliveredV2Event, {}); } catch (e) { refused = e.name; }
      for (let i = 0; i < 100 && (seen.length < 2 || rooms.length < 1); i++) await new Promise((r) => setTimeout(r, 20));
      await bus.close();
      console.log(JSON.stringify({ seen: seen.sort(), rooms, refused }));`;
    const r = JSON.parse(await runNode(script, out)) as { seen: string[]; rooms: string[]; refused: string };
    expect(r.seen).toEqual(['chatMessage@2.1.0', 'delivered@2.1.0']);
    expect(r.rooms).toEqual(['chatMessage']);
    expect(r.refused).toBe('EventValidationError');
  });
});
