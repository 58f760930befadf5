/**
 * The RabbitMQ topology a contract implies (AsyncAPI `amqp` bindings 0.3.0): the events
 * exchange and its dead-letter exchange, every exchange a channel's `bindings.amqp.exchange`
 * names, and per receive operation a durable queue for its consumer group (`x-consumer-group`,
 * else defaultGroup()) bound to the channel address with `{param}` → `*`, plus the group's
 * dead-letter parking queue `deadletter.<group>`. Request/reply: the rpc exchange
 * (`<exchange>.rpc`) is on the plan when the contract has a responder; responder queues are
 * created and deleted with their responders.
 *
 * It also returns the per-subject bindings the AmqpTransport needs at run time, so a
 * publisher sends `transaction.*.completed.v1` to the exchange the contract names.
 */
import type { Catalog, Channel } from '../catalog/model.js';
import type { Diagnostic, SourceLocation } from '../diagnostics.js';
import type { AmqpExchangeSpec, AmqpProvisionPlan, AmqpProvisionQueue, AmqpQueueSpec, AmqpSubjectBinding } from '../runtime/amqp/types.js';
import { defaultGroup, subjectPattern } from './nats-plan.js';

export interface AmqpPlanOptions {
  /** The events exchange, as given to the transport. Default 'events'. */
  exchange?: string;
  /** Default `<exchange>.dlx`, as in the transport. */
  deadLetterExchange?: string;
  /** Default `<exchange>.retry` (a headers exchange into the delay queues), as in the transport. */
  retryExchange?: string;
  /** Default `<exchange>.rpc` (requests, routing key = subject), as in the transport. */
  rpcExchange?: string;
  /** Prepended to queues named after groups and subjects, as the transport's `queuePrefix`. */
  queuePrefix?: string;
  /** Prepended to exchange and queue names taken from bindings (tests, shared brokers). */
  bindingPrefix?: string;
}

export interface AmqpPlan {
  plan: AmqpProvisionPlan;
  /** For AmqpTransportOptions.bindings: subject pattern → exchange / queue from the contract. */
  subjects: Record<string, AmqpSubjectBinding>;
  diagnostics: Diagnostic[];
}

type ExchangeType = NonNullable<AmqpExchangeSpec['type']>;
const TYPES: readonly string[] = ['topic', 'direct', 'fanout', 'headers'];

function record(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

interface Described {
  exchange?: AmqpExchangeSpec & { vhost?: string };
  queue?: AmqpQueueSpec & { vhost?: string };
}

/** Reads `bindings.amqp` of a channel; problems become diagnostics at the channel. */
function describe(channel: Channel, prefix: string, diagnostics: Diagnostic[]): Described {
  const amqp = record(channel.bindings['amqp']);
  if (!amqp) return {};
  const out: Described = {};
  const is = amqp['is'] ?? 'routingKey';
  const ex = record(amqp['exchange']);
  if (ex && typeof ex['name'] === 'string' && ex['name'] !== '') {
    const type = ex['type'] ?? 'topic';
    if (typeof type !== 'string' || !TYPES.includes(type)) {
      diagnostics.push({ code: 'AMQP_EXCHANGE_TYPE', severity: 'error', message: `channel ${channel.id}: exchange type ${JSON.stringify(type)} is not one of ${TYPES.join(', ')}`, location: channel.location });
    } else {
      if (type !== 'topic') {
        diagnostics.push({
          code: 'AMQP_EXCHANGE_NOT_TOPIC',
          severity: 'warning',
          message: `channel ${channel.id}: exchange ${ex['name']} is a ${type} exchange; routing keys are subjects, so group queues are bound with the address pattern and wildcards only work on topic exchanges`,
          location: channel.location,
        });
      }
      out.exchange = {
        name: prefix + ex['name'],
        type: type as ExchangeType,
        durable: ex['durable'] !== false,
        autoDelete: ex['autoDelete'] === true,
        ...(typeof ex['vhost'] === 'string' ? { vhost: ex['vhost'] } : {}),
      };
    }
  }
  const q = record(amqp['queue']);
  if (is === 'queue' && q && typeof q['name'] === 'string' && q['name'] !== '') {
    out.queue = {
      name: prefix + q['name'],
      durable: q['durable'] !== false,
      exclusive: q['exclusive'] === true,
      autoDelete: q['autoDelete'] === true,
      ...(typeof q['vhost'] === 'string' ? { vhost: q['vhost'] } : {}),
    };
  }
  return out;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

export function amqpPlan(catalog: Catalog, options: AmqpPlanOptions = {}): AmqpPlan {
  const diagnostics: Diagnostic[] = [];
  const prefix = options.bindingPrefix ?? '';
  const queuePrefix = options.queuePrefix ?? '';
  const events: AmqpExchangeSpec = { name: options.exchange ?? 'events', type: 'topic', durable: true, autoDelete: false };
  const dlx: AmqpExchangeSpec = { name: options.deadLetterExchange ?? `${events.name}.dlx`, type: 'topic', durable: true, autoDelete: false };
  // Retries pass through it into per-delay queues, which consumers declare themselves.
  const retry: AmqpExchangeSpec = { name: options.retryExchange ?? `${events.name}.retry`, type: 'headers', durable: true, autoDelete: false };

  // Subject pattern → what the channels say about it, wherever it is described (the
  // publisher's document usually carries the binding, the consumer's does not).
  const subjects = new Map<string, { d: Described; at: SourceLocation }>();
  const exchanges = new Map<string, { spec: AmqpExchangeSpec & { vhost?: string }; at: SourceLocation }>([
    [events.name, { spec: events, at: { file: '(default)', line: 0, column: 0 } }],
    [dlx.name, { spec: dlx, at: { file: '(default)', line: 0, column: 0 } }],
    [retry.name, { spec: retry, at: { file: '(default)', line: 0, column: 0 } }],
  ]);
  // Requests travel on the rpc exchange; the generated permissions let no service declare an
  // exchange, so it is provisioned here when the contract has request/reply.
  if (catalog.services.some((s) => s.operations.some((op) => op.action === 'receive' && op.reply))) {
    const rpc: AmqpExchangeSpec = { name: options.rpcExchange ?? `${events.name}.rpc`, type: 'topic', durable: true, autoDelete: false };
    exchanges.set(rpc.name, { spec: rpc, at: { file: '(default)', line: 0, column: 0 } });
  }
  for (const service of catalog.services) {
    for (const channel of service.channels) {
      if (channel.address === undefined) continue;
      const d = describe(channel, prefix, diagnostics);
      if (!d.exchange && !d.queue) continue;
      const pattern = subjectPattern(channel.address);
      const seen = subjects.get(pattern);
      if (seen && !same(seen.d, d)) {
        diagnostics.push({
          code: 'AMQP_BINDING_CONFLICT',
          severity: 'error',
          message: `subject ${pattern} has different amqp bindings in two channels; the first one wins`,
          location: channel.location,
          related: seen.at,
        });
        continue;
      }
      subjects.set(pattern, { d, at: channel.location });
      if (d.exchange) {
        const known = exchanges.get(d.exchange.name);
        if (known && !same(known.spec, d.exchange)) {
          diagnostics.push({
            code: 'AMQP_EXCHANGE_CONFLICT',
            severity: 'error',
            message: `exchange ${d.exchange.name} is described differently by two channels (RabbitMQ refuses to redeclare it differently)`,
            location: channel.location,
            related: known.at,
          });
        } else exchanges.set(d.exchange.name, { spec: d.exchange, at: channel.location });
      }
    }
  }

  const queues = new Map<string, AmqpProvisionQueue>();
  const bindings = new Map<string, { queue: string; exchange: string; pattern: string }>();
  const addQueue = (q: AmqpProvisionQueue) => {
    const known = queues.get(q.name);
    if (!known) queues.set(q.name, q);
  };
  for (const service of catalog.services) {
    for (const op of service.operations) {
      if (op.action !== 'receive' || op.reply) continue;
      const channel = service.channels.find((c) => c.id === op.channelId);
      if (channel?.address === undefined) continue;
      const pattern = subjectPattern(channel.address);
      const d = subjects.get(pattern)?.d ?? {};
      const group = op.consumerGroup ?? defaultGroup(service.id, op.id);
      const { vhost: _qv, ...queue } = d.queue ?? { name: `${queuePrefix}${group}`, durable: true, exclusive: false, autoDelete: false };
      addQueue(queue);
      const exchange = d.exchange?.name ?? events.name;
      bindings.set(`${queue.name}\0${exchange}\0${pattern}`, { queue: queue.name, exchange, pattern });
      // Dead letters of the group wait here until a reader subscribes (see AmqpTransport).
      addQueue({ name: `${queuePrefix}deadletter.${group}`, durable: true, exclusive: false, autoDelete: false });
    }
  }

  const byName = <T extends { name: string }>(a: T, b: T) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  const subjectBindings: Record<string, AmqpSubjectBinding> = {};
  for (const [pattern, { d }] of [...subjects].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const b: AmqpSubjectBinding = {};
    if (d.exchange) {
      const { vhost: _v, ...e } = d.exchange;
      b.exchange = e;
    }
    if (d.queue) {
      const { vhost: _v, ...q } = d.queue;
      b.queue = q;
    }
    subjectBindings[pattern] = b;
  }
  return {
    plan: {
      exchanges: [...exchanges.values()].map((e) => e.spec).sort(byName),
      queues: [...queues.values()].sort(byName),
      bindings: [...bindings.values()].sort((a, b) => (`${a.queue} ${a.exchange} ${a.pattern}` < `${b.queue} ${b.exchange} ${b.pattern}` ? -1 : 1)),
    },
    subjects: subjectBindings,
    diagnostics,
  };
}

/**
 * The part of a plan that lives on one virtual host (a connection reaches one): exchanges
 * declared for another vhost, and bindings to them, are left out and listed.
 */
export function planForVhost(plan: AmqpProvisionPlan, vhost: string): { plan: AmqpProvisionPlan; skipped: string[] } {
  const here = (v: string | undefined) => v === undefined || v === vhost;
  const elsewhere = new Set((plan.exchanges ?? []).filter((e) => !here(e.vhost)).map((e) => e.name));
  const skipped = [
    ...(plan.exchanges ?? []).filter((e) => !here(e.vhost)).map((e) => `exchange ${e.name} (vhost ${e.vhost})`),
    ...(plan.queues ?? []).filter((q) => !here((q as { vhost?: string }).vhost)).map((q) => `queue ${q.name} (vhost ${(q as { vhost?: string }).vhost})`),
    ...(plan.bindings ?? []).filter((b) => elsewhere.has(b.exchange)).map((b) => `binding ${b.exchange} → ${b.queue} (${b.pattern})`),
  ];
  return {
    plan: {
      exchanges: (plan.exchanges ?? []).filter((e) => here(e.vhost)),
      queues: (plan.queues ?? []).filter((q) => here((q as { vhost?: string }).vhost)),
      bindings: (plan.bindings ?? []).filter((b) => !elsewhere.has(b.exchange)),
    },
    skipped,
  };
}
