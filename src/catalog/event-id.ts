/**
 * Which payload property is the event's own id. A contract says so with the message
 * extension `x-event-id: <property>`; without it, a required string property named
 * `eventId` is taken, as this workspace's contracts use it. The runtime then makes that
 * value the envelope id and the broker's dedupe id (Nats-Msg-Id), so a producer that
 * retries with the same payload is deduplicated without passing an id by hand.
 */
import type { Diagnostic, SourceLocation } from '../diagnostics.js';
import type { JsonSchema } from './model.js';

export const EVENT_ID_CONVENTION = 'eventId';

/** Whether `name` is a declared string property of the payload, and a required one. */
export function isStringProperty(payload: JsonSchema, name: string): { declared: boolean; required: boolean } {
  if (typeof payload !== 'object' || payload === null) return { declared: false, required: false };
  const props = payload['properties'];
  const prop = typeof props === 'object' && props !== null && Object.prototype.hasOwnProperty.call(props, name) ? (props as Record<string, unknown>)[name] : undefined;
  const declared = typeof prop === 'object' && prop !== null && (prop as Record<string, unknown>)['type'] === 'string';
  const required = Array.isArray(payload['required']) && (payload['required'] as unknown[]).includes(name);
  return { declared, required };
}

export function eventIdField(extension: unknown, payload: JsonSchema, type: string, locate: () => SourceLocation, diagnostics: Diagnostic[]): string | undefined {
  if (extension === undefined) {
    const p = isStringProperty(payload, EVENT_ID_CONVENTION);
    return p.declared && p.required ? EVENT_ID_CONVENTION : undefined;
  }
  if (typeof extension !== 'string' || extension === '') {
    diagnostics.push({ code: 'INVALID_EVENT_ID', severity: 'error', message: `event "${type}": x-event-id must name a payload property`, location: locate() });
    return undefined;
  }
  const p = isStringProperty(payload, extension);
  if (!p.declared || !p.required) {
    diagnostics.push({
      code: 'INVALID_EVENT_ID',
      severity: 'error',
      message: `event "${type}": x-event-id names "${extension}", which must be a required string property of the payload`,
      location: locate(),
    });
    return undefined;
  }
  return extension;
}
