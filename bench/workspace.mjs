// A synthetic workspace: `services` AsyncAPI 3.0 documents of `perService` event types each,
// sharing a common schema file through $refs; nested objects, arrays, enums, and a second
// major version for every fifth event type. Used by the generate, check and docs benches.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';

const common = {
  components: {
    schemas: {
      Uuid: { type: 'string', format: 'uuid', description: 'An identifier.' },
      Timestamp: { type: 'string', format: 'date-time' },
      Money: {
        type: 'object',
        required: ['amount', 'currency'],
        properties: { amount: { type: 'string', pattern: '^-?[0-9]+(\\.[0-9]{1,4})?$' }, currency: { type: 'string', enum: ['EUR', 'USD', 'GBP', 'CHF'] } },
      },
      Address: {
        type: 'object',
        required: ['line1', 'country'],
        properties: { line1: { type: 'string', maxLength: 200 }, city: { type: 'string' }, country: { type: 'string', pattern: '^[A-Z]{2}$' } },
      },
    },
  },
};

function payload(service, i, major) {
  const ref = (name) => ({ $ref: `./common.yaml#/components/schemas/${name}` });
  const properties = {
    id: ref('Uuid'),
    occurredAt: ref('Timestamp'),
    status: { type: 'string', enum: ['new', 'active', 'suspended', 'closed'], description: 'Lifecycle state.' },
    total: ref('Money'),
    shipping: ref('Address'),
    lines: {
      type: 'array',
      maxItems: 100,
      items: {
        type: 'object',
        required: ['sku', 'quantity'],
        properties: { sku: { type: 'string', minLength: 1 }, quantity: { type: 'integer', minimum: 1 }, price: ref('Money') },
      },
    },
    attributes: { type: 'object', additionalProperties: { type: 'string' } },
    [`field${i}`]: { type: 'number', minimum: 0, description: `Field specific to event ${i} of ${service}.` },
  };
  const required = ['id', 'occurredAt', 'status'];
  if (major === 2) {
    properties.reason = { type: 'string', maxLength: 500 };
    required.push('reason');
  }
  return { type: 'object', required, properties };
}

function example(i, major) {
  const value = {
    id: '3f1c2a4e-8b7d-4c21-9a0e-5d6f7b8c9d01',
    occurredAt: '2026-01-01T10:00:00Z',
    status: 'active',
    total: { amount: '12.50', currency: 'EUR' },
    lines: [{ sku: 'A-1', quantity: 2 }],
    [`field${i}`]: i,
  };
  if (major === 2) value.reason = 'because';
  return value;
}

export function buildWorkspace(dir, { services = 25, perService = 20 } = {}) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'common.yaml'), stringify(common));
  let eventTypes = 0;
  let versions = 0;
  for (let s = 0; s < services; s++) {
    const service = `service${String(s).padStart(2, '0')}`;
    const channels = {};
    const operations = {};
    const messages = {};
    for (let e = 0; e < perService; e++) {
      const type = `${service}.entity${e}.changed`;
      eventTypes++;
      const majors = e % 5 === 0 ? [1, 2] : [1];
      for (const major of majors) {
        versions++;
        const key = `${service[0].toUpperCase()}${service.slice(1)}Entity${e}ChangedV${major}`;
        messages[key] = {
          name: type,
          'x-version': `${major}.${e % 3}.0`,
          title: `Entity ${e} changed`,
          summary: `Entity ${e} of ${service} changed.`,
          contentType: 'application/json',
          payload: payload(service, e, major),
          examples: [{ name: 'typical', payload: example(e, major) }],
        };
        const channel = `${service}Entity${e}V${major}`;
        channels[channel] = {
          address: `${service}.entity${e}.changed.v${major}`,
          'x-stream': { name: service.toUpperCase(), retention: 'limits', replicas: 1, maxAge: 'P7D' },
          messages: { [key]: { $ref: `#/components/messages/${key}` } },
        };
        operations[`publish${key}`] = { action: 'send', channel: { $ref: `#/channels/${channel}` } };
      }
    }
    const doc = {
      asyncapi: '3.0.0',
      info: { title: `Service ${s}`, version: '1.0.0', description: `Synthetic service ${s}.` },
      channels,
      operations,
      components: { messages },
    };
    writeFileSync(path.join(dir, `${service}.yaml`), stringify(doc));
  }
  return { eventTypes, versions, documents: services };
}

/**
 * What the types step gets from a 500-event workspace: a payload and a headers schema per
 * event (nested objects, arrays, enums, a oneOf, a shared titled schema). Used by the
 * generate bench (timed) and by a test (the output, not the time).
 */
export function typeRequests(count = 500) {
  const money = {
    title: 'Money',
    type: 'object',
    required: ['amount', 'currency'],
    properties: { amount: { type: 'string' }, currency: { type: 'string', enum: ['EUR', 'USD', 'GBP'] } },
  };
  const requests = [];
  for (let i = 0; i < count; i++) {
    requests.push({
      name: `Event${i}V1`,
      description: `Event ${i}`,
      schema: {
        type: 'object',
        required: ['id', 'at'],
        properties: {
          id: { type: 'string', format: 'uuid' },
          at: { type: 'string', format: 'date-time' },
          status: { type: 'string', enum: ['a', 'b', 'c'] },
          amount: money,
          user: {
            type: 'object',
            properties: {
              name: { type: 'string' },
              address: { type: 'object', properties: { street: { type: 'string' }, zip: { type: 'string' } } },
              tags: { type: 'array', items: { type: 'string' } },
            },
          },
          items: {
            type: 'array',
            items: { type: 'object', properties: { sku: { type: 'string' }, qty: { type: 'integer' }, price: money } },
          },
          meta: { type: 'object', additionalProperties: { type: 'string' } },
          u: { oneOf: [{ type: 'string' }, { type: 'integer' }] },
        },
      },
    });
    requests.push({
      name: `Event${i}V1Headers`,
      schema: { type: 'object', properties: { 'x-correlation-id': { type: 'string' }, 'content-type': { const: 'application/json' } } },
    });
  }
  return requests;
}
