/**
 * catalog: parsed documents in, one read-only model out. Every node keeps the file
 * position it was written at, so any later finding can point at the source.
 */
import semver from 'semver';
import type { AsyncAPIDocumentInterface, ChannelInterface, MessageInterface, OperationInterface } from '@asyncapi/parser';
import type { Diagnostic, SourceLocation } from '../diagnostics.js';
import { decodePointer, isObject, type LoadedDocument } from '../load/index.js';
import type {
  Catalog, Channel, ChannelParameter, Deprecation, EventKey, EventType, EventVersion, JsonSchema,
  MessageExample, Operation, Server, Service, StreamSettings,
} from './model.js';
import { boundedName, kebabCase, MAX_NAME_LENGTH, pascalCase, SAFE_SERVICE_ID } from './names.js';
import { schemaDialect, stableStringify, toPlainSchema } from './schema.js';
import { eventIdField } from './event-id.js';
import { bindAggregates, channelAggregate } from './aggregate.js';

export interface CatalogResult {
  catalog: Catalog;
  diagnostics: Diagnostic[];
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
export type Draft = Omit<Mutable<EventVersion>, 'codeName' | 'ownerServiceId' | 'channels'> & {
  definedBy: string;
  /** Entry file of the document the draft was read from. */
  definedByFile: string;
  senders: Set<string>;
  channels: Map<string, { serviceId: string; channelId: string; address?: string }>;
  identity: string;
};

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const byKey = <T>(key: (t: T) => string) => (a: T, b: T) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0);

/** What one document contributes to the catalog: plain data, so it can be cached per document. */
export interface DocumentModel {
  service: Service;
  drafts: DraftData[];
  diagnostics: Diagnostic[];
}

/** A message draft as data (the Set and Map of a Draft become sorted arrays). */
export type DraftData = Omit<Draft, 'senders' | 'channels'> & {
  senders: string[];
  channels: Array<{ serviceId: string; channelId: string; address?: string }>;
};

/** One document's service, channels, operations and message drafts, with the problems found in it. */
export function describeDocument(loaded: LoadedDocument): DocumentModel {
  const diagnostics: Diagnostic[] = [];
  const drafts = new Map<EventKey, Draft>();
  const doc = loaded.document;
  const at = (pointer: string | undefined): SourceLocation => loaded.locate(decodePointer(pointer ?? ''));
  const info = doc.info();
  const infoJson = info.json() as Record<string, unknown>;
  const serviceId = serviceIdOf(loaded, infoJson, info.title(), diagnostics);
  const location = at('/info');
  const defaultContentType = doc.defaultContentType() ?? 'application/json';

  const eventOf = (message: MessageInterface): EventKey => {
    const draft = messageDraft(loaded, doc, message, serviceId, defaultContentType, diagnostics);
    const existing = drafts.get(draft.key);
    if (!existing) {
      drafts.set(draft.key, draft);
      return draft.key;
    }
    if (!conflicts(existing, draft)) return existing.key;
    // AsyncAPI does not require message names to be unique: within one document, a second
    // definition under a taken name is named after its message id (or where it is written).
    for (const type of fallbackTypes(message, draft)) {
      const key: EventKey = `${type}@${draft.version}`;
      const taken = drafts.get(key);
      if (taken && conflicts(taken, draft)) continue;
      if (!taken) {
        drafts.set(key, { ...draft, key, type });
        diagnostics.push({
          code: 'DUPLICATE_MESSAGE_NAME',
          severity: 'warning',
          message: `message name "${draft.type}" is used by two different messages in this document; this one is event "${type}" (give it a name of its own to choose)`,
          location: draft.location,
          related: existing.location,
        });
      }
      return key;
    }
    return existing.key;
  };

  const channels: Channel[] = [];
  const channelKeys = new Map<string, EventKey[]>();
  for (const channel of doc.channels().all()) {
    const keys = channel.messages().all().map(eventOf);
    channelKeys.set(channel.id(), keys);
    channels.push(channelModel(loaded, channel, serviceId, keys, drafts, diagnostics));
    for (const key of keys) {
      drafts.get(key)!.channels.set(`${serviceId}/${channel.id()}`, {
        serviceId,
        channelId: channel.id(),
        ...(channelAddress(channel) !== undefined ? { address: channelAddress(channel)! } : {}),
      });
    }
  }

  const operations: Operation[] = [];
  for (const operation of doc.operations().all()) {
    const model = operationModel(loaded, operation, serviceId, eventOf, channelKeys);
    operations.push(model);
    if (model.action === 'send') for (const key of model.messages) drafts.get(key)?.senders.add(serviceId);
  }

  const servers: Server[] = doc.servers().all().map((server) => {
    const json = server.json() as Record<string, unknown>;
    return {
      id: server.id(),
      host: str(json.host) ?? server.url(),
      protocol: server.protocol(),
      ...(server.protocolVersion() ? { protocolVersion: server.protocolVersion()! } : {}),
      ...(str(json.pathname) ? { pathname: str(json.pathname)! } : {}),
      ...(server.description() ? { description: server.description()! } : {}),
      security: securityNames(json.security),
      location: at(server.meta().pointer),
    };
  });

  const service: Service = {
    id: serviceId,
    title: info.title(),
    version: info.version(),
    ...(info.description() ? { description: info.description()! } : {}),
    asyncapiVersion: loaded.asyncapiVersion,
    file: loaded.entry.displayPath,
    location,
    servers: servers.sort(byKey((s) => s.id)),
    channels: channels.sort(byKey((c) => c.id)),
    operations: operations.sort(byKey((o) => o.id)),
    security: [...new Set(servers.flatMap((s) => s.security))].sort(),
  };
  return {
    service,
    drafts: [...drafts.values()].map((d) => ({
      ...d,
      senders: [...d.senders].sort(),
      channels: [...d.channels.values()].sort(byKey((c) => `${c.serviceId}/${c.channelId}`)),
    })),
    diagnostics,
  };
}

/**
 * The service id names a generated file (`clients/<id>.ts`) and is the events' `source`:
 * a declared `x-service-id` must already be a safe file name; the fallback, the title in
 * kebab-case, is cut to a bounded length (start plus hash).
 */
function serviceIdOf(loaded: LoadedDocument, info: Record<string, unknown>, title: string, diagnostics: Diagnostic[]): string {
  const fallback = boundedName(kebabCase(title), MAX_NAME_LENGTH, title, '-');
  const declared = info['x-service-id'];
  if (declared === undefined) return fallback;
  if (typeof declared === 'string' && SAFE_SERVICE_ID.test(declared)) return declared;
  diagnostics.push({
    code: 'INVALID_SERVICE_ID',
    severity: 'error',
    message: `x-service-id ${JSON.stringify(String(declared).slice(0, 100))} is not a service id: use 1 to 80 ASCII letters, digits, ".", "_" or "-", not starting with "." or "-"`,
    location: loaded.locate(['info', 'x-service-id']),
  });
  return fallback;
}

/** Two drafts under one key that are different definitions (not one definition seen through two paths). */
function conflicts(existing: Pick<Draft, 'identity' | 'location'>, draft: Pick<Draft, 'identity' | 'location'>): boolean {
  if (existing.identity === draft.identity) return false;
  // The same file position means the same definition seen through another path.
  return !(existing.location.file === draft.location.file && existing.location.line === draft.location.line);
}

/**
 * Names for a message whose name is taken by another definition: its message id (not the
 * parser's `<anonymous-message-N>`, which is renumbered between versions of a document),
 * then where it is written, then that with a number.
 */
function fallbackTypes(message: MessageInterface, draft: Pick<Draft, 'type' | 'messageId'>): string[] {
  const id = str(message.id());
  const pointer = decodePointer((message.meta().pointer as string | undefined) ?? '').join('.');
  const names = [...new Set([id && !id.startsWith('<anonymous') ? id : undefined, pointer || undefined].filter((n): n is string => n !== undefined && n !== draft.type))];
  const base = names.at(-1) ?? draft.type;
  for (let n = 2; n < 100; n++) names.push(`${base}_${n}`);
  return names;
}

function reportConflict(existing: Pick<Draft, 'identity' | 'location' | 'key'>, draft: Pick<Draft, 'identity' | 'location' | 'key'>, diagnostics: Diagnostic[]): void {
  if (!conflicts(existing, draft)) return;
  diagnostics.push({
    code: 'CONFLICTING_EVENT_DEFINITION',
    severity: 'error',
    message: `event ${draft.key} is defined differently in two places; reference one definition with $ref`,
    location: draft.location,
    related: existing.location,
  });
}

/** Joins the documents' contributions: one service per document, one event version per key. */
export function mergeDocuments(models: readonly DocumentModel[]): CatalogResult {
  const diagnostics: Diagnostic[] = [];
  const drafts = new Map<EventKey, Draft>();
  const services: Service[] = [];
  const serviceIds = new Map<string, SourceLocation>();
  for (const model of models) {
    diagnostics.push(...model.diagnostics);
    // Ids name files: two that differ only in case would share one on a case-insensitive file system.
    const previous = serviceIds.get(model.service.id.toLowerCase());
    if (previous) {
      diagnostics.push({
        code: 'DUPLICATE_SERVICE',
        severity: 'error',
        message: `service "${model.service.id}" is defined by two documents (service ids are compared ignoring case); give one a different info.title or x-service-id`,
        location: model.service.location,
        related: previous,
      });
      continue;
    }
    serviceIds.set(model.service.id.toLowerCase(), model.service.location);
    services.push(model.service);
    for (const data of model.drafts) {
      const existing = drafts.get(data.key);
      if (!existing) {
        drafts.set(data.key, {
          ...data,
          senders: new Set(data.senders),
          channels: new Map(data.channels.map((c) => [`${c.serviceId}/${c.channelId}`, c])),
        });
        continue;
      }
      reportConflict(existing, data, diagnostics);
      // The definition seen from the document that writes it down wins over a referencing
      // document's view (which may carry, say, that document's schema format).
      if (data.location.file === model.service.file && existing.location.file !== existing.definedByFile) {
        const { senders, channels, ...fields } = data;
        Object.assign(existing, fields);
      }
      for (const s of data.senders) existing.senders.add(s);
      for (const c of data.channels) existing.channels.set(`${c.serviceId}/${c.channelId}`, c);
    }
  }
  // The document that writes a message down owns it; a document that only references it does not.
  const serviceByFile = new Map(services.map((s) => [s.file, s.id]));
  const events = bindAggregates(services, finishEvents(drafts, serviceByFile, diagnostics), diagnostics);
  diagnostics.push(...addressConflicts(services));
  return { catalog: { services: services.sort(byKey((s) => s.id)), events }, diagnostics };
}

/**
 * Two documents that put different events on one address: a subscriber of that address
 * written from one document receives events the other sends, which it does not know.
 * Addresses are compared with their parameters as placeholders (`a.{x}.b` = `a.{y}.b`).
 * An error, or a warning where either channel says `x-shared-address: true`.
 */
function addressConflicts(services: readonly Service[]): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  const first = new Map<string, { service: Service; channel: Channel; types: string }>();
  const typesOf = (channel: Channel) => [...new Set(channel.messages.map((k) => k.slice(0, k.lastIndexOf('@'))))].sort().join(', ');
  for (const service of [...services].sort(byKey((s) => s.file))) {
    for (const channel of service.channels) {
      if (channel.address === undefined || channel.messages.length === 0) continue;
      const shape = channel.address.replace(/\{[^}]*\}/g, '{}');
      const types = typesOf(channel);
      const seen = first.get(shape);
      if (!seen) {
        first.set(shape, { service, channel, types });
        continue;
      }
      if (seen.service.id === service.id || seen.types === types) continue;
      const intended = seen.channel.sharedAddress === true || channel.sharedAddress === true;
      diagnostics.push({
        code: 'ADDRESS_CONFLICT',
        severity: intended ? 'warning' : 'error',
        message: `address "${channel.address}" carries ${types} in ${service.id} but ${seen.types} in ${seen.service.id}: a subscriber written from one receives events it does not know`,
        location: channel.location,
        related: seen.channel.location,
        ...(intended ? {} : { hint: 'give each event its own address, or mark the channels "x-shared-address: true" if sharing is intended' }),
      });
    }
  }
  return diagnostics;
}

function messageDraft(
  loaded: LoadedDocument,
  doc: AsyncAPIDocumentInterface,
  message: MessageInterface,
  serviceId: string,
  defaultContentType: string,
  diagnostics: Diagnostic[],
): Draft {
  const json = message.json() as Record<string, unknown>;
  const pointer = message.meta().pointer as string | undefined;
  const segments = decodePointer(pointer ?? '');
  const location = loaded.locate(segments);
  // An inline message without name or id (`messages: [{}]`) is named after where it is written.
  const type = str(json.name) ?? str(json.messageId) ?? str(message.id()) ?? (segments.join('.') || 'message');
  const rawDeclared = json['x-version'];
  // `x-version: 1.0` is a YAML number: say so rather than fall back to info.version silently.
  const declared = rawDeclared === undefined ? undefined : typeof rawDeclared === 'string' ? rawDeclared : JSON.stringify(rawDeclared) ?? String(rawDeclared);
  let version = declared ?? doc.info().version();
  let versionAssumed = false;
  if (declared !== undefined && (!isStrictSemver(declared) || typeof rawDeclared !== 'string')) {
    // An explicit x-version is this workspace's convention: the user opted in, so it stays strict.
    diagnostics.push({
      code: 'INVALID_VERSION',
      severity: 'error',
      message:
        typeof rawDeclared !== 'string'
          ? `event "${type}": x-version must be a string such as "1.0.0" (it is ${version}; quote it)`
          : `event "${type}": version ${JSON.stringify(version)} is not strict semver (x.y.z, no prefix, no whitespace)`,
      location: loaded.locate([...segments, 'x-version']),
    });
    version = semver.coerce(version)?.version ?? '0.0.0';
  } else if (declared === undefined && !isStrictSemver(version)) {
    // AsyncAPI allows any string in info.version: a foreign document still generates.
    const assumed = assumedVersion(version);
    diagnostics.push({
      code: 'VERSION_ASSUMED',
      severity: 'warning',
      message: `info.version ${JSON.stringify(version.slice(0, 100))} is not semver; its messages are assumed to be version ${assumed} (an x-version on a message says which)`,
      location: loaded.locate(['info', 'version']),
    });
    version = assumed;
    versionAssumed = true;
  }
  const payloadJson = message.payload()?.json();
  const payloadMulti = isMultiFormat(payloadJson);
  // AsyncAPI 3 says the format in the payload's Multi Format Schema Object.
  const schemaFormat = (payloadMulti ? str((payloadJson as Record<string, unknown>).schemaFormat) : undefined) ?? message.schemaFormat() ?? '';
  const payload: JsonSchema = payloadJson === undefined ? true : toPlainSchema(payloadMulti ? (payloadJson as Record<string, unknown>).schema : payloadJson);
  const headersJson = message.headers()?.json();
  const headers = headersJson === undefined ? undefined : toPlainSchema(isMultiFormat(headersJson) ? (headersJson as Record<string, unknown>).schema : headersJson);
  const dialect = schemaDialect(schemaFormat, payload);
  if (dialect === 'unsupported') {
    diagnostics.push({
      code: 'UNSUPPORTED_SCHEMA_FORMAT',
      severity: 'warning',
      message: `event "${type}": schema format "${schemaFormat}" is not JSON Schema; its payload is typed as unknown and not validated`,
      location: loaded.locate([...segments, 'payload']),
    });
  }
  const examples: MessageExample[] = message.examples().all().map((example, i) => {
    const e = example.json() as Record<string, unknown>;
    return {
      ...(str(e.name) ? { name: str(e.name)! } : {}),
      ...(str(e.summary) ? { summary: str(e.summary)! } : {}),
      ...(e.payload !== undefined ? { payload: e.payload } : {}),
      ...(e.headers !== undefined ? { headers: e.headers } : {}),
      location: loaded.locate([...segments, 'examples', i]),
    };
  });
  const deprecated = deprecation(json['x-deprecated']);
  const contentType = str(json.contentType) ?? defaultContentType;
  const idField = eventIdField(json['x-event-id'], payload, type, () => loaded.locate([...segments, 'x-event-id']), diagnostics);
  const draft: Draft = {
    key: `${type}@${version}`,
    type,
    version,
    versionSource: declared !== undefined ? 'x-version' : versionAssumed ? 'assumed' : 'info.version',
    messageId: message.id() ?? type,
    ...(str(json.title) ? { title: str(json.title)! } : {}),
    ...(str(json.summary) ? { summary: str(json.summary)! } : {}),
    ...(str(json.description) ? { description: str(json.description)! } : {}),
    contentType,
    schemaFormat,
    dialect,
    payload,
    ...(headers !== undefined ? { headers } : {}),
    examples,
    ...(deprecated ? { deprecated } : {}),
    ...(idField !== undefined ? { eventIdField: idField } : {}),
    location,
    payloadLocation: loaded.locate([...segments, 'payload', ...(payloadMulti ? ['schema'] : [])]),
    ...(headers !== undefined ? { headersLocation: loaded.locate([...segments, 'headers']) } : {}),
    definedBy: serviceId,
    definedByFile: loaded.entry.displayPath,
    senders: new Set(),
    channels: new Map(),
    identity: '',
  };
  draft.identity = stableStringify({
    payload,
    headers: headers ?? null,
    contentType,
    title: draft.title ?? null,
    summary: draft.summary ?? null,
    description: draft.description ?? null,
    deprecated: deprecated ?? null,
  });
  return draft;
}

/** An AsyncAPI 3 Multi Format Schema Object (`{ schemaFormat, schema }`): the schema is its `schema`. */
function isMultiFormat(value: unknown): boolean {
  return isObject(value) && typeof value.schemaFormat === 'string' && 'schema' in value;
}

/**
 * Semantic Versioning 2.0.0 exactly (the regular expression semver.org gives): no `v`
 * prefix, no surrounding whitespace, no trailing newline. The `semver` package's `valid`
 * accepts all three, and a version written that way compiles and then fails at run time.
 */
const STRICT_SEMVER =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;

export function isStrictSemver(version: string): boolean {
  return STRICT_SEMVER.test(version);
}

/**
 * The event version assumed for an `info.version` that is not semver: its leading
 * `major[.minor[.patch]]` completed with zeros (`2.0` → `2.0.0`, `v3` → `3.0.0`), else `1.0.0`.
 */
export function assumedVersion(written: string): string {
  const match = /^\s*[vV=]?\s*(\d{1,15})(?!\d)(?:\.(\d{1,15})(?!\d))?(?:\.(\d{1,15})(?!\d))?/.exec(written);
  if (!match) return '1.0.0';
  const part = (s: string | undefined) => String(Number(s ?? '0'));
  const coerced = `${part(match[1])}.${part(match[2])}.${part(match[3])}`;
  return isStrictSemver(coerced) && semver.valid(coerced) ? coerced : '1.0.0';
}

function deprecation(value: unknown): Deprecation | undefined {
  if (value === true) return {};
  if (typeof value === 'string') return { reason: value };
  if (!isObject(value)) return undefined;
  return {
    ...(str(value.since) ? { since: str(value.since)! } : {}),
    ...(str(value.reason) ? { reason: str(value.reason)! } : {}),
    ...(str(value.replacedBy) ? { replacedBy: str(value.replacedBy)! } : {}),
  };
}

/** AsyncAPI 3 allows `address: null` for dynamic addresses (a reply inbox); 2.x channel names are addresses. */
function channelAddress(channel: ChannelInterface): string | undefined {
  const address = channel.address();
  if (address === null && (channel.json() as Record<string, unknown>).address === null) return undefined;
  return address ?? channel.id();
}

function channelModel(
  loaded: LoadedDocument,
  channel: ChannelInterface,
  serviceId: string,
  messages: EventKey[],
  drafts: ReadonlyMap<EventKey, Draft>,
  diagnostics: Diagnostic[],
): Channel {
  const pointer = channel.meta().pointer as string | undefined;
  const segments = decodePointer(pointer ?? '');
  const json = channel.json() as Record<string, unknown>;
  const parameters: ChannelParameter[] = channel.parameters().all().map((parameter) => {
    const p = parameter.json() as Record<string, unknown>;
    const schema = isObject(p.schema) ? p.schema : {};
    const list = (v: unknown) => (Array.isArray(v) ? v.map(String) : undefined);
    const values = list(p.enum) ?? list(schema.enum);
    const examples = list(p.examples) ?? list(schema.examples);
    const fallback = p.default ?? schema.default;
    return {
      name: parameter.id(),
      ...(str(p.description) ?? str(schema.description) ? { description: (str(p.description) ?? str(schema.description))! } : {}),
      ...(values ? { enum: values } : {}),
      ...(fallback !== undefined ? { default: String(fallback) } : {}),
      ...(examples ? { examples } : {}),
      location: loaded.locate([...segments, 'parameters', parameter.id()]),
    };
  });
  const address = channelAddress(channel);
  const placeholders = [...(address ?? '').matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!);
  for (const name of placeholders) {
    if (!parameters.some((p) => p.name === name)) {
      diagnostics.push({
        code: 'UNDECLARED_PARAMETER',
        severity: 'warning',
        message: `channel "${channel.id()}": address parameter {${name}} is not declared under parameters`,
        location: loaded.locate([...segments, 'address']),
      });
      parameters.push({ name, location: loaded.locate([...segments, 'address']) });
    }
  }
  const stream = streamSettings(json['x-stream']);
  const aggregate = channelAggregate(
    json['x-aggregate'],
    {
      channelId: channel.id(),
      serviceId,
      parameters: channel.parameters().all().map((p) => ({ name: p.id(), location: (p.json() as Record<string, unknown>).location })),
      messages: [...new Set(messages)].sort().map((key) => drafts.get(key)!),
      locate: (below) => loaded.locate([...segments, 'x-aggregate', ...below]),
    },
    diagnostics,
  );
  return {
    id: channel.id(),
    serviceId,
    ...(address !== undefined ? { address } : {}),
    ...(channel.description() ? { description: channel.description()! } : {}),
    parameters: parameters.sort((a, b) => placeholders.indexOf(a.name) - placeholders.indexOf(b.name)),
    messages: [...new Set(messages)].sort(),
    bindings: bindingsOf(json.bindings),
    ...(stream ? { stream } : {}),
    ...(aggregate ? { aggregate } : {}),
    ...(json['x-kafka'] !== undefined ? { xKafka: JSON.parse(JSON.stringify(json['x-kafka'])) as unknown } : {}),
    ...(json['x-shared-address'] === true ? { sharedAddress: true } : {}),
    location: loaded.locate(segments),
  };
}

function streamSettings(value: unknown): StreamSettings | undefined {
  if (!isObject(value) || !str(value.name)) return undefined;
  const retention = value.retention;
  return {
    name: str(value.name)!,
    ...(retention === 'limits' || retention === 'interest' || retention === 'workqueue' ? { retention } : {}),
    ...(typeof value.replicas === 'number' ? { replicas: value.replicas } : {}),
    ...(str(value.maxAge) ? { maxAge: str(value.maxAge)! } : {}),
    ...(typeof value.maxMsgSize === 'number' ? { maxMsgSize: value.maxMsgSize } : {}),
  };
}

function bindingsOf(value: unknown): Record<string, unknown> {
  if (!isObject(value)) return {};
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) if (!key.startsWith('x-parser-')) out[key] = toPlainSchema(value[key]);
  return out;
}

function securityNames(value: unknown): string[] {
  if (!Array.isArray(value)) return [];
  const names = value.flatMap((entry) => {
    if (!isObject(entry)) return [];
    // AsyncAPI 3 security entries are (dereferenced) scheme objects; 2.x ones are { name: scopes }.
    if (typeof entry.type === 'string') return [str(entry['x-parser-unique-object-id']) ?? str(entry.name) ?? entry.type];
    return Object.keys(entry);
  });
  return [...new Set(names)].sort();
}

function operationModel(
  loaded: LoadedDocument,
  operation: OperationInterface,
  serviceId: string,
  eventOf: (m: MessageInterface) => EventKey,
  channelKeys: Map<string, EventKey[]>,
): Operation {
  const pointer = operation.meta().pointer as string | undefined;
  const json = operation.json() as Record<string, unknown>;
  const channel = operation.channels().all()[0];
  const channelId = channel?.id() ?? '';
  const ownMessages = operation.messages().all().map(eventOf);
  const messages = ownMessages.length > 0 ? ownMessages : (channelKeys.get(channelId) ?? []);
  const reply = operation.reply();
  let replyModel: Operation['reply'];
  if (reply) {
    const replyChannel = reply.channel();
    const replyAddress = reply.address()?.location() ?? (replyChannel ? channelAddress(replyChannel) : undefined);
    replyModel = {
      ...(replyChannel ? { channelId: replyChannel.id() } : {}),
      ...(replyAddress ? { address: replyAddress } : {}),
      messages: [...new Set(reply.messages().all().map(eventOf))].sort(),
    };
  }
  const group = str(json['x-consumer-group']);
  return {
    id: operation.id() ?? '',
    serviceId,
    action: operation.isSend() ? 'send' : 'receive',
    channelId,
    ...(operation.summary() ? { summary: operation.summary()! } : {}),
    ...(operation.description() ? { description: operation.description()! } : {}),
    messages: [...new Set(messages)].sort(),
    ...(replyModel ? { reply: replyModel } : {}),
    ...(group ? { consumerGroup: group } : {}),
    ...(json['x-slo'] !== undefined ? { slo: JSON.parse(JSON.stringify(json['x-slo'])) as unknown } : {}),
    bindings: bindingsOf(json.bindings),
    security: securityNames(json.security),
    location: loaded.locate(decodePointer(pointer ?? '')),
  };
}

function finishEvents(
  drafts: Map<EventKey, Draft>,
  serviceByFile: ReadonlyMap<string, string>,
  diagnostics: Diagnostic[],
): EventType[] {
  const byType = new Map<string, Draft[]>();
  for (const draft of drafts.values()) {
    const list = byType.get(draft.type) ?? [];
    list.push(draft);
    byType.set(draft.type, list);
  }
  const types = [...byType.keys()].sort();
  const usedNames = new Map<string, string>();
  const events: EventType[] = [];
  for (const type of types) {
    const versions = byType.get(type)!.sort((a, b) => semver.compare(a.version, b.version));
    const perMajor = new Map<number, number>();
    for (const v of versions) perMajor.set(semver.major(v.version), (perMajor.get(semver.major(v.version)) ?? 0) + 1);
    events.push({
      type,
      versions: versions.map((draft) => {
        const parsed = semver.parse(draft.version)!;
        // Code names also name files (`validators/ajv/<name>.payload.cjs`): bounded, and unique ignoring case.
        let codeName = `${boundedName(pascalCase(type), 60)}V${parsed.major}`;
        if ((perMajor.get(parsed.major) ?? 0) > 1) codeName += `_${parsed.minor}_${parsed.patch}`;
        const clash = usedNames.get(codeName.toLowerCase());
        if (clash) {
          let n = 2;
          while (usedNames.has(`${codeName}_${n}`.toLowerCase())) n++;
          diagnostics.push({
            code: 'NAME_CLASH',
            severity: 'warning',
            message: `${draft.key} and ${clash} both map to the code name ${codeName}; using ${codeName}_${n}`,
            location: draft.location,
          });
          codeName = `${codeName}_${n}`;
        }
        usedNames.set(codeName.toLowerCase(), draft.key);
        const { definedBy, definedByFile: _file, senders, channels, identity: _identity, ...rest } = draft;
        const owner = serviceByFile.get(rest.location.file) ?? [...senders].sort()[0] ?? definedBy;
        return {
          ...rest,
          codeName,
          ownerServiceId: owner,
          channels: [...channels.values()].sort(byKey((c) => `${c.serviceId}/${c.channelId}`)),
        };
      }),
    });
  }
  return events;
}
