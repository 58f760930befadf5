/**
 * Names from a spec that become file names (service ids, event types, channel ids,
 * versions) are safe, bounded, unique ignoring case and stable from run to run.
 */
import { mkdirSync, mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { boundedName } from '../../src/catalog/names.js';
import { SlugAllocator } from '../../src/docs/ids.js';
import { runCli } from '../helpers/cli.js';

function listFiles(dir: string, prefix = ''): string[] {
  return readdirSync(dir).flatMap((name) => {
    const rel = prefix ? `${prefix}/${name}` : name;
    return statSync(path.join(dir, name)).isDirectory() ? listFiles(path.join(dir, name), rel) : [rel];
  });
}

function service(title: string, serviceId: string | undefined, type: string, address: string, property = 'a'): string {
  return [
    'asyncapi: 3.0.0',
    `info: { title: ${JSON.stringify(title)}, version: 1.0.0${serviceId !== undefined ? `, x-service-id: ${JSON.stringify(serviceId)}` : ''} }`,
    'channels:',
    '  c:',
    `    address: ${JSON.stringify(address)}`,
    '    messages:',
    '      m:',
    `        name: ${JSON.stringify(type)}`,
    '        x-version: 1.0.0',
    `        payload: { type: object, properties: { ${property}: { type: string } } }`,
    'operations:',
    '  send:',
    '    action: send',
    "    channel: { $ref: '#/channels/c' }",
    '',
  ].join('\n');
}

describe('names that become paths', () => {
  it.each([['../../../x'], ['clients/../../src/index'], ['.hidden'], ['a b'], ['x'.repeat(81)], ['名前']])(
    'x-service-id %j is a located error and nothing is written',
    async (id) => {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'ec-names-'));
      writeFileSync(path.join(dir, 'api.yaml'), service('Svc', id, 'a.b', 'a.b.v1'));
      const out = path.join(dir, 'out');
      const result = await runCli(['generate', path.join(dir, 'api.yaml'), '--out', out, '--force']);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/api\.yaml:2:\d+: error INVALID_SERVICE_ID: /);
      expect(readdirSync(dir)).toEqual(['api.yaml']);
    },
  );

  it('500-character names give bounded, distinct file names, the same on every run', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ec-names-'));
    const specs = path.join(dir, 'specs');
    mkdirSync(specs);
    const long = 'e'.repeat(480);
    writeFileSync(path.join(specs, 'one.yaml'), service('T'.repeat(300) + ' one', undefined, `${long}.one`, `${long}.one.v1`, 'one'));
    writeFileSync(path.join(specs, 'two.yaml'), service('T'.repeat(300) + ' two', undefined, `${long}.two`, `${long}.two.v1`, 'two'));
    const runs: string[][] = [];
    for (const out of ['out1', 'out2']) {
      const result = await runCli(['generate', specs, '--out', path.join(dir, out), '--force']);
      expect(result.stderr).toMatch(/wrote/);
      expect(result.code).toBe(0);
      runs.push(listFiles(path.join(dir, out)).sort());
    }
    expect(runs[1]).toEqual(runs[0]);
    const files = runs[0]!;
    for (const file of files) for (const segment of file.split('/')) expect(Buffer.byteLength(segment)).toBeLessThanOrEqual(120);
    // Two clients, two event pages, two validator modules: nothing merged by the cut.
    expect(files.filter((f) => f.startsWith('clients/') && f !== 'clients/catalog.ts')).toHaveLength(2);
    expect(files.filter((f) => f.startsWith('docs/events/'))).toHaveLength(2);
    expect(files.filter((f) => /^validators\/ajv\/.*\.payload\.cjs$/.test(f))).toHaveLength(2);
    expect(new Set(files.map((f) => f.toLowerCase())).size).toBe(files.length);
  });

  it('service ids that differ only in case are duplicates (they would share a file)', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ec-names-'));
    writeFileSync(path.join(dir, 'a.yaml'), service('A', 'Users', 'a.a', 'a.a.v1'));
    writeFileSync(path.join(dir, 'b.yaml'), service('B', 'users', 'b.b', 'b.b.v1'));
    const result = await runCli(['validate', dir]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/b\.yaml:2:\d+: error DUPLICATE_SERVICE: /);
  });

  it('boundedName keeps short names and cuts long ones to a start plus a hash of the whole', () => {
    expect(boundedName('UserCreated')).toBe('UserCreated');
    const a = boundedName('x'.repeat(100) + 'a');
    const b = boundedName('x'.repeat(100) + 'b');
    expect(a).toHaveLength(80);
    expect(a).not.toBe(b);
    expect(boundedName('x'.repeat(100) + 'a')).toBe(a);
    expect(boundedName('y'.repeat(100), 40, 'y'.repeat(100), '-')).toMatch(/^y{29}-[0-9a-f]{10}$/);
  });

  it('docs slugs are bounded and unique ignoring case', () => {
    const slugs = new SlugAllocator();
    const long = slugs.slug('n'.repeat(300));
    expect(long.length).toBeLessThanOrEqual(100);
    expect(slugs.slug('User')).toBe('User');
    expect(slugs.slug('user')).toBe('user-2');
    expect(slugs.slug('n'.repeat(300))).toBe(long);
  });
});
