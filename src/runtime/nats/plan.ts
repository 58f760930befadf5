/**
 * The shape of a NATS provisioning plan: what the generator emits (`natsProvisioning`) and
 * `provisionNats` carries out. Types only: nothing here loads nats.js.
 */
export interface NatsStreamSpec {
  name: string;
  subjects: string[];
  retention?: 'limits' | 'interest' | 'workqueue';
  storage?: 'file' | 'memory';
  replicas?: number;
  maxAgeMs?: number;
  maxBytes?: number;
  maxMsgs?: number;
  maxMsgSize?: number;
  /** Nats-Msg-Id dedupe window. Default 2 minutes. */
  duplicateWindowMs?: number;
  discard?: 'old' | 'new';
  description?: string;
}

export interface NatsConsumerSpec {
  stream: string;
  /** Durable name; for a group use durableName(group, subjects, subject). */
  name: string;
  filterSubject: string;
  ackWaitMs?: number;
  maxAckPending?: number;
  deliverPolicy?: 'all' | 'new' | 'last';
  description?: string;
}

export interface NatsProvisionPlan {
  streams?: NatsStreamSpec[];
  consumers?: NatsConsumerSpec[];
}

export type ProvisionAction = 'created' | 'updated' | 'unchanged';

export interface NatsProvisionResult {
  streams: Array<{ name: string; action: ProvisionAction }>;
  consumers: Array<{ stream: string; name: string; action: ProvisionAction }>;
}
