/**
 * Public AsyncAPI documents written by others (../shared/corpus), plus this project's own
 * foreign-style fixtures (test/fixtures/foreign: the broken variants of issue 12): each
 * valid one validates, generates, and its output type-checks under strict; each broken one
 * gives a clean located error. The count of documents that generate and compile is printed.
 * The corpus lives beside the project, not in it: where it is absent (a user's clone) the
 * suite says so and runs the fixtures alone.
 */
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatDiagnostic } from '../../src/diagnostics.js';
import { artifactDir, generateInto, typecheck } from '../helpers/generate.js';

const corpus = path.resolve('../shared/corpus/asyncapi-spec-examples');
const present = existsSync(corpus);
if (!present) console.warn(`\n  SKIPPED: the public AsyncAPI corpus is not at ${corpus}; only the fixtures of test/fixtures/foreign run\n`);

const social = path.join(corpus, 'social-media');

/** Single-file documents, plus the social-media services whose fragments live in common/. */
function documents(): string[] {
  const single = readdirSync(corpus).filter((f) => /\.ya?ml$/.test(f)).map((f) => path.join(corpus, f));
  const services = readdirSync(social)
    .filter((d) => d !== 'common' && statSync(path.join(social, d)).isDirectory())
    .map((d) => path.join(social, d, 'asyncapi.yaml'));
  return [...single, ...services].sort();
}

const krakenExamples = /:\d+:\d+: warning EXAMPLE_INVALID: example #[12] of subscriptionStatus@1\.8\.0: payload/;

/** Documents that generate with these warnings of our own (real findings, not ours to fix). */
const WARNED: Record<string, RegExp> = {
  // Their subscriptionStatus examples contradict the schema (a string where `pair` is an
  // array, a status outside its enum, neither oneOf branch matching): warnings in generate.
  'kraken-websocket-request-reply-message-filter-in-reply-asyncapi.yml': krakenExamples,
  'kraken-websocket-request-reply-multiple-channels-asyncapi.yml': krakenExamples,
};

const BROKEN: Record<string, RegExp> = {
  // Its Avro payloads are remote $refs, which are never fetched.
  'adeo-kafka-request-reply-asyncapi.yml': /adeo-kafka-request-reply-asyncapi\.yml:\d+:\d+: error REMOTE_REF: remote \$ref "https:\/\/www\.asyncapi\.com\/.*\.avsc"/,
};

const fixtures = path.resolve('test/fixtures/foreign');

describe('real-world corpus and foreign fixtures', () => {
  it('every valid document generates code that type-checks; broken ones fail located', async () => {
    const root = artifactDir('corpus');
    const generated: string[] = [];
    const inputs = [
      ...(present ? documents().map((doc) => ({ doc, name: path.relative(corpus, doc).replace(/[\\/]/g, '__').replace(/\.ya?ml$/, '') })) : []),
      ...readdirSync(fixtures).sort().map((d) => ({ doc: path.join(fixtures, d), name: `fixture__${d}` })),
    ];
    for (const { doc, name } of inputs) {
      const out = path.join(root, name);
      // The social-media services share ../common: their workspace is social-media/, not each service's folder.
      const result = await generateInto([doc], out, doc.startsWith(social + path.sep) ? social : undefined);
      const errors = result.diagnostics.filter((d) => d.severity === 'error');
      const expected = BROKEN[path.basename(doc)];
      if (expected) {
        expect(errors.length, name).toBeGreaterThan(0);
        for (const e of errors) expect(formatDiagnostic(e)).toMatch(expected);
        continue;
      }
      expect(errors.map(formatDiagnostic), name).toEqual([]);
      const warned = WARNED[path.basename(doc)];
      if (warned) expect(result.diagnostics.map(formatDiagnostic).filter((l) => warned.test(l)).length, name).toBeGreaterThan(0);
      expect(existsSync(path.join(out, 'types.ts')), name).toBe(true);
      generated.push(name);
    }
    // One compiler run over every output: each folder is its own module tree.
    writeFileSync(
      path.join(root, 'tsconfig.json'),
      JSON.stringify({ extends: `./${generated[0]}/tsconfig.json`, compilerOptions: { noEmit: true, rootDir: '.' }, include: generated.map((g) => `${g}/**/*.ts`) }),
    );
    let tscErrors: string | undefined;
    try {
      await typecheck(root);
    } catch (error) {
      tscErrors = (error as Error).message;
    }
    // tsc names each failing file by its path: the folder under corpus/ is the document.
    const failed = new Set([...(tscErrors ?? '').matchAll(/corpus[\\/]([^\\/]+)[\\/]/g)].map((m) => m[1]!));
    const compiled = generated.filter((g) => !failed.has(g));
    console.log(`\n  corpus: ${compiled.length} of ${inputs.length} documents generate and type-check under strict (${inputs.length - generated.length} refused with located errors as expected)\n`);
    expect(tscErrors).toBeUndefined();
    expect(compiled.length).toBeGreaterThanOrEqual(present ? 36 : 13);
  }, 240_000);
});
