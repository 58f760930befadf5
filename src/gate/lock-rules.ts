/**
 * The lock's own integrity. Against a baseline: every released entry of the base's lock
 * is still there, and no field of it was edited — each field has its own rule, so a
 * finding says what was forged. Locally: the lock is what `release` wrote (its checksum).
 */
import { stableStringify } from '../catalog/schema.js';
import type { Catalog } from '../catalog/model.js';
import { checksumMatches, LOCKFILE_VERSION, operationsOf, partFingerprint, type LoadedLock, type LockedVersion } from '../registry/lock.js';
import type { Finding } from './finding.js';

/** What may not change in a released entry, and the rule that says it did. */
export const LOCK_ENTRY_RULES: ReadonlyArray<{ field: keyof LockedVersion; rule: string; meaning: string }> = [
  { field: 'fingerprint', rule: 'LOCK_ENTRY_FINGERPRINT_CHANGED', meaning: 'the fingerprint of what the version validates' },
  { field: 'payloadFingerprint', rule: 'LOCK_ENTRY_FINGERPRINT_CHANGED', meaning: 'the payload fingerprint' },
  { field: 'headersFingerprint', rule: 'LOCK_ENTRY_FINGERPRINT_CHANGED', meaning: 'the headers fingerprint' },
  { field: 'payload', rule: 'LOCK_ENTRY_PAYLOAD_CHANGED', meaning: 'the released payload schema' },
  { field: 'headers', rule: 'LOCK_ENTRY_HEADERS_CHANGED', meaning: 'the released headers schema' },
  { field: 'contentType', rule: 'LOCK_ENTRY_CONTENT_TYPE_CHANGED', meaning: 'the content type' },
  { field: 'owner', rule: 'LOCK_ENTRY_OWNER_CHANGED', meaning: 'the owning service' },
  { field: 'channels', rule: 'LOCK_ENTRY_CHANNELS_CHANGED', meaning: 'the channels' },
  { field: 'operations', rule: 'LOCK_ENTRY_OPERATIONS_CHANGED', meaning: 'the operations that carry it' },
  { field: 'deprecated', rule: 'LOCK_ENTRY_DEPRECATION_CHANGED', meaning: 'the recorded deprecation' },
];

const same = (a: unknown, b: unknown) => stableStringify(a ?? null) === stableStringify(b ?? null);

/**
 * The value a field the base's (version-1) entry lacks may take when `release` upgrades
 * it: derived from the base's own entry or catalog, so an upgrade cannot smuggle in a
 * value. Undefined: the field may not appear.
 */
function upgradeValue(field: keyof LockedVersion, base: LockedVersion, key: string, baseCatalog: Catalog | undefined): unknown {
  if (field === 'payloadFingerprint') return partFingerprint(base.payload);
  if (field === 'headersFingerprint') return base.headers === undefined ? undefined : partFingerprint(base.headers);
  if (field === 'operations') return baseCatalog ? operationsOf(baseCatalog, key) : undefined;
  return undefined;
}

const error = (f: Omit<Finding, 'severity' | 'code' | 'breaking'>): Finding => ({ severity: 'error', code: f.rule, breaking: true, ...f });

export interface LockComparison {
  baseline: LoadedLock;
  current: LoadedLock;
  ref: string;
  /** The branch's catalog: a deprecation recorded on the branch must be one its specs declare. */
  catalog: Catalog;
  /** The base's catalog, when its specs load: upgraded `operations` must be the base's. */
  baseCatalog?: Catalog;
}

/** The lock is append-only: every entry of the base branch's lock must still be there, unedited. */
export function checkLockAppendOnly({ baseline, current, ref, catalog, baseCatalog }: LockComparison): Finding[] {
  const findings: Finding[] = [];
  const deprecatedNow = new Set<string>(catalog.events.flatMap((t) => t.versions.filter((v) => v.deprecated !== undefined).map((v) => v.key)));
  const hint = `restore the entry from ${ref}; only "event-contracts release" writes the lock`;
  for (const [type, { versions }] of Object.entries(baseline.lock.events)) {
    for (const [version, entry] of Object.entries(versions)) {
      const key = `${type}@${version}`;
      const now = current.lock.events[type]?.versions[version];
      if (!now) {
        const where = current.locate(type) ?? current.file?.locate('');
        findings.push(
          error({
            rule: 'LOCK_ENTRY_REMOVED',
            event: key,
            message: `${key} was removed from the registry lock (it is in ${ref}); the lock is append-only`,
            ...(where ? { location: where } : {}),
            ...(baseline.locate(type, version) ? { related: baseline.locate(type, version)! } : {}),
            hint,
          }),
        );
        continue;
      }
      const fields = new Set([...Object.keys(entry), ...Object.keys(now)] as Array<keyof LockedVersion>);
      const reported = new Set<string>();
      for (const field of [...fields].sort()) {
        const before = entry[field];
        const after = now[field];
        if (same(before, after)) continue;
        if (field === 'deprecated' && !before && after === true && deprecatedNow.has(key)) continue; // recorded by release
        if (before === undefined && same(after, upgradeValue(field, entry, key, baseCatalog))) continue; // a version-1 entry upgraded
        const rule = LOCK_ENTRY_RULES.find((r) => r.field === field);
        const id = rule?.rule ?? 'LOCK_ENTRY_CHANGED';
        if (reported.has(id)) continue;
        reported.add(id);
        const where = current.file?.locate(`/events/${type.replace(/~/g, '~0').replace(/\//g, '~1')}/versions/${version}/${String(field)}`) ?? current.locate(type, version);
        findings.push(
          error({
            rule: id,
            event: key,
            message:
              field === 'deprecated' && after === true
                ? `the registry lock marks ${key} deprecated, but neither ${ref} nor the specs deprecate it: a forged deprecation would allow its removal`
                : `the registry lock's entry for ${key} changed ${rule?.meaning ?? `"${String(field)}"`} compared with ${ref}: released entries are immutable`,
            ...(where ? { location: where } : {}),
            ...(baseline.locate(type, version) ? { related: baseline.locate(type, version)! } : {}),
            hint,
          }),
        );
      }
    }
  }
  return findings;
}

/** The local check: a lock that is not what `release` wrote for its entries. */
export function checkLockChecksum(lock: LoadedLock): Finding[] {
  if (!lock.file) return [];
  if (lock.lock.lockfileVersion < LOCKFILE_VERSION && lock.lock.checksum === undefined) {
    return [
      {
        rule: 'LOCK_CHECKSUM_MISSING',
        code: 'LOCK_CHECKSUM_MISSING',
        severity: 'warning',
        breaking: false,
        message: `the registry lock is format ${lock.lock.lockfileVersion}, without a checksum over its entries`,
        location: lock.file.locate('/lockfileVersion'),
        hint: 'run "event-contracts release": it upgrades the lock to format 2 without changing a released version',
      },
    ];
  }
  if (checksumMatches(lock.lock)) return [];
  return [
    {
      rule: 'LOCK_CHECKSUM_MISMATCH',
      code: 'LOCK_CHECKSUM_MISMATCH',
      severity: 'error',
      breaking: true,
      message: 'the registry lock is not what "event-contracts release" wrote: its checksum does not match its entries (edited by hand?)',
      location: lock.file.locate(lock.lock.checksum === undefined ? '' : '/checksum'),
      hint: 'restore the lock from git; only "event-contracts release" writes it',
    },
  ];
}
