/**
 * The audit trail's place on NATS: each service writes its records to `audit.<service>`
 * (transportAuditSink, a JetStream publish), the stream AUDIT stores `audit.>`, and only the
 * audit reader may read it (nats-acl.ts). With `audit` in the config, the provisioning plan
 * holds that stream, so a transport audit sink has somewhere to write from the first start:
 * without the stream, every record's publish finds no responder and is counted as lost.
 */
import type { Catalog } from '../catalog/model.js';
import type { Diagnostic } from '../diagnostics.js';
import type { NatsStreamSpec } from '../runtime/nats/plan.js';

export const AUDIT_STREAM = 'AUDIT';
/** What the audit stream stores: every service's audit subject. */
export const AUDIT_SUBJECTS = 'audit.>';

/** The subject a service's audit records go to. */
export function auditSubject(service: string): string {
  return `audit.${service.replace(/[^A-Za-z0-9_-]/g, '_')}`;
}

/** How long and where the audit stream keeps records (config `audit`, resolved). */
export interface AuditStreamSettings {
  /** Records older than this are removed; absent: kept until maxBytes, or forever. */
  readonly maxAgeMs?: number;
  readonly maxBytes?: number;
  readonly replicas?: number;
}

/**
 * The AUDIT stream: limits retention (a record is kept whether or not anyone read it), file
 * storage, and a Nats-Msg-Id window as the transport gives every publish (a retried record
 * is stored once).
 */
export function auditStreamSpec(settings: AuditStreamSettings, maxReplicas = Number.POSITIVE_INFINITY): NatsStreamSpec {
  return {
    name: AUDIT_STREAM,
    subjects: [AUDIT_SUBJECTS],
    retention: 'limits',
    storage: 'file',
    ...(settings.replicas !== undefined ? { replicas: Math.min(settings.replicas, maxReplicas) } : {}),
    ...(settings.maxAgeMs !== undefined ? { maxAgeMs: settings.maxAgeMs } : {}),
    ...(settings.maxBytes !== undefined ? { maxBytes: settings.maxBytes } : {}),
    description: 'Audit records of every service (audit.<service>); readable by the audit reader only. Provisioned by event-contracts (config: audit)',
  };
}

/**
 * What stops the audit stream from being provisioned next to the contract's streams: a
 * stream of the contract named AUDIT, or a channel whose subject lies under `audit.`
 * (JetStream stores a subject in one stream, and a service's events there would be readable
 * only by the audit reader).
 */
export function auditStreamConflicts(catalog: Catalog): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const service of catalog.services) {
    for (const channel of service.channels) {
      if (channel.stream?.name === AUDIT_STREAM) {
        out.push({
          code: 'AUDIT_STREAM_CONFLICT',
          severity: 'error',
          message: `channel ${channel.id}: x-stream ${AUDIT_STREAM} is the audit trail's stream (config: audit); name the channel's stream differently`,
          location: channel.location,
        });
      } else if (channel.address !== undefined && ['audit', '*', '>'].includes(channel.address.replace(/\{[^}]+\}/g, '*').split('.')[0]!)) {
        out.push({
          code: 'AUDIT_STREAM_CONFLICT',
          severity: 'error',
          message: `channel ${channel.id}: address ${channel.address} may fall under ${AUDIT_SUBJECTS}, which the audit stream stores (config: audit); use an address outside audit.`,
          location: channel.location,
        });
      }
    }
  }
  return out;
}
