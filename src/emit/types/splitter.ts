/**
 * The one module that reaches into @asyncapi/modelina for model discovery.
 *
 * Importing modelina's entry point costs about 0.4 s on top of the AsyncAPI parser: it
 * loads every input processor (AsyncAPI with its own copy of an older parser and its
 * rulesets, OpenAPI, Avro, XSD, TypeScript with the compiler API). Discovery needs only
 * what `TypeScriptGenerator.processInput` runs on our input — a draft-07 JSON Schema: the
 * JSON Schema input processor, then `split(model, { splitEnum, splitObject })` — so the
 * fast path requires those two modules by path (~40 ms). That is modelina's private
 * layout: this module is its only user, `test/emit/types/splitter.test.ts` checks the fast
 * path against the generator's own `processInput` on every kind of schema we emit, and a
 * missing module falls back to the full import.
 */
import { createRequire } from 'node:module';
import type { InputMetaModel } from '@asyncapi/modelina';

const require = createRequire(import.meta.url);

export type Json = { [key: string]: unknown };

interface SplitResult {
  models: Record<string, { name: string }>;
}

export interface Splitter {
  split(input: Json): Promise<SplitResult>;
}

/** What `TypeScriptGenerator.splitMetaModel` asks for: enums and objects become models of their own. */
const SPLIT_OPTIONS = { splitEnum: true, splitObject: true };

/** The reference: modelina's TypeScript generator, exposing its protected process-and-split step. */
export function fullSplitter(modelina: typeof import('@asyncapi/modelina')): Splitter {
  class Discoverer extends modelina.TypeScriptGenerator {
    split(input: Json): Promise<InputMetaModel> {
      return this.processInput(input);
    }
  }
  return new Discoverer({ modelType: 'interface', enumType: 'union', mapType: 'record' });
}

interface MetaModelLike {
  name: string;
}

/** The same two steps without loading modelina's other processors; undefined if its layout moved. */
export function fastSplitter(): Splitter | undefined {
  let processor: { process(input: Json): Promise<{ models: Record<string, MetaModelLike> }> };
  let split: (model: MetaModelLike, options: typeof SPLIT_OPTIONS) => MetaModelLike[];
  try {
    const { JsonSchemaInputProcessor } = require('@asyncapi/modelina/lib/cjs/processors/JsonSchemaInputProcessor.js') as {
      JsonSchemaInputProcessor: new () => typeof processor;
    };
    ({ split } = require('@asyncapi/modelina/lib/cjs/helpers/Splitter.js') as { split: typeof split });
    processor = new JsonSchemaInputProcessor();
    if (typeof split !== 'function' || typeof processor.process !== 'function') return undefined;
  } catch {
    return undefined;
  }
  return {
    async split(input) {
      const raw = await processor.process(input);
      const models: Record<string, MetaModelLike> = {};
      for (const model of Object.values(raw.models)) for (const part of split(model, SPLIT_OPTIONS)) models[part.name] = part;
      return { models };
    },
  };
}

/** The names of the models a split produced. */
export function modelNames(split: SplitResult): string[] {
  return Object.values(split.models).map((m) => m.name);
}
