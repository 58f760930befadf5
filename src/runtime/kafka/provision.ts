/**
 * Provisioning: Kafka topics from a plain description (the generated `kafkaProvisioning`,
 * or one written by hand), created or updated idempotently with @platformatic/kafka's Admin.
 *
 * - A missing topic is created with the plan's partitions, replication factor and configs.
 * - An existing topic with fewer partitions is raised to the plan's count ('updated'); one
 *   with more is left alone (Kafka cannot lower a partition count) and the detail says so.
 * - A replication factor that differs is reported in the detail, never changed: that takes a
 *   partition reassignment, an operator's decision.
 * - Configs the plan names and the topic holds differently are set with
 *   incrementalAlterConfigs ('updated'); configs the plan does not name are left as they are.
 *
 * The plan is checked before anything connects (names, counts, config names and values), so
 * a hostile or mistaken plan is refused with a `KafkaPlanError` listing every problem. The
 * checks are exported: the generator's plan (src/provision/kafka-plan.ts) uses the same ones.
 *
 * The Kafka client is imported when `provisionKafka` first runs, never at load: the
 * generator imports the checks from this file and must not load a Kafka client.
 */
import type { Admin, BaseOptions } from '@platformatic/kafka';
import { EventContractsError } from '../errors.js';
import type { KafkaProvisionAction, KafkaProvisionPlan, KafkaProvisionResult, KafkaTopicSpec } from './plan.js';
import { bootstrapList } from './names.js';

export type { KafkaProvisionAction, KafkaProvisionPlan, KafkaProvisionResult, KafkaTopicSpec };

/** Kafka's own rule for topic names (kafka.common.internals.Topic). */
const TOPIC_NAME = /^[A-Za-z0-9._-]{1,249}$/;
/** Far above any sane topic, low enough that a typo or a hostile plan cannot ask for 2^31. */
export const MAX_PARTITIONS = 10_000;
/** Kafka holds the replication factor in an int16. */
export const MAX_REPLICATION_FACTOR = 32_767;

/** Why `name` cannot be a topic, or undefined when it can. */
export function topicNameProblem(name: unknown): string | undefined {
  if (typeof name !== 'string') return `topic name ${JSON.stringify(name) ?? String(name)} is not a string`;
  if (name === '.' || name === '..') return `topic name "${name}" is reserved by Kafka`;
  if (name.length > 249) return `topic name ${quote(name)} is ${name.length} characters long; Kafka allows 249`;
  if (!TOPIC_NAME.test(name)) return `topic name ${quote(name)} may only hold letters, digits, '.', '_' and '-'`;
  return undefined;
}

export function partitionsProblem(n: unknown): string | undefined {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > MAX_PARTITIONS) return `partitions ${quote(n)} is not a whole number from 1 to ${MAX_PARTITIONS}`;
  return undefined;
}

export function replicationFactorProblem(n: unknown): string | undefined {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > MAX_REPLICATION_FACTOR) return `replication factor ${quote(n)} is not a whole number from 1 to ${MAX_REPLICATION_FACTOR}`;
  return undefined;
}

type ConfigKind = 'long' | 'int' | 'ratio' | 'boolean' | { oneOf: readonly string[] } | { listOf: readonly string[] };

/**
 * The topic-level configs of Apache Kafka 3.x–4.x that a contract may set, and the values
 * each takes. Kafka itself refuses an unknown name; refusing it here points at the contract
 * line instead. Operational ones (replication throttles) and ones removed in 4.0
 * (message.format.version, message.downconversion.enable) are left out on purpose.
 */
export const TOPIC_CONFIGS: Readonly<Record<string, ConfigKind>> = {
  'cleanup.policy': { listOf: ['compact', 'delete'] },
  'compression.type': { oneOf: ['uncompressed', 'zstd', 'lz4', 'snappy', 'gzip', 'producer'] },
  'compression.gzip.level': 'int',
  'compression.lz4.level': 'int',
  'compression.zstd.level': 'int',
  'delete.retention.ms': 'long',
  'file.delete.delay.ms': 'long',
  'flush.messages': 'long',
  'flush.ms': 'long',
  'index.interval.bytes': 'int',
  'local.retention.bytes': 'long',
  'local.retention.ms': 'long',
  'max.compaction.lag.ms': 'long',
  'max.message.bytes': 'int',
  'message.timestamp.after.max.ms': 'long',
  'message.timestamp.before.max.ms': 'long',
  'message.timestamp.type': { oneOf: ['CreateTime', 'LogAppendTime'] },
  'min.cleanable.dirty.ratio': 'ratio',
  'min.compaction.lag.ms': 'long',
  'min.insync.replicas': 'int',
  preallocate: 'boolean',
  'remote.storage.enable': 'boolean',
  'retention.bytes': 'long',
  'retention.ms': 'long',
  'segment.bytes': 'int',
  'segment.index.bytes': 'int',
  'segment.jitter.ms': 'long',
  'segment.ms': 'long',
  'unclean.leader.election.enable': 'boolean',
};

const INT32 = 2n ** 31n;
const INT64 = 2n ** 63n;

/** Why `value` cannot be the value of topic config `key`, or undefined when it can. */
export function topicConfigProblem(key: string, value: unknown): string | undefined {
  if (!Object.prototype.hasOwnProperty.call(TOPIC_CONFIGS, key)) return `${quote(key)} is not a Kafka topic config (known: ${Object.keys(TOPIC_CONFIGS).join(', ')})`;
  const kind = TOPIC_CONFIGS[key]!;
  if (typeof value !== 'string') return `config ${key}: ${quote(value)} is not a string`;
  const bad = (expected: string) => `config ${key}: ${quote(value)} is not ${expected}`;
  if (kind === 'long' || kind === 'int') {
    if (!/^-?\d{1,19}$/.test(value)) return bad('a whole number');
    const limit = kind === 'int' ? INT32 : INT64;
    const n = BigInt(value);
    if (n >= limit || n < -limit) return bad(`within a ${kind === 'int' ? '32' : '64'}-bit integer`);
    return undefined;
  }
  if (kind === 'ratio') return /^(0(\.\d{1,10})?|1(\.0{1,10})?)$/.test(value) ? undefined : bad('a ratio from 0 to 1');
  if (kind === 'boolean') return value === 'true' || value === 'false' ? undefined : bad('true or false');
  if ('oneOf' in kind) return kind.oneOf.includes(value) ? undefined : bad(`one of ${kind.oneOf.join(', ')}`);
  const items = value.split(',').map((s) => s.trim());
  if (value === '' || items.some((i) => !kind.listOf.includes(i))) return bad(`a comma-separated list of ${kind.listOf.join(', ')}`);
  if (new Set(items).size !== items.length) return bad('a list without repeats');
  return undefined;
}

/** A subject pattern as the transport matches them: dot-separated tokens, `*` and a last `>`. */
export function subjectPatternProblem(subject: unknown): string | undefined {
  if (typeof subject !== 'string' || subject === '' || subject.length > 1024) return `subject ${quote(subject)} is not a subject pattern`;
  // Whitespace and control characters would never match a published subject.
  if (/[\s\u0000-\u001f\u007f]/.test(subject)) return `subject ${quote(subject)} holds whitespace or control characters`;
  const tokens = subject.split('.');
  if (tokens.some((t) => t === '')) return `subject ${quote(subject)} has an empty token`;
  if (tokens.slice(0, -1).includes('>')) return `subject ${quote(subject)}: '>' may only be the last token`;
  return undefined;
}

/** The problems of one topic, each prefixed with the topic's name. */
export function topicSpecProblems(spec: KafkaTopicSpec): string[] {
  if (typeof spec !== 'object' || spec === null) return [`topic ${quote(spec)} is not an object`];
  const name = typeof spec.name === 'string' ? spec.name : String(spec.name);
  const problems: string[] = [];
  const nameProblem = topicNameProblem(spec.name);
  if (nameProblem) problems.push(nameProblem);
  const label = `topic ${quote(name.slice(0, 80))}`;
  if (!Array.isArray(spec.subjects)) problems.push(`${label}: subjects is not a list`);
  else for (const s of spec.subjects) {
    const p = subjectPatternProblem(s);
    if (p) problems.push(`${label}: ${p}`);
  }
  if (spec.partitions !== undefined) {
    const p = partitionsProblem(spec.partitions);
    if (p) problems.push(`${label}: ${p}`);
  }
  if (spec.replicationFactor !== undefined) {
    const p = replicationFactorProblem(spec.replicationFactor);
    if (p) problems.push(`${label}: ${p}`);
  }
  if (spec.config !== undefined) {
    if (typeof spec.config !== 'object' || spec.config === null || Array.isArray(spec.config)) problems.push(`${label}: config is not an object`);
    else for (const [k, v] of Object.entries(spec.config)) {
      const p = topicConfigProblem(k, v);
      if (p) problems.push(`${label}: ${p}`);
    }
  }
  return problems;
}

/**
 * Kafka refuses a topic whose name equals another's once '.' is read as '_' (their metric
 * names would collide): `user.created` and `user_created` cannot live in one cluster.
 */
export function metricName(topic: string): string {
  return topic.replace(/\./g, '_');
}

/** The channel topics, then the transport's own. */
export function allTopics(plan: KafkaProvisionPlan): KafkaTopicSpec[] {
  return [...plan.topics, ...(plan.internalTopics ?? [])];
}

/** Every problem of a plan: each topic's, then names used twice or colliding. */
export function kafkaPlanProblems(plan: KafkaProvisionPlan): string[] {
  if (!plan || !Array.isArray(plan.topics)) return ['the plan has no topics list'];
  if (plan.internalTopics !== undefined && !Array.isArray(plan.internalTopics)) return ['the plan\'s internalTopics is not a list'];
  const all = allTopics(plan);
  const problems = all.flatMap((t) => topicSpecProblems(t));
  const seen = new Map<string, string>();
  for (const t of all) {
    if (typeof t?.name !== 'string') continue;
    const other = seen.get(metricName(t.name));
    if (other === t.name) problems.push(`topic ${quote(t.name)} is in the plan twice`);
    else if (other !== undefined) problems.push(`topics ${quote(other)} and ${quote(t.name)} collide: Kafka reads '.' and '_' alike in topic names`);
    else seen.set(metricName(t.name), t.name);
  }
  return problems;
}

/** A plan that cannot be applied; nothing was contacted. */
export class KafkaPlanError extends EventContractsError {
  constructor(readonly problems: readonly string[]) {
    super(`the Kafka plan cannot be applied: ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? `; and ${problems.length - 5} more` : ''}`);
  }
}

/** The broker refused or could not be reached; `topic` names the topic being handled, if any. */
export class KafkaProvisionError extends EventContractsError {
  constructor(
    message: string,
    readonly topic?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Where to provision: a broker list (`host:port`, or several, or one comma-separated string) and client options, or an Admin you own. */
export type KafkaProvisionTarget = Admin | ({ bootstrap: string | readonly string[] } & Partial<Omit<BaseOptions, 'bootstrapBrokers'>>);


/** A Kafka client error as one readable line: the broker's own message where it gave one. */
export function kafkaErrorText(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const inner = (error as { errors?: unknown }).errors;
  if (Array.isArray(inner) && inner.length > 0) {
    const parts = inner.map((e: { apiId?: string; serverErrorMessage?: string | null; message?: string }) =>
      [e.apiId, e.serverErrorMessage ?? e.message].filter((x) => typeof x === 'string' && x !== '').join(': '),
    );
    return [...new Set(parts)].join('; ');
  }
  return error.message;
}

function hasProtocolError(error: unknown, id: string): boolean {
  const e = error as { apiId?: string; errors?: unknown[] } | undefined;
  if (e?.apiId === id) return true;
  return Array.isArray(e?.errors) && e.errors.some((x) => hasProtocolError(x, id));
}

/** A config value as Kafka compares it: lists as sets. */
function sameConfig(key: string, want: string, have: string | null | undefined): boolean {
  if (have === null || have === undefined) return false;
  const kind = TOPIC_CONFIGS[key];
  if (kind && typeof kind === 'object' && 'listOf' in kind) {
    const norm = (s: string) => s.split(',').map((x) => x.trim()).filter((x) => x !== '').sort().join(',');
    return norm(want) === norm(have);
  }
  return want === have;
}

/**
 * Create or update the plan's topics. Safe to run at every start-up: topics already as
 * described are left alone ('unchanged'). Throws `KafkaPlanError` for an invalid plan
 * (before connecting) and `KafkaProvisionError` when the broker refuses or is unreachable.
 */
export async function provisionKafka(target: KafkaProvisionTarget, plan: KafkaProvisionPlan): Promise<KafkaProvisionResult> {
  const problems = kafkaPlanProblems(plan);
  if (problems.length > 0) throw new KafkaPlanError(problems);
  const kafka = await import('@platformatic/kafka');
  let admin: Admin;
  let own = false;
  // Duck-typed: an Admin from another copy of the library is an Admin too.
  if (typeof (target as Admin).createTopics === 'function') admin = target as Admin;
  else {
    const { bootstrap, ...options } = target as Exclude<KafkaProvisionTarget, Admin>;
    let brokers: string[];
    try {
      brokers = bootstrapList(bootstrap);
    } catch {
      throw new KafkaProvisionError('no bootstrap server given');
    }
    admin = new kafka.Admin({ clientId: 'event-contracts-provision', retries: 1, ...options, bootstrapBrokers: brokers });
    own = true;
  }
  const step = async <T>(what: string, topic: string | undefined, run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (error) {
      throw new KafkaProvisionError(`${what}: ${kafkaErrorText(error)}`, topic, { cause: error });
    }
  };
  try {
    const existing = new Set(await step('listing topics', undefined, () => admin.listTopics({ includeInternals: false })));
    const result: KafkaProvisionResult = { topics: [] };
    for (const spec of allTopics(plan)) {
      const partitions = spec.partitions ?? 1;
      const replicationFactor = spec.replicationFactor ?? 1;
      const config = spec.config ?? {};
      if (!existing.has(spec.name)) {
        let raced = false;
        await step(`creating topic ${spec.name}`, spec.name, async () => {
          try {
            await admin.createTopics({ topics: [spec.name], partitions, replicas: replicationFactor, configs: Object.entries(config).map(([name, value]) => ({ name, value })) });
          } catch (error) {
            // Another process created it since we listed: compare it like any existing topic.
            if (hasProtocolError(error, 'TOPIC_ALREADY_EXISTS')) raced = true;
            else throw error;
          }
        });
        if (!raced) {
          result.topics.push({ name: spec.name, action: 'created' });
          continue;
        }
      }
      result.topics.push(await reconcile(admin, kafka, step, spec.name, partitions, replicationFactor, config));
    }
    return result;
  } finally {
    if (own) await admin.close().catch(() => undefined);
  }
}

type Step = <T>(what: string, topic: string | undefined, run: () => Promise<T>) => Promise<T>;

/** Brings one existing topic towards the plan: partitions up, configs set; reports the rest. */
async function reconcile(
  admin: Admin,
  kafka: typeof import('@platformatic/kafka'),
  step: Step,
  name: string,
  partitions: number,
  replicationFactor: number,
  config: Record<string, string>,
): Promise<KafkaProvisionResult['topics'][number]> {
  const changed: string[] = [];
  const notes: string[] = [];
  const topic = await step(`reading topic ${name}`, name, () => topicMetadata(admin, name));
  const have = topic.partitionsCount;
  if (have < partitions) {
    await step(`raising the partitions of ${name}`, name, () => admin.createPartitions({ topics: [{ name, count: partitions }] }));
    changed.push(`partitions ${have} → ${partitions}`);
  } else if (have > partitions) {
    notes.push(`has ${have} partitions where the plan says ${partitions}: left at ${have} (Kafka cannot lower a partition count)`);
  }
  const factor = topic.partitions[0]?.replicas.length;
  if (factor !== undefined && factor !== replicationFactor) {
    notes.push(`replication factor is ${factor} where the plan says ${replicationFactor}: not changed (that takes a partition reassignment)`);
  }
  const keys = Object.keys(config).sort();
  if (keys.length > 0) {
    const described = await step(`reading the configs of ${name}`, name, () =>
      admin.describeConfigs({ resources: [{ resourceType: kafka.ConfigResourceTypes.TOPIC, resourceName: name, configurationKeys: keys }] }),
    );
    const current = new Map((described[0]?.configs ?? []).map((c) => [c.name, c.value]));
    const differing = keys.filter((k) => !sameConfig(k, config[k]!, current.get(k)));
    if (differing.length > 0) {
      await step(`setting the configs of ${name}`, name, () =>
        admin.incrementalAlterConfigs({
          resources: [
            {
              resourceType: kafka.ConfigResourceTypes.TOPIC,
              resourceName: name,
              configs: differing.map((k) => ({ name: k, configOperation: kafka.IncrementalAlterConfigOperationTypes.SET, value: config[k]! })),
            },
          ],
        }),
      );
      for (const k of differing) changed.push(`${k} ${current.get(k) ?? '(unset)'} → ${config[k]}`);
    }
  }
  const detail = [...changed, ...notes].join('; ');
  return { name, action: changed.length > 0 ? 'updated' : 'unchanged', ...(detail ? { detail } : {}) };
}

/**
 * A topic's metadata. A topic another process has just created may not be in the metadata
 * yet (KRaft brokers learn it from the controller a moment later): asked again, a bounded
 * number of times, before giving up.
 */
async function topicMetadata(admin: Admin, name: string) {
  for (let attempt = 1; ; attempt++) {
    try {
      const topic = (await admin.metadata({ topics: [name], forceUpdate: true })).topics.get(name);
      if (topic && topic.partitionsCount > 0) return topic;
      if (attempt >= 20) throw new Error('the broker listed it but gives no metadata for it');
    } catch (error) {
      if (attempt >= 20 || !(hasProtocolError(error, 'UNKNOWN_TOPIC_OR_PARTITION') || hasProtocolError(error, 'LEADER_NOT_AVAILABLE'))) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
  }
}

function quote(value: unknown): string {
  if (typeof value === 'number') return String(value);
  const text = typeof value === 'string' ? JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value) : (JSON.stringify(value) ?? String(value));
  return text;
}
