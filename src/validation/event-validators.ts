/**
 * Compiles an event version's payload and headers schemas once per run: the example
 * checks and the standalone-code emitter share the result, so `generate` pays for each
 * schema compile a single time.
 */
import type { EventVersion, JsonSchema } from '../catalog/model.js';
import { canonicalSchema } from '../catalog/schema.js';
import type { Diagnostic } from '../diagnostics.js';
import { createSchemaCompiler } from './ajv.js';

export type SchemaPart = 'payload' | 'headers';

export interface CompiledEvent {
  /** The ajv instance holding the compiled schemas under `refs` (for standalone code). */
  ajv: unknown;
  /** Export name → schema key, e.g. `payloadSchema` → `event-contracts:user.created@2.0.0#payload`. */
  refs: Record<string, string>;
  validators: Partial<Record<SchemaPart, (data: unknown) => boolean> & { errors?: unknown }>;
  validatorsOf(part: SchemaPart): ((data: unknown) => boolean) & { errors?: Array<{ instancePath: string; keyword: string; message?: string }> | null } | undefined;
  diagnostics: Diagnostic[];
}

const cache = new WeakMap<EventVersion, CompiledEvent>();

export function partsOf(event: EventVersion): Array<{ part: SchemaPart; schema: JsonSchema }> {
  const parts: Array<{ part: SchemaPart; schema: JsonSchema }> = [
    { part: 'payload', schema: event.dialect === 'unsupported' ? true : event.payload },
  ];
  if (event.headers !== undefined) parts.push({ part: 'headers', schema: event.headers });
  return parts;
}

export function compileEvent(event: EventVersion): CompiledEvent {
  const cached = cache.get(event);
  if (cached) return cached;
  // A fresh, light instance per event: ajv numbers its identifiers per instance, so a
  // shared one would make each standalone module's text depend on every event before it.
  const compiler = createSchemaCompiler({ source: true, lightweight: true });
  const refs: Record<string, string> = {};
  const compiled: Partial<Record<SchemaPart, ReturnType<typeof compiler.compile>['validate']>> = {};
  const diagnostics: Diagnostic[] = [];
  for (const { part, schema } of partsOf(event)) {
    const key = `event-contracts:${event.key}#${part}`;
    const location = part === 'payload' ? event.payloadLocation : (event.headersLocation ?? event.location);
    try {
      const result = compiler.compile(withId(canonicalSchema(schema), key), event.dialect);
      refs[`${part}Schema`] = key;
      compiled[part] = result.validate;
      for (const what of result.unchecked) {
        diagnostics.push({
          code: 'UNCHECKED_SCHEMA_KEYWORD',
          severity: 'warning',
          message: `${event.key} ${part}: ${what} is not known to the validator and is not checked`,
          location,
        });
      }
    } catch (error) {
      diagnostics.push({ code: 'SCHEMA_INVALID', severity: 'error', message: `${event.key} ${part}: ${(error as Error).message}`, location });
    }
  }
  const result: CompiledEvent = {
    ajv: compiler.instance(event.dialect),
    refs,
    validators: compiled,
    validatorsOf: (part) => compiled[part] as never,
    diagnostics,
  };
  cache.set(event, result);
  return result;
}

function withId(schema: JsonSchema, id: string): JsonSchema {
  // Compiled under a key so payload and headers share one standalone module.
  return typeof schema === 'boolean' ? (schema ? { $id: id } : { $id: id, not: {} }) : { ...schema, $id: id };
}
