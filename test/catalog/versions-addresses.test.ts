/**
 * Versions are strict semver, and one address carries one set of events: each problem a
 * located diagnostic from `validate`.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isStrictSemver } from '../../src/catalog/build.js';
import { runCli } from '../helpers/cli.js';

function workspace(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ec-versions-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
  return dir;
}

function doc(service: string, type: string, version: string, address: string, channelExtra = ''): string {
  return [
    'asyncapi: 3.0.0',
    `info: { title: ${service}, version: 1.0.0, x-service-id: ${service} }`,
    'channels:',
    '  c:',
    `    address: ${JSON.stringify(address)}${channelExtra}`,
    '    messages:',
    '      m:',
    `        name: ${type}`,
    `        x-version: ${version}`,
    '        payload: { type: string }',
    '',
  ].join('\n');
}

describe('x-version is strict semver', () => {
  it.each([
    ['"1.0.0"', true],
    ['"1.2.3-rc.1"', true],
    ['"1.2.3+build.5"', true],
    ['"v1.0.0"', false],
    ['" 1.0.0"', false],
    ['"1.0.0\\n"', false],
    ['"1.0"', false],
    ['"01.0.0"', false],
    ['1.0', false],
    ['100', false],
  ])('x-version: %s → valid %s', async (written, valid) => {
    const dir = workspace({ 'api.yaml': doc('svc', 'a.b', written, 'a.b.v1') });
    const result = await runCli(['validate', dir]);
    if (valid) {
      expect(result.stderr).toMatch(/0 errors/);
      expect(result.code).toBe(0);
    } else {
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/api\.yaml:9:9: error INVALID_VERSION: event "a\.b": /);
    }
  });

  it.each([
    ['1.0.0', true],
    ['0.0.1-alpha.0', true],
    ['v1.0.0', false],
    ['1.0.0 ', false],
    ['1.0.0\n', false],
    ['=1.0.0', false],
    ['1.0.0-01', false],
  ])('isStrictSemver(%j) = %s', (version, want) => {
    expect(isStrictSemver(version)).toBe(want);
  });
});

describe('one address, one set of events', () => {
  it('two documents putting different events on one address: an error at the second, pointing at the first', async () => {
    const dir = workspace({ 'a.yaml': doc('alpha', 'a.created', '"1.0.0"', 'shared.v1'), 'b.yaml': doc('beta', 'b.created', '"1.0.0"', 'shared.v1') });
    const result = await runCli(['validate', dir]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/b\.yaml:4:3: error ADDRESS_CONFLICT: address "shared\.v1" carries b\.created in beta but a\.created in alpha/);
    expect(result.stderr).toMatch(/\(see .*a\.yaml:4:3\)/);
  });

  it('addresses that differ only in parameter names are one address', async () => {
    const dir = workspace({ 'a.yaml': doc('alpha', 'a.created', '"1.0.0"', 'acct.{accountId}.v1'), 'b.yaml': doc('beta', 'b.created', '"1.0.0"', 'acct.{id}.v1') });
    const result = await runCli(['validate', dir]);
    expect(result.stderr).toMatch(/error ADDRESS_CONFLICT/);
  });

  it('x-shared-address: true makes it a warning', async () => {
    const dir = workspace({
      'a.yaml': doc('alpha', 'a.created', '"1.0.0"', 'shared.v1', '\n    x-shared-address: true'),
      'b.yaml': doc('beta', 'b.created', '"1.0.0"', 'shared.v1'),
    });
    const result = await runCli(['validate', dir]);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/warning ADDRESS_CONFLICT/);
  });

  it('the same event on one address from two documents (producer and consumer) is fine', async () => {
    const dir = workspace({ 'a.yaml': doc('alpha', 'a.created', '"1.0.0"', 'a.v1'), 'b.yaml': doc('beta', 'a.created', '"1.0.0"', 'a.v1') });
    const result = await runCli(['validate', dir]);
    expect(result.stderr).not.toMatch(/ADDRESS_CONFLICT/);
  });
});
