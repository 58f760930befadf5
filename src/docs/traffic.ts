/**
 * Who talks to whom: for every event version, the services that send it and the services
 * that receive it, across all documents, read from their operations. Request/reply is
 * followed both ways: a `receive` operation with a reply sends the reply (it answers),
 * a `send` operation with a reply receives it; when the requester's document does not
 * declare the reply (AsyncAPI 2.x has no replies), the senders of the request are counted
 * as receivers of the reply.
 */
import type { Catalog, EventKey, Operation } from '../catalog/model.js';

export type FlowRole = 'publishes' | 'subscribes' | 'answers' | 'requests' | 'awaits reply';

export interface Flow {
  readonly serviceId: string;
  readonly operationId: string;
  readonly channelId: string;
  readonly role: FlowRole;
  readonly consumerGroup?: string;
}

export interface Traffic {
  readonly senders: readonly Flow[];
  readonly receivers: readonly Flow[];
}

/** A request/reply pair as declared by one operation. */
export interface ReplyPair {
  readonly serviceId: string;
  readonly operation: Operation;
  readonly requests: readonly EventKey[];
  readonly replies: readonly EventKey[];
  /** The service that answers (the operation's when it receives the request). */
  readonly responderId?: string;
  readonly replyChannelId?: string;
  readonly replyAddress?: string;
}

export interface TrafficIndex {
  readonly byKey: ReadonlyMap<EventKey, Traffic>;
  readonly pairs: readonly ReplyPair[];
}

export function buildTraffic(catalog: Catalog): TrafficIndex {
  const byKey = new Map<EventKey, { senders: Flow[]; receivers: Flow[] }>();
  const entry = (key: EventKey) => {
    let e = byKey.get(key);
    if (!e) byKey.set(key, (e = { senders: [], receivers: [] }));
    return e;
  };
  const pairs: ReplyPair[] = [];
  const flow = (op: Operation, role: FlowRole): Flow => ({
    serviceId: op.serviceId,
    operationId: op.id,
    channelId: op.channelId,
    role,
    ...(op.consumerGroup !== undefined ? { consumerGroup: op.consumerGroup } : {}),
  });
  for (const service of catalog.services) {
    for (const op of service.operations) {
      for (const key of op.messages) {
        if (op.action === 'send') entry(key).senders.push(flow(op, op.reply ? 'requests' : 'publishes'));
        else entry(key).receivers.push(flow(op, 'subscribes'));
      }
      if (!op.reply) continue;
      for (const key of op.reply.messages) {
        if (op.action === 'receive') entry(key).senders.push(flow(op, 'answers'));
        else entry(key).receivers.push(flow(op, 'awaits reply'));
      }
      pairs.push({
        serviceId: op.serviceId,
        operation: op,
        requests: op.messages,
        replies: op.reply.messages,
        ...(op.action === 'receive' ? { responderId: op.serviceId } : {}),
        ...(op.reply.channelId !== undefined ? { replyChannelId: op.reply.channelId } : {}),
        ...(op.reply.address !== undefined ? { replyAddress: op.reply.address } : {}),
      });
    }
  }
  // Requesters whose documents cannot declare the reply still receive it.
  for (const pair of pairs) {
    if (pair.operation.action !== 'receive') continue;
    for (const request of pair.requests) {
      for (const sender of byKey.get(request)?.senders ?? []) {
        for (const reply of pair.replies) {
          const e = entry(reply);
          if (!e.receivers.some((r) => r.serviceId === sender.serviceId)) e.receivers.push({ ...sender, role: 'awaits reply' });
        }
      }
    }
  }
  return { byKey, pairs };
}
