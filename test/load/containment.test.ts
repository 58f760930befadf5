/**
 * A `$ref` reaches only YAML/JSON files inside the workspace: the folder of the config
 * file, or for a spec given from outside any workspace, the spec's own folder (plus the
 * config's `refRoots`). Each refusal is a located error and the parser never runs, so a
 * file outside cannot leak into generated code or docs.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SourceSet, prepareWorkspace, workspaceRoots } from '../../src/load/index.js';
import { openWorkspace } from '../../src/workspace.js';
import { runCli } from '../helpers/cli.js';

const SECRET = 'TOP-SECRET-4711';

/** A workspace folder `ws/` with a secret beside it (outside), in a fresh temporary folder. */
function scratch(): { root: string; ws: string } {
  const root = mkdtempSync(path.join(os.tmpdir(), 'ec-contain-'));
  const ws = path.join(root, 'ws');
  mkdirSync(ws);
  writeFileSync(path.join(root, 'secret.yaml'), `type: string\ndescription: ${SECRET}\n`);
  writeFileSync(path.join(root, '.env'), `TOKEN=${SECRET}\n`);
  return { root, ws };
}

/** A one-message document whose payload is `payload` (YAML flow text), on line 10. */
function doc(payload: string, extra = ''): string {
  return [
    'asyncapi: 3.0.0',
    'info: { title: Contain, version: 1.0.0 }',
    'channels:',
    '  c:',
    '    address: contain.v1',
    '    messages:',
    '      m:',
    '        name: contain',
    '        x-version: 1.0.0',
    `        payload: ${payload}`,
    extra,
  ].join('\n');
}

async function validate(ws: string, file = 'api.yaml') {
  return runCli(['validate', path.join(ws, file)]);
}

describe('$ref containment', () => {
  it.each([
    ['a parent-folder path', `{ $ref: '../secret.yaml' }`, 'REF_OUTSIDE_WORKSPACE'],
    ['a deep parent path', `{ $ref: '../../../../../../../etc/passwd.yaml' }`, 'REF_OUTSIDE_WORKSPACE'],
    ['a file that is not YAML or JSON', `{ $ref: '../.env' }`, 'REF_FILE_TYPE'],
    ['/etc/passwd', `{ $ref: '/etc/passwd' }`, 'REF_NOT_RELATIVE'],
    ['an absolute YAML path', `{ $ref: '/tmp/x.yaml' }`, 'REF_NOT_RELATIVE'],
    ['a file: URL', `{ $ref: 'file:///etc/passwd' }`, 'REF_NOT_RELATIVE'],
    ['a file: URL with a host', `{ $ref: 'file://host/share/x.yaml' }`, 'REF_NOT_RELATIVE'],
    ['a malformed percent escape in the path', `{ $ref: '%zz.yaml' }`, 'REF_MALFORMED'],
    ['a malformed percent escape in the pointer', `{ $ref: '#/components/%zz' }`, 'REF_MALFORMED'],
    ['a remote URL', `{ $ref: 'https://example.com/s.yaml' }`, 'REMOTE_REF'],
  ])('refuses %s where it is written', async (_name, payload, code) => {
    const { ws } = scratch();
    writeFileSync(path.join(ws, 'api.yaml'), doc(payload));
    const result = await validate(ws);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(new RegExp(`api\\.yaml:10:\\d+: error ${code}: .*\\$ref `));
    expect(result.stderr).not.toContain(SECRET);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('refuses a symlink inside the workspace that leads outside it', async () => {
    const { root, ws } = scratch();
    symlinkSync(path.join(root, 'secret.yaml'), path.join(ws, 'link.yaml'));
    writeFileSync(path.join(ws, 'api.yaml'), doc(`{ $ref: 'link.yaml' }`));
    const result = await validate(ws);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/api\.yaml:10:\d+: error REF_OUTSIDE_WORKSPACE: \$ref "link\.yaml"/);
  });

  it('refuses a symlinked folder that leads outside', async () => {
    const { root, ws } = scratch();
    symlinkSync(root, path.join(ws, 'up'), 'dir');
    writeFileSync(path.join(ws, 'api.yaml'), doc(`{ $ref: 'up/secret.yaml' }`));
    const result = await validate(ws);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/error REF_OUTSIDE_WORKSPACE/);
  });

  it('follows a symlink that stays inside, and plain relative references', async () => {
    const { ws } = scratch();
    mkdirSync(path.join(ws, 'common'));
    writeFileSync(path.join(ws, 'common', 'schemas.yaml'), 'Name: { type: string }\n');
    symlinkSync(path.join(ws, 'common', 'schemas.yaml'), path.join(ws, 'alias.yaml'));
    writeFileSync(
      path.join(ws, 'api.yaml'),
      doc(`{ type: object, properties: { a: { $ref: 'common/schemas.yaml#/Name' }, b: { $ref: './alias.yaml#/Name' } } }`),
    );
    const result = await validate(ws);
    expect(result.stderr).toMatch(/0 errors/);
    expect(result.code).toBe(0);
  });

  it('a config folder is the root: fragments anywhere below it are reachable, its parent is not', async () => {
    const { root, ws } = scratch();
    mkdirSync(path.join(ws, 'specs'));
    mkdirSync(path.join(ws, 'shared'));
    writeFileSync(path.join(ws, 'shared', 's.yaml'), 'S: { type: string }\n');
    writeFileSync(path.join(ws, 'specs', 'api.yaml'), doc(`{ $ref: '../shared/s.yaml#/S' }`));
    const inside = await openWorkspace([path.join(ws, 'specs')], { config: { root: ws, refRoots: [] } });
    expect(inside.diagnostics).toEqual([]);
    // The same spec on its own (no workspace around it) may not climb to ../shared.
    const alone = await openWorkspace([path.join(ws, 'specs')]);
    expect(alone.diagnostics.map((d) => d.code)).toEqual(['REF_OUTSIDE_WORKSPACE']);
    // refRoots adds a folder explicitly.
    writeFileSync(path.join(ws, 'specs', 'api.yaml'), doc(`{ $ref: '../../secret.yaml' }`));
    const refused = await openWorkspace([path.join(ws, 'specs')], { config: { root: ws, refRoots: [] } });
    expect(refused.diagnostics.map((d) => d.code)).toEqual(['REF_OUTSIDE_WORKSPACE']);
    const allowed = await openWorkspace([path.join(ws, 'specs')], { config: { root: ws, refRoots: [root] } });
    expect(allowed.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  });

  it('roots: the config folder, else each spec folder (a file: its folder)', () => {
    const { root, ws } = scratch();
    writeFileSync(path.join(ws, 'api.yaml'), doc('{ type: string }'));
    mkdirSync(path.join(root, 'elsewhere'));
    expect(workspaceRoots([path.join(ws, 'api.yaml')])).toEqual([ws]);
    expect(workspaceRoots([ws])).toEqual([ws]);
    expect(workspaceRoots([path.join(ws, 'api.yaml'), path.join(root, 'elsewhere')], { configDir: ws })).toEqual([ws, path.join(root, 'elsewhere')].sort());
    expect(workspaceRoots([], { configDir: ws, extra: ['../x'] })).toEqual([path.join(root, 'x'), ws].sort());
  });

  it('generate writes nothing and leaks nothing when a reference leaves the workspace', async () => {
    const { root, ws } = scratch();
    writeFileSync(path.join(ws, 'api.yaml'), doc(`{ $ref: '../secret.yaml' }`));
    const out = path.join(root, 'out');
    const result = await runCli(['generate', path.join(ws, 'api.yaml'), '--out', out, '--force']);
    expect(result.code).toBe(1);
    expect(existsSync(out)).toBe(false);
    expect(result.stdout + result.stderr).not.toContain(SECRET);
    expect(readdirSync(root).sort()).toEqual(['.env', 'secret.yaml', 'ws']);
  });

  it('the parser never reads a refused file: only the entry is among the files read', () => {
    const { ws } = scratch();
    writeFileSync(path.join(ws, 'api.yaml'), doc(`{ $ref: '../secret.yaml' }`));
    const sources = new SourceSet([ws]);
    const prepared = prepareWorkspace([ws], sources);
    expect(prepared.entries.map((e) => e.ok)).toEqual([false]);
    expect(sources.all().map((f) => path.basename(f.absPath))).toEqual(['api.yaml']);
    expect(readFileSync(path.join(ws, 'api.yaml'), 'utf8')).toContain('../secret.yaml');
  });
});
