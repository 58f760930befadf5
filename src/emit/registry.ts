/**
 * `registry.json`: every event type with its versions, the fingerprint of each canonical
 * schema, its channels and its owner. Derived data: the released history lives in
 * `registry.lock.json`, which only `event-contracts release` writes.
 */
import type { Catalog } from '../catalog/model.js';
import { schemaFingerprint } from '../catalog/schema.js';
import type { GeneratedFile } from './files.js';

export interface RegistryVersion {
  fingerprint: string;
  contentType: string;
  channels: string[];
  file: string;
  deprecated?: { since?: string; reason?: string; replacedBy?: string };
  /** Whether `registry.lock.json` holds this version (it is then immutable). */
  released: boolean;
}

export interface Registry {
  events: Record<string, { owner: string; versions: Record<string, RegistryVersion> }>;
}

export function buildRegistry(catalog: Catalog, isReleased: (type: string, version: string) => boolean): Registry {
  const events: Registry['events'] = {};
  for (const type of catalog.events) {
    const latest = type.versions[type.versions.length - 1]!;
    const versions: Record<string, RegistryVersion> = {};
    for (const v of type.versions) {
      versions[v.version] = {
        fingerprint: schemaFingerprint(v.payload, v.headers),
        contentType: v.contentType,
        channels: [...new Set(v.channels.map((c) => c.address).filter((a): a is string => a !== undefined))].sort(),
        file: v.location.file,
        ...(v.deprecated ? { deprecated: { ...v.deprecated } } : {}),
        released: isReleased(v.type, v.version),
      };
    }
    events[type.type] = { owner: latest.ownerServiceId, versions };
  }
  return { events };
}

export function emitRegistry(registry: Registry): GeneratedFile {
  return { path: 'registry.json', content: JSON.stringify(registry, null, 2) + '\n' };
}
