/**
 * Examples in messages are part of the contract: each must validate against its schema,
 * or readers of the docs learn a shape the validators reject.
 */
import type { Catalog, EventVersion } from '../catalog/model.js';
import { canonicalSchema } from '../catalog/schema.js';
import type { Diagnostic, SourceLocation } from '../diagnostics.js';
import { createSchemaCompiler, type SchemaCompiler } from './ajv.js';

/** Finds the position of a pointer inside a file the workspace read (by the path it shows users). */
export type Locator = (file: string, pointer: string) => SourceLocation | undefined;

export function checkExamples(catalog: Catalog, locate: Locator = () => undefined, compiler: SchemaCompiler = createSchemaCompiler()): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  for (const type of catalog.events) for (const event of type.versions) diagnostics.push(...checkEvent(event, compiler, locate));
  return diagnostics;
}

function checkEvent(event: EventVersion, compiler: SchemaCompiler, locate: Locator): Diagnostic[] {
  if (event.dialect === 'unsupported' || event.examples.length === 0) return [];
  const out: Diagnostic[] = [];
  const parts = [
    { part: 'payload' as const, schema: event.payload, location: event.payloadLocation },
    ...(event.headers !== undefined ? [{ part: 'headers' as const, schema: event.headers, location: event.headersLocation! }] : []),
  ];
  for (const { part, schema, location } of parts) {
    let validate;
    try {
      const compiled = compiler.compile(canonicalSchema(schema), event.dialect);
      validate = compiled.validate;
      for (const what of compiled.unchecked) {
        out.push({
          code: 'UNCHECKED_SCHEMA_KEYWORD',
          severity: 'warning',
          message: `${event.key} ${part}: ${what} is not known to the validator and is not checked`,
          location,
        });
      }
    } catch (error) {
      out.push({ code: 'SCHEMA_INVALID', severity: 'error', message: `${event.key} ${part}: ${(error as Error).message}`, location });
      continue;
    }
    event.examples.forEach((example, i) => {
      const value = part === 'payload' ? example.payload : example.headers;
      if (value === undefined) return;
      if (validate(value)) return;
      const name = example.name ? `"${example.name}"` : `#${i + 1}`;
      // One finding per problem, at the offending value of the example where we can find it.
      for (const error of (validate.errors ?? []).slice(0, 10)) {
        const at = example.location.pointer !== undefined
          ? locate(example.location.file, `${example.location.pointer}/${part}${error.instancePath}`)
          : undefined;
        out.push({
          code: 'EXAMPLE_INVALID',
          severity: 'error',
          message: `example ${name} of ${event.key}: ${part}${error.instancePath || ''} ${error.message ?? error.keyword}`,
          location: at ?? example.location,
        });
      }
    });
  }
  return out;
}
