/**
 * The committed workspace, generated and executed: every emitted module loads as ESM in
 * plain Node, every example passes its generated validator, and a mutated example
 * (required property removed, wrong type) fails it.
 */
import { readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { EventVersion, JsonSchema } from '../../src/catalog/model.js';
import { openWorkspace } from '../../src/workspace.js';
import { artifactDir, compile, generateInto, runNode } from '../helpers/generate.js';

interface Case {
  module: string;
  fn: string;
  value: unknown;
  expectOk: boolean;
  label: string;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A value of the wrong JSON type for a property schema, or undefined when the schema accepts anything. */
function wrongTypeFor(schema: unknown): unknown {
  if (!isObject(schema) || typeof schema.type !== 'string') return undefined;
  return { string: 12345, integer: 'not a number', number: 'not a number', boolean: 'yes', object: 7, array: 7, null: 0 }[schema.type];
}

function mutations(event: EventVersion, payload: Record<string, unknown>): Array<{ label: string; value: unknown }> {
  const schema = event.payload as Record<string, unknown>;
  const out: Array<{ label: string; value: unknown }> = [];
  const required = Array.isArray(schema.required) ? (schema.required as string[]) : [];
  if (required[0] !== undefined && required[0] in payload) {
    const { [required[0]]: _removed, ...rest } = payload;
    out.push({ label: `without required "${required[0]}"`, value: rest });
  }
  const properties = isObject(schema.properties) ? (schema.properties as Record<string, JsonSchema>) : {};
  const target = Object.keys(payload).find((name) => wrongTypeFor(properties[name]) !== undefined);
  if (target) out.push({ label: `"${target}" of the wrong type`, value: { ...payload, [target]: wrongTypeFor(properties[target]) } });
  return out;
}

describe('generated workspace', () => {
  let out: string;
  let dist: string;
  beforeAll(async () => {
    out = artifactDir('workspace');
    const result = await generateInto(['asyncapi'], out);
    expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    dist = await compile(out);
  }, 120_000);

  it('every emitted ESM module loads in plain Node, and every compiled validator with it', async () => {
    const esm = ['index.js', 'events.js', 'types.js', 'validators/index.js', ...readdirSync(path.join(dist, 'clients')).filter((f) => f.endsWith('.js')).map((f) => `clients/${f}`)];
    const compiled = readdirSync(path.join(dist, 'validators/ajv')).filter((f) => f.endsWith('.cjs'));
    expect(compiled.filter((f) => f.endsWith('.payload.cjs'))).toHaveLength(13);
    // Events with the same headers schema share its module.
    const headers = compiled.filter((f) => f.endsWith('.headers.cjs')).length;
    expect(headers).toBeGreaterThan(0);
    expect(headers).toBeLessThan(13);
    const script = `
      const base = ${JSON.stringify('file://' + dist + '/')};
      let loaded = 0;
      for (const m of ${JSON.stringify(esm)}) { await import(new URL(m, base).href); loaded++; }
      // Calling each validator once loads its compiled module; a module that failed to load would throw here.
      const validators = await import(new URL('validators/index.js', base).href);
      let called = 0;
      for (const [name, fn] of Object.entries(validators)) if (name.startsWith('validate')) { fn({}); called++; }
      console.log(JSON.stringify({ loaded, called }));`;
    const result = JSON.parse(await runNode(script, out)) as { loaded: number; called: number };
    expect(result.loaded).toBe(esm.length);
    // A payload and a headers validator per event version (all ours declare headers).
    expect(result.called).toBe(26);
  });

  it('every example passes its validator; mutated examples fail', async () => {
    const workspace = await openWorkspace(['asyncapi']);
    const cases: Case[] = [];
    for (const type of workspace.catalog.events) {
      for (const event of type.versions) {
        expect(event.examples.length, `${event.key} has an example`).toBeGreaterThan(0);
        for (const example of event.examples) {
          const module = 'validators/index.js';
          cases.push({ module, fn: `validate${event.codeName}`, value: example.payload, expectOk: true, label: `${event.key} ${example.name}` });
          if (example.headers !== undefined) {
            cases.push({ module, fn: `validate${event.codeName}Headers`, value: example.headers, expectOk: true, label: `${event.key} ${example.name} headers` });
          }
          if (isObject(example.payload)) {
            for (const m of mutations(event, example.payload)) {
              cases.push({ module, fn: `validate${event.codeName}`, value: m.value, expectOk: false, label: `${event.key} ${example.name} ${m.label}` });
            }
          }
        }
      }
    }
    expect(cases.filter((c) => !c.expectOk).length).toBeGreaterThanOrEqual(20);
    const casesFile = path.join(out, 'cases.json');
    writeFileSync(casesFile, JSON.stringify(cases));
    const script = `
      import { readFileSync } from 'node:fs';
      const cases = JSON.parse(readFileSync(${JSON.stringify(casesFile)}, 'utf8'));
      const results = [];
      for (const c of cases) {
        const mod = await import(new URL(c.module, ${JSON.stringify('file://' + dist + '/')}).href);
        const r = mod[c.fn](c.value);
        results.push({ label: c.label, ok: r.ok, errors: r.ok ? [] : r.errors });
      }
      console.log(JSON.stringify(results));`;
    const results = JSON.parse(await runNode(script, out)) as Array<{ label: string; ok: boolean; errors: Array<{ path: string; message: string }> }>;
    results.forEach((r, i) => {
      expect({ label: r.label, ok: r.ok }).toEqual({ label: cases[i]!.label, ok: cases[i]!.expectOk });
      if (!r.ok) expect(r.errors[0]).toMatchObject({ path: expect.stringMatching(/^\//), message: expect.any(String) });
    });
  });
});
