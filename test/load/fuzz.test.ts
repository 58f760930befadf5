/**
 * No stack traces, ever: mutated public documents (../shared/corpus) and hand-made
 * hostile ones go through the real CLI in a child process (so a hang is a failure, not a
 * stuck suite). Every run must exit 0 or 1, print only `file:line:col: severity CODE:
 * message` lines (plus hints and summaries), and write nothing outside `--out`.
 *
 * The mutations are drawn from a seeded generator: set FUZZ_SEED to replay a failure and
 * FUZZ_CASES to run more.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';

const exec = promisify(execFile);
const corpus = path.resolve('../shared/corpus/asyncapi-spec-examples');
const present = existsSync(corpus);
if (!present) console.warn(`\n  SKIPPED (corpus mutations only): the public AsyncAPI corpus is not at ${corpus}\n`);

const SEED = Number(process.env.FUZZ_SEED ?? 20261130);
const CASES = Number(process.env.FUZZ_CASES ?? 30);

/** mulberry32: a small seeded generator, so a failing case can be replayed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const HOSTILE_KEYS = ['__proto__', 'constructor', 'hasOwnProperty', 'toString', 'prototype', '%', '%zz', 'a%20b', '../../x', 'x'.repeat(500), '', '$ref', '\u0000', 'é/~1'];
const HOSTILE_REFS = [
  '%zz.yaml', '#/components/%zz', 'file://host/share/x.yaml', 'file:///etc/passwd', '/etc/passwd', '../../../../../../etc/passwd.yaml',
  '../.env', '#', '#/', '#/components', 'https://example.com/x.yaml', 'missing.yaml', '#/a~2b', 'C:\\\\x.yaml', '\u0000.yaml',
];
const HOSTILE_VALUES: unknown[] = [null, '', 'x'.repeat(600), -1, 1e308, true, [], {}, [[[]]], '../../../x', 'v1.0.0', ' 1.0.0', '1.0.0\n', '{a}', '%zz'];

type Json = unknown;

function pick<T>(rnd: () => number, list: readonly T[]): T {
  return list[Math.floor(rnd() * list.length)]!;
}

/** Every container node of a value, with a way to replace or rename inside it. */
function containers(value: Json): Array<Record<string, unknown> | unknown[]> {
  const out: Array<Record<string, unknown> | unknown[]> = [];
  const stack: Json[] = [value];
  while (stack.length > 0) {
    const node = stack.pop();
    if (Array.isArray(node)) {
      out.push(node);
      stack.push(...node);
    } else if (typeof node === 'object' && node !== null) {
      out.push(node as Record<string, unknown>);
      stack.push(...Object.values(node));
    }
  }
  return out;
}

function mutate(doc: Json, rnd: () => number): void {
  const nodes = containers(doc);
  const steps = 1 + Math.floor(rnd() * 4);
  for (let i = 0; i < steps; i++) {
    const node = pick(rnd, nodes);
    const keys = Array.isArray(node) ? node.map((_, j) => String(j)) : Object.keys(node);
    const key = keys.length > 0 ? pick(rnd, keys) : undefined;
    const kind = Math.floor(rnd() * 5);
    if (Array.isArray(node)) {
      if (kind === 0) node.splice(0, 1);
      else node.push(pick(rnd, HOSTILE_VALUES));
      continue;
    }
    if (kind === 0 && key !== undefined) {
      // Rename a key to a hostile one (defineProperty: `__proto__` must become an own key).
      const value = node[key];
      delete node[key];
      Object.defineProperty(node, pick(rnd, HOSTILE_KEYS), { value, enumerable: true, writable: true, configurable: true });
    } else if (kind === 1) {
      Object.defineProperty(node, pick(rnd, HOSTILE_KEYS), { value: { type: 'string' }, enumerable: true, writable: true, configurable: true });
    } else if (kind === 2) {
      node.$ref = pick(rnd, HOSTILE_REFS);
    } else if (kind === 3 && key !== undefined) {
      node[key] = pick(rnd, HOSTILE_VALUES);
    } else if (key !== undefined) {
      delete node[key];
    }
  }
}

/** Documents written by hand after what broke before (see the issue list in the README's integrity section). */
function hostileDocuments(): Record<string, string> {
  const message = (payload: string, name = 'h.e') =>
    ['asyncapi: 3.0.0', 'info: { title: H, version: 1.0.0 }', 'channels:', '  c:', '    address: h.v1', '    messages:', '      m:', `        name: ${JSON.stringify(name)}`, '        x-version: 1.0.0', `        payload: ${payload}`, ''].join('\n');
  let deep = '{ type: string }';
  for (let i = 0; i < 3000; i++) deep = `{ type: array, items: ${deep} }`;
  return {
    'cycle.yaml': message("{ $ref: '#/components/schemas/A' }") + "components:\n  schemas:\n    A: { $ref: '#/components/schemas/B' }\n    B: { $ref: '#/components/schemas/A' }\n",
    'pct-file.yaml': message("{ $ref: '%zz.yaml' }"),
    'pct-pointer.yaml': message("{ $ref: '#/components/%zz' }"),
    'file-host.yaml': message("{ $ref: 'file://host/x.yaml' }"),
    'pct-property.yaml': message("{ type: object, properties: { '%zz': { type: string }, b: { $ref: '#/nope' } } }"),
    'long-name.yaml': message('{ type: string }', 'n'.repeat(500)),
    'has-own.yaml': message('{ type: object, properties: { hasOwnProperty: { type: string } } }'),
    'proto-null.yaml': message('{ type: object, properties: { __proto__: null } }'),
    'constructor.yaml': message('{ type: object, properties: { constructor: { type: string }, toString: { type: number } } }'),
    'deep.yaml': message(deep),
    'service-id.yaml': message('{ type: string }').replace('info: { title: H,', "info: { title: H, x-service-id: '../../../x',"),
    'not-a-map.yaml': '- 1\n- 2\n',
    // An inline message with neither name nor id, met through an operation (seed 3 found it).
    'anonymous-message.yaml': message('{ type: string }') + "operations:\n  o:\n    action: send\n    channel: { $ref: '#/channels/c' }\n    messages: [{}]\n",
    'binary.yaml': '\u0000\u0001\u0002asyncapi: 3.0.0\n',
  };
}

const LINE = [
  /^\S.*:\d+:\d+: (error|warning) [A-Za-z0-9_.-]+: /, // a located diagnostic
  /^ {2}(hint: |\(see )/, // its continuation
  /^\d+ documents?, \d+ event versions?: /, // validate's summary
  /^generate: \d+ errors?, /,
  /^wrote .*: \d+ added/,
];

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function cli(args: string[], cwd: string): Promise<Run> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [path.resolve('bin/event-contracts.js'), ...args], {
      cwd,
      timeout: 90_000,
      maxBuffer: 1 << 26,
      env: { ...process.env, EVENT_CONTRACTS_TRACE: '' },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; killed?: boolean; signal?: string; stdout?: string; stderr?: string };
    if (e.killed || e.signal) throw new Error(`event-contracts ${args.join(' ')} did not finish (${e.signal ?? 'killed'})`);
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

function expectClean(run: Run, what: string): void {
  expect([0, 1], `${what}: exit ${run.code}\n${run.stderr}`).toContain(run.code);
  const text = run.stdout + run.stderr;
  expect(text, what).not.toMatch(/^\s+at .+[:(]\d+:\d+\)?$/m);
  expect(text, what).not.toMatch(/\b(TypeError|RangeError|URIError|SyntaxError|ReferenceError)\b: /);
  for (const line of run.stderr.split('\n').filter((l) => l !== '')) {
    expect(LINE.some((re) => re.test(line)), `${what}: unexpected line ${JSON.stringify(line.slice(0, 300))}`).toBe(true);
  }
}

/** Every file below a folder, relative. */
function tree(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? tree(full).map((f) => `${name}/${f}`) : [name];
  });
}

/** Runs validate over a folder of documents and generate on each, from a folder outside the repo. */
async function fuzzFolder(docs: Record<string, string>, label: string): Promise<void> {
  const root = mkdtempSync(path.join(os.tmpdir(), 'ec-fuzz-'));
  const specs = path.join(root, 'specs');
  mkdirSync(specs);
  for (const [name, text] of Object.entries(docs)) writeFileSync(path.join(specs, name), text);
  const before = tree(specs);
  expectClean(await cli(['validate', 'specs'], root), `${label}: validate`);
  for (const name of Object.keys(docs)) {
    const out = `out-${name.replace(/\W/g, '_')}`;
    const run = await cli(['generate', `specs/${name}`, '--out', out, '--force'], root);
    expectClean(run, `${label}: generate ${name}`);
    // Nothing beside --out: the specs folder is as it was, and the root holds only specs and outputs.
    expect(tree(specs), `${label}: ${name}`).toEqual(before);
    for (const entry of readdirSync(root)) expect(entry === 'specs' || entry.startsWith('out-'), `${label}: ${name} wrote ${entry}`).toBe(true);
    if (run.code === 1) expect(existsSync(path.join(root, out)), `${label}: ${name} failed yet wrote its output`).toBe(false);
  }
}

describe('fuzz: no stack traces, exit 0 or 1, nothing outside --out', () => {
  it('hand-made hostile documents', async () => {
    await fuzzFolder(hostileDocuments(), 'hostile');
  }, 600_000);

  it.skipIf(!present)(`mutated corpus documents (seed ${SEED}, ${CASES} cases)`, async () => {
    const sources = readdirSync(corpus).filter((f) => /\.ya?ml$/.test(f)).sort();
    const rnd = random(SEED);
    const docs: Record<string, string> = {};
    for (let i = 0; i < CASES; i++) {
      const name = pick(rnd, sources);
      const doc = parseYaml(readFileSync(path.join(corpus, name), 'utf8')) as Json;
      mutate(doc, rnd);
      docs[`m${String(i).padStart(3, '0')}-${name}`] = stringifyYaml(doc, { aliasDuplicateObjects: false });
    }
    await fuzzFolder(docs, `seed ${SEED}`);
  }, 900_000);
});
