/**
 * The writer: every path stays inside the output folder, and a run that cannot write all
 * of its files writes none (they are staged in a temporary folder, then moved in).
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { assertSafePaths, diffOutput, OutputDirError, unsafePathReason, writeOutput } from '../../src/generate/output.js';

const scratch = () => mkdtempSync(path.join(os.tmpdir(), 'ec-out-'));

describe('unsafePathReason', () => {
  it.each([
    ['types.ts', undefined],
    ['clients/users-service.ts', undefined],
    ['docs/events/user.created.html', undefined],
    ['', 'empty path'],
    ['../x.ts', 'has a ".." segment'],
    ['clients/../../x.ts', 'has a ".." segment'],
    ['clients/./x.ts', 'has a "." segment'],
    ['clients//x.ts', 'has a "" segment'],
    ['/etc/passwd', 'absolute'],
    ['C:/x.ts', 'contains a control or reserved character'],
    ['clients\\..\\x.ts', 'contains a backslash'],
    ['a\u0000b', 'contains a control or reserved character'],
    [`clients/${'x'.repeat(201)}.ts`, 'has a name longer than 200 bytes'],
  ])('%j → %j', (rel, reason) => {
    expect(unsafePathReason(rel)).toBe(reason);
  });
});

describe('writeOutput', () => {
  it('refuses a path outside the output folder and writes nothing at all', () => {
    const dir = scratch();
    const out = path.join(dir, 'out');
    const files = [
      { path: 'a.ts', content: 'a' },
      { path: '../escaped.ts', content: 'x' },
    ];
    expect(() => assertSafePaths(out, files)).toThrow(OutputDirError);
    expect(() => writeOutput(out, files, { added: ['a.ts', '../escaped.ts'], changed: [], removed: [] })).toThrow(/refusing to write outside/);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a file the file system refuses while staging leaves the existing output untouched', () => {
    const dir = scratch();
    const out = path.join(dir, 'out');
    mkdirSync(out);
    writeFileSync(path.join(out, 'old.ts'), 'old');
    // `a` as a file and as a folder: the second cannot be created.
    const files = [
      { path: 'a', content: 'file' },
      { path: 'a/b.ts', content: 'inside' },
      { path: 'old.ts', content: 'new' },
    ];
    expect(() => writeOutput(out, files, { added: ['a', 'a/b.ts'], changed: ['old.ts'], removed: [] })).toThrow();
    expect(readdirSync(out)).toEqual(['old.ts']);
    expect(readFileSync(path.join(out, 'old.ts'), 'utf8')).toBe('old');
    expect(readdirSync(dir)).toEqual(['out']);
  });

  it('does not write through a folder that is a symlink to elsewhere', () => {
    const dir = scratch();
    const out = path.join(dir, 'out');
    const victim = path.join(dir, 'src');
    mkdirSync(out);
    mkdirSync(victim);
    symlinkSync(victim, path.join(out, 'clients'), 'dir');
    const files = [
      { path: 'index.ts', content: 'index' },
      { path: 'clients/x.ts', content: 'x' },
    ];
    expect(() => writeOutput(out, files, diffOutput(out, files))).toThrow(/symlink/);
    expect(readdirSync(victim)).toEqual([]);
    expect(existsSync(path.join(out, 'index.ts'))).toBe(false);
  });

  it('writes, replaces and removes, leaving no staging folder behind', () => {
    const dir = scratch();
    const out = path.join(dir, 'out');
    const first = [
      { path: 'a.ts', content: 'a1' },
      { path: 'sub/b.ts', content: 'b1' },
    ];
    writeOutput(out, first, diffOutput(out, first));
    expect(readFileSync(path.join(out, 'sub/b.ts'), 'utf8')).toBe('b1');
    const second = [
      { path: 'a.ts', content: 'a2' },
      { path: 'c.ts', content: 'c' },
    ];
    const diff = diffOutput(out, second);
    expect(diff).toEqual({ added: ['c.ts'], changed: ['a.ts'], removed: ['sub/b.ts'] });
    writeOutput(out, second, diff);
    expect(readdirSync(out).sort()).toEqual(['a.ts', 'c.ts']);
    expect(readFileSync(path.join(out, 'a.ts'), 'utf8')).toBe('a2');
    expect(readdirSync(dir)).toEqual(['out']);
  });
});
