/**
 * Model discovery through @asyncapi/modelina's TypeScriptGenerator.
 *
 * Modelina decides *which* schemas become declarations of their own (its meta-model split:
 * objects and enums get a model, everything else is inlined); the build step decided the
 * names and hands each one over as the schema's `title`, which modelina adopts as the model
 * name (a title wins over its inferred `AnonymousSchema_N`/`…OneOf_1` names). Modelina does not render our output: its 5.10 renderers
 * lose information we must keep (see `print.ts`): raw-quoted keys (`'it's'`), unescaped
 * enum strings and JSDoc, `null`/`{}` as `any`, open tuples as arrays of unions, consts,
 * `nullable`, a fake `additionalProperties` member, and same-titled shapes collapsed into
 * one. So we stop after the generator's split step (`processInput`) and `print.ts` renders
 * each discovered model from our own tree.
 *
 * All requests go to modelina in ONE combined document (a root object with one property per
 * request): one dereference and one interpretation instead of a thousand.
 */
import type { Diagnostic } from '../../diagnostics.js';
import type { TypeNode } from './build.js';
import { isObject } from './build.js';
import { existsSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { trace } from '../../trace.js';
import { createSplitter, modelNames, type Json, type Splitter } from './splitter.js';

const COMBINED_ROOT = '$combined';

/**
 * The structure-only copy of a node that modelina sees. Property keys become `p0, p1…` and
 * enum values placeholders: modelina never prints them, so nothing from the spec can trip
 * its processors (a `$ref` key inside a `const`, a `/` in a key, an `$id` moving the base URI).
 */
function toModelina(node: TypeNode): Json {
  if (node.ref) {
    return node.backEdge ? { $ref: `#${node.ref.combined}` } : toModelina(node.ref);
  }
  const out: Json = { title: node.stamp };
  const s = node.schema;
  if (!isObject(s)) return out;
  const type = s['type'];
  const valid = new Set(['string', 'number', 'integer', 'boolean', 'null', 'array', 'object']);
  if (typeof type === 'string' && valid.has(type)) out['type'] = type;
  else if (Array.isArray(type)) out['type'] = type.filter((t) => typeof t === 'string' && valid.has(t));
  if (Array.isArray(s['enum'])) {
    out['type'] = 'string';
    out['enum'] = s['enum'].map((_, i) => `e${i}`);
  }
  if (node.properties.length > 0) {
    out['properties'] = Object.fromEntries(node.properties.map((p, i) => [`p${i}`, toModelina(p.node)]));
  }
  if (node.tuple) {
    out['items'] = node.tuple.map(toModelina);
    out['additionalItems'] = typeof node.rest === 'object' ? toModelina(node.rest) : node.rest !== false;
  } else if (node.items) out['items'] = toModelina(node.items);
  if (node.additional !== undefined) {
    out['additionalProperties'] = typeof node.additional === 'object' ? toModelina(node.additional) : node.additional;
  }
  if (node.patterns.length > 0) {
    out['patternProperties'] = Object.fromEntries(node.patterns.map((p, i) => [`p${i}`, toModelina(p)]));
  }
  for (const keyword of ['oneOf', 'anyOf', 'allOf'] as const) {
    if (node[keyword].length > 0) out[keyword] = node[keyword].map(toModelina);
  }
  return out;
}

export function combinedDocument(roots: readonly TypeNode[]): Json {
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: COMBINED_ROOT,
    type: 'object',
    properties: Object.fromEntries(roots.map((r, i) => [`r${i}`, toModelina(r)])),
  };
}

export interface Discovery {
  /** Stamps of the models modelina split out. */
  models: Set<string>;
  diagnostics: Diagnostic[];
}

let generatorPromise: Promise<Splitter> | undefined;

/** Modelina costs ~0.5 s to import: loaded on first use only, and the generator reused. */
async function generator(): Promise<Splitter> {
  generatorPromise ??= import('@asyncapi/modelina').then(createSplitter);
  return generatorPromise;
}

let prewarmed: { split(input: Json): Promise<string[]>; done(): void } | undefined;

/**
 * Starts modelina's import in a worker thread now, so that it overlaps the parse of the
 * documents instead of following it (the next `discoverModels` uses the worker). Only from
 * the compiled tool: run from source (tests) there is no worker file, and discovery stays
 * in this thread. Any failure of the worker falls back to this thread too.
 *
 * Only when a core is free: the worker loads modelina and its own copy of the parser's
 * modules (~0.3 s more CPU than importing modelina here, where the parser is loaded
 * already), which pays off on an idle second core and costs wall-clock time on a busy
 * machine (measured on 2 cores with the other one busy: median 2.95 s against 2.26 s
 * in-thread for users.yaml). So it starts only while the 1-minute load average leaves a
 * core free.
 */
export function prewarmDiscovery(): void {
  if (prewarmed) return;
  // EVENT_CONTRACTS_DISCOVERY_WORKER=1 or 0 decides instead (tests, benches).
  const forced = process.env.EVENT_CONTRACTS_DISCOVERY_WORKER;
  const cores = os.availableParallelism();
  if (forced === '0' || (forced !== '1' && (cores < 2 || (os.loadavg()[0] ?? 0) > cores - 1))) return;
  const url = new URL('./discover-worker.js', import.meta.url);
  if (!existsSync(fileURLToPath(url))) return;
  let worker: Worker;
  try {
    worker = new Worker(url);
  } catch {
    return;
  }
  worker.unref(); // never what keeps the process alive
  let failed: Error | undefined;
  const waiting: Array<{ resolve: (names: string[]) => void; reject: (error: Error) => void }> = [];
  worker.on('message', (reply: { ok: boolean; names?: string[]; message?: string }) => {
    const next = waiting.shift();
    if (reply.ok) next?.resolve(reply.names ?? []);
    else next?.reject(new Error(reply.message));
  });
  worker.on('error', (error) => {
    failed = error;
    for (const w of waiting.splice(0)) w.reject(error);
  });
  prewarmed = {
    split: (input) =>
      failed
        ? Promise.reject(failed)
        : new Promise<string[]>((resolve, reject) => {
            waiting.push({ resolve, reject });
            worker.postMessage(input);
          }),
    done: () => {
      prewarmed = undefined;
      void worker.terminate();
    },
  };
}

async function splitNames(input: Json): Promise<string[]> {
  const worker = prewarmed;
  if (worker) {
    try {
      const names = await worker.split(input);
      trace('types: models discovered in the prewarmed worker');
      return names;
    } catch {
      // A worker that could not start or crashed: this thread does the same work (and reports a real failure).
    } finally {
      worker.done();
    }
  }
  const names = modelNames(await (await generator()).split(input));
  trace('types: models discovered in this thread');
  return names;
}

export async function discoverModels(roots: readonly TypeNode[]): Promise<Discovery> {
  const models = new Set<string>();
  if (roots.length === 0) return { models, diagnostics: [] };
  try {
    // `processInput` is the generator's own process-and-split step (objects and enums become
    // models). Constraining and rendering are skipped: they are 80 % of `generate`'s time and
    // their output is what we cannot use. Model names are our stamps, already final.
    for (const name of await splitNames(combinedDocument(roots))) if (name !== COMBINED_ROOT) models.add(name);
    return { models, diagnostics: [] };
  } catch (error) {
    return {
      models,
      diagnostics: [
        {
          code: 'TYPES_MODELINA_FAILED',
          severity: 'warning',
          message: `Model discovery with modelina failed (${error instanceof Error ? error.message : String(error)}); every object and enum schema is declared on its own.`,
        },
      ],
    };
  }
}
