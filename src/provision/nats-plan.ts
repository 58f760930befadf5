/**
 * The JetStream streams and durable consumers a contract implies: a stream per
 * `x-stream` name holding its channels' subjects, a durable consumer per receive
 * operation (its `x-consumer-group`) on a streamed channel, and for every consumer group a
 * stream for its dead letters (`deadletter.<group>`, where the bus sends them by default),
 * so a dead letter is stored, not retried forever. Request/reply and channels without a
 * stream stay on core NATS.
 */
import type { Catalog, Channel, StreamSettings } from '../catalog/model.js';
import type { Diagnostic, SourceLocation } from '../diagnostics.js';
import type { NatsConsumerSpec, NatsProvisionPlan, NatsStreamSpec } from '../runtime/nats/plan.js';
import { deadLetterStreamName, deadLetterSubject, durableName } from '../runtime/nats/names.js';
import { auditStreamConflicts, auditStreamSpec, type AuditStreamSettings } from '../security/audit-stream.js';

/** `transaction.{accountId}.created.v1` → `transaction.*.created.v1`. */
export function subjectPattern(address: string): string {
  return address.replace(/\{[^}]+\}/g, '*');
}

/** The default group of a receive operation without `x-consumer-group` (no dots: NATS durable names forbid them). */
export function defaultGroup(serviceId: string, operationId: string): string {
  return `${serviceId}-${operationId}`.replace(/[^A-Za-z0-9_-]/g, '-');
}

/** ISO-8601 durations as written in `x-stream.maxAge` (`P30D`, `PT12H`, `P1DT30M`) to milliseconds. */
export function isoDurationMs(text: string): number | undefined {
  const m = /^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(text);
  if (!m || text === 'P' || text.endsWith('T')) return undefined;
  const [, w, d, h, min, s] = m.map((x) => (x === undefined ? 0 : Number(x)));
  return ((((w! * 7 + d!) * 24 + h!) * 60 + min!) * 60 + s!) * 1000;
}

export interface PlanOptions {
  /** Cap replicas (a single local server cannot hold three). */
  maxReplicas?: number;
  /** Config `audit`: add the stream AUDIT (`audit.>`) that transport audit sinks write to. */
  audit?: AuditStreamSettings;
}

export function natsPlan(catalog: Catalog, options: PlanOptions = {}): { plan: NatsProvisionPlan; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const streams = new Map<string, { settings: StreamSettings; subjects: Set<string>; from: Channel }>();
  const streamOfSubject = new Map<string, string>();
  for (const service of catalog.services) {
    for (const channel of service.channels) {
      if (!channel.stream || channel.address === undefined) continue;
      const subject = subjectPattern(channel.address);
      const existing = streams.get(channel.stream.name);
      if (existing && JSON.stringify(existing.settings) !== JSON.stringify(channel.stream)) {
        diagnostics.push({
          code: 'STREAM_SETTINGS_CONFLICT',
          severity: 'warning',
          message: `stream ${channel.stream.name} is described differently by two channels; the first description wins`,
          location: channel.location,
          related: existing.from.location,
        });
      }
      const owner = streamOfSubject.get(subject);
      if (owner && owner !== channel.stream.name) {
        diagnostics.push({
          code: 'SUBJECT_IN_TWO_STREAMS',
          severity: 'error',
          message: `subject ${subject} is claimed by streams ${owner} and ${channel.stream.name}; JetStream stores a subject in one stream`,
          location: channel.location,
        });
        continue;
      }
      streamOfSubject.set(subject, channel.stream.name);
      const entry = existing ?? { settings: channel.stream, subjects: new Set<string>(), from: channel };
      entry.subjects.add(subject);
      streams.set(channel.stream.name, entry);
    }
  }
  const streamSpecs: NatsStreamSpec[] = [...streams.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([name, { settings, subjects }]) => {
      const maxAgeMs = settings.maxAge ? isoDurationMs(settings.maxAge) : undefined;
      if (settings.maxAge && maxAgeMs === undefined) {
        diagnostics.push({ code: 'STREAM_MAX_AGE_INVALID', severity: 'error', message: `stream ${name}: maxAge "${settings.maxAge}" is not an ISO-8601 duration like P30D`, location: streams.get(name)!.from.location });
      }
      const replicas = settings.replicas === undefined ? undefined : Math.min(settings.replicas, options.maxReplicas ?? Number.POSITIVE_INFINITY);
      return {
        name,
        subjects: [...subjects].sort(),
        ...(settings.retention ? { retention: settings.retention } : {}),
        ...(replicas !== undefined ? { replicas } : {}),
        ...(maxAgeMs !== undefined ? { maxAgeMs } : {}),
        ...(settings.maxMsgSize !== undefined ? { maxMsgSize: settings.maxMsgSize } : {}),
        description: `Provisioned by event-contracts from ${streams.get(name)!.from.location.file}`,
      };
    });
  const consumers: NatsConsumerSpec[] = [];
  /** Consumer groups, with the streams they read and where they were first declared. */
  const groups = new Map<string, { sources: Set<string>; location: SourceLocation }>();
  for (const service of catalog.services) {
    for (const op of service.operations) {
      if (op.action !== 'receive' || op.reply) continue;
      const group = op.consumerGroup ?? defaultGroup(service.id, op.id);
      const channel = service.channels.find((c) => c.id === op.channelId);
      const entry = groups.get(group) ?? { sources: new Set<string>(), location: op.location };
      groups.set(group, entry);
      if (!channel?.address) continue;
      const subject = subjectPattern(channel.address);
      const stream = streamOfSubject.get(subject);
      if (!stream) continue;
      entry.sources.add(stream);
      consumers.push({ stream, name: durableName(group, [subject], subject), filterSubject: subject, description: `${service.id}: ${op.id}` });
    }
  }
  consumers.sort((a, b) => (`${a.stream}/${a.name}` < `${b.stream}/${b.name}` ? -1 : 1));
  const byName = new Map(streamSpecs.map((s) => [s.name, s]));
  const deadLetterStreams: NatsStreamSpec[] = [];
  for (const [group, { sources, location }] of [...groups].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const subject = deadLetterSubject(group);
    const name = deadLetterStreamName(group);
    const owner = streamOfSubject.get(subject);
    if (owner || byName.has(name)) {
      diagnostics.push({
        code: 'DEAD_LETTER_STREAM_CONFLICT',
        severity: 'error',
        message: owner
          ? `consumer group ${group} sends dead letters to ${subject}, which stream ${owner} already stores`
          : `consumer group ${group} needs stream ${name} for its dead letters, which a channel's x-stream already names`,
        location,
      });
      continue;
    }
    // Kept as long as the longest-lived stream the group reads (a dead letter must outlive the
    // event it stands for), on as many replicas as the most replicated one.
    const read = [...sources].map((s) => byName.get(s)!);
    const ages = read.map((s) => s.maxAgeMs);
    const maxAgeMs = ages.length > 0 && ages.every((a) => a !== undefined) ? Math.max(...(ages as number[])) : undefined;
    const replicas = read.reduce<number | undefined>((r, s) => (s.replicas === undefined ? r : Math.max(r ?? 1, s.replicas)), undefined);
    deadLetterStreams.push({
      name,
      subjects: [subject],
      retention: 'limits',
      ...(replicas !== undefined ? { replicas } : {}),
      ...(maxAgeMs !== undefined ? { maxAgeMs } : {}),
      description: `Dead letters of consumer group ${group}; provisioned by event-contracts from ${location.file}`,
    });
  }
  if (options.audit) diagnostics.push(...auditStreamConflicts(catalog));
  const audit = options.audit ? [auditStreamSpec(options.audit, options.maxReplicas)] : [];
  return { plan: { streams: [...streamSpecs, ...deadLetterStreams, ...audit], consumers }, diagnostics };
}
