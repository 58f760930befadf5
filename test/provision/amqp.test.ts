/**
 * RabbitMQ topology from the contract: the plan for asyncapi/, applied twice to the shared
 * broker under a unique prefix (created, then unchanged), consistent with what the
 * transport declares at run time, and deleted afterwards.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { Catalog } from '../../src/catalog/model.js';
import { amqpPlan } from '../../src/provision/amqp-plan.js';
import { AmqpTransport, provisionAmqp, type AmqpProvisionPlan } from '../../src/runtime/amqp/index.js';
import { createEventBus } from '../../src/runtime/index.js';
import { openWorkspace } from '../../src/workspace.js';
import { AMQP_URL, deleteTopology } from '../runtime/amqp-helpers.js';
import { descriptor, rand, waitFor } from '../runtime/helpers.js';

const at = { file: 'x.yaml', line: 1, column: 1 };

/** A catalog with just the fields the plan reads. */
function catalog(services: Array<{ id: string; channels: Array<{ id: string; address: string; amqp?: unknown }>; receive: Array<{ id: string; channel: string; group?: string; reply?: boolean }> }>): Catalog {
  return {
    events: [],
    services: services.map((s) => ({
      id: s.id,
      channels: s.channels.map((c) => ({ id: c.id, serviceId: s.id, address: c.address, parameters: [], messages: [], bindings: c.amqp ? { amqp: c.amqp } : {}, location: at })),
      operations: s.receive.map((o) => ({
        id: o.id,
        serviceId: s.id,
        action: 'receive',
        channelId: o.channel,
        messages: [],
        bindings: {},
        security: [],
        location: at,
        ...(o.group ? { consumerGroup: o.group } : {}),
        ...(o.reply ? { reply: { messages: [] } } : {}),
      })),
    })),
  } as unknown as Catalog;
}

describe('amqpPlan', () => {
  it('binds a group queue on the exchange another service\'s channel names; default group and exchange otherwise', () => {
    const { plan, subjects, diagnostics } = amqpPlan(
      catalog([
        { id: 'pay', channels: [{ id: 'done', address: 'tx.{id}.done', amqp: { is: 'routingKey', exchange: { name: 'ledger', type: 'topic', durable: true, vhost: '/l' } } }], receive: [] },
        {
          id: 'notify',
          channels: [
            { id: 'done', address: 'tx.{id}.done' },
            { id: 'up', address: 'user.up' },
          ],
          receive: [
            { id: 'onDone', channel: 'done', group: 'receipts' },
            { id: 'on.up', channel: 'up' },
            { id: 'ask', channel: 'up', group: 'rpc', reply: true },
          ],
        },
      ]),
    );
    expect(diagnostics).toEqual([]);
    expect(plan.exchanges!.map((e) => [e.name, e.type, e.vhost])).toEqual([
      ['events', 'topic', undefined],
      ['events.dlx', 'topic', undefined],
      ['events.retry', 'headers', undefined],
      // The contract answers requests, and services may not declare exchanges.
      ['events.rpc', 'topic', undefined],
      ['ledger', 'topic', '/l'],
    ]);
    expect(plan.queues!.map((q) => q.name)).toEqual(['deadletter.notify-on-up', 'deadletter.receipts', 'notify-on-up', 'receipts']);
    expect(plan.bindings).toEqual([
      { queue: 'notify-on-up', exchange: 'events', pattern: 'user.up' },
      { queue: 'receipts', exchange: 'ledger', pattern: 'tx.*.done' },
    ]);
    expect(subjects).toEqual({ 'tx.*.done': { exchange: { name: 'ledger', type: 'topic', durable: true, autoDelete: false } } });
  });

  it('an `is: queue` binding names the queue; conflicting descriptions are diagnostics', () => {
    const { plan, diagnostics } = amqpPlan(
      catalog([
        { id: 'a', channels: [{ id: 'c', address: 'a.b', amqp: { is: 'queue', queue: { name: 'work', durable: true } } }], receive: [{ id: 'r', channel: 'c', group: 'g' }] },
        { id: 'b', channels: [{ id: 'c', address: 'a.b', amqp: { is: 'queue', queue: { name: 'other' } } }, { id: 'x', address: 'x.y', amqp: { exchange: { name: 'e', type: 'nope' } } }], receive: [] },
      ]),
    );
    expect(plan.queues!.map((q) => q.name)).toContain('work');
    expect(plan.bindings).toEqual([{ queue: 'work', exchange: 'events', pattern: 'a.b' }]);
    expect(diagnostics.map((d) => [d.code, d.severity])).toEqual([
      ['AMQP_BINDING_CONFLICT', 'error'],
      ['AMQP_EXCHANGE_TYPE', 'error'],
    ]);
  });
});

describe('provisionAmqp with the plan of asyncapi/', () => {
  const p = `prov${rand()}`;
  let plan: AmqpProvisionPlan | undefined;
  afterAll(async () => {
    if (plan) await deleteTopology({ queues: plan.queues!.map((q) => q.name), exchanges: plan.exchanges!.map((e) => e.name) });
  });

  it('creates exchanges, queues and bindings, finds them unchanged the second time, and the transport agrees', async () => {
    const ws = await openWorkspace(['asyncapi']);
    const options = { exchange: `${p}.events`, queuePrefix: `${p}.`, bindingPrefix: `${p}.` };
    const built = amqpPlan(ws.catalog, options);
    plan = built.plan;
    expect(built.diagnostics).toEqual([]);
    expect(plan.exchanges!.map((e) => e.name)).toEqual([`${p}.events`, `${p}.events.dlx`, `${p}.events.retry`, `${p}.events.rpc`, `${p}.transactions`]);
    const groups = ['notifications-maintenance', 'notifications-payment-alerts', 'notifications-receipts', 'notifications-welcome', 'payments-user-cleanup'];
    expect(plan.queues!.map((q) => q.name).sort()).toEqual([...groups.map((g) => `${p}.${g}`), ...groups.map((g) => `${p}.deadletter.${g}`)].sort());
    expect(plan.bindings).toContainEqual({ queue: `${p}.notifications-receipts`, exchange: `${p}.transactions`, pattern: 'transaction.*.completed.v1' });
    expect(plan.bindings).toContainEqual({ queue: `${p}.payments-user-cleanup`, exchange: `${p}.events`, pattern: 'user.deleted.v1' });

    const first = await provisionAmqp(AMQP_URL, plan);
    expect([...first.exchanges, ...first.queues].every((x) => x.action === 'created')).toBe(true);
    expect(first.bindings.map((b) => b.key)).toContain('transaction.*.completed.v1');
    const second = await provisionAmqp(AMQP_URL, plan);
    expect([...second.exchanges, ...second.queues].every((x) => x.action === 'unchanged')).toBe(true);
    expect(second.bindings).toEqual(first.bindings);

    // A publisher configured with the contract's subject bindings reaches the provisioned
    // queue through the contract's exchange; the consumer declares the same queue without
    // a 406, so plan and transport agree on names and arguments.
    const t = await AmqpTransport.connect({ url: AMQP_URL, exchange: `${p}.events`, queuePrefix: `${p}.`, bindings: built.subjects });
    const bus = createEventBus({ transport: t, source: 'test/provision' });
    try {
      const ev = descriptor<{ n: number }>('transaction.completed', '1.0.0', 'transaction.{accountId}.completed.v1', (d) => ({ ok: true, value: d as { n: number } }));
      await bus.publish(ev, { n: 1 }, { params: { accountId: 'a1' }, id: 'provisioned-1' });
      const got: string[] = [];
      await bus.subscribe({ group: 'notifications-receipts', handlers: [{ type: ev.type, accepts: [ev], handle: async (e) => void got.push(e.id) }] });
      await waitFor(() => got.length === 1, 10_000, 'the event through the provisioned exchange');
      expect(got).toEqual(['provisioned-1']);
    } finally {
      await bus.close();
    }
  }, 60_000);

  it('an exchange that exists with another type is reported by name, not changed', async () => {
    const name = `${p}.squat`;
    await provisionAmqp(AMQP_URL, { exchanges: [{ name, type: 'fanout', durable: false }] });
    try {
      await expect(provisionAmqp(AMQP_URL, { exchanges: [{ name, type: 'topic' }] })).rejects.toThrow(new RegExp(`exchange ${name}: .*PRECONDITION_FAILED`));
    } finally {
      await deleteTopology({ exchanges: [name] });
    }
  });
});
