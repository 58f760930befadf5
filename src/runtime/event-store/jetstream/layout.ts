/**
 * Where the event store keeps events on JetStream, as plain functions (no NATS client):
 *
 * - one stream per aggregate type: `<streamPrefix>_<domain>__<aggregate>` (default prefix
 *   'ES'; domain and aggregate are name tokens without doubled separators, so `__` joins
 *   them unambiguously);
 * - one subject per entity: `<subjectPrefix>.<domain>.<aggregate>.<entity token>` (default
 *   prefix '$ES': contract channels are not `$` subjects, so event-store subjects never
 *   fall into a pub/sub stream, nor pub/sub events into these);
 * - the entity token is the entity id itself when it is only letters, digits, '_' and '-',
 *   else '=' followed by the base64url of its UTF-8 bytes (so '.', '*', '>', spaces and any
 *   other character are safe, and '=' never starts a plain token: no two ids share a token).
 */
import { NAME_TOKEN } from '../stream-id.js';
import type { StreamAddress } from '../backend.js';

const PLAIN = /^[A-Za-z0-9_-]+$/;

export interface Layout {
  readonly subjectPrefix: string;
  readonly streamPrefix: string;
}

export function entityToken(entityId: string): string {
  return PLAIN.test(entityId) ? entityId : '=' + Buffer.from(entityId, 'utf8').toString('base64url');
}

export function entityFromToken(token: string): string | undefined {
  if (PLAIN.test(token)) return token;
  if (!token.startsWith('=')) return undefined;
  const b64 = token.slice(1);
  if (!/^[A-Za-z0-9_-]+$/.test(b64)) return undefined;
  const id = Buffer.from(b64, 'base64url').toString('utf8');
  // Only the canonical encoding is ours: a forged token that decodes to something else is refused.
  return entityToken(id) === token ? id : undefined;
}

export function streamName(layout: Layout, domain: string, aggregate: string): string {
  return `${layout.streamPrefix}_${domain}__${aggregate}`;
}

export function streamSubjects(layout: Layout, domain: string, aggregate: string): string {
  return `${layout.subjectPrefix}.${domain}.${aggregate}.*`;
}

export function subjectOf(layout: Layout, stream: StreamAddress): string {
  return `${layout.subjectPrefix}.${stream.domain}.${stream.aggregate}.${entityToken(stream.entityId)}`;
}

/** The stream id a subject of this layout stands for; undefined for a subject the store did not write. */
export function streamIdOfSubject(layout: Layout, subject: string): string | undefined {
  const prefix = layout.subjectPrefix + '.';
  if (!subject.startsWith(prefix)) return undefined;
  const parts = subject.slice(prefix.length).split('.');
  if (parts.length !== 3) return undefined;
  const [domain, aggregate, token] = parts as [string, string, string];
  if (!NAME_TOKEN.test(domain) || !NAME_TOKEN.test(aggregate)) return undefined;
  const entity = entityFromToken(token);
  return entity === undefined ? undefined : `${domain}.${aggregate}.${entity}`;
}

/** `{ domain, aggregate }` of a stream name of this layout. */
export function categoryOfStream(layout: Layout, name: string): { domain: string; aggregate: string } | undefined {
  const prefix = layout.streamPrefix + '_';
  if (!name.startsWith(prefix)) return undefined;
  const [domain, aggregate, ...rest] = name.slice(prefix.length).split('__');
  if (domain === undefined || aggregate === undefined || rest.length > 0 || !NAME_TOKEN.test(domain) || !NAME_TOKEN.test(aggregate)) return undefined;
  return { domain, aggregate };
}

/**
 * A position in one aggregate stream: the message sequence and the index of the last event
 * taken from it (a message holds one append, possibly of several events).
 */
export type StreamPosition = readonly [seq: number, index: number];

/** Checkpoints: per JetStream stream, the position after the event; opaque base64url JSON. */
export function encodeCheckpoint(positions: ReadonlyMap<string, StreamPosition>): string {
  const o: Record<string, StreamPosition> = {};
  for (const [k, v] of positions) o[k] = v;
  return Buffer.from(JSON.stringify(o)).toString('base64url');
}

export function decodeCheckpoint(checkpoint: string): Map<string, StreamPosition> | undefined {
  if (checkpoint.length > 100_000 || !/^[A-Za-z0-9_-]*$/.test(checkpoint)) return undefined;
  let o: unknown;
  try {
    o = JSON.parse(Buffer.from(checkpoint, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof o !== 'object' || o === null || Array.isArray(o)) return undefined;
  const m = new Map<string, StreamPosition>();
  const count = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
  for (const [k, v] of Object.entries(o)) {
    if (!Array.isArray(v) || v.length !== 2 || !count(v[0]) || !count(v[1])) return undefined;
    m.set(k, [v[0], v[1]]);
  }
  return m;
}
