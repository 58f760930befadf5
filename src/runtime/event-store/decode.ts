/**
 * Turning what a backend read back into a StoredEvent: check the record's shape, find its
 * type, upcast an older major through the chain `type@m → type@m+1 → …`, validate against
 * the newest descriptor. Anything that fails is a BadRecord with its reason, never a throw:
 * read() turns it into a typed error, subscribe() hands it to onBadRecord and goes on.
 */
import { parseSemver } from '../versions.js';
import type { BackendRecord } from './backend.js';
import { upcasterKey, type Catalog } from './catalog.js';
import type { BadRecord, StoredEvent } from './types.js';

export type Decoded = { ok: true; event: StoredEvent } | { ok: false; bad: BadRecord; type?: string; version?: string };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const optionalString = (v: unknown) => v === undefined || v === null || typeof v === 'string';

/** The record's type when it can be told (for type filters applied to bad records). */
export function recordType(br: BackendRecord): string | undefined {
  const r = br.record;
  return isObject(r) && typeof r['type'] === 'string' ? r['type'] : undefined;
}

/**
 * `trustStored`: an event stored at a version the contract declares was validated with that
 * very schema on append; re-validating it on read then only guards against records written
 * past the store (validation is a third of a replay's time). Upcast events are always validated.
 */
export function decodeRecord(catalog: Catalog, br: BackendRecord, trustStored = false): Decoded {
  const bad = (reason: BadRecord['reason'], detail: string, type?: string, version?: string): Decoded => ({
    ok: false,
    bad: { ...(br.streamId !== undefined ? { streamId: br.streamId } : {}), checkpoint: br.checkpoint, reason, detail },
    ...(type !== undefined ? { type } : {}),
    ...(version !== undefined ? { version } : {}),
  });
  if (br.corrupt !== undefined) return bad('corrupt', br.corrupt);
  const r = br.record;
  if (!isObject(r)) return bad('corrupt', 'the record is not a JSON object');
  const { id, type, version, source, time, metadata } = r;
  if (typeof id !== 'string' || id === '') return bad('corrupt', 'no event id');
  if (typeof type !== 'string' || type === '') return bad('corrupt', 'no event type');
  if (typeof version !== 'string') return bad('corrupt', 'no event version', type);
  if (typeof source !== 'string') return bad('corrupt', 'no source', type, version);
  if (!('data' in r)) return bad('corrupt', 'no data', type, version);
  if (metadata !== undefined && !isObject(metadata)) return bad('corrupt', 'metadata is not an object', type, version);
  if (!optionalString(r['correlationId']) || !optionalString(r['causationId'])) return bad('corrupt', 'correlationId/causationId is not a string', type, version);
  const timestamp = time instanceof Date ? time : typeof time === 'string' ? new Date(time) : undefined;
  if (timestamp === undefined || Number.isNaN(timestamp.getTime())) return bad('corrupt', 'no valid time', type, version);
  const semver = parseSemver(version);
  if (!semver) return bad('corrupt', `version '${version.slice(0, 40)}' is not semver`, type, version);
  if (br.streamId === undefined) return bad('corrupt', 'no stream id', type, version);

  const entry = catalog.types.get(type);
  if (!entry) return bad('unknown-type', `'${type.slice(0, 100)}' is not among the store's events`, type, version);
  if (semver.major > entry.newestMajor) return bad('unknown-version', `major ${semver.major} is newer than the newest declared (${entry.newest.version})`, type, version);

  let event: StoredEvent = {
    id,
    type,
    source,
    timestamp,
    version,
    data: r['data'],
    metadata: (metadata as Record<string, unknown> | undefined) ?? {},
    subject: br.streamId,
    streamId: br.streamId,
    streamVersion: br.streamVersion,
    checkpoint: br.checkpoint,
    ...(typeof r['correlationId'] === 'string' ? { correlationId: r['correlationId'] } : {}),
    ...(typeof r['causationId'] === 'string' ? { causationId: r['causationId'] } : {}),
  };

  if (semver.major === entry.newestMajor) {
    // Within the newest major: the schema the event was written with when we know it, else the newest of that major.
    const same = entry.versions.filter((v) => v.semver.major === semver.major);
    const exact = same.find((v) => v.descriptor.version === version);
    if (trustStored && exact) return { ok: true, event };
    const descriptor = (exact ?? same[same.length - 1]!).descriptor;
    const result = descriptor.validate(event.data);
    if (!result.ok) return bad('validation-failed', issues(result.errors), type, version);
    return { ok: true, event: result.value === event.data ? event : { ...event, data: result.value } };
  }

  let data = event.data;
  for (let m = semver.major; m < entry.newestMajor; m++) {
    const key = upcasterKey(type, m);
    const up = catalog.upcasters[key];
    if (typeof up !== 'function') return bad('no-upcaster', key, type, version);
    try {
      data = up(data, { ...event, data });
    } catch (err) {
      return bad('validation-failed', `upcaster ${key} threw: ${err instanceof Error ? err.message : String(err)}`, type, version);
    }
  }
  const result = entry.newest.validate(data);
  if (!result.ok) return bad('validation-failed', `after upcasting to ${entry.newest.version}: ${issues(result.errors)}`, type, version);
  event = { ...event, data: result.value, version: entry.newest.version, storedVersion: version };
  return { ok: true, event };
}

function issues(errors: ReadonlyArray<{ path: string; message: string }>): string {
  return errors.map((e) => `${e.path || '/'} ${e.message}`).join('; ');
}
