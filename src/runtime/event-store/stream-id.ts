/**
 * Stream ids: `<domain>.<aggregate type>.<entity id>`. Domain and aggregate are names
 * (letters, digits, single '_' or '-' inside) so every backend can build its own names from
 * them without collisions; the entity id is any text without control characters, and a
 * backend whose addressing cannot hold some characters encodes it (see jetstream/subjects.ts).
 */
import { InvalidStreamIdError } from './errors.js';
import type { StreamAddress } from './backend.js';

/** A name token: no leading, trailing or doubled separators (so `__` can join two of them unambiguously). */
export const NAME_TOKEN = /^[A-Za-z0-9]+(?:[_-][A-Za-z0-9]+)*$/;
export const MAX_NAME_LENGTH = 64;
export const MAX_ENTITY_ID_LENGTH = 256;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

export function parseStreamId(streamId: string): StreamAddress {
  if (typeof streamId !== 'string') throw new InvalidStreamIdError(String(streamId), 'must be a string');
  const first = streamId.indexOf('.');
  const second = first < 0 ? -1 : streamId.indexOf('.', first + 1);
  if (second < 0) throw new InvalidStreamIdError(streamId, "must be '<domain>.<aggregate type>.<entity id>'");
  const domain = streamId.slice(0, first);
  const aggregate = streamId.slice(first + 1, second);
  const entityId = streamId.slice(second + 1);
  checkName(streamId, 'domain', domain);
  checkName(streamId, 'aggregate type', aggregate);
  if (entityId === '') throw new InvalidStreamIdError(streamId, 'the entity id is empty');
  if (entityId.length > MAX_ENTITY_ID_LENGTH) throw new InvalidStreamIdError(streamId, `the entity id is longer than ${MAX_ENTITY_ID_LENGTH} characters`);
  if (CONTROL.test(entityId)) throw new InvalidStreamIdError(streamId, 'the entity id contains control characters');
  return { streamId, domain, aggregate, entityId };
}

function checkName(streamId: string, what: string, value: string): void {
  if (value.length > MAX_NAME_LENGTH || !NAME_TOKEN.test(value)) {
    throw new InvalidStreamIdError(streamId, `the ${what} must be letters and digits with single '_' or '-' between them, at most ${MAX_NAME_LENGTH} characters`);
  }
}

/** `{ domain, aggregate }` of a stream id without checking the rest, for filters; undefined when it has no such parts. */
export function categoryOf(streamId: string): { domain: string; aggregate: string } | undefined {
  const first = streamId.indexOf('.');
  const second = first < 0 ? -1 : streamId.indexOf('.', first + 1);
  return second < 0 ? undefined : { domain: streamId.slice(0, first), aggregate: streamId.slice(first + 1, second) };
}

/**
 * An aggregate filter entry names a type in every domain ('account') or in one domain
 * ('payments.account'); undefined matches everything.
 */
export function aggregateMatcher(aggregates: readonly string[] | undefined): ((domain: string, aggregate: string) => boolean) | undefined {
  if (aggregates === undefined || aggregates.length === 0) return undefined;
  const names = new Set(aggregates);
  return (domain, aggregate) => names.has(aggregate) || names.has(`${domain}.${aggregate}`);
}
