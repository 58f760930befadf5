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

/**
 * 263 pairs shaped like Confluent Schema Registry's JSON Schema diff cases (their set is
 * not in the repository): one change each to an object schema — properties added or removed
 * in open, closed and partially open content models, required changes, type and bound
 * changes, enums, combinators, 2020-12 keywords — made deterministically from a seed.
 */
function confluentShaped() {
  const leaves = [
    { type: 'string' }, { type: 'string', maxLength: 10 }, { type: 'integer', minimum: 0 }, { type: 'number' },
    { enum: ['a', 'b'] }, { type: ['string', 'null'] }, { type: 'array', items: { type: 'string' } }, { type: 'boolean' },
  ];
  const models = [{}, { additionalProperties: false }, { additionalProperties: { type: 'string' } }, { unevaluatedProperties: false }, { patternProperties: { '^x-': { type: 'string' } } }];
  const changes = [
    (s) => ({ ...s, properties: { ...s.properties, extra: { type: 'string' } } }),
    (s) => { const { p0: _drop, ...rest } = s.properties; return { ...s, properties: rest }; },
    (s) => ({ ...s, required: [...(s.required ?? []), 'p1'] }),
    (s) => ({ ...s, required: [] }),
    (s) => ({ ...s, properties: { ...s.properties, p0: { type: ['string', 'integer'] } } }),
    (s) => ({ ...s, properties: { ...s.properties, p1: { type: 'integer', minimum: 5 } } }),
    (s) => ({ ...s, properties: { ...s.properties, p2: { enum: ['a', 'b', 'c'] } } }),
    (s) => ({ ...s, properties: { ...s.properties, p0: { oneOf: [{ type: 'string' }, { type: 'null' }] } } }),
    (s) => ({ ...s, properties: { ...s.properties, p1: { anyOf: [{ type: 'integer' }, { type: 'string', pattern: '^[a-z]+$' }] } } }),
    (s) => ({ ...s, additionalProperties: false }),
    (s) => ({ allOf: [s] }),
    (s) => ({ ...s, properties: { ...s.properties, p3: { type: 'array', items: { type: 'string' }, minContains: 1, contains: { const: 'x' } } } }),
    (s) => ({ ...s, dependentSchemas: { p0: { required: ['p1'] } } }),
  ];
  const out = [];
  for (let i = 0; out.length < 263; i++) {
    const properties = {};
    for (let k = 0; k < 3 + (i % 4); k++) properties[`p${k}`] = leaves[(i * 7 + k * 3) % leaves.length];
    const old = { type: 'object', properties, required: ['p0'], ...models[i % models.length] };
    out.push([old, changes[i % changes.length](old)]);
  }
  return out;
}

/** Time per call in µs, over at least `minMs`, after one warm-up call. */
function micros(fn, minMs = 1000) {
  fn();
  return 1e6 / rate(fn, minMs);
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
  const cases = confluentShaped();
  const levels = ['BACKWARD', 'FORWARD', 'FULL'];
  const payloads = Array.from({ length: 500 }, (_, i) => [wideSchema(10 + (i % 20), false), wideSchema(10 + (i % 20), i % 10 === 0)]);
  return [
    {
      name: 'compat-schema: µs per verdict, 263 Confluent-shaped pairs × BACKWARD/FORWARD/FULL (strict)',
      value: micros(() => {
        for (const [o, n] of cases) for (const level of levels) checkCompatibility([o], n, level);
      }) / (cases.length * levels.length),
      unit: 'µs',
    },
    {
      name: 'compat-schema: µs per verdict, 500 event payloads (50 changed) FULL_TRANSITIVE, lenient',
      value: micros(() => {
        for (const [o, n] of payloads) checkCompatibility([o], n, 'FULL_TRANSITIVE', { policy: 'lenient' });
      }) / payloads.length,
      unit: 'µs',
    },
    { name: 'compat-schema: canRead, 50-property schema pair with changes', value: Math.round(rate(() => canRead(b, a))), unit: 'calls/s' },
    { name: 'compat-schema: canRead, identical 50-property schemas', value: Math.round(rate(() => canRead(a, a))), unit: 'calls/s' },
    { name: 'compat-schema: FULL_TRANSITIVE against 10 versions of 50 properties', value: Math.round(rate(() => checkCompatibility(chain, b, 'FULL_TRANSITIVE'))), unit: 'checks/s' },
    { name: 'compat-schema: canRead, circular object graph', value: Math.round(rate(() => canRead(r2, r1))), unit: 'calls/s' },
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const row of await run()) console.log(`${row.name}: ${row.value} ${row.unit}`);
}
