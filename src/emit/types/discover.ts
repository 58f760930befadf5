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
import { fastSplitter, fullSplitter, modelNames, type Json, type Splitter } from './splitter.js';

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

let splitterPromise: Promise<Splitter> | undefined;

/** Loaded on first use only, and reused: the fast path, else modelina's full import. */
async function splitter(): Promise<Splitter> {
  splitterPromise ??= Promise.resolve(fastSplitter()).then(async (fast) => fast ?? fullSplitter(await import('@asyncapi/modelina')));
  return splitterPromise;
}

export async function discoverModels(roots: readonly TypeNode[]): Promise<Discovery> {
  const models = new Set<string>();
  if (roots.length === 0) return { models, diagnostics: [] };
  try {
    // `processInput` is the generator's own process-and-split step (objects and enums become
    // models). Constraining and rendering are skipped: they are 80 % of `generate`'s time and
    // their output is what we cannot use. Model names are our stamps, already final.
    for (const name of modelNames(await (await splitter()).split(combinedDocument(roots)))) if (name !== COMBINED_ROOT) models.add(name);
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
