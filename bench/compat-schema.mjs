// Bench rows for the JSON Schema compatibility engine. Imports the compiled library
// (`npm run build` first); bench/run.mjs collects `run()` from each bench file.
import { canRead, checkCompatibility } from '../dist/compat/schema/index.js';

function wideSchema(n, tweak) {
  const properties = {};
  for (let i = 0; i < n; i++) {
    const kind = i % 5;
    properties[`p${i}`] =
      kind === 0 ? { type: 'string', maxLength: 64, description: `field ${i}` }
      : kind === 1 ? { type: 'integer', minimum: 0 }
      : kind === 2 ? { enum: ['a', 'b', 'c'] }
      : kind === 3 ? { type: 'array', items: { type: 'string' }, maxItems: 10 }
      : { type: 'object', properties: { x: { type: 'number' }, y: { type: ['string', 'null'] } }, required: ['x'] };
  }
  const schema = { type: 'object', properties, required: ['p0', 'p1'], additionalProperties: false };
  if (tweak) {
    properties.p0 = { type: 'string', maxLength: 32 };
    properties[`p${n}`] = { type: 'string' };
  }
  return schema;
}

function recursiveSchema(depthNote) {
  const node = { type: 'object', properties: { name: { type: 'string', description: depthNote } } };
  node.properties.children = { type: 'array', items: node };
  node.properties.parent = node;
  return node;
}

function rate(fn, minMs = 400) {
  let n = 0;
  const start = performance.now();
  let now = start;
  while (now - start < minMs) {
    fn();
    n++;
    now = performance.now();
  }
  return n / ((now - start) / 1000);
}

export async function run() {
  const a = wideSchema(50, false);
  const b = wideSchema(50, true);
  const chain = Array.from({ length: 10 }, (_, i) => ({ ...wideSchema(50, false), description: `v${i}` }));
  const r1 = recursiveSchema('a');
  const r2 = recursiveSchema('b');
  return [
    { name: 'compat-schema: canRead, 50-property schema pair with changes', value: Math.round(rate(() => canRead(b, a))), unit: 'calls/s' },
    { name: 'compat-schema: canRead, identical 50-property schemas', value: Math.round(rate(() => canRead(a, a))), unit: 'calls/s' },
    { name: 'compat-schema: FULL_TRANSITIVE against 10 versions of 50 properties', value: Math.round(rate(() => checkCompatibility(chain, b, 'FULL_TRANSITIVE'))), unit: 'checks/s' },
    { name: 'compat-schema: canRead, circular object graph', value: Math.round(rate(() => canRead(r2, r1))), unit: 'calls/s' },
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const row of await run()) console.log(`${row.name}: ${row.value} ${row.unit}`);
}
