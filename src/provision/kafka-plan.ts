/**
 * The Kafka topics a contract implies: one topic per channel address (channels naming the
 * same topic share it), and one dead-letter topic per consumer group. Each topic lists the
 * subject patterns it carries (`transaction.{accountId}.created.v1` →
 * `transaction.*.created.v1`); the KafkaTransport sends a subject to the first topic whose
 * patterns match it, so subjects stay the addressing scheme (see src/runtime/kafka/plan.ts).
 *
 * A channel describes its topic in either of two ways (both may be present; a field given
 * by both must agree):
 *
 * | AsyncAPI `bindings.kafka` (0.4.0 / 0.5.0) | `x-kafka` extension        | plan field                   |
 * |-------------------------------------------|----------------------------|------------------------------|
 * | `topic`                                   | `topic`                    | `name` (after `topicPrefix`) |
 * | `partitions`                              | `partitions`               | `partitions`                 |
 * | `replicas`                                | `replicationFactor`        | `replicationFactor`          |
 * | `topicConfiguration` (`cleanup.policy` as a list, `retention.ms`, `retention.bytes`, `delete.retention.ms`, `max.message.bytes`) | `config` (any Kafka topic config: TOPIC_CONFIGS in runtime/kafka/provision.ts) | `config` (strings, as Kafka names them) |
 *
 * The `confluent.*` keys of bindings 0.5.0 are Confluent Server settings, not Apache Kafka
 * topic configs: they are left out with a warning.
 *
 * Without a `topic`, the name comes from the address: `{param}` tokens are dropped (a topic
 * per account would be a topic per concrete subject; the parameter travels in the subject),
 * a placeholder inside a token is removed, characters Kafka refuses become '-', so
 * `transaction.{accountId}.created.v1` → `transaction.created.v1`. An address with no fixed
 * token is named `subjects-<hash>`; a name too long is cut and given a hash. A derived name
 * is always valid; a name the contract writes is checked and refused (a located error) when
 * Kafka would refuse it, and so are partition counts, replication factors and configs.
 *
 * Where the publisher's document describes the topic and a consumer's document has the same
 * address without a description, both use the description: it belongs to the subject.
 *
 * Dead letters: every receive operation's consumer group (`x-consumer-group`, else
 * defaultGroup()) sends its dead letters to `deadletter.<group>` (the bus's default), so a
 * topic `deadletter.<group>` carries them, as long-lived and as replicated as the longest-
 * lived, most replicated topic the group reads (a dead letter must outlive its event).
 *
 * Retries: each group's retry topics (one per delay bucket, see runtime/kafka/names.ts) are
 * in `internalTopics`, partitioned like the most partitioned topic the group reads and kept
 * as long as its dead letters, so provisioning creates them and services need no right to.
 */
import { createHash } from 'node:crypto';
import type { Catalog, Channel } from '../catalog/model.js';
import type { Diagnostic, SourceLocation } from '../diagnostics.js';
import { DEFAULT_INTERNAL_PREFIX, patternsOverlap, retryTopics } from '../runtime/kafka/names.js';
import type { KafkaProvisionPlan, KafkaTopicSpec } from '../runtime/kafka/plan.js';
import { metricName, partitionsProblem, replicationFactorProblem, subjectPatternProblem, topicConfigProblem, topicNameProblem } from '../runtime/kafka/provision.js';
import { deadLetterSubject } from '../runtime/nats/names.js';
import { defaultGroup, subjectPattern } from './nats-plan.js';

export interface KafkaPlanOptions {
  /** Prepended to every topic name (tests, shared clusters). */
  topicPrefix?: string;
  /** Partitions of a topic the contract gives none. Default 1. */
  partitions?: number;
  /** Replication factor of a topic the contract gives none. Default 1. */
  replicationFactor?: number;
  /** The transports' `internalTopicPrefix`, for the groups' retry topics. Default `_ec.`. */
  internalTopicPrefix?: string;
}

export interface KafkaPlan {
  plan: KafkaProvisionPlan;
  diagnostics: Diagnostic[];
}

/** What one channel says about its topic; only the fields it says. */
interface Described {
  topic?: string;
  partitions?: number;
  replicationFactor?: number;
  config: Record<string, string>;
}

const BINDING_KEYS = new Set(['topic', 'partitions', 'replicas', 'topicConfiguration', 'bindingVersion']);
const EXTENSION_KEYS = new Set(['topic', 'partitions', 'replicationFactor', 'config']);

function record(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

const hash12 = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 12);

/** The topic name an address implies (see the module comment); always a valid Kafka name. */
export function defaultTopicName(address: string, prefix = ''): string {
  const tokens = address
    .split('.')
    .filter((t) => !/^\{[^}]*\}$/.test(t))
    .map((t) => t.replace(/\{[^}]*\}/g, '').replace(/[^A-Za-z0-9_-]+/g, '-').replace(/^-+|-+$/g, ''))
    .filter((t) => t !== '');
  const name = tokens.length > 0 ? tokens.join('.') : `subjects-${hash12(address)}`;
  const room = 249 - prefix.length;
  return prefix + (name.length <= room ? name : `${name.slice(0, Math.max(0, room - 13))}-${hash12(address)}`);
}

/** A config value from YAML as Kafka spells it: lists comma-joined, numbers and booleans as text. */
function configText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'boolean') return String(value);
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value.join(',');
  return undefined;
}

/** Reads `bindings.kafka` and `x-kafka` of a channel; problems become diagnostics at the channel. */
function describe(channel: Channel, diagnostics: Diagnostic[]): Described | undefined {
  const binding = record(channel.bindings['kafka']);
  const extension = channel.xKafka === undefined ? undefined : record(channel.xKafka);
  const at = channel.location;
  const error = (code: string, message: string) => diagnostics.push({ code, severity: 'error', message: `channel ${channel.id}: ${message}`, location: at });
  const warning = (code: string, message: string) => diagnostics.push({ code, severity: 'warning', message: `channel ${channel.id}: ${message}`, location: at });
  if (channel.xKafka !== undefined && !extension) error('KAFKA_EXTENSION_INVALID', 'x-kafka must be an object { topic, partitions, replicationFactor, config }');
  if (!binding && !extension) return undefined;

  const sources: Array<{ where: string; fields: Partial<Omit<Described, 'config'>>; config: Record<string, string> }> = [];
  const read = (where: string, raw: Record<string, unknown>, keys: Set<string>, replicasKey: string, configKey: string) => {
    for (const k of Object.keys(raw)) if (!keys.has(k)) warning('KAFKA_FIELD_UNKNOWN', `${where}.${k} is not read (known: ${[...keys].join(', ')})`);
    const fields: Partial<Omit<Described, 'config'>> = {};
    if (raw['topic'] !== undefined) {
      const problem = topicNameProblem(raw['topic']);
      if (problem) error('KAFKA_TOPIC_NAME_INVALID', `${where}.topic: ${problem}`);
      else fields.topic = raw['topic'] as string;
    }
    if (raw['partitions'] !== undefined) {
      const problem = partitionsProblem(raw['partitions']);
      if (problem) error('KAFKA_PARTITIONS_INVALID', `${where}.partitions: ${problem}`);
      else fields.partitions = raw['partitions'] as number;
    }
    if (raw[replicasKey] !== undefined) {
      const problem = replicationFactorProblem(raw[replicasKey]);
      if (problem) error('KAFKA_REPLICATION_INVALID', `${where}.${replicasKey}: ${problem}`);
      else fields.replicationFactor = raw[replicasKey] as number;
    }
    const config: Record<string, string> = {};
    if (raw[configKey] !== undefined) {
      const given = record(raw[configKey]);
      if (!given) error('KAFKA_CONFIG_INVALID', `${where}.${configKey} must be an object of topic configs`);
      for (const [key, value] of Object.entries(given ?? {}).sort(([a], [b]) => (a < b ? -1 : 1))) {
        if (key.startsWith('confluent.')) {
          warning('KAFKA_CONFIG_CONFLUENT', `${where}.${configKey}.${key} is a Confluent Server setting, not an Apache Kafka topic config: not applied`);
          continue;
        }
        const text = configText(value);
        const problem = text === undefined ? `config ${key}: ${JSON.stringify(value)} is not a string, number, boolean or list of strings` : topicConfigProblem(key, text);
        if (problem) error('KAFKA_CONFIG_INVALID', `${where}.${configKey}: ${problem}`);
        else config[key] = text!;
      }
    }
    sources.push({ where, fields, config });
  };
  if (binding) read('bindings.kafka', binding, BINDING_KEYS, 'replicas', 'topicConfiguration');
  if (extension) read('x-kafka', extension, EXTENSION_KEYS, 'replicationFactor', 'config');

  // Both present: each field from whichever gives it; a field both give must agree.
  const out: Described = { config: {} };
  for (const { where, fields, config } of sources) {
    for (const [k, v] of Object.entries(fields) as Array<[keyof typeof fields, string | number]>) {
      if (out[k] !== undefined && out[k] !== v) error('KAFKA_DESCRIPTION_CONFLICT', `${where} says ${k} ${JSON.stringify(v)} where bindings.kafka says ${JSON.stringify(out[k])}`);
      else (out as unknown as Record<string, unknown>)[k] = v;
    }
    for (const [k, v] of Object.entries(config)) {
      if (out.config[k] !== undefined && out.config[k] !== v) error('KAFKA_DESCRIPTION_CONFLICT', `${where} sets ${k} to ${JSON.stringify(v)} where bindings.kafka sets ${JSON.stringify(out.config[k])}`);
      else out.config[k] = v;
    }
  }
  return out;
}

/** The longest of Kafka retention times (whole numbers as text, possibly beyond 2^53; -1 is forever). */
function longest(values: readonly string[]): string {
  if (values.includes('-1')) return '-1';
  return values.reduce((a, b) => (BigInt(b) > BigInt(a) ? b : a));
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

interface TopicDraft {
  subjects: Set<string>;
  partitions?: { value: number; at: SourceLocation };
  replicationFactor?: { value: number; at: SourceLocation };
  config: Map<string, { value: string; at: SourceLocation }>;
  at: SourceLocation;
}

export function kafkaPlan(catalog: Catalog, options: KafkaPlanOptions = {}): KafkaPlan {
  const diagnostics: Diagnostic[] = [];
  const prefix = options.topicPrefix ?? '';
  for (const [flag, value, check] of [
    ['partitions', options.partitions, partitionsProblem],
    ['replication factor', options.replicationFactor, replicationFactorProblem],
  ] as const) {
    const problem = value === undefined ? undefined : check(value);
    if (problem) diagnostics.push({ code: 'KAFKA_OPTION_INVALID', severity: 'error', message: `default ${flag}: ${problem}` });
  }
  const defaults = { partitions: options.partitions ?? 1, replicationFactor: options.replicationFactor ?? 1 };

  // Subject pattern → its description, wherever a channel gives one.
  const patterns = new Map<string, { address: string; d: Described | undefined; at: SourceLocation }>();
  for (const service of catalog.services) {
    for (const channel of service.channels) {
      if (channel.address === undefined) continue;
      const pattern = subjectPattern(channel.address);
      const problem = subjectPatternProblem(pattern);
      if (problem) {
        diagnostics.push({ code: 'KAFKA_SUBJECT_INVALID', severity: 'warning', message: `channel ${channel.id}: ${problem}; it has no Kafka topic`, location: channel.location });
        continue;
      }
      const d = describe(channel, diagnostics);
      const seen = patterns.get(pattern);
      if (!seen || (!seen.d && d)) patterns.set(pattern, { address: channel.address, d, at: channel.location });
      else if (d && !same(seen.d, d)) {
        diagnostics.push({
          code: 'KAFKA_BINDING_CONFLICT',
          severity: 'error',
          message: `channel ${channel.id}: subject ${pattern} is described for Kafka differently by two channels; the first description wins`,
          location: channel.location,
          related: seen.at,
        });
      }
    }
  }

  const topics = new Map<string, TopicDraft>();
  const topicOfPattern = new Map<string, string>();
  for (const [pattern, { address, d, at }] of patterns) {
    const name = d?.topic !== undefined ? prefix + d.topic : defaultTopicName(address, prefix);
    const problem = topicNameProblem(name);
    if (problem) {
      diagnostics.push({ code: 'KAFKA_TOPIC_NAME_INVALID', severity: 'error', message: `subject ${pattern}: ${problem}`, location: at });
      continue;
    }
    const draft: TopicDraft = topics.get(name) ?? { subjects: new Set<string>(), config: new Map(), at };
    topics.set(name, draft);
    draft.subjects.add(pattern);
    topicOfPattern.set(pattern, name);
    const conflict = (what: string, was: SourceLocation) =>
      diagnostics.push({ code: 'KAFKA_TOPIC_CONFLICT', severity: 'error', message: `topic ${name}: ${what}; the first one wins`, location: at, related: was });
    for (const field of ['partitions', 'replicationFactor'] as const) {
      const value = d?.[field];
      if (value === undefined) continue;
      const known = draft[field];
      if (known && known.value !== value) conflict(`${field} ${value} here, ${known.value} on another channel`, known.at);
      else if (!known) draft[field] = { value, at };
    }
    for (const [key, value] of Object.entries(d?.config ?? {})) {
      const known = draft.config.get(key);
      if (known && known.value !== value) conflict(`${key} ${JSON.stringify(value)} here, ${JSON.stringify(known.value)} on another channel`, known.at);
      else if (!known) draft.config.set(key, { value, at });
    }
  }

  const byName = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  const channelTopics: KafkaTopicSpec[] = [...topics]
    .map(([name, t]) => {
      const config = Object.fromEntries([...t.config].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => [k, v.value]));
      return {
        name,
        subjects: [...t.subjects].sort(),
        partitions: t.partitions?.value ?? defaults.partitions,
        replicationFactor: t.replicationFactor?.value ?? defaults.replicationFactor,
        ...(Object.keys(config).length > 0 ? { config } : {}),
      };
    })
    .sort(byName);

  // Patterns of different topics that one subject could match: the transport picks the first.
  const ordered = channelTopics.flatMap((t) => t.subjects.map((s) => ({ s, topic: t.name })));
  for (let i = 0; i < ordered.length; i++) {
    for (let j = i + 1; j < ordered.length; j++) {
      const a = ordered[i]!;
      const b = ordered[j]!;
      if (a.topic !== b.topic && patternsOverlap(a.s, b.s)) {
        diagnostics.push({
          code: 'KAFKA_SUBJECT_OVERLAP',
          severity: 'warning',
          message: `subjects ${a.s} (topic ${a.topic}) and ${b.s} (topic ${b.topic}) can match the same subject; it goes to ${a.topic}, the first listed`,
          location: patterns.get(b.s)!.at,
          related: patterns.get(a.s)!.at,
        });
      }
    }
  }

  // Consumer groups, with the topics they read and where they were first declared.
  const groups = new Map<string, { reads: Set<string>; at: SourceLocation }>();
  for (const service of catalog.services) {
    for (const op of service.operations) {
      if (op.action !== 'receive' || op.reply) continue;
      const group = op.consumerGroup ?? defaultGroup(service.id, op.id);
      const entry = groups.get(group) ?? { reads: new Set<string>(), at: op.location };
      groups.set(group, entry);
      const channel = service.channels.find((c) => c.id === op.channelId);
      const topic = channel?.address === undefined ? undefined : topicOfPattern.get(subjectPattern(channel.address));
      if (topic) entry.reads.add(topic);
    }
  }
  const specOf = new Map(channelTopics.map((t) => [t.name, t]));
  const deadLetterTopics: KafkaTopicSpec[] = [];
  const internalTopics: KafkaTopicSpec[] = [];
  const internalPrefix = options.internalTopicPrefix ?? DEFAULT_INTERNAL_PREFIX;
  for (const [group, { reads, at }] of [...groups].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (!/^[A-Za-z0-9_-]+$/.test(group)) {
      // The bus refuses such a group, so it never subscribes and never dead-letters.
      diagnostics.push({ code: 'KAFKA_GROUP_NAME_INVALID', severity: 'warning', message: `consumer group ${JSON.stringify(group)} is not [A-Za-z0-9_-]+, which the bus requires: no dead-letter topic`, location: at });
      continue;
    }
    const subject = deadLetterSubject(group);
    const carrier = ordered.find((o) => patternsOverlap(o.s, subject));
    if (carrier) {
      diagnostics.push({ code: 'KAFKA_DEAD_LETTERS_ON_CHANNEL', severity: 'info', message: `consumer group ${group}'s dead letters (${subject}) travel on topic ${carrier.topic}, which a channel describes`, location: at });
      continue;
    }
    const name = prefix + subject;
    const problem = topicNameProblem(name);
    if (problem || specOf.has(name)) {
      diagnostics.push({
        code: 'DEAD_LETTER_TOPIC_CONFLICT',
        severity: 'error',
        message: problem ? `consumer group ${group}: dead-letter ${problem}` : `consumer group ${group} needs topic ${name} for its dead letters, which a channel's topic already names`,
        location: at,
      });
      continue;
    }
    const read = [...reads].map((t) => specOf.get(t)!);
    const retention = read.map((t) => t.config?.['retention.ms']);
    // -1 is "keep forever"; unset is the broker's default, which we cannot know here.
    const retentionMs = retention.length > 0 && retention.every((r) => r !== undefined) ? longest(retention as string[]) : undefined;
    const replicationFactor = Math.max(defaults.replicationFactor, ...read.map((t) => t.replicationFactor ?? 1));
    deadLetterTopics.push({
      name,
      subjects: [subject],
      partitions: defaults.partitions,
      replicationFactor,
      ...(retentionMs !== undefined ? { config: { 'retention.ms': retentionMs } } : {}),
    });
    // The group's retry topics, as its consumers name and size them (runtime/kafka/consumer.ts):
    // as many partitions as the most partitioned topic it reads, as long-lived as its dead letters.
    const partitions = Math.max(1, ...read.map((t) => t.partitions ?? 1));
    for (const retry of retryTopics(internalPrefix, group)) {
      internalTopics.push({ name: retry, subjects: [], partitions, replicationFactor, ...(retentionMs !== undefined ? { config: { 'retention.ms': retentionMs } } : {}) });
    }
  }

  const all = [...channelTopics, ...deadLetterTopics];
  const collide = new Map<string, string>();
  for (const t of all) {
    const other = collide.get(metricName(t.name));
    if (other !== undefined) {
      diagnostics.push({
        code: 'KAFKA_TOPIC_COLLISION',
        severity: 'error',
        message: `topics ${other} and ${t.name} collide: Kafka reads '.' and '_' alike in topic names and refuses the second; name one with bindings.kafka.topic`,
        location: topics.get(t.name)?.at ?? groups.get(t.subjects[0]!.slice('deadletter.'.length))?.at ?? topics.get(other)!.at,
      });
    } else collide.set(metricName(t.name), t.name);
  }
  return { plan: { topics: all, ...(internalTopics.length > 0 ? { internalTopics } : {}) }, diagnostics };
}
