/**
 * The generated NATS permissions (generated/security/nats-accounts.conf) on a real
 * nats-server that the test starts with them, mutual TLS with certificates it makes, and the
 * passwords in the server's environment: every operation the contract grants works for the
 * service that owns it; what it does not grant is refused by the server and reported as
 * PermissionDeniedError; no TLS, a wrong certificate or password are refused with their own
 * typed errors.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { natsPlan } from '../../src/provision/nats-plan.js';
import { AUDIT_STREAM, auditSubject, inboxPrefix, NATS_ADMIN_API_PREFIX, NATS_ADMIN_USER, NATS_AUDIT_READER, passwordVariable } from '../../src/security/nats-acl.js';
import { auditMiddleware, AuthenticationError, createEventBus, transportAuditSink, type AuditRecord, PermissionDeniedError, TlsHandshakeError, type EventBus, type EventDescriptor, type ValidationResult } from '../../src/runtime/index.js';
import { NatsTransport, natsSecurityOptions, provisionNats, type NatsSecurityOptions } from '../../src/runtime/nats/index.js';
import { openWorkspace } from '../../src/workspace.js';
import { rand } from '../runtime/helpers.js';
import { makePki, type Pki } from './pki.js';
import { SecureNatsServer } from './servers.js';

const any = (d: unknown): ValidationResult<Record<string, unknown>> => ({ ok: true, value: d as Record<string, unknown> });
const event = (type: string, address: string): EventDescriptor<Record<string, unknown>> => ({
  type,
  version: '1.0.0',
  address,
  parameters: [...address.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!),
  validate: any,
});
const userDeleted = event('user.deleted', 'user.deleted.v1');
const userCreatedV2 = { ...event('user.created', 'user.created.v2'), version: '2.0.0' };
const txCompleted = { ...event('transaction.completed', 'transaction.{accountId}.completed.v1'), version: '1.1.0' };
const healthCheck = event('system.health.check', 'system.health.check.v1');
const healthStatus = event('system.health.status', 'system.health.status.v1');

const SERVICES = ['users-service', 'payments-service', 'notifications-service', 'platform-service'];

describe('generated NATS permissions on a real server', () => {
  let pki: Pki;
  let server: SecureNatsServer;
  let admin: NatsConnection;
  const passwords = new Map<string, string>();
  const env: Record<string, string> = {};
  const buses: EventBus[] = [];
  const transports: NatsTransport[] = [];
  // Far beyond the tests' own timeouts: a refusal must not be reported by running into one.
  const slow = { publishTimeoutMs: 120_000, publishDeadlineMs: 300_000 };

  const tls = () => ({ ca: { file: pki.ca }, cert: { file: pki.clientCert }, key: { file: pki.clientKey } });
  const security = (user: string): NatsSecurityOptions => ({ tls: tls(), auth: { user, password: { env: passwordVariable(user) } }, inboxPrefix: inboxPrefix(user) });
  const transport = async (user: string) => {
    const t = await NatsTransport.connect({ connect: { servers: server.url, reconnect: false }, security: security(user), ...slow });
    transports.push(t);
    return t;
  };
  const bus = async (service: string) => {
    const b = createEventBus({ transport: await transport(service), source: service });
    buses.push(b);
    return b;
  };
  const denied = (operation: string) => expect.objectContaining({ name: 'PermissionDeniedError', operation, transport: 'nats' });

  beforeAll(async () => {
    pki = makePki();
    for (const u of [...SERVICES, NATS_ADMIN_USER, NATS_AUDIT_READER]) {
      passwords.set(u, `pw-${rand()}${rand()}`);
      env[passwordVariable(u)] = passwords.get(u)!;
      process.env[passwordVariable(u)] = passwords.get(u)!;
    }
    server = await SecureNatsServer.start((port, store) => {
      // The generated fragment as it is committed, included as an operator would.
      // (include paths are relative to the configuration file, which is beside the store.)
      writeFileSync(join(dirname(store), 'nats-accounts.conf'), readFileSync('generated/security/nats-accounts.conf', 'utf8'));
      return `
listen: "127.0.0.1:${port}"
jetstream { store_dir: "${store}" }
tls { cert_file: "${pki.serverCert}", key_file: "${pki.serverKey}", ca_file: "${pki.ca}", verify: true, timeout: 2 }
include "nats-accounts.conf"
`;
    }, env);
    admin = await connect({ servers: server.url, reconnect: false, ...natsSecurityOptions(security(NATS_ADMIN_USER)) });
    const ws = await openWorkspace(['asyncapi'], { examples: false });
    // With `audit` in the config, the plan holds the audit stream the sinks write to.
    const { plan } = natsPlan(ws.catalog, { maxReplicas: 1, audit: { maxAgeMs: 86_400_000 } });
    expect(plan.streams).toContainEqual(expect.objectContaining({ name: AUDIT_STREAM, subjects: ['audit.>'] }));
    // Memory storage: the test's server is gone afterwards anyway.
    // The admin is in its own account: it reaches the EVENTS account's JetStream API under a prefix.
    await provisionNats(admin, { ...plan, streams: (plan.streams ?? []).map((s) => ({ ...s, storage: 'memory' as const })) }, { apiPrefix: NATS_ADMIN_API_PREFIX });
  }, 90_000);

  afterAll(async () => {
    await Promise.allSettled(buses.map((b) => b.close()));
    await Promise.allSettled(transports.map((t) => t.close()));
    await admin?.close();
    await server?.destroy();
    pki?.cleanup();
    for (const u of passwords.keys()) delete process.env[passwordVariable(u)];
  });

  describe('granted', () => {
    it('users-service publishes user.deleted; payments-service handles it in its durable group', async () => {
      const users = await bus('users-service');
      const payments = await bus('payments-service');
      const got = new Promise<unknown>((resolve) => {
        void payments.subscribe({ group: 'payments-user-cleanup', handlers: [{ type: 'user.deleted', accepts: [userDeleted], handle: async (e) => resolve(e.data) }] });
      });
      await users.publish(userDeleted, { userId: 'u1' });
      expect(await got).toEqual({ userId: 'u1' });
    }, 30_000);

    it('payments-service publishes transaction.completed; notifications-service reads it in its group, and dead-letters what its handler refuses', async () => {
      const payments = await bus('payments-service');
      const notifications = await bus('notifications-service');
      const failed = new Promise<void>((resolve) => {
        void notifications.subscribe({
          group: 'notifications-receipts',
          maxDeliver: 1,
          handlers: [
            {
              type: 'transaction.completed',
              accepts: [txCompleted],
              handle: async () => {
                resolve();
                throw new Error('refused by the test');
              },
            },
          ],
        });
      });
      await payments.publish(txCompleted, { transactionId: 't1' }, { params: { accountId: 'acc1' } });
      await failed;
      const jsm = await jetstreamManager(admin, { apiPrefix: NATS_ADMIN_API_PREFIX });
      let stored = 0;
      for (let i = 0; i < 200 && stored === 0; i++) {
        stored = (await jsm.streams.info('DEADLETTER_notifications-receipts')).state.messages;
        if (stored === 0) await new Promise((r) => setTimeout(r, 25));
      }
      expect(stored).toBe(1);
    }, 30_000);

    it('platform-service answers health checks that notifications-service asks', async () => {
      const platform = await bus('platform-service');
      const notifications = await bus('notifications-service');
      await platform.respond(healthCheck, healthStatus, async () => ({ status: 'ok' }), { group: 'platform-health' });
      const reply = await notifications.request(healthCheck, { requestId: 'r1' }, healthStatus, { timeoutMs: 10_000 });
      expect(reply.data).toEqual({ status: 'ok' });
    }, 30_000);

    it('each service may write its own audit subject', async () => {
      const t = await transport('platform-service');
      await expect(t.publishTransient({ subject: 'audit.platform-service', id: 'a', headers: {}, body: new Uint8Array([1]) })).resolves.toBeUndefined();
    }, 30_000);
  });

  describe('refused by the server, reported as PermissionDeniedError', () => {
    it("publishing another service's event", async () => {
      const payments = await bus('payments-service');
      await expect(payments.publish(userCreatedV2, { userId: 'x' })).rejects.toEqual(denied('publish'));
    }, 30_000);

    it('subscribing to an event the service does not receive (core, and durable in a group of its own)', async () => {
      const payments = await bus('payments-service');
      const handlers = [{ type: 'user.created', accepts: [userCreatedV2], handle: async () => undefined }];
      await expect(payments.subscribe({ group: 'payments-snoop', ephemeral: true, handlers })).rejects.toEqual(denied('subscribe'));
      await expect(payments.subscribe({ group: 'payments-snoop', handlers })).rejects.toBeInstanceOf(PermissionDeniedError);
    }, 30_000);

    it("reading another service's durable consumer", async () => {
      const payments = await bus('payments-service');
      const err = await payments
        .subscribe({ group: 'notifications-receipts', handlers: [{ type: 'transaction.completed', accepts: [txCompleted], handle: async () => undefined }] })
        .then(() => undefined, (e: unknown) => e);
      expect(err).toEqual(denied('subscribe'));
    }, 30_000);

    it('answering a request the service does not own', async () => {
      const users = await bus('users-service');
      await expect(users.respond(healthCheck, healthStatus, async () => ({ status: 'forged' }), { group: 'platform-health' })).rejects.toEqual(denied('respond'));
    }, 30_000);

    it('a request the service does not make', async () => {
      const users = await bus('users-service');
      await expect(users.request(healthCheck, { requestId: 'r2' }, healthStatus, { timeoutMs: 60_000 })).rejects.toEqual(denied('request'));
    }, 30_000);
  });

  describe('the admin is an account of its own', () => {
    it("it manages the EVENTS account's streams under its API prefix; at $JS.API it has no JetStream at all", async () => {
      const jsm = await jetstreamManager(admin, { apiPrefix: NATS_ADMIN_API_PREFIX });
      const names: string[] = [];
      for await (const n of jsm.streams.names()) names.push(n);
      expect(names).toEqual(expect.arrayContaining(['USERS', 'TRANSACTIONS', AUDIT_STREAM]));
      // Its own account has no JetStream: the EVENTS account's API is reachable only through the import.
      await expect(jetstreamManager(admin)).rejects.toThrow();
    }, 30_000);

    it('what it publishes on an event subject never reaches the EVENTS account, nor does it see the events there', async () => {
      const jsm = await jetstreamManager(admin, { apiPrefix: NATS_ADMIN_API_PREFIX });
      const before = (await jsm.streams.info('USERS')).state.messages;
      const seen: string[] = [];
      const sniff = admin.subscribe('user.deleted.v1', { callback: (_e, m) => void seen.push(m.string()) });
      admin.publish('user.deleted.v1', JSON.stringify({ userId: 'forged-by-admin' }));
      await admin.flush();
      // A real event after it, from the service that owns it: the stream stores them in the
      // order the server took them, so once the real one is there the forged one would be too.
      const users = await bus('users-service');
      await users.publish(userDeleted, { userId: 'real' });
      let now = before;
      for (let i = 0; i < 400 && now === before; i++) {
        now = (await jsm.streams.info('USERS')).state.messages;
        if (now === before) await new Promise((r) => setTimeout(r, 25));
      }
      expect(now - before).toBe(1);
      const last = await jsm.streams.getMessage('USERS', { last_by_subj: 'user.deleted.v1' });
      expect(last?.json()).toEqual({ userId: 'real' });
      await admin.flush();
      sniff.unsubscribe();
      // Its own subscription saw only its own publish: the service's event is in another account.
      expect(seen).toEqual([JSON.stringify({ userId: 'forged-by-admin' })]);
    }, 30_000);
  });

  describe('audit trail on the AUDIT stream', () => {
    it("a service's audit records (published, denied) reach the stream; only the audit reader reads it; no service writes another's", async () => {
      const t = await transport('payments-service');
      const audit = auditMiddleware({ account: 'payments-service', sinks: [transportAuditSink(t, auditSubject('payments-service'))] });
      const payments = createEventBus({ transport: t, source: 'payments-service', middleware: [audit] });
      buses.push(payments);
      const ok = await payments.publish(txCompleted, { transactionId: 't2' }, { params: { accountId: 'acc2' } });
      await expect(payments.publish(userCreatedV2, { userId: 'x' })).rejects.toBeInstanceOf(PermissionDeniedError);
      await audit.flush();
      expect(audit.stats).toMatchObject({ written: 2, lost: 0 });

      const reader = await transport(NATS_AUDIT_READER);
      const records: AuditRecord[] = [];
      let two!: () => void;
      const got = new Promise<void>((r) => (two = r));
      await reader.consume({ group: 'auditors', subjects: ['audit.>'], maxInFlight: 10 }, (d) => {
        records.push(JSON.parse(new TextDecoder().decode(d.body)) as AuditRecord);
        void d.ack();
        if (records.filter((r) => r.account === 'payments-service').length >= 2) two();
      });
      await got;
      expect(records.filter((r) => r.account === 'payments-service').map((r) => [r.outcome, r.id ?? ''])).toEqual(
        expect.arrayContaining([
          ['published', ok.id],
          ['denied', expect.any(String)],
        ]),
      );
      // Services neither read the audit stream nor write as another service.
      await expect(t.consume({ group: 'snoop', subjects: ['audit.>'], maxInFlight: 1 }, () => undefined)).rejects.toBeInstanceOf(PermissionDeniedError);
      await expect(t.publish({ subject: auditSubject('users-service'), id: `forged-${rand()}`, headers: {}, body: new Uint8Array([1]) })).rejects.toBeInstanceOf(PermissionDeniedError);
    }, 60_000);
  });

  describe('a service that forgets its inbox prefix', () => {
    it('is told so when its first durable publish cannot read its acks', async () => {
      const t = await NatsTransport.connect({ connect: { servers: server.url, reconnect: false }, security: { ...security('payments-service'), inboxPrefix: '' }, ...slow });
      transports.push(t);
      const err = await t.publish({ subject: 'transaction.a.created.v1', id: `i-${rand()}`, headers: {}, body: new Uint8Array([1]) }).then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(PermissionDeniedError);
      expect((err as Error).message).toContain('_INBOX');
    }, 30_000);
  });

  describe('refused connections', () => {
    const attempt = (s: NatsSecurityOptions) =>
      NatsTransport.connect({ connect: { servers: server.url, reconnect: false }, security: s }).then(
        (t) => (transports.push(t), new Error('connected')),
        (e: unknown) => e,
      );

    it('a wrong password: AuthenticationError', async () => {
      const file = join(pki.dir, 'wrong');
      writeFileSync(file, 'wrong');
      expect(await attempt({ tls: tls(), auth: { user: 'payments-service', password: { file } } })).toBeInstanceOf(AuthenticationError);
    }, 30_000);

    it("another service's password: AuthenticationError", async () => {
      expect(await attempt({ tls: tls(), auth: { user: 'payments-service', password: { env: passwordVariable('users-service') } } })).toBeInstanceOf(AuthenticationError);
    }, 30_000);

    it('no TLS settings (the server certificate is not trusted): TlsHandshakeError', async () => {
      expect(await attempt({ auth: { user: 'payments-service', password: { env: passwordVariable('payments-service') } } })).toBeInstanceOf(TlsHandshakeError);
    }, 30_000);

    it('a client certificate of another CA: TlsHandshakeError', async () => {
      const rogue = { ca: { file: pki.ca }, cert: { file: pki.rogueClientCert }, key: { file: pki.rogueClientKey } };
      expect(await attempt({ tls: rogue, auth: { user: 'payments-service', password: { env: passwordVariable('payments-service') } } })).toBeInstanceOf(TlsHandshakeError);
    }, 30_000);
  });
});
