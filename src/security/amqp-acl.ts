/**
 * RabbitMQ permissions from the contract: one user per service, with configure / write /
 * read regexes on the virtual host and topic permissions per routing key, computed from the
 * same access view as the NATS permissions (access.ts) and the names the AMQP transport uses
 * (its exchange, `<exchange>.dlx`, `.retry`, `.rpc`, queues named after consumer groups):
 *
 * - configure: only its own queues (group queues, their retry delay queues, its dead-letter
 *   parking queues, its responder queues); no exchange (the transport checks an exchange an
 *   operator declared passively);
 * - write: the exchanges it publishes to (topic permissions narrow them to its routing
 *   keys), the retry and dead-letter exchanges when it consumes, the rpc exchange when it
 *   requests; its own queues (binding needs write on the queue);
 * - read: its own queues, and the exchanges they are bound to (topic permissions narrow the
 *   binding keys to what it receives).
 *
 * RabbitMQ checks a publish to the default exchange against `amq.default` only, not against
 * the queue it lands in: responders (replies to `amq.rabbitmq.reply-to`) and consumers (dead
 * letters parked in `deadletter.<group>` when no reader is bound) get it. That grant could put
 * a message in any queue by name; signed events (README, Security) are the answer to it.
 */
import type { Catalog } from '../catalog/model.js';
import type { Diagnostic } from '../diagnostics.js';
import { GENERATED_BANNER, oneLine } from '../emit/files.js';
import { amqpPlan, type AmqpPlanOptions } from '../provision/amqp-plan.js';
import { serviceAccess, type ServiceAccess } from './access.js';

export interface AmqpTopicPermission {
  readonly exchange: string;
  readonly write: string;
  readonly read: string;
}

export interface AmqpAclUser {
  readonly user: string;
  readonly service: string;
  /** The environment variable the set-up script reads the password from. */
  readonly passwordVariable: string;
  readonly configure: string;
  readonly write: string;
  readonly read: string;
  readonly topics: readonly AmqpTopicPermission[];
  /** Why each name is in a regex: reviewers read this, the broker does not. */
  readonly reasons: readonly string[];
}

export interface AmqpAclPlan {
  readonly users: readonly AmqpAclUser[];
}

/** A regex that matches nothing: RabbitMQ's way of granting nothing. */
export const NOTHING = '^$';

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A subject pattern as a routing-key regex: `*` one word; also matches the binding key itself. */
export function routingKeyRegex(subject: string): string {
  return subject
    .split('.')
    .map((t) => (t === '*' ? '[^.]+' : t === '>' ? '.+' : esc(t)))
    .join('\\.');
}

export function anyOf(alternatives: Iterable<string>): string {
  const list = [...new Set(alternatives)].sort();
  return list.length === 0 ? NOTHING : `^(${list.join('|')})$`;
}

export function amqpPasswordVariable(user: string): string {
  return `EC_AMQP_PASSWORD_${user.toUpperCase().replace(/[^A-Z0-9]+/g, '_')}`;
}

export function amqpServiceUser(a: ServiceAccess, o: { exchange: string; queuePrefix: string; exchangeOf: (subject: string) => string }): AmqpAclUser {
  const dlx = `${o.exchange}.dlx`;
  const retry = `${o.exchange}.retry`;
  const rpc = `${o.exchange}.rpc`;
  const qp = esc(o.queuePrefix);
  const configure = new Set<string>();
  const write = new Set<string>();
  const read = new Set<string>();
  const reasons: string[] = [];
  const topicWrite = new Map<string, Set<string>>();
  const topicRead = new Map<string, Set<string>>();
  const add = (m: Map<string, Set<string>>, exchange: string, key: string) => m.set(exchange, (m.get(exchange) ?? new Set<string>()).add(key));

  for (const s of a.sends) {
    const ex = s.request ? rpc : o.exchangeOf(s.subject);
    write.add(esc(ex));
    add(topicWrite, ex, routingKeyRegex(s.subject));
    reasons.push(`${s.request ? 'request' : 'send'} ${s.operation}: write ${ex} with routing key ${s.subject}`);
  }
  for (const r of a.receives) {
    const ex = o.exchangeOf(r.subject);
    const g = esc(r.group);
    for (const q of [`${qp}${g}`, `${qp}${g}\\.retry\\.[0-9]+`, `${qp}deadletter\\.${g}`, `${qp}${g}\\.ephemeral`]) configure.add(q);
    for (const q of [`${qp}${g}`, `${qp}${g}\\.retry\\.[0-9]+`, `${qp}${g}\\.ephemeral`]) {
      write.add(q);
      read.add(q);
    }
    read.add(esc(ex));
    read.add(esc(retry));
    write.add(esc(retry));
    write.add(esc(dlx));
    write.add('amq\\.default');
    add(topicRead, ex, routingKeyRegex(r.subject));
    add(topicWrite, dlx, routingKeyRegex(`deadletter.${r.group}`));
    reasons.push(`receive ${r.operation}: queue ${o.queuePrefix}${r.group} bound to ${ex} with ${r.subject}; retries through ${retry}; dead letters to ${dlx} (deadletter.${r.group}) or parked through amq.default`);
  }
  for (const r of a.responds) {
    const g = esc(r.group);
    const q = `${qp}${g}\\.rpc\\.[0-9a-f]{10}`;
    configure.add(q);
    write.add(q);
    read.add(q);
    read.add(esc(rpc));
    write.add('amq\\.default');
    add(topicRead, rpc, routingKeyRegex(r.subject));
    reasons.push(`answer ${r.operation}: responder queue of group ${r.group} bound to ${rpc} with ${r.subject}; replies through amq.default to amq.rabbitmq.reply-to`);
  }
  const exchanges = [...new Set([...topicWrite.keys(), ...topicRead.keys()])].sort();
  return {
    user: a.service,
    service: a.service,
    passwordVariable: amqpPasswordVariable(a.service),
    configure: anyOf(configure),
    write: anyOf(write),
    read: anyOf(read),
    topics: exchanges.map((exchange) => ({ exchange, write: anyOf(topicWrite.get(exchange) ?? []), read: anyOf(topicRead.get(exchange) ?? []) })),
    reasons,
  };
}

export function amqpAclPlan(catalog: Catalog, options: Pick<AmqpPlanOptions, 'exchange' | 'queuePrefix'> = {}): { plan: AmqpAclPlan; diagnostics: Diagnostic[] } {
  const { access, diagnostics } = serviceAccess(catalog);
  const exchange = options.exchange ?? 'events';
  const topology = amqpPlan(catalog, { exchange, ...(options.queuePrefix ? { queuePrefix: options.queuePrefix } : {}) });
  const exchangeOf = (subject: string) => topology.subjects[subject]?.exchange?.name ?? exchange;
  return { plan: { users: access.map((a) => amqpServiceUser(a, { exchange, queuePrefix: options.queuePrefix ?? '', exchangeOf })) }, diagnostics };
}

const sh = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * A POSIX shell script of rabbitmqctl commands: users (passwords from the environment
 * variables it names), vhost permissions and topic permissions. `EC_AMQP_VHOST` (default
 * `/`) and `EC_AMQP_USER_PREFIX` (default empty) choose where and under which names.
 */
export function renderAmqpAclScript(plan: AmqpAclPlan, header: string): string {
  const lines = ['#!/bin/sh', ...header.split('\n').map((h) => `# ${oneLine(h)}`.trimEnd()), 'set -eu', 'VHOST="${EC_AMQP_VHOST:-/}"', 'P="${EC_AMQP_USER_PREFIX:-}"', 'ctl() { rabbitmqctl -q "$@"; }', ''];
  lines.push('# A user is created, or its password changed (rotation), from the environment variable named.');
  lines.push('user() { ctl add_user "$P$1" "$2" >/dev/null 2>&1 || ctl change_password "$P$1" "$2"; }', '');
  for (const u of plan.users) {
    lines.push(`# ${oneLine(u.service)}`);
    for (const r of u.reasons) lines.push(`#   ${oneLine(r)}`);
    lines.push(`user ${sh(u.user)} "\${${u.passwordVariable}:?set ${u.passwordVariable}}"`);
    lines.push(`ctl set_permissions -p "$VHOST" "$P"${sh(u.user)} ${sh(u.configure)} ${sh(u.write)} ${sh(u.read)}`);
    for (const t of u.topics) lines.push(`ctl set_topic_permissions -p "$VHOST" "$P"${sh(u.user)} ${sh(t.exchange)} ${sh(t.write)} ${sh(t.read)}`);
    lines.push('');
  }
  return lines.join('\n');
}

/** The same permissions as JSON (RabbitMQ definitions' `permissions` / `topic_permissions` shape), for review and tools. */
export function renderAmqpAclJson(plan: AmqpAclPlan, vhost = '/'): string {
  return (
    JSON.stringify(
      {
        generated: GENERATED_BANNER,
        permissions: plan.users.map((u) => ({ user: u.user, vhost, configure: u.configure, write: u.write, read: u.read })),
        topic_permissions: plan.users.flatMap((u) => u.topics.map((t) => ({ user: u.user, vhost, exchange: t.exchange, write: t.write, read: t.read }))),
      },
      null,
      2,
    ) + '\n'
  );
}
