/**
 * `registry.lock.json`: the released history. Append-only: `event-contracts release`
 * adds versions (and records deprecations); nothing ever removes an entry. A version
 * is released once it is in the lock on the base branch, and is then immutable.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import semver from 'semver';
import type { Catalog, EventVersion, JsonSchema } from '../catalog/model.js';
import { canonicalSchema, schemaFingerprint, stableStringify } from '../catalog/schema.js';
import type { Diagnostic, SourceLocation } from '../diagnostics.js';
import { displayPath, encodePointer } from '../load/index.js';
import { parseSourceText, type SourceFile } from '../load/source-file.js';

export const LOCKFILE_VERSION = 1;

export interface LockedVersion {
  fingerprint: string;
  owner: string;
  /** Canonical payload schema (what validates), for checking later versions against it. */
  payload: JsonSchema;
  headers?: JsonSchema;
  contentType: string;
  channels: string[];
  /** Recorded when a release finds the version deprecated; removal is allowed only then. */
  deprecated?: boolean;
}

export interface Lock {
  lockfileVersion: number;
  events: Record<string, { versions: Record<string, LockedVersion> }>;
}

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
  const file = parseSourceText(absPath, text, shown);
  const diagnostics: Diagnostic[] = [...file.diagnostics];
  const value = file.value as Partial<Lock> | undefined;
  let lock = emptyLock();
  if (value !== undefined) {
    if (typeof value !== 'object' || value === null || typeof value.events !== 'object' || value.events === null) {
      diagnostics.push({ code: 'LOCK_INVALID', severity: 'error', message: 'registry lock has no "events" object', location: file.locate('') });
    } else if (value.lockfileVersion !== LOCKFILE_VERSION) {
      diagnostics.push({
        code: 'LOCK_INVALID',
        severity: 'error',
        message: `registry lock version ${String(value.lockfileVersion)} is not supported (expected ${LOCKFILE_VERSION})`,
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

export function lockedVersion(event: EventVersion, deprecated: boolean): LockedVersion {
  return {
    fingerprint: schemaFingerprint(event.payload, event.headers),
    owner: event.ownerServiceId,
    payload: canonicalSchema(event.payload),
    ...(event.headers !== undefined ? { headers: canonicalSchema(event.headers) } : {}),
    contentType: event.contentType,
    channels: [...new Set(event.channels.map((c) => c.address).filter((a): a is string => a !== undefined))].sort(),
    ...(deprecated ? { deprecated: true } : {}),
  };
}

export interface ReleasePlan {
  lock: Lock;
  added: string[];
  deprecated: string[];
}

/** The lock after releasing everything in the catalog: new versions appended, deprecations recorded, nothing removed. */
export function planRelease(current: Lock, catalog: Catalog): ReleasePlan {
  const events: Lock['events'] = structuredClone(current.events);
  const added: string[] = [];
  const deprecated: string[] = [];
  for (const type of catalog.events) {
    for (const event of type.versions) {
      const entry = (events[type.type] ??= { versions: {} });
      const existing = entry.versions[event.version];
      if (!existing) {
        entry.versions[event.version] = lockedVersion(event, event.deprecated !== undefined);
        added.push(event.key);
      } else if (event.deprecated && !existing.deprecated) {
        existing.deprecated = true;
        deprecated.push(event.key);
      }
    }
  }
  return { lock: { lockfileVersion: LOCKFILE_VERSION, events }, added, deprecated };
}

/** Sorted keys, versions in semver order, two-space indent: a lock diff shows only what changed. */
export function serializeLock(lock: Lock): string {
  const types = Object.keys(lock.events).sort();
  const events: Record<string, unknown> = {};
  for (const type of types) {
    const versions = lock.events[type]!.versions;
    const ordered: Record<string, unknown> = {};
    for (const v of Object.keys(versions).sort(semver.compare)) ordered[v] = JSON.parse(stableStringify(versions[v]));
    events[type] = { versions: ordered };
  }
  return JSON.stringify({ lockfileVersion: LOCKFILE_VERSION, events }, null, 2) + '\n';
}

export function writeLock(path: string, lock: Lock): void {
  writeFileSync(path, serializeLock(lock));
}

export function isReleasedIn(lock: Lock): (type: string, version: string) => boolean {
  return (type, version) => lock.events[type]?.versions[version] !== undefined;
}
