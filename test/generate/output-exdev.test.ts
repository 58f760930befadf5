/**
 * An output folder that is a mount point (a container volume): renaming from the staging
 * folder beside it crosses file systems (EXDEV), and the writer copies instead.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';

vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  return {
    ...fs,
    // A file inside the staging folder cannot be renamed into the output (another device);
    // the staging folder itself, renamed into a new output, can.
    renameSync: (from: string, to: string) => {
      if (/\.tmp-[^/]+\//.test(String(from))) {
        const error = new Error('EXDEV: cross-device link not permitted') as NodeJS.ErrnoException;
        error.code = 'EXDEV';
        throw error;
      }
      return fs.renameSync(from, to);
    },
  };
});

const { diffOutput, writeOutput } = await import('../../src/generate/output.js');

describe('writeOutput across file systems', () => {
  it('copies what it cannot rename', () => {
    const out = path.join(mkdtempSync(path.join(os.tmpdir(), 'ec-exdev-')), 'out');
    const first = [{ path: 'a.ts', content: 'one' }];
    writeOutput(out, first, diffOutput(out, first)); // a new folder: the staging folder is renamed as a whole
    const second = [
      { path: 'a.ts', content: 'two' },
      { path: 'sub/b.ts', content: 'three' },
    ];
    writeOutput(out, second, diffOutput(out, second));
    expect(readFileSync(path.join(out, 'a.ts'), 'utf8')).toBe('two');
    expect(readFileSync(path.join(out, 'sub/b.ts'), 'utf8')).toBe('three');
  });
});
