/**
 * The generated RabbitMQ permissions (generated/security/rabbitmq-acl.sh, run as an operator
 * would, in a vhost and under user names of the test's own, deleted afterwards) on the local
 * broker: every operation the contract grants works for the service that owns it; what it
 * does not grant is refused by the broker (403) and reported as PermissionDeniedError.
 */
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { amqpPlan } from '../../src/provision/amqp-plan.js';
import { amqpPasswordVariable } from '../../src/security/amqp-acl.js';
import { createEventBus, PermissionDeniedError, type EventBus, type EventDescriptor, type ValidationResult } from '../../src/runtime/index.js';
import { AmqpTransport, provisionAmqp, type AmqpSubjectBinding } from '../../src/runtime/amqp/index.js';
import { openWorkspace } from '../../src/workspace.js';
import { rand } from '../runtime/helpers.js';

const ctl = (...args: string[]) => execFileSync('rabbitmqctl', ['-q', ...args], { stdio: 'pipe', timeout: 60_000 });
const any = (d: unknown): ValidationResult<Record<string, unknown>> => ({ ok: true, value: d as Record<string, unknown> });
const event = (type: string, version: string, address: string): EventDescriptor<Record<string, unknown>> => ({
  type,
  version,
  address,
  parameters: [...address.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!),
  validate: any,
});
const userDeleted = event('user.deleted', '1.0.0', 'user.deleted.v1');
const userCreatedV2 = event('user.created', '2.0.0', 'user.created.v2');
const txCompleted = event('transaction.completed', '1.1.0', 'transaction.{accountId}.completed.v1');
const healthCheck = event('system.health.check', '1.0.0', 'system.health.check.v1');
const healthStatus = event('system.health.status', '1.0.0', 'system.health.status.v1');
const SERVICES = ['users-service', 'payments-service', 'notifications-service', 'platform-service'];

describe('generated RabbitMQ permissions on the local broker', () => {
  const id = rand();
  const vhost = `ecacl-${id}`;
  const prefix = `ecacl-${id}-`;
  const env: Record<string, string> = {};
  const buses: EventBus[] = [];
  let bindings: Record<string, AmqpSubjectBinding> = {};
  const url = (service: string) => `amqp://${encodeURIComponent(prefix + service)}:${encodeURIComponent(env[amqpPasswordVariable(service)]!)}@127.0.0.1:5672/${encodeURIComponent(vhost)}`;
  const bus = async (service: string) => {
    const t = await AmqpTransport.connect({ url: url(service), bindings, publishDeadlineMs: 60_000 });
    const b = createEventBus({ transport: t, source: service });
    buses.push(b);
    return b;
  };
  const denied = (operation: string) => expect.objectContaining({ name: 'PermissionDeniedError', operation, transport: 'amqp' });

  beforeAll(async () => {
    for (const s of SERVICES) env[amqpPasswordVariable(s)] = `pw-${rand()}${rand()}`;
    ctl('add_vhost', vhost);
    ctl('set_permissions', '-p', vhost, 'guest', '.*', '.*', '.*');
    // The generated script, as an operator runs it.
    execFileSync('sh', ['generated/security/rabbitmq-acl.sh'], { stdio: 'pipe', timeout: 120_000, env: { ...process.env, ...env, EC_AMQP_VHOST: vhost, EC_AMQP_USER_PREFIX: prefix } });
    const ws = await openWorkspace(['asyncapi'], { examples: false });
    const topology = amqpPlan(ws.catalog);
    bindings = topology.subjects;
    // The rpc exchange is on the plan (responders and requesters may not declare it).
    expect(topology.plan.exchanges).toContainEqual(expect.objectContaining({ name: 'events.rpc', type: 'topic', durable: true }));
    // Provisioned by the admin (here guest), every exchange in the test's vhost.
    await provisionAmqp(`amqp://guest:guest@127.0.0.1:5672/${encodeURIComponent(vhost)}`, {
      ...topology.plan,
      exchanges: (topology.plan.exchanges ?? []).map(({ vhost: _v, ...e }) => e),
    });
  }, 180_000);

  afterAll(async () => {
    await Promise.allSettled(buses.map((b) => b.close()));
    for (const args of [...SERVICES.map((s) => ['delete_user', prefix + s]), ['delete_vhost', vhost]]) {
      try {
        ctl(...args);
      } catch {
        // already gone
      }
    }
  }, 120_000);

  describe('granted', () => {
    it('users-service publishes user.deleted; payments-service handles it in its group, retries included', async () => {
      const users = await bus('users-service');
      const payments = await bus('payments-service');
      let attempts = 0;
      let resolve!: (v: unknown) => void;
      const got = new Promise<unknown>((r) => (resolve = r));
      await payments.subscribe({
        group: 'payments-user-cleanup',
        backoff: { initialMs: 10, maxMs: 20 },
        handlers: [
          {
            type: 'user.deleted',
            accepts: [userDeleted],
            handle: async (e) => {
              if (++attempts === 1) throw new Error('once');
              resolve(e.data);
            },
          },
        ],
      });
      await users.publish(userDeleted, { userId: 'u1' });
      expect(await got).toEqual({ userId: 'u1' });
      expect(attempts).toBe(2);
    }, 60_000);

    it('payments-service publishes transaction.completed to its exchange; notifications-service reads it, and dead-letters what its handler refuses', async () => {
      const payments = await bus('payments-service');
      const notifications = await bus('notifications-service');
      let seen!: () => void;
      const handled = new Promise<void>((r) => (seen = r));
      const notices: string[] = [];
      const notifications2 = createEventBus({
        transport: await AmqpTransport.connect({ url: url('notifications-service'), bindings }),
        source: 'notifications-service',
        middleware: [{ name: 'watch', notice: (n) => void notices.push(n.kind) }],
      });
      buses.push(notifications2);
      await notifications2.subscribe({
        group: 'notifications-receipts',
        maxDeliver: 1,
        handlers: [
          {
            type: 'transaction.completed',
            accepts: [txCompleted],
            handle: async () => {
              seen();
              throw new Error('refused by the test');
            },
          },
        ],
      });
      await payments.publish(txCompleted, { transactionId: 't1' }, { params: { accountId: 'acc1' } });
      await handled;
      // The dead letter is stored (parked in deadletter.notifications-receipts, no reader bound).
      for (let i = 0; i < 400 && !notices.includes('dead-letter'); i++) await new Promise((r) => setTimeout(r, 25));
      expect(notices).toContain('dead-letter');
      expect(notices).not.toContain('dead-letter-failed');
      // Reading dead letters is not the service's to do: refused.
      await expect(notifications.subscribeDeadLetters({ subject: 'deadletter.notifications-receipts', group: 'ops' }, async () => undefined)).rejects.toBeInstanceOf(PermissionDeniedError);
    }, 60_000);

    it('platform-service answers health checks that notifications-service asks', async () => {
      const platform = await bus('platform-service');
      const notifications = await bus('notifications-service');
      await platform.respond(healthCheck, healthStatus, async () => ({ status: 'ok' }), { group: 'platform-health' });
      const reply = await notifications.request(healthCheck, { requestId: 'r1' }, healthStatus, { timeoutMs: 10_000 });
      expect(reply.data).toEqual({ status: 'ok' });
    }, 60_000);
  });

  describe('refused by the broker, reported as PermissionDeniedError', () => {
    it("publishing another service's event", async () => {
      const payments = await bus('payments-service');
      await expect(payments.publish(userCreatedV2, { userId: 'x' })).rejects.toEqual(denied('publish'));
    }, 60_000);

    it('subscribing to an event the service does not receive', async () => {
      const payments = await bus('payments-service');
      await expect(payments.subscribe({ group: 'payments-user-cleanup', handlers: [{ type: 'user.created', accepts: [userCreatedV2], handle: async () => undefined }] })).rejects.toEqual(denied('subscribe'));
    }, 60_000);

    it("reading another service's consumer group queue", async () => {
      const payments = await bus('payments-service');
      await expect(payments.subscribe({ group: 'notifications-receipts', handlers: [{ type: 'transaction.completed', accepts: [txCompleted], handle: async () => undefined }] })).rejects.toEqual(denied('subscribe'));
    }, 60_000);

    it('answering a request the service does not own', async () => {
      const users = await bus('users-service');
      await expect(users.respond(healthCheck, healthStatus, async () => ({ status: 'forged' }), { group: 'platform-health' })).rejects.toEqual(denied('respond'));
    }, 60_000);
  });
});
