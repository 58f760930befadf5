/**
 * The event catalog: one read-only, JSON-serialisable model of every document in the
 * workspace. Emitters and checks read only this; nobody goes back to the raw files.
 */
import type { SourceLocation } from '../diagnostics.js';

export type JsonSchema = { [key: string]: unknown } | boolean;

/** `user.created@2.0.0`: an event type at one version. */
export type EventKey = `${string}@${string}`;

export interface Catalog {
  readonly services: readonly Service[];
  /** Sorted by event type. */
  readonly events: readonly EventType[];
}

export interface Service {
  /** `x-service-id` of `info`, else the title in kebab-case. */
  readonly id: string;
  readonly title: string;
  readonly version: string;
  readonly description?: string;
  readonly asyncapiVersion: string;
  readonly file: string;
  readonly location: SourceLocation;
  readonly servers: readonly Server[];
  readonly channels: readonly Channel[];
  readonly operations: readonly Operation[];
  readonly security: readonly string[];
}

export interface Server {
  readonly id: string;
  readonly host: string;
  readonly protocol: string;
  readonly protocolVersion?: string;
  readonly pathname?: string;
  readonly description?: string;
  readonly security: readonly string[];
  readonly location: SourceLocation;
}

export interface ChannelParameter {
  readonly name: string;
  readonly description?: string;
  readonly enum?: readonly string[];
  readonly default?: string;
  readonly examples?: readonly string[];
  readonly location: SourceLocation;
}

export interface StreamSettings {
  readonly name: string;
  readonly retention?: 'limits' | 'interest' | 'workqueue';
  readonly replicas?: number;
  /** ISO-8601 duration as written, e.g. `P30D`. */
  readonly maxAge?: string;
  readonly maxMsgSize?: number;
}

/**
 * An event-sourced aggregate an event type belongs to, from a channel's `x-aggregate`: an
 * event store files the event under the stream `<domain>.<type>.<payload[idField]>`.
 */
export interface AggregateBinding {
  /** Aggregate type, e.g. `account` (`[a-z][a-z0-9-]*`). */
  readonly type: string;
  /** Bounded context owning the aggregate, e.g. `payments`: the `x-aggregate` domain, else the service id. */
  readonly domain: string;
  /** Required string payload property holding the entity id, e.g. `accountId`. */
  readonly idField: string;
  /** Where the `x-aggregate` that says so is written. */
  readonly location: SourceLocation;
}

export interface Channel {
  readonly id: string;
  readonly serviceId: string;
  /** Address with `{parameter}` placeholders; for AsyncAPI 2.x the channel name; absent when dynamic (`address: null`, e.g. a reply inbox). */
  readonly address?: string;
  readonly description?: string;
  readonly parameters: readonly ChannelParameter[];
  readonly messages: readonly EventKey[];
  readonly bindings: Readonly<Record<string, unknown>>;
  readonly stream?: StreamSettings;
  /** `x-aggregate`: the messages on this channel are events of this event-sourced aggregate (src/catalog/aggregate.ts). */
  readonly aggregate?: AggregateBinding;
  /** `x-kafka` as written (JSON); read and checked by src/provision/kafka-plan.ts, which documents it. */
  readonly xKafka?: unknown;
  /** `x-shared-address: true`: other documents may put other events on this address (a warning, not an error). */
  readonly sharedAddress?: boolean;
  readonly location: SourceLocation;
}

export type OperationAction = 'send' | 'receive';

export interface OperationReply {
  readonly channelId?: string;
  readonly address?: string;
  readonly messages: readonly EventKey[];
}

export interface Operation {
  readonly id: string;
  readonly serviceId: string;
  readonly action: OperationAction;
  readonly channelId: string;
  readonly summary?: string;
  readonly description?: string;
  readonly messages: readonly EventKey[];
  readonly reply?: OperationReply;
  /** `x-consumer-group` of a receive operation: the durable consumer / queue group. */
  readonly consumerGroup?: string;
  /** `x-slo` as written (JSON); read and checked by src/observe/slo.ts, which documents it. */
  readonly slo?: unknown;
  readonly bindings: Readonly<Record<string, unknown>>;
  readonly security: readonly string[];
  readonly location: SourceLocation;
}

export interface Deprecation {
  readonly since?: string;
  readonly reason?: string;
  readonly replacedBy?: string;
}

export interface MessageExample {
  readonly name?: string;
  readonly summary?: string;
  readonly payload?: unknown;
  readonly headers?: unknown;
  readonly location: SourceLocation;
}

export type SchemaDialect = 'draft-07' | '2020-12' | 'unsupported';

export interface EventVersion {
  readonly key: EventKey;
  readonly type: string;
  readonly version: string;
  /**
   * Whether the version came from `x-version`, fell back to `info.version`, or was assumed
   * because `info.version` is not semver (a `VERSION_ASSUMED` warning says which).
   */
  readonly versionSource: 'x-version' | 'info.version' | 'assumed';
  /** PascalCase base for generated identifiers, unique across the catalog (e.g. `UserCreatedV2`). */
  readonly codeName: string;
  readonly messageId: string;
  readonly title?: string;
  readonly summary?: string;
  readonly description?: string;
  readonly contentType: string;
  readonly schemaFormat: string;
  readonly dialect: SchemaDialect;
  /** Dereferenced payload schema: plain JSON, cycles turned into local `$ref`s. */
  readonly payload: JsonSchema;
  readonly headers?: JsonSchema;
  readonly examples: readonly MessageExample[];
  readonly deprecated?: Deprecation;
  /** Payload property holding the event's id (`x-event-id`, or a required string `eventId`). */
  readonly eventIdField?: string;
  /** The aggregate of the event type (every version of a bound type carries it; src/catalog/aggregate.ts). */
  readonly aggregate?: AggregateBinding;
  /** The service whose document writes the message down (else the first sender, else the first user). */
  readonly ownerServiceId: string;
  readonly channels: readonly { readonly serviceId: string; readonly channelId: string; readonly address?: string }[];
  readonly location: SourceLocation;
  readonly payloadLocation: SourceLocation;
  readonly headersLocation?: SourceLocation;
}

export interface EventType {
  readonly type: string;
  /** Ascending semver. */
  readonly versions: readonly EventVersion[];
}
