/**
 * One place that configures ajv for contract schemas: draft-07 (AsyncAPI Schema) and
 * 2020-12, ajv-formats, strict about schema keywords but tolerant of what real specs
 * contain (a `required` name without a `properties` entry, unknown custom formats).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { AnySchema, ValidateFunction } from 'ajv';
import type { JsonSchema, SchemaDialect } from '../catalog/model.js';

const require = createRequire(import.meta.url);
const Ajv = require('ajv').default as typeof import('ajv').default;
const Ajv2020 = require('ajv/dist/2020').default as typeof import('ajv/dist/2020.js').default;
const addFormats = require('ajv-formats').default as typeof import('ajv-formats').default;
type AjvCore = InstanceType<typeof Ajv>;
const { fullFormats } = require('ajv-formats/dist/formats') as { fullFormats: Record<string, unknown> };
const { _ } = require('ajv') as typeof import('ajv');

/**
 * The formats module of the generated validators (ajv-formats' full formats with a faster,
 * equivalent date-time check). Generate copies it beside the validators as `formats.cjs`;
 * compiling here uses the same checks, so example checks and generated code agree.
 */
export const FORMATS_MODULE_FILE = fileURLToPath(new URL('../../templates/validators/formats.cjs', import.meta.url));
const validatorFormats = require(FORMATS_MODULE_FILE) as Record<string, Parameters<AjvCore['addFormat']>[1]>;

export function formatsModuleSource(): string {
  return readFileSync(FORMATS_MODULE_FILE, 'utf8');
}

export interface CompiledSchema {
  validate: ValidateFunction;
  /** Formats and keywords the schema uses that ajv does not check. */
  unchecked: string[];
  /**
   * What ajv's strict mode refused although JSON Schema allows it (`"additionalItems" is
   * ignored when "items" is not an array of schemas`): the schema was compiled with that
   * strictness relaxed, and these are ajv's reasons.
   */
  relaxed: string[];
}

export interface SchemaCompiler {
  compile(schema: JsonSchema, dialect: SchemaDialect): CompiledSchema;
  /** The ajv instance a dialect compiles with (for standalone code). */
  instance(dialect: SchemaDialect): AjvCore;
}

/**
 * A throw-away compiler for one schema's standalone module: its identifiers then depend
 * on that schema alone. It keeps the generated source, and skips compiling the
 * meta-schemas (~6 ms an instance): schemas are validated by the AsyncAPI parser, and a
 * malformed one still fails to compile here, with ajv's reason.
 */
export function createSchemaCompiler(): SchemaCompiler {
  // Strictness relaxed: schema-level strict-mode findings are logged (and reported) instead of thrown.
  const logged: string[] = [];
  const logger = { log: () => {}, warn: (...args: unknown[]) => void logged.push(args.map(String).join(' ')), error: () => {} };
  const make = (draft2020: boolean, relaxed = false): AjvCore => {
    const settings = {
      allErrors: true,
      strict: true,
      ...(relaxed ? { strictSchema: 'log' as const, logger } : {}),
      strictRequired: false,
      strictTypes: false,
      strictTuples: false,
      allowUnionTypes: true,
      // A property named `constructor` or `toString` must be looked up on the value itself,
      // not inherited from Object.prototype (found by the escaping test).
      ownProperties: true,
      // `unicodeRegExp` keeps `pattern` semantics of JSON Schema (ECMA-262 with the u flag).
      unicodeRegExp: true,
      code: { source: true, lines: true },
      meta: false,
      validateSchema: false,
    } as const;
    const ajv = (draft2020 ? new Ajv2020(settings) : new Ajv(settings)) as unknown as AjvCore;
    addFormats(ajv as never);
    ajv.addFormat('date-time', validatorFormats['date-time']!);
    // Standalone code loads its formats from the copy beside it (see FORMATS_MODULE_FILE).
    (ajv.opts.code as { formats?: unknown }).formats = _`require("./formats.cjs")`;
    return ajv;
  };
  const instances: { draft07?: AjvCore; draft2020?: AjvCore } = {};
  const instance = (dialect: SchemaDialect) =>
    dialect === '2020-12' ? (instances.draft2020 ??= make(true)) : (instances.draft07 ??= make(false));
  return {
    instance,
    compile(schema, dialect) {
      let ajv = instance(dialect);
      const unchecked: string[] = [];
      const added: Array<['format' | 'keyword', string]> = [];
      let relaxed = false;
      for (let attempt = 0; attempt < 50; attempt++) {
        try {
          logged.length = 0;
          const validate = ajv.compile(schema as AnySchema);
          return { validate, unchecked, relaxed: [...new Set(logged.map((m) => m.replace(/^strict mode:\s*/, '')))].sort() };
        } catch (error) {
          const message = (error as Error).message;
          const format = /unknown format "([^"]+)"/.exec(message)?.[1];
          const keyword = /unknown keyword: "([^"]+)"/.exec(message)?.[1];
          if (format && !(format in fullFormats)) {
            // Specs use formats such as int32 or decimal: documented, not checked.
            ajv.addFormat(format, true);
            added.push(['format', format]);
            unchecked.push(`format "${format}"`);
          } else if (keyword) {
            ajv.addKeyword(keyword);
            added.push(['keyword', keyword]);
            unchecked.push(`keyword "${keyword}"`);
          } else if (!relaxed && message.startsWith('strict mode:')) {
            // Legal JSON Schema that ajv's strict mode dislikes (a keyword it would ignore):
            // compile it anyway, with the finding reported instead of thrown.
            relaxed = true;
            ajv = make(dialect === '2020-12', true);
            for (const [kind, name] of added) {
              if (kind === 'format') ajv.addFormat(name, true);
              else ajv.addKeyword(name);
            }
            if (dialect === '2020-12') instances.draft2020 = ajv;
            else instances.draft07 = ajv;
          } else {
            throw error;
          }
        }
      }
      throw new Error('schema uses too many unknown formats or keywords');
    },
  };
}
