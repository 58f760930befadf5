/**
 * What the event store throws on purpose. Each error carries the values a caller needs to
 * react (retry with the actual version, add the missing upcaster) as fields, not only text.
 */
import { EventContractsError } from '../errors.js';
import type { BadRecord, ExpectedVersion } from './types.js';

/** The stream was not at the expected version; nothing of the append was stored. */
export class WrongExpectedVersionError extends EventContractsError {
  constructor(
    readonly streamId: string,
    readonly expected: ExpectedVersion,
    /** The stream's version when the append was refused: reload from here and retry. */
    readonly actual: number,
  ) {
    super(`stream '${streamId}' is at version ${actual}, the append expected ${expected === 'no-stream' ? 'no stream' : expected}`);
  }
}

/** An event type (or a version of it) that the store's `events` do not declare. */
export class UnknownEventTypeError extends EventContractsError {
  constructor(
    readonly eventType: string,
    readonly eventVersion: string | undefined,
    detail: string,
  ) {
    super(`${eventType}${eventVersion === undefined ? '' : '@' + eventVersion}: ${detail}`);
  }
}

/** The event's aggregate (domain, type, entity id) is not the one the stream id names. */
export class WrongAggregateError extends EventContractsError {
  constructor(
    readonly streamId: string,
    readonly eventType: string,
    detail: string,
  ) {
    super(`${eventType} cannot be appended to '${streamId}': ${detail}`);
  }
}

/** Upcasters are missing for a stored major below the newest one (`type@major` keys). */
export class MissingUpcasterError extends EventContractsError {
  constructor(readonly missing: readonly string[]) {
    super(`no upcaster for ${missing.join(', ')}: an event stored at an older major cannot be read as the newest one`);
  }
}

/** A stored record that cannot be read as an event: damaged bytes, missing fields. */
export class CorruptRecordError extends EventContractsError {
  constructor(
    readonly checkpoint: string,
    readonly streamId: string | undefined,
    readonly detail: string,
  ) {
    super(`corrupt record at checkpoint ${checkpoint}${streamId === undefined ? '' : ` in '${streamId}'`}: ${detail}`);
  }
}

/** A stream id that is not `<domain>.<aggregate type>.<entity id>` or that the store cannot hold. */
export class InvalidStreamIdError extends EventContractsError {
  constructor(
    readonly streamId: string,
    detail: string,
  ) {
    super(`invalid stream id ${JSON.stringify(streamId.length > 200 ? streamId.slice(0, 200) + '…' : streamId)}: ${detail}`);
  }
}

/** A checkpoint that this backend did not issue. */
export class InvalidCheckpointError extends EventContractsError {
  constructor(
    readonly checkpoint: string,
    readonly backend: string,
  ) {
    super(`${backend}: ${JSON.stringify(checkpoint.slice(0, 200))} is not a checkpoint of this store`);
  }
}

/** An option out of its range (a negative version, a fractional limit, a filter that is not a list). */
export class InvalidOptionError extends EventContractsError {}

/** The store was closed; no more appends, reads or subscriptions. */
export class EventStoreClosedError extends EventContractsError {
  constructor() {
    super('the event store is closed');
  }
}

/** `read`/`readAll` met a record it cannot deliver; the bad record is attached. */
export function badRecordError(bad: BadRecord, eventType?: string, eventVersion?: string): EventContractsError {
  switch (bad.reason) {
    case 'corrupt':
    case 'validation-failed':
      return new CorruptRecordError(bad.checkpoint, bad.streamId, `${bad.reason}: ${bad.detail}`);
    case 'unknown-type':
    case 'unknown-version':
      return new UnknownEventTypeError(eventType ?? '?', eventVersion, bad.detail);
    case 'no-upcaster':
      return new MissingUpcasterError([bad.detail]);
  }
}
