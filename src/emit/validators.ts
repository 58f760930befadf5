/**
 * Standalone validators: one ESM module per event version, compiled by ajv at generate
 * time so that no schema is compiled when a service starts. Each module exports a typed
 * `validate<Name>(data)` returning the typed value or the list of issues.
 */
import { createRequire } from 'node:module';
import type { Catalog, EventVersion, JsonSchema } from '../catalog/model.js';
import { canonicalSchema } from '../catalog/schema.js';
import type { Diagnostic } from '../diagnostics.js';
import { createSchemaCompiler } from '../validation/ajv.js';
import { banner, docComment, oneLine, type GeneratedFile } from './files.js';

const require = createRequire(import.meta.url);
const standaloneCode = require('ajv/dist/standalone').default as (ajv: unknown, refs: Record<string, string>) => string;

export const ISSUES_MODULE = 'validators/_issues';

export interface ValidatorNames {
  payload: string;
  headers?: string;
  module: string;
}

export function validatorNames(event: EventVersion): ValidatorNames {
  return {
    payload: `validate${event.codeName}`,
    ...(event.headers !== undefined ? { headers: `validate${event.codeName}Headers` } : {}),
    module: `validators/${event.codeName}`,
  };
}

/**
 * ajv's "ESM" standalone output still calls `require()` for its runtime helpers and
 * formats (ajv#1976, #2209): hoist each into a default import, which Node maps to the
 * CommonJS module's exports.
 */
export function requireToImport(code: string): string {
  const modules = new Map<string, string>();
  const body = code.replace(/require\("([^"]+)"\)/g, (_, specifier: string) => {
    const withExtension = /\.(c|m)?js$/.test(specifier) ? specifier : `${specifier}.js`;
    let local = modules.get(withExtension);
    if (!local) {
      local = `__runtime${modules.size}`;
      modules.set(withExtension, local);
    }
    return local;
  });
  const imports = [...modules].map(([specifier, local]) => `import ${local} from ${JSON.stringify(specifier)};`);
  return `${imports.join('\n')}${imports.length ? '\n' : ''}${body.replace(/^"use strict";\n?/, '')}`;
}

const ISSUES_TS = `${banner('//')}
export interface ValidationIssue {
  /** JSON pointer of the offending value (\`/\` for the whole value). */
  readonly path: string;
  readonly message: string;
}

export type ValidationResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly errors: ValidationIssue[] };

interface AjvError {
  instancePath: string;
  keyword: string;
  params: Record<string, unknown>;
  message?: string;
}

/** A compiled ajv function as the standalone modules export it. */
export type CompiledValidator = ((data: unknown) => boolean) & { errors?: AjvError[] | null };

const escape = (name: unknown) => String(name).replace(/~/g, '~0').replace(/\\//g, '~1');

/** ajv errors as the SDK reports them: a JSON pointer to the value and a message. */
export function toIssues(errors: readonly AjvError[] | null | undefined): ValidationIssue[] {
  return (errors ?? []).map((error) => {
    let path = error.instancePath;
    if (error.keyword === 'required') path += '/' + escape(error.params.missingProperty);
    if (error.keyword === 'additionalProperties') path += '/' + escape(error.params.additionalProperty);
    return { path: path === '' ? '/' : path, message: error.message ?? error.keyword };
  });
}

export function check<T>(validate: CompiledValidator, data: unknown): ValidationResult<T> {
  return validate(data) ? { ok: true, value: data as T } : { ok: false, errors: toIssues(validate.errors) };
}
`;

export interface ValidatorOutput {
  files: GeneratedFile[];
  diagnostics: Diagnostic[];
}

/** `typeNames` maps a validator's schema to the TypeScript type it narrows to. */
export function emitValidators(
  catalog: Catalog,
  typeNameOf: (event: EventVersion, part: 'payload' | 'headers') => string,
): ValidatorOutput {
  const files: GeneratedFile[] = [
    { path: `${ISSUES_MODULE}.ts`, content: ISSUES_TS },
  ];
  const diagnostics: Diagnostic[] = [];
  for (const type of catalog.events) {
    for (const event of type.versions) {
      const names = validatorNames(event);
      const parts: Array<{ part: 'payload' | 'headers'; schema: JsonSchema; fn: string }> = [
        { part: 'payload', schema: event.dialect === 'unsupported' ? true : event.payload, fn: names.payload },
      ];
      if (event.headers !== undefined && names.headers) parts.push({ part: 'headers', schema: event.headers, fn: names.headers });
      // A fresh instance per module: ajv numbers its identifiers per instance, so a shared
      // one would make each module's text depend on every event compiled before it.
      const compiler = createSchemaCompiler({ source: true, lightweight: true });
      const ajv = compiler.instance(event.dialect);
      const refs: Record<string, string> = {};
      let failed = false;
      for (const { part, schema } of parts) {
        const key = `event-contracts:${event.key}#${part}`;
        try {
          const compiled = compiler.compile(withId(canonicalSchema(schema), key), event.dialect);
          void compiled;
          refs[`${part}Schema`] = key;
        } catch (error) {
          failed = true;
          diagnostics.push({
            code: 'SCHEMA_INVALID',
            severity: 'error',
            message: `${event.key} ${part}: ${(error as Error).message}`,
            location: part === 'payload' ? event.payloadLocation : (event.headersLocation ?? event.location),
          });
        }
      }
      if (failed) continue;
      const code = requireToImport(standaloneCode(ajv, refs));
      const header = banner('//', [event.location.file]) + `// ${oneLine(event.key)}\n`;
      // ajv's code is plain JavaScript: it lives in its own module, exempt from type-checking,
      // behind a typed wrapper that is checked.
      files.push({
        path: `validators/ajv/${event.codeName}.ts`,
        content: `${header}// @ts-nocheck -- machine-generated by ajv standalone\n${code}`,
      });
      const typeImports = parts.map(({ part }) => typeNameOf(event, part)).join(', ');
      const schemaImports = parts.map(({ part }) => `${part}Schema`).join(', ');
      const wrappers = parts
        .map(
          ({ part, fn }) =>
            `\n${docComment(`Validates ${part === 'payload' ? 'the payload' : 'the headers'} of ${event.key}: the typed value, or every problem found.`)}` +
            `export function ${fn}(data: unknown): ValidationResult<${typeNameOf(event, part)}> {\n  return check(${part}Schema as CompiledValidator, data);\n}\n`,
        )
        .join('');
      files.push({
        path: `${names.module}.ts`,
        content:
          `${header}import { check, type CompiledValidator, type ValidationResult } from './_issues.js';\n` +
          `import { ${schemaImports} } from './ajv/${event.codeName}.js';\n` +
          `import type { ${typeImports} } from '../types.js';\n${wrappers}`,
      });
    }
  }
  return { files, diagnostics };
}

function withId(schema: JsonSchema, id: string): JsonSchema {
  // Compile under a key so several schemas can share one standalone module.
  return typeof schema === 'boolean' ? (schema ? {} : { not: {} }) : { ...schema, $id: id };
}
