/**
 * What the contract monitor checks an event against, built once from the catalog and the
 * generated validators (`validators/ajv/modules.json` names the compiled module of each
 * event's payload and headers): per type, the known versions by major, the channel
 * addresses each version may travel on, and the headers the contract requires.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Catalog, EventVersion } from '../../catalog/model.js';
import { headerContract } from '../../emit/events.js';
import { compileAddress, type CompiledAddress } from '../../runtime/address.js';
import { checkWith, type CompiledValidator } from '../../runtime/validation.js';
import type { EventDescriptor, HeaderContract } from '../../runtime/types.js';
import { VersionResolver } from '../../runtime/versions.js';

export interface MonitoredVersion {
  readonly key: string;
  readonly descriptor: EventDescriptor;
  readonly addresses: readonly CompiledAddress[];
  /** Header names the contract's headers schema requires. */
  readonly requiredHeaders: readonly string[];
}

export interface MonitorContract {
  readonly types: ReadonlyMap<string, { readonly resolver: VersionResolver<unknown>; readonly versions: ReadonlyMap<EventDescriptor, MonitoredVersion> }>;
  /** Every address pattern in the contract (for a subscription narrower than everything). */
  readonly patterns: readonly string[];
}

export class ValidatorsMissingError extends Error {
  readonly userFacing = true;
}

/** `validatorsDir` is the generated package's `validators/ajv` folder. */
export function monitorContract(catalog: Catalog, validatorsDir: string): MonitorContract {
  const mapFile = path.join(validatorsDir, 'modules.json');
  let modules: Record<string, { payload?: string; headers?: string }>;
  try {
    modules = JSON.parse(readFileSync(mapFile, 'utf8')) as typeof modules;
  } catch (err) {
    throw new ValidatorsMissingError(`no generated validators at ${mapFile} (${(err as Error).message}): run \`event-contracts generate\` or pass --validators`);
  }
  const load = createRequire(mapFile);
  const loaded = new Map<string, CompiledValidator>();
  const validator = (file: string): CompiledValidator => {
    let v = loaded.get(file);
    if (!v) loaded.set(file, (v = load(`./${file}`) as CompiledValidator));
    return v;
  };
  const types = new Map<string, { resolver: VersionResolver<unknown>; versions: Map<EventDescriptor, MonitoredVersion> }>();
  const patterns = new Set<string>();
  for (const type of catalog.events) {
    const versions = new Map<EventDescriptor, MonitoredVersion>();
    for (const event of type.versions) {
      const m = modules[event.key];
      const v = versionOf(event, m, validator);
      for (const a of v.addresses) patterns.add(a.pattern);
      versions.set(v.descriptor, v);
    }
    if (versions.size > 0) types.set(type.type, { resolver: new VersionResolver(type.type, [...versions.keys()]), versions });
  }
  return { types, patterns: [...patterns].sort() };
}

function versionOf(event: EventVersion, m: { payload?: string; headers?: string } | undefined, validator: (file: string) => CompiledValidator): MonitoredVersion {
  // An event whose schema was not compiled (an unsupported dialect) is checked for everything but its payload.
  const payload = m?.payload;
  const hc = headerContract(event);
  const headersFile = m?.headers;
  const headers: HeaderContract | undefined =
    hc && headersFile ? { names: hc.names, json: hc.json, validate: (d) => checkWith(validator(headersFile), d) } : undefined;
  const addresses = [...new Set(event.channels.map((c) => c.address).filter((a): a is string => a !== undefined))].map(compileAddress);
  const schema = event.headers;
  const required =
    typeof schema === 'object' && schema !== null && Array.isArray(schema['required']) ? (schema['required'] as unknown[]).filter((n): n is string => typeof n === 'string') : [];
  const descriptor: EventDescriptor = {
    type: event.type,
    version: event.version,
    address: addresses[0]?.template ?? '',
    parameters: [],
    validate: payload ? (d) => checkWith(validator(payload), d) : (d) => ({ ok: true, value: d }),
    ...(headers ? { headers } : {}),
  };
  return { key: event.key, descriptor, addresses, requiredHeaders: required };
}
