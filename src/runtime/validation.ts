/**
 * What generated validators call: ajv's standalone functions wrapped into the runtime's
 * ValidationResult. Kept here, not pasted into every generated package, so a fix reaches
 * every package by upgrading the runtime.
 */
import type { ValidationIssue, ValidationResult } from './types.js';

/** The fields of an ajv error the SDK reads. */
export interface AjvError {
  instancePath: string;
  keyword: string;
  params: Record<string, unknown>;
  message?: string;
}

/** A compiled ajv function as the standalone modules export it. */
export type CompiledValidator = ((data: unknown) => boolean) & { errors?: AjvError[] | null };

const escape = (name: unknown) => String(name).replace(/~/g, '~0').replace(/\//g, '~1');

/** ajv errors as the SDK reports them: a JSON pointer to the value and a message. */
export function toIssues(errors: readonly AjvError[] | null | undefined): ValidationIssue[] {
  return (errors ?? []).map((error) => {
    let path = error.instancePath;
    if (error.keyword === 'required') path += '/' + escape(error.params['missingProperty']);
    if (error.keyword === 'additionalProperties') path += '/' + escape(error.params['additionalProperty']);
    return { path: path === '' ? '/' : path, message: error.message ?? error.keyword };
  });
}

export function checkWith<T>(validate: CompiledValidator, data: unknown): ValidationResult<T> {
  return validate(data) ? { ok: true, value: data as T } : { ok: false, errors: toIssues(validate.errors) };
}

/**
 * A validator module read on its first use, once. `load` is the generated package's own
 * `createRequire(import.meta.url)`, so module paths resolve next to the generated code.
 */
export function lazyValidator(load: (id: string) => unknown, module: string): () => CompiledValidator {
  let compiled: CompiledValidator | undefined;
  return () => (compiled ??= load(module) as CompiledValidator);
}
