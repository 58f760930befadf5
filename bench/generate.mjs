// generate on a 500-event workspace (whole process, cold and with nothing changed), one
// document cold against the AsyncAPI parser's own parse of it, the types step alone, the
// start-up of a process holding all generated validators vs one compiling the same
// schemas with ajv, and validation throughput of a generated validator vs runtime ajv.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildWorkspace, typeRequests } from './workspace.mjs';

const root = path.resolve('test-artifacts/bench');
const cli = path.resolve('bin/event-contracts.js');

function timed(fn) {
  const start = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function run() {
  const specs = path.join(root, 'specs');
  const out = path.join(root, 'out');
  const shape = buildWorkspace(specs);
  rmSync(out, { recursive: true, force: true });
  // A cache folder of this run's own: "cold" means nothing parsed, compiled or generated before.
  const env = { ...process.env, EVENT_CONTRACTS_CACHE_DIR: mkdtempSync(path.join(os.tmpdir(), 'ec-bench-generate-')) };
  const gen = (...extra) => execFileSync(process.execPath, [cli, 'generate', '--spec', specs, '--out', out, ...extra], { stdio: 'pipe', env });
  const cold = timed(() => gen('--force'));
  const warm = median([1, 2, 3].map(() => timed(() => gen())));
  const rows = [
    { name: `workspace: ${shape.documents} documents, ${shape.eventTypes} event types, ${shape.versions} versions`, value: shape.versions, unit: 'versions' },
    { name: 'generate, cold: empty cache (whole process)', value: cold, unit: 'ms' },
    { name: 'generate, nothing changed (whole process)', value: warm, unit: 'ms' },
  ];

  // One document, cold, against the AsyncAPI parser's own parse of the same document:
  // both whole processes (import + work), median of three, in this run.
  const single = path.resolve('asyncapi/users.yaml');
  const parseOnly = `import { createRequire } from 'node:module'; const require = createRequire(${JSON.stringify(path.resolve('package.json'))});
    const { Parser } = require('@asyncapi/parser'); const fs = require('node:fs');
    const out = await new Parser().parse(fs.readFileSync(${JSON.stringify(single)}, 'utf8'), { source: ${JSON.stringify(single)} });
    if (!out.document) process.exit(1);`;
  const parseMs = median([1, 2, 3].map(() => timed(() => execFileSync(process.execPath, ['--input-type=module', '-e', parseOnly]))));
  const singleMs = median(
    [1, 2, 3].map(() => {
      const singleEnv = { ...process.env, EVENT_CONTRACTS_CACHE_DIR: mkdtempSync(path.join(os.tmpdir(), 'ec-bench-single-')) };
      const singleOut = mkdtempSync(path.join(os.tmpdir(), 'ec-bench-single-out-'));
      return timed(() => execFileSync(process.execPath, [cli, 'generate', '--spec', single, '--out', path.join(singleOut, 'out'), '--force'], { stdio: 'pipe', env: singleEnv }));
    }),
  );
  rows.push(
    { name: 'users.yaml: AsyncAPI parser alone, import + parse (whole process)', value: parseMs, unit: 'ms' },
    { name: 'users.yaml: generate, cold (whole process)', value: singleMs, unit: 'ms' },
    { name: 'users.yaml: generate / parse (target ≤ 1.5)', value: singleMs / parseMs, unit: 'x' },
  );

  // The types step alone, in this process (modelina's import paid before timing): once a
  // test's wall-clock limit, now a figure.
  const { emitTypes } = await import('../dist/emit/types/index.js');
  const requests = typeRequests(500);
  await emitTypes(requests.slice(0, 2));
  const typeTimes = [];
  for (let i = 0; i < 3; i++) {
    const start = process.hrtime.bigint();
    await emitTypes(requests);
    typeTimes.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  const typesMs = median(typeTimes);
  rows.push({ name: `types step: ${requests.length} schemas (500 events × payload + headers), warm`, value: typesMs, unit: 'ms' });

  // Compile the generated validators to JavaScript once, as a service would ship them.
  execFileSync(path.resolve('node_modules/.bin/tsc'), ['-p', out], { stdio: 'pipe' });
  const index = 'file://' + path.join(out, 'dist/validators/index.js');
  const catalogJson = JSON.parse(execFileSync(process.execPath, [cli, 'catalog', '--format', 'json', '--spec', specs], { maxBuffer: 1 << 28 }).toString());
  const schemas = catalogJson.events.flatMap((t) => t.versions.map((v) => v.payload));
  const schemasFile = path.join(root, 'schemas.json');
  writeFileSync(schemasFile, JSON.stringify(schemas));
  // Holding every validator: the typed module is loaded, each compiled module on first use.
  const loadGenerated = `const v = await import(${JSON.stringify(index)}); if (Object.keys(v).length < ${schemas.length}) process.exit(1);`;
  // The same, then every validator used once (all compiled code read and parsed).
  const useAllGenerated = `const v = await import(${JSON.stringify(index)}); for (const [n, f] of Object.entries(v)) if (n.startsWith('validate')) f({});`;
  const compileAjv = `import { createRequire } from 'node:module'; const require = createRequire(${JSON.stringify(path.resolve('package.json'))});
    const Ajv = require('ajv').default; const addFormats = require('ajv-formats').default; const fs = require('node:fs');
    const ajv = new Ajv({ allErrors: true, strict: false }); addFormats(ajv);
    for (const s of JSON.parse(fs.readFileSync(${JSON.stringify(schemasFile)}, 'utf8'))) ajv.compile(s);`;
  const startGenerated = median([1, 2, 3].map(() => timed(() => execFileSync(process.execPath, ['--input-type=module', '-e', loadGenerated]))));
  const startUseAll = median([1, 2, 3].map(() => timed(() => execFileSync(process.execPath, ['--input-type=module', '-e', useAllGenerated]))));
  const startAjv = median([1, 2, 3].map(() => timed(() => execFileSync(process.execPath, ['--input-type=module', '-e', compileAjv]))));
  const bare = median([1, 2, 3].map(() => timed(() => execFileSync(process.execPath, ['-e', '0']))));
  rows.push(
    { name: 'bare node process', value: bare, unit: 'ms' },
    { name: `process start + hold ${schemas.length} generated validators`, value: startGenerated, unit: 'ms' },
    { name: `process start + use each of ${schemas.length} generated validators once`, value: startUseAll, unit: 'ms' },
    { name: `process start + compile ${schemas.length} schemas with ajv`, value: startAjv, unit: 'ms' },
    { name: 'start-up ratio ajv-at-runtime / generated', value: startAjv / startGenerated, unit: 'x' },
  );

  // Throughput, same schema, same valid value, side by side in this process.
  const { createRequire } = await import('node:module');
  const require = createRequire(path.resolve('package.json'));
  const Ajv = require('ajv').default;
  const addFormats = require('ajv-formats').default;
  const event = catalogJson.events.flatMap((t) => t.versions).find((v) => v.codeName.includes('Entity1Changed'));
  const fn = (await import(index))[`validate${event.codeName}`];
  const ajv = new Ajv({ allErrors: true, strict: false, ownProperties: true });
  addFormats(ajv);
  const runtime = ajv.compile(event.payload);
  const value = event.examples[0].payload;
  const opsPerSec = (f, input = value) => {
    for (let i = 0; i < 20000; i++) f(input);
    const n = 200000;
    const ms = timed(() => {
      for (let i = 0; i < n; i++) f(input);
    });
    return (n / ms) * 1000;
  };
  const gOps = opsPerSec(fn);
  const rOps = opsPerSec(runtime);
  rows.push(
    { name: 'validate (generated standalone, typed result)', value: gOps, unit: 'ops/s' },
    { name: 'validate (ajv compiled at run time)', value: rOps, unit: 'ops/s' },
    { name: 'validation ratio generated / runtime ajv', value: gOps / rOps, unit: 'x' },
  );

  // The generated validators' date-time check (validators/ajv/formats.cjs) against ajv-formats'.
  const ours = require('./templates/validators/formats.cjs')['date-time'].validate;
  const theirs = require('ajv-formats/dist/formats').fullFormats['date-time'].validate;
  const stamp = '2025-01-27T10:00:00.000Z';
  const oursOps = opsPerSec(ours, stamp);
  const theirsOps = opsPerSec(theirs, stamp);
  rows.push(
    { name: 'date-time check, generated formats.cjs', value: oursOps, unit: 'ops/s' },
    { name: 'date-time check, ajv-formats full', value: theirsOps, unit: 'ops/s' },
    { name: 'date-time ratio formats.cjs / ajv-formats', value: oursOps / theirsOps, unit: 'x' },
  );
  return rows;
}
