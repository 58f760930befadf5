/**
 * Examples in messages are part of the contract: each must validate against its schema,
 * or readers of the docs learn a shape the validators reject.
 */
import type { Catalog, EventVersion } from '../catalog/model.js';
import { internalError, type Diagnostic, type SourceLocation } from '../diagnostics.js';
import { readCache, sha256, toolFingerprint, writeCache } from '../cache.js';
import { stableStringify } from '../catalog/schema.js';
import { compileEvent, partsOf } from './event-validators.js';

/** Finds the position of a pointer inside a file the workspace read (by the path it shows users). */
export type Locator = (file: string, pointer: string) => SourceLocation | undefined;

/**
 * Also reports schemas that do not compile (and keywords the validator cannot check).
 * `invalidExamples`: the severity of an example that does not match its schema (errors
 * for `validate`, `check` and `release`; warnings for `generate` and `docs` unless the
 * config says `invalidExamples: "error"`).
 */
export function checkExamples(catalog: Catalog, locate: Locator = () => undefined, invalidExamples: 'error' | 'warning' = 'error'): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  for (const type of catalog.events) {
    for (const event of type.versions) {
      // Compiling a schema costs milliseconds; the verdict on unchanged examples is cached.
      const key = sha256([toolFingerprint(), stableStringify(event)].join('\0'));
      let found = readCache<Diagnostic[]>('examples', key);
      if (!found) {
        try {
          found = checkEvent(event, locate);
          writeCache('examples', key, found);
        } catch (error) {
          const at = internalError(event.location.file, `checking the examples of ${event.key}`, error);
          found = [{ ...at, location: event.location }];
        }
      }
      diagnostics.push(...found.map((d) => (d.code === 'EXAMPLE_INVALID' && d.severity !== invalidExamples ? { ...d, severity: invalidExamples } : d)));
    }
  }
  return diagnostics;
}

function checkEvent(event: EventVersion, locate: Locator): Diagnostic[] {
  const compiled = compileEvent(event);
  const out: Diagnostic[] = [...compiled.diagnostics];
  if (event.dialect === 'unsupported') return out;
  for (const { part } of partsOf(event)) {
    const validate = compiled.validatorsOf(part);
    if (!validate) continue;
    event.examples.forEach((example, i) => {
      const value = part === 'payload' ? example.payload : example.headers;
      if (value === undefined || validate(value)) return;
      const name = example.name ? `"${example.name}"` : `#${i + 1}`;
      // One finding per problem, at the offending value of the example where we can find it.
      for (const error of (validate.errors ?? []).slice(0, 10)) {
        const at =
          example.location.pointer !== undefined
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
