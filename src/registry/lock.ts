/**
 * `registry.lock.json`: the released history. Append-only: `event-contracts release`
 * adds versions (and records deprecations); nothing ever removes an entry. A version
 * is released once it is in the lock on the base branch, and is then immutable.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import semver from 'semver';
import type { Catalog, EventVersion, JsonSchema } from '../catalog/model.js';
import { canonicalSchema, schemaFingerprint, stableStringify } from '../catalog/schema.js';
import { sha256 } from '../cache.js';
import type { Diagnostic, SourceLocation } from '../diagnostics.js';
import { displayPath, encodePointer } from '../load/index.js';
import { parseSourceText, type SourceFile } from '../load/source-file.js';

/**
 * 2: entries also hold the payload's and the headers' own fingerprints and the operations
 * that carry the version, and the lock holds a checksum over its entries. A version-1
 * lock is read as it is and upgraded by the next `release`.
 */
export const LOCKFILE_VERSION = 2;
const READABLE_VERSIONS = new Set([1, 2]);

/** Everything the gate relies on for a released version. */
export interface LockedVersion {
  /** Of payload and headers together: what the version validates. */
  fingerprint: string;
  payloadFingerprint?: string;
  headersFingerprint?: string;
  owner: string;
  /** Canonical payload schema (what validates), for checking later versions against it. */
  payload: JsonSchema;
  headers?: JsonSchema;
  contentType: string;
  channels: string[];
  /** `<service> <send|receive> <operation id>` for every operation that carries the version. */
  operations?: string[];
  /** Recorded when a release finds the version deprecated; removal is allowed only then. */
  deprecated?: boolean;
}

export interface Lock {
  lockfileVersion: number;
  /** `sha256:` over the entries as `release` writes them: a hand edit shows as a mismatch. */
  checksum?: string;
  events: Record<string, { versions: Record<string, LockedVersion> }>;
}

/** The checksum `release` records: over the entries in their canonical (sorted) form. */
export function lockChecksum(events: Lock['events']): string {
  return 'sha256:' + sha256(stableStringify(events));
}

/** Fields a version-1 lock lacks; `release` fills them in for versions whose schema is unchanged. */
const V2_FIELDS = ['payloadFingerprint', 'headersFingerprint', 'operations'] as const;

export interface LoadedLock {
  lock: Lock;
  /** Where each entry is written, for diagnostics (absent for an empty or missing lock). */
  locate(type: string, version?: string): SourceLocation | undefined;
  diagnostics: Diagnostic[];
  file?: SourceFile;
}

export const emptyLock = (): Lock => ({ lockfileVersion: LOCKFILE_VERSION, events: {} });

export function readLock(path: string): LoadedLock {
  if (!existsSync(path)) return { lock: emptyLock(), locate: () => undefined, diagnostics: [] };
  return parseLock(path, readFileSync(path, 'utf8'), displayPath(path));
}

/** Parses lock text (from disk or from git), reporting problems located in it. */
export function parseLock(absPath: string, text: string, shown: string): LoadedLock {
  const file = parseSourceText(absPath, text, shown, { json: true });
  const diagnostics: Diagnostic[] = [...file.diagnostics];
  const value = file.value as Partial<Lock> | undefined;
  let lock = emptyLock();
  if (value !== undefined) {
    if (typeof value !== 'object' || value === null || typeof value.events !== 'object' || value.events === null) {
      diagnostics.push({ code: 'LOCK_INVALID', severity: 'error', message: 'registry lock has no "events" object', location: file.locate('') });
    } else if (!READABLE_VERSIONS.has(value.lockfileVersion as number)) {
      diagnostics.push({
        code: 'LOCK_INVALID',
        severity: 'error',
        message: `registry lock version ${String(value.lockfileVersion)} is not supported (expected ${[...READABLE_VERSIONS].join(' or ')})`,
        location: file.locate('/lockfileVersion'),
      });
    } else {
      lock = value as Lock;
    }
  }
  return {
    lock,
    file,
    diagnostics,
    locate: (type, version) => file.locate(encodePointer(version ? ['events', type, 'versions', version] : ['events', type])),
  };
}

/** The fingerprint of one part (payload or headers): what it validates, canonical. */
export const partFingerprint = (schema: JsonSchema) => 'sha256:' + sha256(stableStringify(canonicalSchema(schema)));

/** Every operation of the catalog that carries an event version (sends it, receives it or replies with it). */
export function operationsOf(catalog: Catalog, key: string): string[] {
  const out = new Set<string>();
  for (const service of catalog.services) {
    for (const op of service.operations) {
      if (op.messages.includes(key as never)) out.add(`${service.id} ${op.action} ${op.id}`);
      if (op.reply?.messages.includes(key as never)) out.add(`${service.id} reply ${op.id}`);
    }
  }
  return [...out].sort();
}

export function lockedVersion(event: EventVersion, deprecated: boolean, catalog: Catalog): LockedVersion {
  return {
    fingerprint: schemaFingerprint(event.payload, event.headers),
    payloadFingerprint: partFingerprint(event.payload),
    ...(event.headers !== undefined ? { headersFingerprint: partFingerprint(event.headers) } : {}),
    owner: event.ownerServiceId,
    payload: canonicalSchema(event.payload),
    ...(event.headers !== undefined ? { headers: canonicalSchema(event.headers) } : {}),
    contentType: event.contentType,
    channels: [...new Set(event.channels.map((c) => c.address).filter((a): a is string => a !== undefined))].sort(),
    operations: operationsOf(catalog, event.key),
    ...(deprecated ? { deprecated: true } : {}),
  };
}

export interface ReleasePlan {
  lock: Lock;
  added: string[];
  deprecated: string[];
  /** Entries of a version-1 lock given the fields version 2 adds. */
  upgraded: string[];
  /** Whether the lock file must be written (something changed, or its format or checksum is out of date). */
  changed: boolean;
}

/** The lock after releasing everything in the catalog: new versions appended, deprecations recorded, nothing removed. */
export function planRelease(current: Lock, catalog: Catalog): ReleasePlan {
  const events: Lock['events'] = structuredClone(current.events);
  const added: string[] = [];
  const deprecated: string[] = [];
  const upgraded: string[] = [];
  for (const type of catalog.events) {
    for (const event of type.versions) {
      const entry = (events[type.type] ??= { versions: {} });
      const existing = entry.versions[event.version];
      if (!existing) {
        entry.versions[event.version] = lockedVersion(event, event.deprecated !== undefined, catalog);
        added.push(event.key);
        continue;
      }
      if (event.deprecated && !existing.deprecated) {
        existing.deprecated = true;
        deprecated.push(event.key);
      }
      // Upgrading a version-1 entry: only the fields it lacks, and only while its schema is the released one.
      const fresh = lockedVersion(event, false, catalog);
      if (fresh.fingerprint === existing.fingerprint && V2_FIELDS.some((f) => existing[f] === undefined && fresh[f] !== undefined)) {
        for (const f of V2_FIELDS) if (existing[f] === undefined && fresh[f] !== undefined) (existing as unknown as Record<string, unknown>)[f] = fresh[f];
        upgraded.push(event.key);
      }
    }
  }
  const changed =
    added.length + deprecated.length + upgraded.length > 0 || current.lockfileVersion !== LOCKFILE_VERSION || current.checksum !== lockChecksum(canonicalEvents(current.events));
  return { lock: { lockfileVersion: LOCKFILE_VERSION, events }, added, deprecated, upgraded, changed };
}

/** Entries in the form `release` writes them: types sorted, versions in semver order, keys sorted. */
function canonicalEvents(events: Lock['events']): Lock['events'] {
  const out: Lock['events'] = {};
  for (const type of Object.keys(events).sort()) {
    const versions = events[type]?.versions ?? {};
    const ordered: Record<string, LockedVersion> = {};
    const keys = Object.keys(versions).filter((v) => semver.valid(v) !== null).sort(semver.compare);
    for (const v of [...keys, ...Object.keys(versions).filter((v) => semver.valid(v) === null).sort()]) ordered[v] = JSON.parse(stableStringify(versions[v])) as LockedVersion;
    out[type] = { versions: ordered };
  }
  return out;
}

/** Whether the lock is what `release` would have written for its entries (version 1 had no checksum). */
export function checksumMatches(lock: Lock): boolean {
  return lock.checksum === lockChecksum(canonicalEvents(lock.events));
}

/** Sorted keys, versions in semver order, two-space indent: a lock diff shows only what changed. */
export function serializeLock(lock: Lock): string {
  const events = canonicalEvents(lock.events);
  return JSON.stringify({ lockfileVersion: LOCKFILE_VERSION, checksum: lockChecksum(events), events }, null, 2) + '\n';
}

export function writeLock(path: string, lock: Lock): void {
  writeFileSync(path, serializeLock(lock));
}

export function isReleasedIn(lock: Lock): (type: string, version: string) => boolean {
  return (type, version) => lock.events[type]?.versions[version] !== undefined;
}
