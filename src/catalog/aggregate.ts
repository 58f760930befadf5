/**
 * `x-aggregate` on a channel: the messages on the channel are events of one event-sourced
 * aggregate, and an event store files each under the stream `<domain>.<type>.<entity id>`.
 *
 *     x-aggregate:
 *       type: account        # aggregate type, [a-z][a-z0-9-]*
 *       domain: payments     # optional; default: the document's service id
 *       id: accountId        # a channel parameter, or a payload property
 *
 * `id` names a channel parameter whose `location` (`$message.payload#/accountId`) gives
 * the payload field, or, for a parameter without `location` or a name that is no
 * parameter, the payload property itself. That field must be a required string property
 * of every message on the channel. The shorthand `x-aggregate: account` is allowed where
 * it is unambiguous: the channel has exactly one parameter, and that parameter is the id.
 *
 * The binding belongs to the event type, not to one version: `bindAggregates` gives every
 * version of a bound type its aggregate (a new major on a channel of its own inherits it)
 * and refuses one type in two aggregates. Names become stream ids, code and HTML, so they
 * are kept to plain lower-case words; anything else is an error, never escaped into use.
 */
import type { Diagnostic, SourceLocation } from '../diagnostics.js';
import { decodePointer } from '../load/index.js';
import { isStringProperty } from './event-id.js';
import type { AggregateBinding, EventKey, EventType, EventVersion, JsonSchema, Service } from './model.js';

/** An aggregate type or domain: one segment of a stream id, so no `.`, and safe in code and HTML. */
export const AGGREGATE_NAME = /^[a-z][a-z0-9-]{0,62}$/;

/**
 * A payload property the runtime reads by name: letters, digits and `_`, starting with a
 * letter (so never `__proto__`, never markup or code).
 */
export const AGGREGATE_ID_FIELD = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;

const OBJECT_KEYS = ['type', 'domain', 'id'];

/** `$message.payload#/<field>`: a top-level payload property, written as a JSON pointer fragment. */
const PAYLOAD_LOCATION = /^\$message\.payload#(\/.*)$/;

export interface AggregateChannel {
  readonly channelId: string;
  readonly serviceId: string;
  /** The channel's declared parameters with their `location` as written. */
  readonly parameters: ReadonlyArray<{ readonly name: string; readonly location?: unknown }>;
  /** The messages on the channel. */
  readonly messages: ReadonlyArray<Pick<EventVersion, 'key' | 'payload' | 'dialect' | 'payloadLocation'>>;
  /** Where a node below the channel's `x-aggregate` is written (`[]`: the extension itself). */
  locate(below: readonly string[]): SourceLocation;
}

const shown = (value: unknown) => JSON.stringify(typeof value === 'string' ? value.slice(0, 100) : (JSON.stringify(value) ?? String(value)).slice(0, 100));

/** Reads and checks one channel's `x-aggregate`; undefined when absent or invalid (the problems are in `diagnostics`). */
export function channelAggregate(raw: unknown, channel: AggregateChannel, diagnostics: Diagnostic[]): AggregateBinding | undefined {
  if (raw === undefined) return undefined;
  const before = diagnostics.length;
  const fail = (message: string, below: readonly string[] = [], related?: SourceLocation) => {
    diagnostics.push({
      code: 'INVALID_AGGREGATE',
      severity: 'error',
      message: `channel "${channel.channelId}": x-aggregate ${message}`,
      location: channel.locate(below),
      ...(related ? { related } : {}),
    });
  };

  let written: { type?: unknown; domain?: unknown; id?: unknown };
  const shorthand = typeof raw === 'string';
  if (shorthand) written = { type: raw };
  else if (typeof raw === 'object' && raw !== null && !Array.isArray(raw)) {
    written = raw as Record<string, unknown>;
    // One diagnostic however many keys a hostile document writes.
    const unknown = Object.keys(raw).filter((key) => !OBJECT_KEYS.includes(key));
    if (unknown.length > 0) {
      const listed = unknown.slice(0, 3).map(shown).join(', ') + (unknown.length > 3 ? ` and ${unknown.length - 3} more` : '');
      fail(`has unknown key${unknown.length > 1 ? 's' : ''} ${listed} (allowed: type, domain, id)`, [unknown[0]!]);
    }
  } else {
    fail(`must be an aggregate type ("account") or { type, domain, id }, not ${shown(raw)}`);
    return undefined;
  }

  const name = (value: unknown, what: 'type' | 'domain'): string | undefined => {
    if (typeof value === 'string' && AGGREGATE_NAME.test(value)) return value;
    fail(`${what} ${shown(value)} is not an aggregate name: use a lower-case letter, then lower-case letters, digits or "-" (at most 63)`, shorthand ? [] : [what]);
    return undefined;
  };
  const type = name(written.type, 'type');
  let domain: string | undefined;
  if (written.domain !== undefined) domain = name(written.domain, 'domain');
  else if (AGGREGATE_NAME.test(channel.serviceId)) domain = channel.serviceId;
  else fail(`has no domain, and the service id ${shown(channel.serviceId)} is not one (a lower-case letter, then lower-case letters, digits or "-"): write domain`);

  let id: string | undefined;
  if (shorthand) {
    if (channel.parameters.length === 1) id = channel.parameters[0]!.name;
    else fail(`${shown(raw)} does not say which field is the ${type ?? 'aggregate'} id, and the channel has ${channel.parameters.length} parameters: write { type: ${shown(raw)}, id: <parameter or payload property> }`);
  } else if (typeof written.id === 'string' && /^[A-Za-z0-9_-]{1,64}$/.test(written.id)) id = written.id;
  else fail(`id ${written.id === undefined ? 'is missing' : `${shown(written.id)} is not a parameter or property name`}: name the channel parameter or payload property that holds the entity id`, written.id === undefined ? [] : ['id']);
  if (id === undefined || diagnostics.length > before) return undefined;

  const idField = payloadField(id, channel, (message, related) => fail(message, shorthand ? [] : ['id'], related));
  if (idField === undefined || diagnostics.length > before) return undefined;
  return { type: type!, domain: domain!, idField, location: channel.locate([]) };
}

/** The payload property an `id` names, checked on every message of the channel. */
function payloadField(id: string, channel: AggregateChannel, fail: (message: string, related?: SourceLocation) => void): string | undefined {
  const parameter = channel.parameters.find((p) => p.name === id);
  let field = id;
  if (parameter?.location !== undefined) {
    const match = typeof parameter.location === 'string' ? PAYLOAD_LOCATION.exec(parameter.location) : null;
    const segments = match ? decodePointer(`#${match[1]}`) : [];
    if (segments.length !== 1) {
      fail(`id is the parameter {${id}}, whose location ${shown(parameter.location)} is not a top-level payload property ("$message.payload#/<property>"): the entity id must be a payload field`);
      return undefined;
    }
    field = segments[0]!;
  }
  if (!AGGREGATE_ID_FIELD.test(field)) {
    fail(`id field ${shown(field)} is not a plain property name (a letter, then letters, digits or "_", at most 64)`);
    return undefined;
  }
  if (!parameter && !channel.messages.some((m) => declaresProperty(m.payload, field))) {
    const names = channel.parameters.map((p) => p.name).join(', ');
    fail(`id ${shown(id)} is neither a parameter of the channel (${names ? `it has ${names}` : 'it has none'}) nor a property of its payload`);
    return undefined;
  }
  let ok = true;
  for (const message of channel.messages) {
    if (message.dialect === 'unsupported') {
      fail(`binds ${message.key}, whose payload is not JSON Schema: its ${shown(field)} cannot be checked to be a required string`, message.payloadLocation);
      ok = false;
      continue;
    }
    const property = isStringProperty(message.payload, field);
    if (property.declared && property.required) continue;
    fail(
      `reads the entity id from ${shown(field)}${field !== id ? ` (parameter {${id}})` : ''}, which must be a required string property of ${message.key}'s payload (it is ${property.declared ? 'not required' : 'not a declared string property'})`,
      message.payloadLocation,
    );
    ok = false;
  }
  return ok ? field : undefined;
}

function declaresProperty(payload: JsonSchema, name: string): boolean {
  const properties = typeof payload === 'object' ? payload['properties'] : undefined;
  return typeof properties === 'object' && properties !== null && Object.prototype.hasOwnProperty.call(properties, name);
}

const typeOf = (key: EventKey) => key.slice(0, key.lastIndexOf('@'));
const aggregateName = (b: AggregateBinding) => `${b.domain}.${b.type}`;

/**
 * Gives every version of a bound event type its aggregate: the binding of a channel it is
 * on, else (a version on a channel without `x-aggregate`, e.g. a new major's) the type's
 * first binding, whose id field its payload must then have. One event type in two
 * aggregates is an error (`AGGREGATE_CONFLICT`): its events could not be read back as one history.
 */
export function bindAggregates(services: readonly Service[], events: readonly EventType[], diagnostics: Diagnostic[]): EventType[] {
  const perVersion = new Map<EventKey, AggregateBinding>();
  const perType = new Map<string, AggregateBinding>();
  const bound = services
    .flatMap((service) => service.channels.filter((c) => c.aggregate !== undefined).map((channel) => ({ service, channel, binding: channel.aggregate! })))
    .sort((a, b) => {
      const ka = `${a.service.file}\0${a.channel.id}`;
      const kb = `${b.service.file}\0${b.channel.id}`;
      return ka < kb ? -1 : ka > kb ? 1 : 0;
    });
  for (const { service, channel, binding } of bound) {
    for (const key of channel.messages) {
      const type = typeOf(key);
      const first = perType.get(type);
      if (first && aggregateName(first) !== aggregateName(binding)) {
        diagnostics.push({
          code: 'AGGREGATE_CONFLICT',
          severity: 'error',
          message: `${service.id}: channel "${channel.id}" puts event type "${type}" in aggregate ${aggregateName(binding)}, but another channel puts it in ${aggregateName(first)}: an event type belongs to one aggregate`,
          location: binding.location,
          related: first.location,
        });
        continue;
      }
      if (!first) perType.set(type, binding);
      const previous = perVersion.get(key);
      if (previous && previous.idField !== binding.idField) {
        diagnostics.push({
          code: 'AGGREGATE_CONFLICT',
          severity: 'error',
          message: `${service.id}: channel "${channel.id}" reads the ${binding.type} id of ${key} from "${binding.idField}", but another channel reads it from "${previous.idField}"`,
          location: binding.location,
          related: previous.location,
        });
      } else if (!previous) perVersion.set(key, binding);
    }
  }
  return events.map((event) => {
    const first = perType.get(event.type);
    if (!first) return event;
    return {
      ...event,
      versions: event.versions.map((version) => {
        const binding = perVersion.get(version.key) ?? inherited(version, first, diagnostics);
        return binding ? { ...version, aggregate: binding } : version;
      }),
    };
  });
}

function inherited(version: EventVersion, first: AggregateBinding, diagnostics: Diagnostic[]): AggregateBinding | undefined {
  const property = isStringProperty(version.payload, first.idField);
  if (property.declared && property.required) return first;
  diagnostics.push({
    code: 'INVALID_AGGREGATE',
    severity: 'error',
    message: `${version.key} belongs to aggregate ${aggregateName(first)} (x-aggregate on another version's channel), but its payload has no required string "${first.idField}" to take the entity id from: give its channel an x-aggregate whose id names its own field`,
    location: version.payloadLocation,
    related: first.location,
  });
  return undefined;
}
