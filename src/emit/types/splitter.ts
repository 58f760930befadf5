/**
 * The one place that builds modelina's generator for model discovery, used in this thread
 * and in the discovery worker alike.
 */
import type { InputMetaModel } from '@asyncapi/modelina';

export type Json = { [key: string]: unknown };

export interface Splitter {
  split(input: Json): Promise<{ models: Record<string, { name: string }> }>;
}

/** Modelina's TypeScript generator, exposing its protected process-and-split step. */
export function createSplitter(modelina: typeof import('@asyncapi/modelina')): Splitter {
  class Discoverer extends modelina.TypeScriptGenerator {
    split(input: Json): Promise<InputMetaModel> {
      return this.processInput(input);
    }
  }
  return new Discoverer({ modelType: 'interface', enumType: 'union', mapType: 'record' });
}

/** The names of the models a split produced. */
export function modelNames(split: { models: Record<string, { name: string }> }): string[] {
  return Object.values(split.models).map((m) => m.name);
}
