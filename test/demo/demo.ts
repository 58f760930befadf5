/**
 * `npm run demo [-- --transport nats|amqp|kafka] [--observe] [--secure]`: the workspace's services
 * talking over the local NATS (or RabbitMQ, or Kafka) through the generated clients — the code a
 * service team writes. Kafka is EC_KAFKA_BOOTSTRAP=host:port, else a broker started for the run
 * (see kafka.ts).
 *
 * `npm run demo -- --event-sourcing [--store postgres|nats]`: the payments service keeps accounts
 * as event-sourced aggregates instead: appends, a concurrency conflict, a replay from a snapshot
 * and a projection rebuild (see event-sourcing.ts).
 *
 *   users          publishes user.created@2.0.0 and user.deleted@1.0.0
 *   notifications  handles user.created (durable group notifications-welcome) and asks
 *                  the platform for its health (request/reply)
 *   payments       handles user.deleted and cancels the user's open transaction
 *   platform       answers system.health.check with system.health.status
 */
import { randomUUID } from 'node:crypto';
import { createEventBus, type EventBus, type Transport } from 'event-contracts/runtime';
import { NatsTransport, provisionNats } from 'event-contracts/runtime/nats';
import { connectAmqp, provisionAmqp } from 'event-contracts/runtime/amqp';
import {
  amqpBindings,
  amqpProvisioning,
  NotificationsServiceClient,
  PaymentsServiceClient,
  PlatformServiceClient,
  TransactionCancelledV1Event,
  UsersServiceClient,
  natsProvisioning,
} from '../../generated/index.js';

// The same code runs over any of the brokers: the transport is configuration (`--transport amqp`).
const transportName = process.argv.includes('--transport') ? process.argv[process.argv.indexOf('--transport') + 1] : 'nats';
if (transportName !== 'nats' && transportName !== 'amqp' && transportName !== 'kafka') throw new Error(`unknown transport ${transportName}: nats, amqp or kafka`);
const natsServer = process.env.NATS_URL ?? '127.0.0.1:4222';
const amqpServer = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const log = (who: string, text: string) => console.log(`${who.padEnd(13)} ${text}`);
// `--event-sourcing [--store postgres|nats]`: a mode of its own, on the event store instead of a broker.
const eventSourcing = process.argv.includes('--event-sourcing');
const storeName = process.argv.includes('--store') ? process.argv[process.argv.indexOf('--store') + 1] : 'postgres';
if (storeName !== 'postgres' && storeName !== 'nats') throw new Error(`unknown store ${storeName}: postgres or nats`);
if (eventSourcing && ['--transport', '--observe', '--secure'].some((flag) => process.argv.includes(flag))) throw new Error('--event-sourcing runs alone (with --store postgres|nats)');
// `--observe`: OpenTelemetry metrics (served for Prometheus) and traces (printed as trees).
const observe = process.argv.includes('--observe') ? await (await import('./observe.js')).startObservability(log) : undefined;
// `--secure`: a nats-server with the generated permissions and TLS, signed events, an audit trail (see secure.ts).
if (process.argv.includes('--secure') && transportName !== 'nats') throw new Error('--secure runs over NATS only');
const secure = process.argv.includes('--secure') ? await (await import('./secure.js')).startSecureDemo(log) : undefined;
// Loaded only when asked for: the other modes never load a Kafka client.
const kafka = transportName === 'kafka' ? await (await import('./kafka.js')).startKafkaDemo(log) : undefined;

async function connect(source: string): Promise<Transport> {
  if (secure) return secure.connect(source);
  if (kafka) return kafka.connect(source);
  if (transportName === 'amqp') {
    // Events no queue is bound for (nobody receives transaction.cancelled here) are dropped, as on NATS.
    return connectAmqp(amqpServer, { bindings: amqpBindings, unroutable: 'drop' });
  }
  return NatsTransport.connect({ connect: { servers: natsServer } });
}

async function bus(source: string): Promise<EventBus> {
  const transport = await connect(source);
  const system = transportName === 'amqp' ? 'rabbitmq' : transportName === 'kafka' ? 'kafka' : 'nats';
  const middleware = [...(observe?.middleware(source, system) ?? []), ...(secure?.middleware(source) ?? [])];
  return createEventBus({ transport, source, middleware });
}

async function provision(): Promise<void> {
  if (kafka) {
    log('provision', await kafka.provision());
    return;
  }
  if (transportName === 'amqp') {
    const result = await provisionAmqp(amqpServer, amqpProvisioning);
    log('provision', `RabbitMQ: ${result.exchanges.length} exchanges, ${result.queues.length} queues, ${result.bindings.length} bindings`);
    return;
  }
  if (secure) {
    log('provision', await secure.provision(natsProvisioning));
    return;
  }
  // Streams and durable consumers come from the contract; a single local server holds one replica.
  const provisioning = { ...natsProvisioning, streams: natsProvisioning.streams?.map((s) => ({ ...s, replicas: 1 })) };
  const provisioned = await provisionNats({ servers: natsServer }, provisioning);
  log('provision', `NATS: ${provisioned.streams.map((s) => `${s.name} ${s.action}`).join(', ')}`);
}

async function main(): Promise<void> {
  await provision();

  const [usersBus, notificationsBus, paymentsBus, platformBus] = await Promise.all(['users-service', 'notifications-service', 'payments-service', 'platform-service'].map(bus));
  const users = new UsersServiceClient(usersBus!);
  const notifications = new NotificationsServiceClient(notificationsBus!);
  const payments = new PaymentsServiceClient(paymentsBus!);
  const platform = new PlatformServiceClient(platformBus!);

  // Contract headers every producer sets (StandardHeaders); correlation, causation, trace and
  // Nats-Msg-Id are filled by the runtime.
  const headers = { 'x-tenant': 'acme' };
  const userId = randomUUID();
  const accountId = `acc_${randomUUID().replace(/-/g, '').slice(0, 20)}`;
  let welcomed = false;
  let cancelled = false;

  await notifications.onUserCreated(async (event) => {
    if (event.data.userId !== userId) return; // events of earlier runs are acknowledged and skipped
    welcomed = true;
    log('notifications', `welcome e-mail to ${event.data.email} (${event.data.givenName}, ${event.data.locale})`);
  });

  await payments.onUserDeleted(async (event, ctx) => {
    if (event.data.userId !== userId) return;
    // A follow-up event: causation and correlation ids and the trace are carried over; data
    // headers such as the tenant are the handler's to set (here, the user's tenant).
    await ctx.publish(
      TransactionCancelledV1Event,
      {
        eventId: randomUUID(),
        transactionId: randomUUID(),
        accountId,
        userId,
        reason: 'user_deleted',
        cancelledBy: { type: 'system', id: 'payments-user-cleanup' },
        cancelledAt: new Date().toISOString(),
      },
      { params: { accountId }, headers: { 'x-tenant': ctx.headers.get('x-tenant') ?? headers['x-tenant'] } },
    );
    cancelled = true;
    log('payments', `cancelled the open transaction of ${event.data.userId} on transaction.${accountId}.cancelled.v1`);
  });

  const started = Date.now();
  await platform.onHealthCheck(async (request) => ({
    requestId: request.data.requestId,
    service: 'platform',
    instanceId: 'platform-1',
    status: 'up',
    uptimeSeconds: Math.round((Date.now() - started) / 1000),
    checks: [{ name: 'nats', status: 'up', latencyMs: 1 }],
    checkedAt: new Date().toISOString(),
  }));

  await users.publishUserCreatedV2({
    eventId: randomUUID(),
    userId,
    email: 'ada@example.com',
    emailVerified: true,
    givenName: 'Ada',
    familyName: 'Lovelace',
    locale: 'en-GB',
    roles: ['customer'],
    createdAt: new Date().toISOString(),
  }, headers);
  log('users', `published user.created@2.0.0 for ${userId}`);

  // Invalid data never leaves the process: the generated validator runs before sending.
  try {
    await users.publishUserCreatedV2({ eventId: 'not-a-uuid' } as never, headers);
  } catch (error) {
    log('users', `refused an invalid user.created: ${(error as Error).message.split('\n')[0]}`);
  }

  const reply = await notifications.checkHealth({
    requestId: randomUUID(),
    requester: { service: 'notifications', instanceId: 'notifications-1' },
    requestedAt: new Date().toISOString(),
  }, headers);
  log('notifications', `platform health: ${reply.data.status} (reply ${reply.type}@${reply.version}, correlation ${reply.correlationId ?? '-'})`);

  await users.publishUserDeleted({
    eventId: randomUUID(),
    userId,
    reason: 'user_request',
    erasure: 'soft',
    requestedBy: { type: 'user', id: userId },
    deletedAt: new Date().toISOString(),
  }, headers);
  log('users', `published user.deleted@1.0.0 for ${userId}`);

  const deadline = Date.now() + 15_000;
  while (!(welcomed && cancelled) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  if (secure) await secure.finish(paymentsBus!);
  await Promise.all([usersBus, notificationsBus, paymentsBus, platformBus].map((b) => b!.close()));
  if (!(welcomed && cancelled)) throw new Error(`demo incomplete: welcomed=${welcomed} cancelled=${cancelled}`);
  await observe?.finish();
  log('demo', 'done');
}

if (eventSourcing) {
  await (await import('./event-sourcing.js')).runEventSourcingDemo(log, { store: storeName, natsServer });
  log('demo', 'done');
} else {
  try {
    await main();
  } finally {
    await kafka?.stop();
  }
}
