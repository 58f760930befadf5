/**
 * Standalone validators: one ESM module per event version, compiled by ajv at generate
 * time so that no schema is compiled when a service starts. Each module exports a typed
 * `validate<Name>(data)` returning the typed value or the list of issues.
 */
import { createRequire } from 'node:module';
import type { Catalog, EventVersion, JsonSchema } from '../catalog/model.js';
import { canonicalSchema } from '../catalog/schema.js';
import type { Diagnostic } from '../diagnostics.js';
import { createSchemaCompiler, type SchemaCompiler } from '../validation/ajv.js';
import { banner, oneLine, type GeneratedFile } from './files.js';

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

const ISSUES_JS = `${banner('//')}
/** ajv errors as the SDK reports them: a JSON pointer to the value and a message. */
export function toIssues(errors) {
  return (errors ?? []).map((error) => {
    let path = error.instancePath;
    if (error.keyword === 'required') path += '/' + String(error.params.missingProperty).replace(/~/g, '~0').replace(/\\//g, '~1');
    if (error.keyword === 'additionalProperties') path += '/' + String(error.params.additionalProperty).replace(/~/g, '~0').replace(/\\//g, '~1');
    return { path: path === '' ? '/' : path, message: error.message ?? error.keyword };
  });
}
`;

const ISSUES_DTS = `${banner('//')}
export interface ValidationIssue {
  /** JSON pointer of the offending value (\`/\` for the whole document). */
  readonly path: string;
  readonly message: string;
}
export type ValidationResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly errors: ValidationIssue[] };
export declare function toIssues(errors: readonly unknown[] | null | undefined): ValidationIssue[];
`;

export interface ValidatorOutput {
  files: GeneratedFile[];
  diagnostics: Diagnostic[];
}

/** `typeNames` maps a validator's schema to the TypeScript type it narrows to. */
export function emitValidators(
  catalog: Catalog,
  typeNameOf: (event: EventVersion, part: 'payload' | 'headers') => string,
  compiler: SchemaCompiler = createSchemaCompiler({ source: true }),
): ValidatorOutput {
  const files: GeneratedFile[] = [
    { path: `${ISSUES_MODULE}.js`, content: ISSUES_JS },
    { path: `${ISSUES_MODULE}.d.ts`, content: ISSUES_DTS },
  ];
  const diagnostics: Diagnostic[] = [];
  for (const type of catalog.events) {
    for (const event of type.versions) {
      const names = validatorNames(event);
      const parts: Array<{ part: 'payload' | 'headers'; schema: JsonSchema; fn: string }> = [
        { part: 'payload', schema: event.dialect === 'unsupported' ? true : event.payload, fn: names.payload },
      ];
      if (event.headers !== undefined && names.headers) parts.push({ part: 'headers', schema: event.headers, fn: names.headers });
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
      for (const key of Object.values(refs)) ajv.removeSchema(key);
      const header = banner('//', [event.location.file]) + `// ${oneLine(event.key)}\n`;
      const wrappers = parts
        .map(
          ({ part, fn }) =>
            `\nexport function ${fn}(data) {\n  return ${part}Schema(data) ? { ok: true, value: data } : { ok: false, errors: toIssues(${part}Schema.errors) };\n}\n`,
        )
        .join('');
      files.push({
        path: `${names.module}.js`,
        content: `${header}import { toIssues } from './_issues.js';\n${code}\n${wrappers}`,
      });
      const typeImports = parts.map(({ part }) => typeNameOf(event, part)).join(', ');
      const declarations = parts
        .map(({ part, fn }) => `export declare function ${fn}(data: unknown): ValidationResult<${typeNameOf(event, part)}>;\n`)
        .join('');
      files.push({
        path: `${names.module}.d.ts`,
        content: `${header}import type { ValidationResult } from './_issues.js';\nimport type { ${typeImports} } from '../types.js';\n\n${declarations}`,
      });
    }
  }
  return { files, diagnostics };
}

function withId(schema: JsonSchema, id: string): JsonSchema {
  // Compile under a key so several schemas can share one standalone module.
  return typeof schema === 'boolean' ? (schema ? {} : { not: {} }) : { ...schema, $id: id };
}
