// Foreign documents (issue 12): the public corpus (../shared/corpus, when present) and
// test/fixtures/foreign, each generated into its own package in one process with an empty
// cache, as documents per second; beside it the AsyncAPI parser's own parse of the same
// documents in the same process (warm), and the ratio of the two.
import { existsSync, mkdtempSync, readdirSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const corpus = path.resolve('../shared/corpus/asyncapi-spec-examples');
const fixtures = path.resolve('test/fixtures/foreign');

function documents() {
  const docs = [];
  if (existsSync(corpus)) {
    for (const f of readdirSync(corpus).sort()) if (/\.ya?ml$/.test(f)) docs.push({ spec: path.join(corpus, f) });
    const social = path.join(corpus, 'social-media');
    for (const d of readdirSync(social).sort()) {
      if (d !== 'common' && statSync(path.join(social, d)).isDirectory()) docs.push({ spec: path.join(social, d, 'asyncapi.yaml'), root: social });
    }
  }
  for (const d of readdirSync(fixtures).sort()) docs.push({ spec: path.join(fixtures, d), root: path.join(fixtures, d) });
  return docs;
}

export async function run() {
  // A cache of this run's own: every document is parsed, compiled and generated.
  process.env.EVENT_CONTRACTS_CACHE_DIR = mkdtempSync(path.join(os.tmpdir(), 'ec-bench-corpus-'));
  const { generate } = await import('../dist/generate/index.js');
  const { asyncApiParser } = await import('../dist/load/asyncapi-parser.js');
  const { readFileSync } = await import('node:fs');
  const docs = documents();
  const outRoot = mkdtempSync(path.join(os.tmpdir(), 'ec-bench-corpus-out-'));
  // Warm the parser and the generator once (imports, meta-schema), outside the timing.
  await generate({ specs: [docs[0].spec], out: path.join(outRoot, 'warm'), check: false, force: true, packageName: 'b', packageVersion: '0.0.0', ...(docs[0].root ? { config: { root: docs[0].root, refRoots: [] } } : {}) });

  let generated = 0;
  const start = process.hrtime.bigint();
  for (const [i, doc] of docs.entries()) {
    const result = await generate({
      specs: [doc.spec], out: path.join(outRoot, String(i)), check: false, force: true, packageName: 'b', packageVersion: '0.0.0',
      ...(doc.root ? { config: { root: doc.root, refRoots: [] } } : {}),
    });
    if (result.diff) generated++;
  }
  const generateMs = Number(process.hrtime.bigint() - start) / 1e6;

  // The parser alone on the same files (folders: their api.yaml), warm, same process.
  const parser = asyncApiParser();
  const files = docs.map((d) => (statSync(d.spec).isDirectory() ? path.join(d.spec, 'api.yaml') : d.spec));
  const parseStart = process.hrtime.bigint();
  for (const file of files) await parser.parse(readFileSync(file, 'utf8'), { source: file });
  const parseMs = Number(process.hrtime.bigint() - parseStart) / 1e6;

  // One foreign document, whole processes (import + work), median of three: the issue's
  // target is generate within 1.5× of the parser's own parse.
  const { execFileSync } = await import('node:child_process');
  const single = existsSync(corpus) ? path.join(corpus, 'streetlights-kafka-asyncapi.yml') : path.join(fixtures, 'avro/api.yaml');
  const timed = (fn) => {
    const t = process.hrtime.bigint();
    fn();
    return Number(process.hrtime.bigint() - t) / 1e6;
  };
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const parseOnly = `import { createRequire } from 'node:module'; const require = createRequire(${JSON.stringify(path.resolve('package.json'))});
    const { Parser } = require('@asyncapi/parser'); const fs = require('node:fs');
    const out = await new Parser().parse(fs.readFileSync(${JSON.stringify(single)}, 'utf8'), { source: ${JSON.stringify(single)} });
    if (!out.document) process.exit(1);`;
  const singleParse = median([1, 2, 3].map(() => timed(() => execFileSync(process.execPath, ['--input-type=module', '-e', parseOnly]))));
  const singleGenerate = median(
    [1, 2, 3].map(() => {
      const env = { ...process.env, EVENT_CONTRACTS_CACHE_DIR: mkdtempSync(path.join(os.tmpdir(), 'ec-bench-corpus-single-')) };
      const out = path.join(mkdtempSync(path.join(os.tmpdir(), 'ec-bench-corpus-single-out-')), 'out');
      return timed(() => execFileSync(process.execPath, [path.resolve('bin/event-contracts.js'), 'generate', '--spec', single, '--out', out, '--force'], { stdio: 'pipe', env }));
    }),
  );

  return [
    { name: `documents: ${docs.length} (${existsSync(corpus) ? 'public corpus + ' : ''}test/fixtures/foreign), ${generated} generated`, value: docs.length, unit: 'docs' },
    { name: 'generate each into its own package, empty cache, one process', value: generateMs, unit: 'ms' },
    { name: 'generate throughput', value: (docs.length / generateMs) * 1000, unit: 'docs/s' },
    { name: 'AsyncAPI parser alone on the same documents, warm', value: parseMs, unit: 'ms' },
    { name: 'generate / parse per document, in process', value: generateMs / parseMs, unit: 'x' },
    { name: `${path.basename(single)}: AsyncAPI parser alone, import + parse (whole process)`, value: singleParse, unit: 'ms' },
    { name: `${path.basename(single)}: generate, cold (whole process)`, value: singleGenerate, unit: 'ms' },
    { name: `${path.basename(single)}: generate / parse (target ≤ 1.5)`, value: singleGenerate / singleParse, unit: 'x' },
  ];
}
