/**
 * The event-level gate: every event version in the specs against the released registry.
 * Released versions are immutable; a new version is checked against the previous one
 * (or all previous ones, for _TRANSITIVE levels) of its major, and its semver bump must
 * fit the change: breaking → new major, additive → minor, documentation → patch.
 */
import semver from 'semver';
import type { Catalog, EventType, EventVersion, JsonSchema } from '../catalog/model.js';
import { canonicalSchema, schemaFingerprint } from '../catalog/schema.js';
import { checkCompatibility, classifyChange, directionsOf, type SchemaChange } from '../compat/schema/index.js';
import { findWitnesses, showWitness } from '../compat/schema/witness.js';
import type { CompatLevelName, Config } from '../config.js';
import type { SourceLocation } from '../diagnostics.js';
import type { LoadedLock, LockedVersion } from '../registry/lock.js';
import type { Finding } from './finding.js';

export interface EventGateInput {
  catalog: Catalog;
  /** The released registry: the base branch's lock under `--against`, else the work tree's. */
  released: LoadedLock;
  config: Config;
  locateBelow(location: SourceLocation, pointer: string): SourceLocation;
}

interface KnownVersion {
  version: string;
  payload: JsonSchema;
  headers?: JsonSchema;
  /** Where it is written; a function because locating in a large lock costs a positioned parse of it. */
  location: () => SourceLocation | undefined;
}

export function settingsFor(config: Config, type: string): { level: CompatLevelName; policy: 'strict' | 'lenient' } {
  const own = config.compatibility.events[type] ?? {};
  return { level: own.level ?? config.compatibility.level, policy: own.policy ?? config.compatibility.policy };
}

export function checkEvents(input: EventGateInput): Finding[] {
  const findings: Finding[] = [];
  const specTypes = new Map(input.catalog.events.map((t) => [t.type, t]));
  const lockedTypes = input.released.lock.events;
  for (const type of [...new Set([...specTypes.keys(), ...Object.keys(lockedTypes)])].sort()) {
    findings.push(...checkType(input, type, specTypes.get(type), lockedTypes[type]?.versions ?? {}));
  }
  return findings;
}

function checkType(input: EventGateInput, type: string, spec: EventType | undefined, locked: Record<string, LockedVersion>): Finding[] {
  const findings: Finding[] = [];
  const inSpecs = new Map((spec?.versions ?? []).map((v) => [v.version, v]));
  for (const [version, entry] of Object.entries(locked)) {
    if (inSpecs.has(version) || entry.deprecated) continue;
    // A newer minor or patch of the same major supersedes it: its readers read that one.
    if ([...inSpecs.keys()].some((v) => semver.major(v) === semver.major(version) && semver.gt(v, version))) continue;
    // The removal happened in the owner's document (a file of the change), not in the lock.
    const lockEntry = input.released.locate(type, version);
    const ownerDocument = input.catalog.services.find((s) => s.id === entry.owner)?.location;
    const where = ownerDocument ?? lockEntry;
    findings.push({
      rule: 'RELEASED_VERSION_REMOVED',
      code: 'RELEASED_VERSION_REMOVED',
      severity: 'error',
      breaking: true,
      event: `${type}@${version}`,
      message: `released version ${type}@${version} is no longer in the specs, and it was never deprecated: its consumers and replayed events would break`,
      ...(where ? { location: where } : {}),
      ...(ownerDocument && lockEntry ? { related: lockEntry } : {}),
      hint: `restore it with "x-deprecated" (since, reason, replacedBy), run "event-contracts release" so the lock records the deprecation, and remove it in a later change`,
    });
  }
  const { level, policy } = settingsFor(input.config, type);
  for (const event of spec?.versions ?? []) {
    const entry = locked[event.version];
    if (entry) findings.push(...checkReleased(input, event, entry, level, policy));
    else findings.push(...checkNewVersion(input, event, spec!, locked, level, policy));
  }
  return findings;
}

function checkReleased(input: EventGateInput, event: EventVersion, entry: LockedVersion, level: CompatLevelName, policy: 'strict' | 'lenient'): Finding[] {
  const findings: Finding[] = [];
  const lockLocation = () => input.released.locate(event.type, event.version);
  if (entry.contentType !== event.contentType) {
    findings.push({
      rule: 'CONTENT_TYPE_CHANGED',
      code: 'CONTENT_TYPE_CHANGED',
      severity: 'error',
      breaking: true,
      event: event.key,
      message: `released version ${event.key} changed its content type from ${entry.contentType} to ${event.contentType}: readers decode it the old way`,
      location: input.locateBelow(event.location, '/contentType'),
      ...(lockLocation() ? { related: lockLocation()! } : {}),
      hint: 'a new content type is a new major version',
    });
  }
  if (schemaFingerprint(event.payload, event.headers) === entry.fingerprint) return findings;
  const changes = [
    ...classifyChange(entry.payload, canonicalSchema(event.payload), { level: level === 'NONE' ? 'FULL' : level, policy }).changes.map((c) => ({ ...c, part: 'payload' as const })),
    ...(event.headers !== undefined || entry.headers !== undefined
      ? classifyChange(entry.headers ?? true, canonicalSchema(event.headers ?? true), { level: level === 'NONE' ? 'FULL' : level, policy }).changes.map((c) => ({ ...c, part: 'headers' as const }))
      : []),
  ];
  const bump = bumpFor(changes);
  const next = bump === 'major' ? `${semver.major(event.version) + 1}.0.0` : semver.inc(event.version, bump === 'minor' ? 'minor' : 'patch');
  const summary = changes.filter((c) => c.kind !== 'documentation').slice(0, 5).map((c) => `${c.rule} at ${c.part}${c.path}`).join('; ');
  findings.push({
    rule: 'RELEASED_VERSION_MODIFIED',
    code: 'RELEASED_VERSION_MODIFIED',
    severity: 'error',
    breaking: true,
    event: event.key,
    message: `released version ${event.key} changed what it validates (${summary || 'schema changed'}); released versions are immutable`,
    // At the first change that is not documentation: the line a review annotation must land on.
    location: changeLocation(input, event, changes.find((c) => c.kind !== 'documentation') ?? changes[0]),
    ...(lockLocation() ? { related: lockLocation()! } : {}),
    hint: `leave ${event.key} as released and publish the change as ${event.type}@${next}${bump === 'major' ? ` on a new channel for major ${semver.major(event.version) + 1}` : ''}`,
  });
  return findings;
}

/** Where a schema change is written in the new version: below its payload or headers, through any `$ref` into a fragment. */
function changeLocation(input: EventGateInput, event: EventVersion, change: (SchemaChange & { part: 'payload' | 'headers' }) | undefined): SourceLocation {
  if (!change) return event.payloadLocation;
  const root = change.part === 'payload' ? event.payloadLocation : (event.headersLocation ?? event.location);
  return input.locateBelow(root, change.newPath ?? change.path);
}

function bumpFor(changes: readonly SchemaChange[]): 'major' | 'minor' | 'patch' {
  if (changes.some((c) => c.breaking)) return 'major';
  if (changes.some((c) => c.kind !== 'documentation')) return 'minor';
  return 'patch';
}

function checkNewVersion(
  input: EventGateInput,
  event: EventVersion,
  spec: EventType,
  locked: Record<string, LockedVersion>,
  level: CompatLevelName,
  policy: 'strict' | 'lenient',
): Finding[] {
  const major = semver.major(event.version);
  // Everything known below this version in its major, specs winning over the lock.
  const known = new Map<string, KnownVersion>();
  for (const [version, entry] of Object.entries(locked)) {
    if (semver.major(version) === major && semver.lt(version, event.version)) {
      known.set(version, {
        version,
        payload: entry.payload,
        ...(entry.headers ? { headers: entry.headers } : {}),
        location: () => input.released.locate(event.type, version),
      });
    }
  }
  for (const v of spec.versions) {
    if (semver.major(v.version) === major && semver.lt(v.version, event.version)) {
      known.set(v.version, {
        version: v.version,
        payload: canonicalSchema(v.payload),
        ...(v.headers ? { headers: canonicalSchema(v.headers) } : {}),
        location: () => v.payloadLocation,
      });
    }
  }
  const previous = [...known.values()].sort((a, b) => semver.compare(a.version, b.version));
  const latest = previous[previous.length - 1];
  if (!latest || level === 'NONE') return [];
  const findings: Finding[] = [];
  const transitive = level.endsWith('_TRANSITIVE');
  const against = transitive ? previous : [latest];
  const payload = canonicalSchema(event.payload);
  const headers = canonicalSchema(event.headers ?? true);
  const results = [
    { part: 'payload', result: checkCompatibility(against.map((p) => p.payload), payload, level, { policy }) },
    { part: 'headers', result: checkCompatibility(against.map((p) => p.headers ?? true), headers, level, { policy }) },
  ] as const;
  // One witness per part and previous version: an instance the change breaks.
  const witnesses = new Map<string, string | undefined>();
  const witnessOf = (part: 'payload' | 'headers', other: KnownVersion): string | undefined => {
    const key = `${part}@${other.version}`;
    if (!witnesses.has(key)) {
      const [before, after] = part === 'payload' ? [other.payload, payload] : [other.headers ?? true, headers];
      const found = findWitnesses(before as never, after as never, directionsOf(level));
      const previous = `${event.type}@${other.version}`;
      witnesses.set(
        key,
        'backward' in found
          ? `${showWitness(found.backward)} is valid under ${previous} and rejected by ${event.key}`
          : 'forward' in found
            ? `${showWitness(found.forward)} is valid under ${event.key} and rejected by ${previous}`
            : undefined,
      );
    }
    return witnesses.get(key);
  };
  for (const { part, result } of results) {
    for (const change of result.changes.filter((c) => c.breaking)) {
      const other = against[change.against ?? against.length - 1] ?? latest;
      const where = part === 'payload' ? event.payloadLocation : (event.headersLocation ?? event.location);
      const witness = witnessOf(part, other);
      findings.push({
        ...(witness ? { witness } : {}),
        rule: change.rule,
        code: change.rule,
        severity: 'error',
        breaking: true,
        event: event.key,
        path: `${part === 'headers' ? '/headers' : ''}${change.path}`,
        message: `${event.key} breaks ${level} compatibility with ${event.type}@${other.version}: ${change.message}`,
        location: input.locateBelow(where, change.newPath ?? change.path),
        ...(other.location() ? { related: other.location()! } : {}),
        hint: `a breaking change needs a new major version: publish it as ${event.type}@${major + 1}.0.0 on its own channel (".v${major + 1}") and keep ${event.type}@${latest.version} until its consumers have moved`,
      });
    }
  }
  if (findings.length > 0) return findings;
  // Compatible: the bump must still say what kind of change it is.
  const changes = [
    ...classifyChange(latest.payload, payload, { level, policy }).changes,
    ...classifyChange(latest.headers ?? true, headers, { level, policy }).changes,
  ];
  const needed = changes.some((c) => c.kind === 'additive') ? 'minor' : 'patch';
  const actual = semver.diff(latest.version, event.version);
  if (needed === 'minor' && (actual === 'patch' || actual === 'prepatch')) {
    const additive = changes.filter((c) => c.kind === 'additive').slice(0, 3).map((c) => `${c.rule} at ${c.path}`).join('; ');
    const firstAdditive = [
      ...classifyChange(latest.payload, payload, { level, policy }).changes.map((c) => ({ ...c, part: 'payload' as const })),
      ...classifyChange(latest.headers ?? true, headers, { level, policy }).changes.map((c) => ({ ...c, part: 'headers' as const })),
    ].find((c) => c.kind === 'additive');
    findings.push({
      rule: 'SEMVER_BUMP_TOO_SMALL',
      code: 'SEMVER_BUMP_TOO_SMALL',
      severity: 'error',
      breaking: false,
      event: event.key,
      message: `${event.key} adds to ${event.type}@${latest.version} (${additive}) but bumps only the patch version`,
      location: firstAdditive ? changeLocation(input, event, firstAdditive) : event.location,
      ...(latest.location() ? { related: latest.location()! } : {}),
      hint: `an additive change is a minor version: use ${event.type}@${semver.inc(latest.version, 'minor')}`,
    });
  }
  return findings;
}
