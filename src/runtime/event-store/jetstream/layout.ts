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

/**
 * Checkpoints: per JetStream stream, the position after the event, as
 * `<stream>:<seq>:<index>` joined by ','. Opaque to users; plain text because one is made
 * for every event read (base64 of JSON cost a fifth of a replay).
 */
export function encodeCheckpoint(positions: ReadonlyMap<string, StreamPosition>): string {
  let out = '';
  for (const [name, [seq, index]] of positions) out += (out === '' ? '' : ',') + name + ':' + seq + ':' + index;
  return out;
}

const ENTRY = /^([A-Za-z0-9_-]{1,200}):([0-9]{1,15}):([0-9]{1,9})$/;

export function decodeCheckpoint(checkpoint: string): Map<string, StreamPosition> | undefined {
  if (checkpoint.length > 100_000) return undefined;
  const m = new Map<string, StreamPosition>();
  for (const entry of checkpoint.split(',')) {
    const e = ENTRY.exec(entry);
    if (!e || m.has(e[1]!)) return undefined;
    m.set(e[1]!, [Number(e[2]), Number(e[3])]);
  }
  return m;
}
