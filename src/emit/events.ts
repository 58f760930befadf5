/**
 * `events.ts`: one runtime descriptor per event version (type, version, address,
 * validator), the objects every generated client and user handler passes to the bus.
 */
import type { AggregateBinding, Catalog, EventVersion } from '../catalog/model.js';
import { docComment, type GeneratedFile } from './files.js';
import { CodeFile } from './printer.js';
import { validatorNames } from './validators.js';

export const payloadTypeName = (event: EventVersion) => event.codeName;
export const headersTypeName = (event: EventVersion) => `${event.codeName}Headers`;
export const descriptorName = (event: EventVersion) => `${event.codeName}Event`;

/** The address an event is published on: its owner's channel first, then any other. */
export function primaryAddress(event: EventVersion): string {
  const own = event.channels.find((c) => c.serviceId === event.ownerServiceId && c.address !== undefined);
  return own?.address ?? event.channels.find((c) => c.address !== undefined)?.address ?? '';
}

export function addressParameters(address: string): string[] {
  return [...address.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!);
}

/** Header names the runtime fills itself; a publish method's caller may leave them out. */
export const RUNTIME_HEADER_NAMES: readonly string[] = ['Nats-Msg-Id', 'traceparent', 'x-correlation-id', 'x-causation-id'];

export interface HeaderContractView {
  /** Declared header names, in schema order. */
  names: string[];
  /** Declared names whose type is not string (their wire text is JSON). */
  json: string[];
  /** Required names the caller must pass (required, and not filled by the runtime). */
  callerRequired: string[];
}

/** What the runtime needs to know of a message's headers schema; undefined without one. */
export function headerContract(event: EventVersion): HeaderContractView | undefined {
  const schema = event.headers;
  if (schema === undefined || typeof schema !== 'object' || schema === null) return undefined;
  const props = schema['properties'];
  const properties = typeof props === 'object' && props !== null ? (props as Record<string, unknown>) : {};
  const names = Object.keys(properties);
  const json = names.filter((n) => {
    const t = (properties[n] as Record<string, unknown> | undefined)?.['type'];
    return t !== undefined && t !== 'string';
  });
  const required = Array.isArray(schema['required']) ? (schema['required'] as unknown[]).filter((n): n is string => typeof n === 'string') : [];
  return { names, json, callerRequired: required.filter((n) => !RUNTIME_HEADER_NAMES.includes(n)) };
}

export function emitEvents(catalog: Catalog, runtimeModule: string): GeneratedFile {
  const versions = catalog.events.flatMap((t) => t.versions);
  const file = new CodeFile('events.ts');
  const descriptor = file.type('EventDescriptor', runtimeModule);
  for (const event of versions) {
    const address = primaryAddress(event);
    const deprecated = event.deprecated
      ? `\n@deprecated ${[event.deprecated.reason, event.deprecated.replacedBy ? `Use ${event.deprecated.replacedBy}.` : ''].filter(Boolean).join(' ')}`
      : '';
    const summary = event.summary ?? event.title;
    file.line();
    file.raw(docComment(`\`${event.key}\`${summary ? ': ' + summary : ''}${deprecated}`));
    file.line(`export const ${descriptorName(event)}: ${descriptor}<${file.type(payloadTypeName(event), './types.js')}> = {`);
    file.line(`  type: ${JSON.stringify(event.type)},`);
    file.line(`  version: ${JSON.stringify(event.version)},`);
    file.line(`  address: ${JSON.stringify(address)},`);
    file.line(`  parameters: ${JSON.stringify(addressParameters(address))},`);
    file.line(`  validate: ${file.use(validatorNames(event).payload, `./${validatorNames(event).module}.js`)},`);
    file.line(`  contentType: ${JSON.stringify(event.contentType)},`);
    const headers = headerContract(event);
    if (headers) {
      const names = validatorNames(event);
      file.line(`  headers: {`);
      file.line(`    validate: ${file.use(names.headers!, `./${names.module}.js`)},`);
      file.line(`    names: ${JSON.stringify(headers.names)},`);
      if (headers.json.length > 0) file.line(`    json: ${JSON.stringify(headers.json)},`);
      file.line(`  },`);
    }
    if (event.eventIdField !== undefined) file.line(`  eventIdField: ${JSON.stringify(event.eventIdField)},`);
    if (event.aggregate !== undefined) {
      const { type, domain, idField } = event.aggregate;
      file.line(`  aggregate: { type: ${JSON.stringify(type)}, domain: ${JSON.stringify(domain)}, idField: ${JSON.stringify(idField)} },`);
    }
    file.line('};');
  }
  file.line();
  file.line('/** Every event version of the catalog, oldest version first within a type. */');
  file.line(`export const allEvents: readonly ${descriptor}<unknown>[] = [${versions.map(descriptorName).join(', ')}] as readonly ${descriptor}<unknown>[];`);
  emitEventSourced(file, catalog, descriptor);
  return { path: file.path, content: file.render() };
}

export interface EventSourcedAggregate {
  readonly binding: Omit<AggregateBinding, 'idField' | 'location'>;
  /** Every version of every event type bound to the aggregate, by type, oldest version first. */
  readonly events: readonly EventVersion[];
  /** `type@major` of each bound type's older majors: an event store needs an upcaster from each to the next. */
  readonly upcasters: readonly string[];
}

/**
 * The event-sourced aggregates of the catalog, sorted by `<domain>.<type>`. A bound type
 * with several majors in the contract needs an upcaster for each major but the newest:
 * stored events keep the version they were written at, and are read as the newest.
 */
export function eventSourcedAggregates(catalog: Catalog): Map<string, EventSourcedAggregate> {
  const byName = new Map<string, { binding: EventSourcedAggregate['binding']; events: EventVersion[]; upcasters: string[] }>();
  for (const type of catalog.events) {
    const bound = type.versions.filter((v) => v.aggregate !== undefined);
    if (bound.length === 0) continue;
    const { type: aggregateType, domain } = bound[0]!.aggregate!;
    const name = `${domain}.${aggregateType}`;
    const entry = byName.get(name) ?? { binding: { type: aggregateType, domain }, events: [], upcasters: [] };
    byName.set(name, entry);
    entry.events.push(...bound);
    // Versions are ascending semver: the majors in order of appearance are ascending too.
    const majors = [...new Set(bound.map((v) => Number(v.version.split('.')[0])))];
    entry.upcasters.push(...majors.slice(0, -1).map((major) => `${type.type}@${major}`));
  }
  return new Map([...byName.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function emitEventSourced(file: CodeFile, catalog: Catalog, descriptor: string): void {
  const aggregates = eventSourcedAggregates(catalog);
  file.line();
  file.raw(
    docComment(
      [
        'Event-sourced aggregates (the contract\'s `x-aggregate`), by `<domain>.<type>`: the stream',
        'id of an entity is `streamIdPrefix` + its id (the descriptor\'s `aggregate.idField`).',
        '`upcasters` lists the `type@major` whose stored events an event store must upcast to the',
        'next major: every major of a bound type but the newest.',
      ].join('\n'),
    ),
  );
  if (aggregates.size === 0) {
    file.line('export const eventSourced = {} as const;');
    return;
  }
  file.line('export const eventSourced = {');
  for (const [name, aggregate] of aggregates) {
    file.line(`  ${JSON.stringify(name)}: {`);
    file.line(`    type: ${JSON.stringify(aggregate.binding.type)},`);
    file.line(`    domain: ${JSON.stringify(aggregate.binding.domain)},`);
    file.line(`    streamIdPrefix: ${JSON.stringify(`${name}.`)},`);
    file.line(`    events: [${aggregate.events.map(descriptorName).join(', ')}] as readonly ${descriptor}<unknown>[],`);
    file.line(`    upcasters: ${JSON.stringify(aggregate.upcasters)} as readonly string[],`);
    file.line('  },');
  }
  file.line('} as const;');
}
