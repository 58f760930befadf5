/**
 * Standalone validators, compiled by ajv at generate time so that no schema is compiled
 * when a service starts. Each distinct schema gets one CommonJS module of ajv's own
 * standalone output (`validators/ajv/<Name>.payload.cjs`, `<Name>.headers.cjs`; events
 * with the same schema share one); one typed ESM module (`validators/index.ts`) exports
 * `validate<Name>(data)` for every event, returning the typed value or the list of issues.
 *
 * Why CommonJS underneath: a workspace of hundreds of events carries megabytes of
 * validator code, and parsing all of it at start-up costs more than the whole start-up
 * budget. CommonJS modules can be loaded synchronously on first use, so a process pays
 * only for the event types it actually validates; ESM cannot be imported synchronously
 * on Node 20. It also sidesteps ajv's "ESM" output, which still calls `require()`
 * (ajv#1976, #2209).
 */
import type { Catalog, EventVersion } from '../catalog/model.js';
import type { Diagnostic } from '../diagnostics.js';
import { formatsModuleSource } from '../validation/ajv.js';
import { compileEvent, partsOf } from '../validation/event-validators.js';
import { banner, docComment, oneLine, type GeneratedFile } from './files.js';
import { CodeFile } from './printer.js';


export const VALIDATORS_MODULE = 'validators/index';

export interface ValidatorNames {
  payload: string;
  headers?: string;
  module: string;
}

export function validatorNames(event: EventVersion): ValidatorNames {
  return {
    payload: `validate${event.codeName}`,
    ...(event.headers !== undefined ? { headers: `validate${event.codeName}Headers` } : {}),
    module: VALIDATORS_MODULE,
  };
}


export interface ValidatorOutput {
  files: GeneratedFile[];
  diagnostics: Diagnostic[];
}

/** `typeNames` maps a validator's schema to the TypeScript type it narrows to. */
export function emitValidators(
  catalog: Catalog,
  typeNameOf: (event: EventVersion, part: 'payload' | 'headers') => string,
  runtimeModule = 'event-contracts/runtime',
): ValidatorOutput {
  const files: GeneratedFile[] = [];
  const index = new CodeFile(`${VALIDATORS_MODULE}.ts`);
  // The wrapping of ajv's functions (issues, lazy loading) lives in the runtime; this module
  // only names the compiled modules and the types they narrow to. Imported on first use, so
  // a catalog without JSON Schema payloads gets no unused import.
  let runtime: { check: string; lazy: string; result: string } | undefined;
  const prelude = () => {
    if (runtime) return runtime;
    const createRequire = index.use('createRequire', 'node:module');
    runtime = { check: index.use('checkWith', runtimeModule), lazy: index.use('lazyValidator', runtimeModule), result: index.type('ValidationResult', runtimeModule) };
    index.line();
    index.line(`const load = ${createRequire}(import.meta.url);`);
    return runtime;
  };
  const diagnostics: Diagnostic[] = [];
  const modules = new Map<string, string>();
  // Which compiled module validates which event, as data, for tools that load the modules
  // without the TypeScript index (the contract monitor).
  const byEvent: Record<string, { payload?: string; headers?: string }> = {};
  for (const type of catalog.events) {
    for (const event of type.versions) {
      const names = validatorNames(event);
      const compiled = compileEvent(event);
      // Problems were reported by the example checks, which compile the same schemas.
      if (compiled.diagnostics.some((d) => d.severity === 'error')) continue;
      const parts = partsOf(event).map(({ part }) => ({ part, fn: part === 'payload' ? names.payload : names.headers! }));
      for (const { part, fn } of parts) {
        // One module per distinct schema: events that share one (typically their headers)
        // share its module, named after the first event that uses it.
        const schema = compiled.parts[part]!;
        let module = modules.get(schema.key);
        if (!module) {
          module = `./ajv/${event.codeName}.${part}.cjs`;
          modules.set(schema.key, module);
          files.push({
            path: `validators/${module.slice(2)}`,
            content: banner('//', [event.location.file]) + `// ${oneLine(event.key)} ${part}\n` + schema.code!,
          });
        }
        (byEvent[event.key] ??= {})[part] = module.slice('./ajv/'.length);
        const { check, lazy, result } = prelude();
        const typeName = index.type(typeNameOf(event, part), '../types.js');
        const lazyName = `${fn}Compiled`;
        index.line();
        index.line(`const ${lazyName} = ${lazy}(load, ${JSON.stringify(module)});`);
        index.raw(docComment(`Validates ${part === 'payload' ? 'the payload' : 'the headers'} of \`${event.key}\`: the typed value, or every problem found.`));
        index.line(`export function ${fn}(data: unknown): ${result}<${typeName}> {`);
        index.line(`  return ${check}(${lazyName}(), data);`);
        index.line('}');
      }
    }
  }
  if (modules.size > 0) files.push({ path: 'validators/ajv/formats.cjs', content: banner('//', []) + formatsModuleSource() });
  if (modules.size > 0) files.push({ path: 'validators/ajv/modules.json', content: `${JSON.stringify(byEvent, null, 2)}\n` });
  files.push({ path: index.path, content: index.render() });
  return { files, diagnostics };
}
