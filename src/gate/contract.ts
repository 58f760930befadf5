/**
 * Contract changes beyond payloads, against a baseline catalog (the base branch):
 * channels, addresses, parameters, operations, the messages they carry and reply
 * contracts. Direction-aware: for what a service sends, its readers must still find
 * it; for what it receives, its writers must still be accepted.
 */
import semver from 'semver';
import type { Catalog, Channel, Operation, Service } from '../catalog/model.js';
import type { Finding } from './finding.js';

/**
 * Whether `keys` still carries `key`: the same version, or a newer minor/patch of the same
 * major (a reader of 1.0.0 reads 1.1.0; the event-level gate checks that it can).
 */
export function stillCarries(keys: readonly string[], key: string): boolean {
  const at = key.lastIndexOf('@');
  const type = key.slice(0, at);
  const version = key.slice(at + 1);
  return keys.some((k) => {
    const i = k.lastIndexOf('@');
    const v = k.slice(i + 1);
    return k.slice(0, i) === type && semver.valid(v) !== null && semver.valid(version) !== null && semver.major(v) === semver.major(version) && semver.gte(v, version);
  });
}

const error = (f: Omit<Finding, 'severity' | 'code' | 'breaking'> & { breaking?: boolean }): Finding => ({
  severity: 'error',
  code: f.rule,
  breaking: true,
  ...f,
});

const warning = (f: Omit<Finding, 'severity' | 'code' | 'breaking'>): Finding => ({ severity: 'warning', code: f.rule, breaking: false, ...f });

/**
 * A consumer leaving: a receive operation that answers nobody. Removing it is information
 * for the producers, not a break — nobody depends on a subscriber being there (a
 * responder, a receive with a reply, is depended on by its requesters).
 */
const isPlainSubscription = (op: Operation) => op.action === 'receive' && op.reply === undefined;

export function checkContracts(baseline: Catalog, current: Catalog, ref: string): Finding[] {
  const findings: Finding[] = [];
  const now = new Map(current.services.map((s) => [s.id, s]));
  for (const before of baseline.services) {
    const after = now.get(before.id);
    if (!after) {
      findings.push(
        error({
          rule: 'SERVICE_REMOVED',
          message: `service "${before.id}" (${before.file} in ${ref}) is gone: everything it sent and received leaves the contract`,
          related: before.location,
          hint: 'deprecate its operations first, or restore the document',
        }),
      );
      continue;
    }
    findings.push(...checkChannels(before, after, ref), ...checkOperations(before, after, ref));
  }
  return findings;
}

function checkChannels(before: Service, after: Service, ref: string): Finding[] {
  const findings: Finding[] = [];
  const now = new Map(after.channels.map((c) => [c.id, c]));
  const byAddress = new Map(after.channels.filter((c) => c.address !== undefined).map((c) => [c.address!, c]));
  for (const old of before.channels) {
    const channel = now.get(old.id) ?? (old.address !== undefined ? byAddress.get(old.address) : undefined);
    if (!channel) {
      const uses = before.operations.filter((op) => op.channelId === old.id);
      const onlySubscribed = uses.length > 0 && uses.every(isPlainSubscription);
      findings.push(
        (onlySubscribed ? warning : error)({
          rule: 'CHANNEL_REMOVED',
          message: onlySubscribed
            ? `${before.id}: channel "${old.id}" (${old.address ?? 'dynamic address'}) was removed; ${before.id} only subscribed to it, so its producers lose a consumer, nothing breaks`
            : `${before.id}: channel "${old.id}" (${old.address ?? 'dynamic address'}) was removed`,
          location: after.location,
          related: old.location,
          hint: onlySubscribed
            ? 'tell the producing teams; nothing to change on their side'
            : `publishers and subscribers of ${old.address ?? old.id} lose their contract; keep the channel until nobody uses it`,
        }),
      );
      continue;
    }
    if (old.address !== channel.address) {
      findings.push(
        error({
          rule: 'CHANNEL_ADDRESS_CHANGED',
          message: `${before.id}: channel "${old.id}" moved from ${old.address ?? 'a dynamic address'} to ${channel.address ?? 'a dynamic address'}: subscribers of the old subject receive nothing`,
          location: channel.location,
          related: old.location,
          hint: 'add the new channel beside the old one and retire the old one after a deprecation period',
        }),
      );
    }
    findings.push(...checkParameters(before.id, old, channel));
    for (const key of old.messages) {
      if (!stillCarries(channel.messages, key)) {
        findings.push(
          error({
            rule: 'MESSAGE_REMOVED_FROM_CHANNEL',
            event: key,
            message: `${before.id}: ${key} no longer travels on channel "${channel.id}" (${channel.address ?? 'dynamic'}) as it did in ${ref}`,
            location: channel.location,
            related: old.location,
          }),
        );
      }
    }
  }
  return findings;
}

function checkParameters(serviceId: string, old: Channel, channel: Channel): Finding[] {
  const findings: Finding[] = [];
  const now = new Map(channel.parameters.map((p) => [p.name, p]));
  for (const p of old.parameters) {
    const q = now.get(p.name);
    if (!q) {
      findings.push(
        error({
          rule: 'CHANNEL_PARAMETER_REMOVED',
          message: `${serviceId}: parameter {${p.name}} of channel "${old.id}" was removed`,
          location: channel.location,
          related: p.location,
        }),
      );
      continue;
    }
    if (p.enum && (!q.enum || p.enum.some((v) => !q.enum!.includes(v)))) {
      const lost = q.enum ? p.enum.filter((v) => !q.enum!.includes(v)) : [];
      if (q.enum) {
        findings.push(
          error({
            rule: 'CHANNEL_PARAMETER_VALUES_REMOVED',
            message: `${serviceId}: parameter {${p.name}} of channel "${old.id}" no longer allows ${lost.map((v) => JSON.stringify(v)).join(', ')}`,
            location: q.location,
            related: p.location,
          }),
        );
      }
    }
    if (!p.enum && q.enum) {
      findings.push(
        error({
          rule: 'CHANNEL_PARAMETER_RESTRICTED',
          message: `${serviceId}: parameter {${p.name}} of channel "${old.id}" is now limited to ${q.enum.map((v) => JSON.stringify(v)).join(', ')}`,
          location: q.location,
          related: p.location,
        }),
      );
    }
  }
  for (const q of channel.parameters) {
    if (!old.parameters.some((p) => p.name === q.name)) {
      findings.push(
        error({
          rule: 'CHANNEL_PARAMETER_ADDED',
          message: `${serviceId}: channel "${old.id}" gained the parameter {${q.name}}: its address changed shape`,
          location: q.location,
          related: old.location,
        }),
      );
    }
  }
  return findings;
}

function checkOperations(before: Service, after: Service, ref: string): Finding[] {
  const findings: Finding[] = [];
  const now = new Map(after.operations.map((o) => [o.id, o]));
  for (const old of before.operations) {
    const op = now.get(old.id);
    if (!op) {
      const leaving = isPlainSubscription(old);
      findings.push(
        (leaving ? warning : error)({
          rule: 'OPERATION_REMOVED',
          message: leaving
            ? `${before.id}: subscription "${old.id}" (receive ${old.messages.join(', ')}) was removed: a consumer leaving, information for the producers`
            : `${before.id}: operation "${old.id}" (${old.action} ${old.messages.join(', ')}) was removed`,
          location: after.location,
          related: old.location,
          hint: old.action === 'send' ? 'its consumers stop receiving these events' : leaving ? 'nothing breaks: producers may stop sending if nobody else reads' : 'requesters of this operation get no reply',
        }),
      );
      continue;
    }
    if (op.action !== old.action) {
      findings.push(
        error({
          rule: 'OPERATION_ACTION_CHANGED',
          message: `${before.id}: operation "${old.id}" changed from ${old.action} to ${op.action}`,
          location: op.location,
          related: old.location,
        }),
      );
      continue;
    }
    findings.push(...checkOperationMessages(before.id, old, op), ...checkReply(before.id, old, op, ref));
  }
  return findings;
}

function checkOperationMessages(serviceId: string, old: Operation, op: Operation): Finding[] {
  const findings: Finding[] = [];
  for (const key of old.messages) {
    if (stillCarries(op.messages, key)) continue;
    const sends = old.action === 'send';
    findings.push(
      error({
        rule: sends ? 'MESSAGE_NO_LONGER_SENT' : 'MESSAGE_NO_LONGER_ACCEPTED',
        event: key,
        message: sends
          ? `${serviceId}: "${old.id}" no longer sends ${key}: its readers wait for events that never come`
          : `${serviceId}: "${old.id}" no longer accepts ${key}: its writers' events would be dead-lettered`,
        location: op.location,
        related: old.location,
        hint: sends ? 'keep sending the old version beside the new one until readers have moved' : 'keep accepting the old version until every writer has moved',
      }),
    );
  }
  return findings;
}

function checkReply(serviceId: string, old: Operation, op: Operation, ref: string): Finding[] {
  if (!old.reply) return [];
  if (!op.reply) {
    return [
      error({
        rule: 'REPLY_REMOVED',
        message: `${serviceId}: "${old.id}" no longer replies (${ref} replied with ${old.reply.messages.join(', ')}): requesters time out`,
        location: op.location,
        related: old.location,
      }),
    ];
  }
  const findings: Finding[] = [];
  for (const key of old.reply.messages) {
    if (stillCarries(op.reply.messages, key)) continue;
    findings.push(
      error({
        rule: 'REPLY_MESSAGE_CHANGED',
        event: key,
        message: `${serviceId}: "${old.id}" no longer replies with ${key} (now ${op.reply.messages.join(', ') || 'nothing'}): requesters cannot read the answer`,
        location: op.location,
        related: old.location,
      }),
    );
  }
  if ((old.reply.address ?? null) !== (op.reply.address ?? null)) {
    findings.push(
      error({
        rule: 'REPLY_ADDRESS_CHANGED',
        message: `${serviceId}: "${old.id}" replies on ${op.reply.address ?? 'the requester’s inbox'} instead of ${old.reply.address ?? 'the requester’s inbox'}`,
        location: op.location,
        related: old.location,
      }),
    );
  }
  return findings;
}
