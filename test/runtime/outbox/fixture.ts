/** The events the outbox tests add, shared by the tests and the relay worker process. */
import type { EventDescriptor, HeaderContract, ValidationResult } from '../../../src/runtime/index.js';

export interface OrderPlaced {
  orderId: string;
  seq: number;
  note?: string;
}

export function orderValidator(d: unknown): ValidationResult<OrderPlaced> {
  if (typeof d !== 'object' || d === null || Array.isArray(d)) return { ok: false, errors: [{ path: '', message: 'must be object' }] };
  const o = d as Record<string, unknown>;
  const errors = [];
  if (typeof o['orderId'] !== 'string' || o['orderId'] === '') errors.push({ path: '/orderId', message: 'must be a non-empty string' });
  if (typeof o['seq'] !== 'number') errors.push({ path: '/seq', message: 'must be number' });
  return errors.length > 0 ? { ok: false, errors } : { ok: true, value: o as unknown as OrderPlaced };
}

/** order.placed@1.0.0 on `<prefix>.orders.{orderId}.placed`. */
export function orderPlaced(prefix: string): EventDescriptor<OrderPlaced> {
  return { type: 'order.placed', version: '1.0.0', address: `${prefix}.orders.{orderId}.placed`, parameters: ['orderId'], validate: orderValidator };
}

/** A contract with headers (a tenant, the conversation, a trace) and an event-id field. */
export const tenantHeaders: HeaderContract = {
  names: ['x-tenant', 'x-correlation-id', 'traceparent'],
  validate: (h: unknown) => {
    const o = h as Record<string, unknown>;
    return typeof o['x-tenant'] === 'string' && /^[a-z]+$/.test(o['x-tenant']) ? { ok: true, value: o } : { ok: false, errors: [{ path: '/x-tenant', message: 'must be lowercase letters' }] };
  },
};

export interface Shipped {
  eventId: string;
  orderId: string;
}

export function orderShipped(prefix: string): EventDescriptor<Shipped> {
  return {
    type: 'order.shipped',
    version: '1.0.0',
    address: `${prefix}.orders.{orderId}.shipped`,
    parameters: ['orderId'],
    headers: tenantHeaders,
    eventIdField: 'eventId',
    validate: (d) =>
      typeof d === 'object' && d !== null && typeof (d as Shipped).eventId === 'string' && typeof (d as Shipped).orderId === 'string'
        ? { ok: true, value: d as Shipped }
        : { ok: false, errors: [{ path: '', message: 'needs eventId and orderId' }] },
  };
}
