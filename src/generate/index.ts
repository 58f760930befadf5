/**
 * `generate`: the workspace's contracts in, the generated package out — types,
 * validators, event descriptors, clients, registry and docs — written only where they
 * differ, or compared without writing under `--check`.
 */
import { createRequire } from 'node:module';
import type { Catalog, EventVersion } from '../catalog/model.js';
import type { Config } from '../config.js';
import type { AuditStreamSettings } from '../security/audit-stream.js';
import { internalError, type Diagnostic } from '../diagnostics.js';
import { emitDocs } from '../docs/index.js';
import { emitClients } from '../emit/clients.js';
import { CATALOG_CLIENT_MODULE, packageNames } from '../emit/names.js';
import { emitEvents, headersTypeName, payloadTypeName } from '../emit/events.js';
import { emitProvisioning } from '../emit/provisioning.js';
import { emitSecurity } from '../security/emit.js';
import { readSigningKeys, signingKeysFile, type SigningKeys } from '../security/keys.js';
import { emitMonitoring } from '../observe/index.js';
import { banner, sortFiles, type GeneratedFile } from '../emit/files.js';
import { emitIndex, emitPackageJson, emitReadme, emitTsconfig, type PackageSettings } from '../emit/package.js';
import { buildRegistry, emitRegistry } from '../emit/registry.js';
import { emitTypes, type TypeRequest } from '../emit/types/index.js';
import { emitValidators } from '../emit/validators.js';
import { trace } from '../trace.js';
import { openWorkspace } from '../workspace.js';
import { isUpToDate, recordRun } from './cache.js';
import { assertOwnedOutput, assertSafePaths, diffOutput, isEmptyDiff, writeOutput, type OutputDiff } from './output.js';

const require = createRequire(import.meta.url);

export interface GenerateSettings {
  specs: readonly string[];
  out: string;
  check: boolean;
  /** Ignore the up-to-date record and regenerate everything. */
  force: boolean;
  packageName: string;
  packageVersion: string;
  /** Released versions, from registry.lock.json. */
  isReleased?: (type: string, version: string) => boolean;
  /** Files besides the specs whose content shapes the output (the lock). */
  extraInputs?: readonly string[];
  /** The workspace root and extra `$ref` roots (see `openWorkspace`); invalid examples are warnings unless it says `"error"`. */
  config?: Pick<Config, 'root' | 'refRoots'> & Partial<Pick<Config, 'invalidExamples' | 'audit'>>;
}

export interface GenerateResult {
  diagnostics: Diagnostic[];
  /** Undefined when the workspace had errors and nothing was generated. */
  diff?: OutputDiff;
  upToDate: boolean;
  fileCount: number;
}

export const RUNTIME_MODULE = 'event-contracts/runtime';

export function packageSettings(name: string, version: string): PackageSettings {
  const own = require('../../package.json') as { version: string };
  return {
    name,
    version,
    runtimeVersion: own.version,
    ajvVersion: (require('ajv/package.json') as { version: string }).version,
    ajvFormatsVersion: (require('ajv-formats/package.json') as { version: string }).version,
    // Ranges, not pins: they build the package, they do not run in it.
    typesNodeVersion: '>=20',
    typescriptVersion: '^5.6.0',
  };
}

export async function generate(settings: GenerateSettings): Promise<GenerateResult> {
  const settingsKey = JSON.stringify([settings.packageName, settings.packageVersion, settings.config?.root ?? null, settings.config?.refRoots ?? [], settings.config?.invalidExamples ?? 'warning', settings.config?.audit ?? null]);
  // The services' public signing keys (`event-contracts keygen`) are an input too.
  const keysFile = signingKeysFile(settings.config?.root);
  const watched = [...settings.specs, ...(settings.extraInputs ?? []), keysFile];
  if (!settings.force && isUpToDate(settings.out, watched, settingsKey)) {
    return { diagnostics: [], diff: { added: [], changed: [], removed: [] }, upToDate: true, fileCount: 0 };
  }
  const workspace = await openWorkspace(settings.specs, {
    examples: settings.config?.invalidExamples === 'error' ? true : 'warning',
    ...(settings.config ? { config: settings.config } : {}),
  });
  trace('workspace loaded and examples checked');
  if (!workspace.ok) return { diagnostics: workspace.diagnostics, upToDate: false, fileCount: 0 };

  let emitted;
  try {
    emitted = await emitAll(workspace.catalog, {
      ...packageSettings(settings.packageName, settings.packageVersion),
      isReleased: settings.isReleased ?? (() => false),
      signingKeys: readSigningKeys(keysFile),
      ...(settings.config?.audit ? { audit: settings.config.audit } : {}),
    });
  } catch (error) {
    // Which document caused it is unknown here: name the inputs.
    const file = workspace.catalog.services.length === 1 ? workspace.catalog.services[0]!.file : settings.specs.join(', ');
    return { diagnostics: [...workspace.diagnostics, internalError(file, 'generating code and docs', error)], upToDate: false, fileCount: 0 };
  }
  const { files, diagnostics } = emitted;
  const all = [...workspace.diagnostics, ...diagnostics];
  if (all.some((d) => d.severity === 'error')) return { diagnostics: all, upToDate: false, fileCount: files.length };

  trace('everything emitted (docs included)');
  assertSafePaths(settings.out, files);
  if (!settings.check) assertOwnedOutput(settings.out);
  const diff = diffOutput(settings.out, files);
  if (!settings.check) {
    writeOutput(settings.out, files, diff);
    recordRun(settings.out, watched, settingsKey, workspace.files.map((f) => f.absPath), files);
  } else if (isEmptyDiff(diff)) {
    recordRun(settings.out, watched, settingsKey, workspace.files.map((f) => f.absPath), files);
  }
  return { diagnostics: all, diff, upToDate: isEmptyDiff(diff), fileCount: files.length };
}

export async function emitAll(
  catalog: Catalog,
  settings: PackageSettings & { isReleased: (type: string, version: string) => boolean; signingKeys?: SigningKeys; audit?: AuditStreamSettings },
): Promise<{ files: GeneratedFile[]; diagnostics: Diagnostic[] }> {
  const versions = catalog.events.flatMap((t) => t.versions);
  const requests: TypeRequest[] = versions.flatMap((event) => typeRequests(event));
  // One naming pass for every export of the package; the types are named around it.
  const names = packageNames(catalog);
  const types = await emitTypes(requests, names.reservedForTypes);
  trace('types emitted');
  const validators = emitValidators(catalog, (event, part) => (part === 'payload' ? payloadTypeName(event) : headersTypeName(event)));
  const provisioning = emitProvisioning(catalog, RUNTIME_MODULE, settings.audit ? { audit: settings.audit } : {});
  const monitoring = emitMonitoring(catalog);
  trace('validators emitted');
  const files: GeneratedFile[] = [
    { path: 'types.ts', content: banner('//') + (types.source.trim() === '' ? 'export {};\n' : '\n' + types.source.trimEnd() + '\n') },
    ...validators.files,
    emitEvents(catalog, RUNTIME_MODULE),
    emitRegistry(buildRegistry(catalog, settings.isReleased)),
    ...emitClients(catalog, RUNTIME_MODULE, names),
    provisioning.file,
    emitIndex([...catalog.services.map(names.clientModule), CATALOG_CLIENT_MODULE, 'provisioning']),
    emitTsconfig(),
    emitPackageJson(settings),
    emitReadme(catalog, settings),
    ...emitDocs(catalog, { title: `${settings.name} contracts` }).map((f) => ({ path: `docs/${f.path}`, content: f.content })),
    // Broker permissions; their errors are reported by `acl` and `check`, not here.
    ...emitSecurity(catalog, settings.signingKeys ?? {}).files,
    // Alert rules and a dashboard from the operations and their x-slo.
    ...monitoring.files,
  ];
  return { files: sortFiles(files), diagnostics: [...names.diagnostics, ...types.diagnostics, ...validators.diagnostics, ...provisioning.diagnostics, ...monitoring.diagnostics] };
}

function typeRequests(event: EventVersion): TypeRequest[] {
  const payload: TypeRequest = {
    name: payloadTypeName(event),
    schema: event.dialect === 'unsupported' ? {} : event.payload,
    location: event.payloadLocation,
    ...(event.description ?? event.summary ? { description: `\`${event.key}\`: ${event.summary ?? event.description}` } : {}),
  };
  if (event.headers === undefined) return [payload];
  return [payload, { name: headersTypeName(event), schema: event.headers, description: `Headers of \`${event.key}\`.`, ...(event.headersLocation ? { location: event.headersLocation } : {}) }];
}
