/**
 * Public AsyncAPI documents written by others (../shared/corpus): each valid one
 * validates, generates, and its output type-checks under strict; each broken one gives
 * a clean located error. The corpus lives beside the project, not in it: where it is
 * absent (a user's clone) the suite says so and skips.
 */
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatDiagnostic } from '../../src/diagnostics.js';
import { artifactDir, generateInto, typecheck } from '../helpers/generate.js';

const corpus = path.resolve('../shared/corpus/asyncapi-spec-examples');
const present = existsSync(corpus);
if (!present) console.warn(`\n  SKIPPED: the public AsyncAPI corpus is not at ${corpus}\n`);

const social = path.join(corpus, 'social-media');

/** Single-file documents, plus the social-media services whose fragments live in common/. */
function documents(): string[] {
  const single = readdirSync(corpus).filter((f) => /\.ya?ml$/.test(f)).map((f) => path.join(corpus, f));
  const services = readdirSync(social)
    .filter((d) => d !== 'common' && statSync(path.join(social, d)).isDirectory())
    .map((d) => path.join(social, d, 'asyncapi.yaml'));
  return [...single, ...services].sort();
}

const krakenExamples = (file: string) =>
  new RegExp(`${file.replace(/[.]/g, '\\.')}:\\d+:\\d+: error EXAMPLE_INVALID: example #[12] of subscriptionStatus@1\\.8\\.0: payload`);

const BROKEN: Record<string, RegExp> = {
  // Their subscriptionStatus examples contradict the schema (a string where `pair` is an
  // array, a status outside its enum, neither oneOf branch matching): real findings.
  'kraken-websocket-request-reply-message-filter-in-reply-asyncapi.yml': krakenExamples('kraken-websocket-request-reply-message-filter-in-reply-asyncapi.yml'),
  'kraken-websocket-request-reply-multiple-channels-asyncapi.yml': krakenExamples('kraken-websocket-request-reply-multiple-channels-asyncapi.yml'),
  // Its Avro payloads are remote $refs, which are never fetched.
  'adeo-kafka-request-reply-asyncapi.yml': /adeo-kafka-request-reply-asyncapi\.yml:\d+:\d+: error REMOTE_REF: remote \$ref "https:\/\/www\.asyncapi\.com\/.*\.avsc"/,
};

describe.skipIf(!present)('real-world corpus', () => {
  it('every valid document generates code that type-checks; broken ones fail located', async () => {
    const root = artifactDir('corpus');
    const generated: string[] = [];
    for (const doc of documents()) {
      const name = path.relative(corpus, doc).replace(/[\\/]/g, '__').replace(/\.ya?ml$/, '');
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
      expect(existsSync(path.join(out, 'types.ts')), name).toBe(true);
      generated.push(name);
    }
    expect(generated.length).toBeGreaterThanOrEqual(19);
    // One compiler run over every output: each folder is its own module tree.
    writeFileSync(
      path.join(root, 'tsconfig.json'),
      JSON.stringify({ extends: `./${generated[0]}/tsconfig.json`, compilerOptions: { noEmit: true, rootDir: '.' }, include: generated.map((g) => `${g}/**/*.ts`) }),
    );
    await typecheck(root);
  }, 240_000);
});
