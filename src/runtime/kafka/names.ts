/**
 * Names on the Kafka side: which topic carries a subject (the topology's patterns), which
 * topics a consumer group reads, and the names of the topics the transport keeps for itself
 * (retry buckets, reply topics). Pure.
 */
import { subjectMatches } from '../address.js';
import { EventContractsError } from '../errors.js';
import type { KafkaTopicSpec } from './plan.js';
import { topicNameProblem } from './provision.js';

/** A subject no topic of the topology carries: publishing it would store it nowhere anyone reads. */
export class UnroutedSubjectError extends EventContractsError {
  constructor(readonly subject: string) {
    super(`no Kafka topic of the topology carries subject '${subject}': add its pattern to a topic (kafkaProvisioning) and provision it`);
  }
}

/** `host:port` entries of a bootstrap given as a list, a comma-separated string, or both. */
export function bootstrapList(b: string | readonly string[]): string[] {
  const list = (typeof b === 'string' ? [b] : [...b]).flatMap((s) => s.split(',')).map((s) => s.trim()).filter((s) => s !== '');
  if (list.length === 0) throw new Error('Kafka bootstrap: give at least one host:port');
  return list;
}

/** Subject → topic, by the topology's patterns; the first topic that lists a matching pattern wins. */
export class TopicRouter {
  private readonly cache = new Map<string, string | null>();

  constructor(readonly topics: readonly KafkaTopicSpec[]) {
    for (const t of topics) {
      const problem = topicNameProblem(t.name);
      if (problem) throw new Error(`Kafka ${problem} (names must match [A-Za-z0-9._-]{1,249})`);
    }
  }

  /** The topic for a concrete subject, or undefined. */
  topicOf(subject: string): string | undefined {
    let t = this.cache.get(subject);
    if (t === undefined) {
      t = this.topics.find((spec) => spec.subjects.some((p) => subjectMatches(p, subject)))?.name ?? null;
      // Bounded: subjects carry ids, a long-running publisher must not grow this forever.
      if (this.cache.size > 10_000) this.cache.clear();
      this.cache.set(subject, t);
    }
    return t ?? undefined;
  }

  /** Like topicOf, throwing UnroutedSubjectError. */
  route(subject: string): string {
    const t = this.topicOf(subject);
    if (t === undefined) throw new UnroutedSubjectError(subject);
    return t;
  }

  /**
   * Topics a consumer of `patterns` must read: every topic one of whose patterns can carry a
   * subject some consumer pattern matches. Overlap is decided token by token, so `a.*.c`
   * reads a topic of `a.>` and `a.>` reads a topic of `a.b.c`.
   */
  topicsFor(patterns: readonly string[]): string[] {
    const out = new Set<string>();
    for (const spec of this.topics) if (spec.subjects.some((tp) => patterns.some((cp) => patternsOverlap(tp, cp)))) out.add(spec.name);
    return [...out];
  }
}

/** Whether some subject matches both NATS patterns. */
export function patternsOverlap(a: string, b: string): boolean {
  const x = a.split('.');
  const y = b.split('.');
  for (let i = 0; ; i++) {
    const p = x[i];
    const q = y[i];
    if (p === '>') return q !== undefined;
    if (q === '>') return p !== undefined;
    if (p === undefined || q === undefined) return p === q;
    if (p !== '*' && q !== '*' && p !== q) return false;
  }
}

/**
 * Delay buckets of the retry topics, in ms. A retry waits in the smallest bucket not
 * shorter than its delay (the last one for longer delays) until its own due time: records
 * of one bucket are due in nearly the order they were written, so waiting for the head of a
 * partition holds the others back by less than the bucket's width.
 */
export const DELAY_BUCKETS_MS = [200, 1_000, 5_000, 30_000, 300_000] as const;

export function delayBucket(delayMs: number): number {
  for (const b of DELAY_BUCKETS_MS) if (delayMs <= b) return b;
  return DELAY_BUCKETS_MS[DELAY_BUCKETS_MS.length - 1]!;
}

/** The transport's `internalTopicPrefix` unless told otherwise. */
export const DEFAULT_INTERNAL_PREFIX = '_ec.';

/** The retry topic of `group` for one delay bucket. Group names are `[A-Za-z0-9_-]+` (the bus checks). */
export function retryTopic(prefix: string, group: string, bucketMs: number): string {
  return `${retryTopicPrefix(prefix, group)}${bucketMs}`;
}

/** What every retry topic of a group starts with (a prefix ACL grants them all). */
export function retryTopicPrefix(prefix: string, group: string): string {
  return `${prefix}retry.${group}.`;
}

/** What the consumer groups of a responder group's subjects start with (each subject has its own). */
export function responderGroupPrefix(prefix: string, group: string): string {
  return `${prefix}rpc.${group}.`;
}

/** All retry topics of a group. */
export function retryTopics(prefix: string, group: string): string[] {
  return DELAY_BUCKETS_MS.map((b) => retryTopic(prefix, group, b));
}

/** Whether `topic` is one of `group`'s retry topics (the only place retry bookkeeping is trusted). */
export function isRetryTopicOf(prefix: string, group: string, topic: string): boolean {
  return topic.startsWith(retryTopicPrefix(prefix, group)) && DELAY_BUCKETS_MS.some((b) => topic === retryTopic(prefix, group, b));
}

/** The reply topic of one transport instance. */
export function replyTopic(prefix: string, instance: string): string {
  return `${prefix}reply.${instance}`;
}
