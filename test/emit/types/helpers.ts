/** Test helpers: emit one schema, and type-check generated sources with the repo's `tsc --strict`. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { JsonSchema } from '../../../src/catalog/model.js';
import { emitTypes } from '../../../src/emit/types/index.js';
import type { TypesOutput } from '../../../src/emit/types/index.js';

/** The source emitted for one request named `T`. */
export async function emitOne(schema: JsonSchema, description?: string): Promise<string> {
  const out = await emitTypes([{ name: 'T', schema, ...(description !== undefined ? { description } : {}) }]);
  return out.source;
}

export async function emitOneFull(schema: JsonSchema): Promise<TypesOutput> {
  return emitTypes([{ name: 'T', schema }]);
}

const TSC = resolve('node_modules/.bin/tsc');

/**
 * Writes `files` into a temp dir (an ESM package with a strict tsconfig) and runs `tsc` over them.
 * Returns the compiler's output ('' when clean).
 */
export function typecheck(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'emit-types-'));
  try {
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    try {
      const tsconfig = {
        compilerOptions: {
          strict: true,
          noUncheckedIndexedAccess: true,
          exactOptionalPropertyTypes: true,
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          types: [],
          noEmit: true,
          skipLibCheck: true,
        },
        include: ['*.ts'],
      };
      writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(tsconfig));
      writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
      execFileSync(TSC, ['-p', dir], { encoding: 'utf8', stdio: 'pipe' });
      return '';
    } catch (error) {
      const e = error as { stdout?: string; stderr?: string };
      return `${e.stdout ?? ''}${e.stderr ?? ''}`.replaceAll(dir, '<tmp>');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Wraps several emitted sources into namespaces of one module, so they can be checked in one `tsc` run. */
export function asNamespaces(sources: readonly string[]): string {
  return `${sources.map((s, i) => `export namespace Case${i} {\n${s}}\n`).join('\n')}`;
}
