/**
 * Compiles the payload and headers schemas of event versions, once per distinct schema
 * per run: the example checks and the standalone-code emitter share the result, and
 * events that share a schema (typically their headers) share one compile.
 */
import { createRequire } from 'node:module';
import type { EventVersion, JsonSchema, SchemaDialect } from '../catalog/model.js';
import { canonicalSchema, stableStringify } from '../catalog/schema.js';
import type { Diagnostic } from '../diagnostics.js';
import { createSchemaCompiler } from './ajv.js';

const require = createRequire(import.meta.url);
const standaloneCode = require('ajv/dist/standalone').default as (ajv: unknown, validate: unknown) => string;

export type SchemaPart = 'payload' | 'headers';

export type CompiledValidator = ((data: unknown) => boolean) & {
  errors?: Array<{ instancePath: string; keyword: string; message?: string }> | null;
};

export interface CompiledSchema {
  /** Identity of the schema's content (dialect and canonical form): equal keys, equal code. */
  key: string;
  validate?: CompiledValidator;
  /** ajv's standalone CommonJS module for this schema (`module.exports = validate…`). */
  code?: string;
  /** Formats and keywords ajv does not check. */
  unchecked: string[];
  /** ajv strict-mode findings the schema was compiled despite (see `createSchemaCompiler`). */
  relaxed: string[];
  /** Why the schema does not compile. */
  error?: string;
}

export interface CompiledEvent {
  parts: Partial<Record<SchemaPart, CompiledSchema>>;
  validatorsOf(part: SchemaPart): CompiledValidator | undefined;
  diagnostics: Diagnostic[];
}

const bySchema = new Map<string, CompiledSchema>();
const byEvent = new WeakMap<EventVersion, CompiledEvent>();

export function partsOf(event: EventVersion): Array<{ part: SchemaPart; schema: JsonSchema }> {
  const parts: Array<{ part: SchemaPart; schema: JsonSchema }> = [
    { part: 'payload', schema: event.dialect === 'unsupported' ? true : event.payload },
  ];
  if (event.headers !== undefined) parts.push({ part: 'headers', schema: event.headers });
  return parts;
}

/**
 * One schema, compiled in a fresh, light ajv instance: ajv numbers its identifiers per
 * instance, so the standalone code depends on this schema alone (deterministic output).
 */
export function compileSchema(schema: JsonSchema, dialect: SchemaDialect): CompiledSchema {
  const canonical = canonicalSchema(schema);
  const key = `${dialect}\0${stableStringify(canonical)}`;
  const cached = bySchema.get(key);
  if (cached) return cached;
  const compiler = createSchemaCompiler();
  let result: CompiledSchema;
  try {
    const compiled = compiler.compile(typeof canonical === 'boolean' ? (canonical ? {} : { not: {} }) : canonical, dialect);
    result = {
      key,
      validate: compiled.validate as CompiledValidator,
      code: standaloneCode(compiler.instance(dialect), compiled.validate),
      unchecked: compiled.unchecked,
      relaxed: compiled.relaxed,
    };
  } catch (error) {
    result = { key, unchecked: [], relaxed: [], error: (error as Error).message };
  }
  bySchema.set(key, result);
  return result;
}

export function compileEvent(event: EventVersion): CompiledEvent {
  const cached = byEvent.get(event);
  if (cached) return cached;
  const parts: CompiledEvent['parts'] = {};
  const diagnostics: Diagnostic[] = [];
  for (const { part, schema } of partsOf(event)) {
    const location = part === 'payload' ? event.payloadLocation : (event.headersLocation ?? event.location);
    const compiled = compileSchema(schema, event.dialect);
    parts[part] = compiled;
    if (compiled.error) diagnostics.push({ code: 'SCHEMA_INVALID', severity: 'error', message: `${event.key} ${part}: ${compiled.error}`, location });
    for (const why of compiled.relaxed) {
      const keyword = /"([^"]+)"/.exec(why)?.[1];
      diagnostics.push({
        code: 'SCHEMA_STRICTNESS_RELAXED',
        severity: 'warning',
        message: `${event.key} ${part}: ${keyword ? `keyword "${keyword}": ` : ''}ajv's strict mode refuses this legal JSON Schema (${why}); compiled with that check relaxed`,
        location,
      });
    }
    for (const what of compiled.unchecked) {
      diagnostics.push({
        code: 'UNCHECKED_SCHEMA_KEYWORD',
        severity: 'warning',
        message: `${event.key} ${part}: ${what} is not known to the validator and is not checked`,
        location,
      });
    }
  }
  const result: CompiledEvent = { parts, validatorsOf: (part) => parts[part]?.validate, diagnostics };
  byEvent.set(event, result);
  return result;
}
