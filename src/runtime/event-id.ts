/**
 * The payload's own event id, where the contract names a field for it (`x-event-id`, or a
 * required `eventId`): the envelope id, hence the broker's dedupe id. One rule for the bus,
 * the event store and the outbox, so an event gets the same id whichever of them writes it.
 */
import type { EventDescriptor } from './types.js';

export function eventIdOf<T>(event: EventDescriptor<T>, data: T): string | undefined {
  const field = event.eventIdField;
  if (field === undefined || typeof data !== 'object' || data === null || !Object.prototype.hasOwnProperty.call(data, field)) return undefined;
  const v = (data as Record<string, unknown>)[field];
  return typeof v === 'string' && v !== '' ? v : undefined;
}
