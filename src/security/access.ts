/**
 * Who may do what on the bus, read from the contract: per service (`info.x-service-id`) the
 * subjects it sends, the consumer groups it reads (durable on a JetStream stream, or core),
 * the requests it answers. Every broker's permissions (nats-acl.ts, amqp-acl.ts) and the
 * gate's access-widening rule are computed from this one view. Pure: catalog in, access and
 * located diagnostics out.
 */
import type { Catalog, Operation, Service } from '../catalog/model.js';
import type { Diagnostic, SourceLocation } from '../diagnostics.js';
import { defaultGroup, subjectPattern } from '../provision/nats-plan.js';

export interface SendAccess {
  readonly subject: string;
  readonly operation: string;
  /** Some service answers this subject: the sender makes requests and reads replies. */
  readonly request: boolean;
  readonly location: SourceLocation;
}

export interface ReceiveAccess {
  readonly subject: string;
  readonly group: string;
  readonly operation: string;
  /** The JetStream stream storing the subject (declared by any document); none: core NATS. */
  readonly stream?: string;
  readonly location: SourceLocation;
}

export interface RespondAccess {
  readonly subject: string;
  readonly group: string;
  readonly operation: string;
  readonly location: SourceLocation;
}

export interface ServiceAccess {
  readonly service: string;
  readonly location: SourceLocation;
  readonly sends: readonly SendAccess[];
  readonly receives: readonly ReceiveAccess[];
  readonly responds: readonly RespondAccess[];
}

/** The ids of the diagnostics below (README rule reference). */
export const ACL_RULES = ['ACL_WILDCARD_ADDRESS', 'ACL_GROUP_CLAIMED_TWICE', 'ACL_NOTHING_GRANTED', 'ACL_GROUP_NAME'] as const;

/** NATS `*` and `>`, AMQP `#`: in an address they would widen whatever grants the address. */
const WILDCARD = /[*>#]/;

/** The access of every service; located errors for what cannot be granted safely. */
export function serviceAccess(catalog: Catalog): { access: ServiceAccess[]; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const streamOf = new Map<string, string>();
  const answered = new Set<string>();
  for (const service of catalog.services) {
    for (const channel of service.channels) {
      if (channel.address === undefined) continue;
      const bare = channel.address.replace(/\{[^}]+\}/g, '');
      if (WILDCARD.test(bare)) {
        diagnostics.push({
          code: 'ACL_WILDCARD_ADDRESS',
          severity: 'error',
          message: `channel ${channel.id}: address ${channel.address} contains a wildcard character (* > #) of NATS or AMQP; a permission granting it would grant every subject it matches`,
          location: channel.location,
          hint: 'use a {parameter} for a variable part of the address',
        });
        continue;
      }
      if (channel.stream && !streamOf.has(subjectPattern(channel.address))) streamOf.set(subjectPattern(channel.address), channel.stream.name);
    }
    for (const op of service.operations) {
      const subject = addressOf(service, op);
      if (op.action === 'receive' && op.reply && subject) answered.add(subject);
    }
  }
  const groupOwner = new Map<string, { service: string; location: SourceLocation }>();
  const access: ServiceAccess[] = [];
  for (const service of [...catalog.services].sort((a, b) => (a.id < b.id ? -1 : 1))) {
    const sends: SendAccess[] = [];
    const receives: ReceiveAccess[] = [];
    const responds: RespondAccess[] = [];
    // Operations on a channel with an address: what the service asks the broker for.
    let asked = 0;
    for (const op of service.operations) {
      if (service.channels.find((c) => c.id === op.channelId)?.address !== undefined) asked++;
      const subject = addressOf(service, op);
      if (subject === undefined) continue;
      if (op.action === 'send') {
        sends.push({ subject, operation: op.id, request: answered.has(subject), location: op.location });
        continue;
      }
      const group = op.consumerGroup ?? defaultGroup(service.id, op.id);
      if (!/^[A-Za-z0-9_-]+$/.test(group)) {
        diagnostics.push({
          code: 'ACL_GROUP_NAME',
          severity: 'error',
          message: `consumer group ${JSON.stringify(group)} of operation ${op.id} has characters other than letters, digits, _ and -; its durable consumer, queue and dead-letter subject could not be granted exactly`,
          location: op.location,
        });
        continue;
      }
      const owner = groupOwner.get(group);
      if (owner && owner.service !== service.id) {
        diagnostics.push({
          code: 'ACL_GROUP_CLAIMED_TWICE',
          severity: 'error',
          message: `consumer group ${group} is claimed by services ${owner.service} and ${service.id}; a group's durable consumer and dead letters belong to one service account`,
          location: op.location,
          related: owner.location,
        });
        continue;
      }
      groupOwner.set(group, { service: service.id, location: op.location });
      if (op.reply) responds.push({ subject, group, operation: op.id, location: op.location });
      else {
        const stream = streamOf.get(subject);
        receives.push({ subject, group, operation: op.id, ...(stream ? { stream } : {}), location: op.location });
      }
    }
    // A document without operations only declares channels and messages (for others to
    // send or receive): it asks for no account. One whose operations the broker cannot
    // grant (channels without an address) is a mistake: its account would be useless.
    if (service.operations.length === 0) continue;
    if (asked === 0) {
      diagnostics.push({
        code: 'ACL_NOTHING_GRANTED',
        severity: 'error',
        message: `service ${service.id} has ${service.operations.length} operation${service.operations.length === 1 ? '' : 's'}, none on a channel with an address: it sends, receives and answers nothing the broker can grant, and its account would be useless`,
        location: service.location,
        hint: 'give its channels an address, or remove its operations if the document only declares messages',
      });
      continue;
    }
    if (sends.length + receives.length + responds.length === 0) continue;
    const bySubject = <T extends { subject: string; operation: string }>(a: T, b: T) => (`${a.subject} ${a.operation}` < `${b.subject} ${b.operation}` ? -1 : 1);
    access.push({ service: service.id, location: service.location, sends: sends.sort(bySubject), receives: receives.sort(bySubject), responds: responds.sort(bySubject) });
  }
  return { access, diagnostics };
}

function addressOf(service: Service, op: Operation): string | undefined {
  const channel = service.channels.find((c) => c.id === op.channelId);
  if (channel?.address === undefined || WILDCARD.test(channel.address.replace(/\{[^}]+\}/g, ''))) return undefined;
  return subjectPattern(channel.address);
}
