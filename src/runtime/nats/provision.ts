/**
 * Provisioning: streams and durable consumers from a plain description (the generated
 * `natsProvisioning`, or one written by hand), created or updated idempotently. The
 * description's shapes live in `plan.ts` (types only), so the generator can emit them
 * without loading nats.js; names come from `names.ts`.
 */
import { connect, nanos, type NatsConnection } from '@nats-io/transport-node';
import { AckPolicy, DeliverPolicy, DiscardPolicy, JetStreamApiError, RetentionPolicy, StorageType, jetstreamManager, type ConsumerConfig, type StreamConfig } from '@nats-io/jetstream';

import type { NatsConsumerSpec, NatsProvisionPlan, NatsProvisionResult, NatsStreamSpec, ProvisionAction } from './plan.js';

export type { NatsConsumerSpec, NatsProvisionPlan, NatsProvisionResult, NatsStreamSpec, ProvisionAction };

function streamConfig(s: NatsStreamSpec): Partial<StreamConfig> & { name: string } {
  const c: Partial<StreamConfig> & { name: string } = {
    name: s.name,
    subjects: [...s.subjects],
    retention: s.retention === 'interest' ? RetentionPolicy.Interest : s.retention === 'workqueue' ? RetentionPolicy.Workqueue : RetentionPolicy.Limits,
    storage: s.storage === 'memory' ? StorageType.Memory : StorageType.File,
    num_replicas: s.replicas ?? 1,
    max_age: nanos(s.maxAgeMs ?? 0),
    max_bytes: s.maxBytes ?? -1,
    max_msgs: s.maxMsgs ?? -1,
    max_msg_size: s.maxMsgSize ?? -1,
    // The server refuses a dedupe window longer than max age.
    duplicate_window: nanos(s.duplicateWindowMs ?? (s.maxAgeMs ? Math.min(120_000, s.maxAgeMs) : 120_000)),
    discard: s.discard === 'new' ? DiscardPolicy.New : DiscardPolicy.Old,
  };
  if (s.description !== undefined) c.description = s.description;
  return c;
}

function consumerConfig(c: NatsConsumerSpec): Partial<ConsumerConfig> & { durable_name: string } {
  const out: Partial<ConsumerConfig> & { durable_name: string } = {
    durable_name: c.name,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: c.deliverPolicy === 'new' ? DeliverPolicy.New : c.deliverPolicy === 'last' ? DeliverPolicy.Last : DeliverPolicy.All,
    filter_subject: c.filterSubject,
    max_deliver: -1,
    ack_wait: nanos(c.ackWaitMs ?? 30_000),
    max_ack_pending: c.maxAckPending ?? 20_000,
  };
  if (c.description !== undefined) out.description = c.description;
  return out;
}

/** The keys we set differ from what the server holds. */
function differs(want: Record<string, unknown>, have: Record<string, unknown>): boolean {
  for (const [k, v] of Object.entries(want)) {
    const h = have[k];
    if (Array.isArray(v)) {
      if (!Array.isArray(h) || [...v].sort().join('\u0000') !== [...h].sort().join('\u0000')) return true;
    } else if ((h ?? undefined) !== v && !(v === '' && h === undefined)) return true;
  }
  return false;
}

export interface NatsProvisionOptions {
  /**
   * Where this connection reaches JetStream's API, when not at `$JS.API`: the admin account
   * of the generated nats-server configuration sees the EVENTS account's API under
   * NATS_ADMIN_API_PREFIX (`EVENTS.JS.API`).
   */
  apiPrefix?: string;
}

/**
 * Create or update streams, then durable consumers. Safe to run at every start-up: things
 * already as described are left alone ('unchanged').
 */
export async function provisionNats(
  target: NatsConnection | { readonly nc: NatsConnection } | { servers: string | string[] },
  plan: NatsProvisionPlan,
  options: NatsProvisionOptions = {},
): Promise<NatsProvisionResult> {
  let nc: NatsConnection;
  let own = false;
  if ('nc' in target) nc = target.nc; // a NatsTransport
  else if ('servers' in target && !('publish' in target)) {
    nc = await connect({ servers: target.servers });
    own = true;
  } else nc = target as NatsConnection;
  try {
    const jsm = await jetstreamManager(nc, options.apiPrefix !== undefined ? { apiPrefix: options.apiPrefix } : {});
    const result: NatsProvisionResult = { streams: [], consumers: [] };
    for (const s of plan.streams ?? []) {
      const want = streamConfig(s);
      let action: ProvisionAction;
      try {
        const info = await jsm.streams.info(s.name);
        if (differs(want as Record<string, unknown>, info.config as unknown as Record<string, unknown>)) {
          await jsm.streams.update(s.name, { ...info.config, ...want });
          action = 'updated';
        } else action = 'unchanged';
      } catch (err) {
        if (!(err instanceof JetStreamApiError) || err.code !== 10059 /* stream not found */) throw err;
        await jsm.streams.add(want);
        action = 'created';
      }
      result.streams.push({ name: s.name, action });
    }
    for (const c of plan.consumers ?? []) {
      const want = consumerConfig(c);
      let action: ProvisionAction;
      try {
        const info = await jsm.consumers.info(c.stream, c.name);
        if (differs(want as Record<string, unknown>, info.config as unknown as Record<string, unknown>)) {
          await jsm.consumers.update(c.stream, c.name, want);
          action = 'updated';
        } else action = 'unchanged';
      } catch (err) {
        if (!(err instanceof JetStreamApiError) || err.code !== 10014 /* consumer not found */) throw err;
        await jsm.consumers.add(c.stream, want);
        action = 'created';
      }
      result.consumers.push({ stream: c.stream, name: c.name, action });
    }
    return result;
  } finally {
    if (own) await nc.close();
  }
}
