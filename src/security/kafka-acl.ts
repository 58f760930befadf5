/**
 * Kafka ACLs from the contract: one principal per service (`User:<x-service-id>`), granted
 * exactly what the Kafka transport does for the service's operations, computed from the same
 * access view as the NATS and RabbitMQ permissions (access.ts) and the topics of the
 * provisioning plan (kafka-plan.ts, so `--topic-prefix` and `--internal-topic-prefix` must
 * be the ones given to `provision kafka`):
 *
 * - send: WRITE and DESCRIBE on the topics carrying its subjects (WRITE on a topic also lets
 *   the idempotent producer start); a request also needs its own reply topic, which the
 *   requester creates, reads in a group named after it, and deletes at close;
 * - receive: READ and DESCRIBE on the topics carrying its subjects, READ on its consumer
 *   group, READ, WRITE and DESCRIBE on the group's retry topics, WRITE on the topic of its
 *   dead letters (`deadletter.<group>`);
 * - respond: READ on the topics carrying the request's subject and on its responder groups
 *   (`<internal>rpc.<group>.`), WRITE on reply topics.
 *
 * Reply topics are named by each requester instance (`<internal>reply.<uuid>`), so the grant
 * is a prefix every requester and responder shares: a service with it could read another
 * service's replies. Signed events (README, Security) cover what a prefix grant cannot.
 * Creating topics is left to `provision kafka` (the retry topics are in its plan), so no
 * service may create any topic but reply topics.
 */
import type { Catalog } from '../catalog/model.js';
import type { Diagnostic } from '../diagnostics.js';
import { GENERATED_BANNER } from '../emit/files.js';
import { DEFAULT_INTERNAL_PREFIX, replyTopic, responderGroupPrefix, retryTopicPrefix, TopicRouter } from '../runtime/kafka/names.js';
import { deadLetterSubject } from '../runtime/nats/names.js';
import { kafkaPlan, type KafkaPlanOptions } from '../provision/kafka-plan.js';
import { serviceAccess, type ServiceAccess } from './access.js';

export type KafkaAclOperation = 'READ' | 'WRITE' | 'DESCRIBE' | 'CREATE' | 'DELETE';

export interface KafkaAclGrant {
  readonly resourceType: 'TOPIC' | 'GROUP';
  /** LITERAL: the name itself; PREFIXED: every name that starts with it. */
  readonly patternType: 'LITERAL' | 'PREFIXED';
  readonly name: string;
  readonly operations: readonly KafkaAclOperation[];
  /** Why: the operations of the contract that need it. Reviewers read this, the broker does not. */
  readonly reasons: readonly string[];
}

export interface KafkaAclUser {
  readonly principal: string;
  readonly service: string;
  readonly grants: readonly KafkaAclGrant[];
}

export interface KafkaAclPlan {
  readonly users: readonly KafkaAclUser[];
}

const OPERATION_ORDER: readonly KafkaAclOperation[] = ['READ', 'WRITE', 'DESCRIBE', 'CREATE', 'DELETE'];

/** Collects grants by resource, merging operations and reasons. */
class Grants {
  private readonly byResource = new Map<string, { resourceType: 'TOPIC' | 'GROUP'; patternType: 'LITERAL' | 'PREFIXED'; name: string; operations: Set<KafkaAclOperation>; reasons: Set<string> }>();

  add(resourceType: 'TOPIC' | 'GROUP', patternType: 'LITERAL' | 'PREFIXED', name: string, operations: readonly KafkaAclOperation[], reason: string): void {
    const key = `${resourceType} ${patternType} ${name}`;
    let g = this.byResource.get(key);
    if (!g) this.byResource.set(key, (g = { resourceType, patternType, name, operations: new Set(), reasons: new Set() }));
    for (const o of operations) g.operations.add(o);
    g.reasons.add(reason);
  }

  list(): KafkaAclGrant[] {
    // Topics before groups, literal names before prefixes, then by name: the same bytes every run.
    const order = (g: { resourceType: string; patternType: string; name: string }) => `${g.resourceType === 'TOPIC' ? 0 : 1}${g.patternType === 'LITERAL' ? 0 : 1} ${g.name}`;
    return [...this.byResource.values()]
      .sort((a, b) => (order(a) < order(b) ? -1 : order(a) > order(b) ? 1 : 0))
      .map((g) => ({ resourceType: g.resourceType, patternType: g.patternType, name: g.name, operations: OPERATION_ORDER.filter((o) => g.operations.has(o)), reasons: [...g.reasons].sort() }));
  }
}

/** One service's grants, given the router over the plan's topics and the transports' internal prefix. */
export function kafkaServiceUser(a: ServiceAccess, router: TopicRouter, internalPrefix: string): KafkaAclUser {
  const g = new Grants();
  const topicsOf = (subject: string) => router.topicsFor([subject]);
  // The names the transport makes: the literal part before the per-instance or per-bucket tail.
  const replyPrefix = replyTopic(internalPrefix, '');
  for (const s of a.sends) {
    for (const t of topicsOf(s.subject)) g.add('TOPIC', 'LITERAL', t, ['WRITE', 'DESCRIBE'], `${s.request ? 'request' : 'send'} ${s.operation}`);
    if (s.request) {
      g.add('TOPIC', 'PREFIXED', replyPrefix, ['READ', 'DESCRIBE', 'CREATE', 'DELETE'], `request ${s.operation}: its reply topic`);
      g.add('GROUP', 'PREFIXED', replyPrefix, ['READ', 'DELETE'], `request ${s.operation}: the reader of its reply topic`);
    }
  }
  for (const r of a.receives) {
    const why = `receive ${r.operation} (group ${r.group})`;
    for (const t of topicsOf(r.subject)) g.add('TOPIC', 'LITERAL', t, ['READ', 'DESCRIBE'], why);
    g.add('GROUP', 'LITERAL', r.group, ['READ'], why);
    g.add('TOPIC', 'PREFIXED', retryTopicPrefix(internalPrefix, r.group), ['READ', 'WRITE', 'DESCRIBE'], `${why}: its retry topics`);
    const dead = deadLetterSubject(r.group);
    for (const t of topicsOf(dead)) g.add('TOPIC', 'LITERAL', t, ['WRITE', 'DESCRIBE'], `${why}: its dead letters`);
  }
  for (const p of a.responds) {
    const why = `respond ${p.operation} (group ${p.group})`;
    for (const t of topicsOf(p.subject)) g.add('TOPIC', 'LITERAL', t, ['READ', 'DESCRIBE'], why);
    g.add('GROUP', 'PREFIXED', responderGroupPrefix(internalPrefix, p.group), ['READ'], why);
    g.add('TOPIC', 'PREFIXED', replyPrefix, ['WRITE', 'DESCRIBE'], `${why}: replies`);
  }
  return { principal: `User:${a.service}`, service: a.service, grants: g.list() };
}

/** The ACLs of every service of the catalog, over the topics `kafkaPlan(catalog, options)` provisions. */
export function kafkaAclPlan(catalog: Catalog, options: KafkaPlanOptions = {}): { plan: KafkaAclPlan; diagnostics: Diagnostic[] } {
  const { access, diagnostics } = serviceAccess(catalog);
  const topics = kafkaPlan(catalog, options);
  const router = new TopicRouter(topics.plan.topics);
  const internalPrefix = options.internalTopicPrefix ?? DEFAULT_INTERNAL_PREFIX;
  return { plan: { users: access.map((a) => kafkaServiceUser(a, router, internalPrefix)) }, diagnostics: [...diagnostics, ...topics.diagnostics] };
}

/** The plan as JSON: what `Admin.createAcls` or a review needs. */
export function renderKafkaAclJson(plan: KafkaAclPlan): string {
  return JSON.stringify({ generated: GENERATED_BANNER, users: plan.users }, null, 2) + '\n';
}

const sh = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
const CLI_OPERATION: Record<KafkaAclOperation, string> = { READ: 'Read', WRITE: 'Write', DESCRIBE: 'Describe', CREATE: 'Create', DELETE: 'Delete' };

/** The plan as a script of Kafka's own `kafka-acls.sh` commands. */
export function renderKafkaAclScript(plan: KafkaAclPlan, header: string): string {
  const lines = [
    '#!/bin/sh',
    ...header.split('\n').map((l) => `# ${l}`.trimEnd()),
    'set -eu',
    ': "${EC_KAFKA_BOOTSTRAP:?set EC_KAFKA_BOOTSTRAP to host:port of a broker}"',
    '# EC_KAFKA_ADMIN_CONFIG: a client properties file for an account allowed to alter ACLs (optional).',
    'acl() { kafka-acls.sh --bootstrap-server "$EC_KAFKA_BOOTSTRAP" ${EC_KAFKA_ADMIN_CONFIG:+--command-config "$EC_KAFKA_ADMIN_CONFIG"} --add "$@"; }',
  ];
  for (const u of plan.users) {
    lines.push(`# ${u.service.replace(/[\r\n]/g, ' ')}`);
    for (const g of u.grants) {
      for (const r of g.reasons) lines.push(`#   ${r.replace(/[\r\n]/g, ' ')}`);
      const resource = g.resourceType === 'TOPIC' ? '--topic' : '--group';
      const pattern = g.patternType === 'PREFIXED' ? ' --resource-pattern-type prefixed' : '';
      lines.push(`acl --allow-principal ${sh(u.principal)} ${g.operations.map((o) => `--operation ${CLI_OPERATION[o]}`).join(' ')} ${resource} ${sh(g.name)}${pattern}`);
    }
  }
  return lines.join('\n') + '\n';
}
