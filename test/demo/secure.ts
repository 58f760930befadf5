/**
 * `npm run demo -- --secure`: the demo's services on a nats-server started here with the
 * generated permissions (generated/security/nats-accounts.conf), mutual TLS with
 * certificates made here by openssl, one account per service (passwords in the server's and
 * the services' environment, never in a file of the repository), signed events (a key pair
 * per service, made here) and an audit trail (JSON lines and the AUDIT stream). At the end
 * it shows what the broker and the signatures refuse: a service publishing another's event,
 * reading another's durable consumer, and an event forged with stolen broker credentials.
 */
import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import {
  auditMiddleware,
  createEventBus,
  jsonLinesAuditSink,
  signedTransport,
  transportAuditSink,
  type AuditMiddleware,
  type EventBus,
  type Middleware,
  type Transport,
} from 'event-contracts/runtime';
import { NatsTransport, natsSecurityOptions, provisionNats, type NatsProvisionPlan, type NatsSecurityOptions } from 'event-contracts/runtime/nats';
import { NotificationsServiceClient, UsersServiceClient } from '../../generated/index.js';
import { makePki, type Pki } from '../security/pki.js';
import { SecureNatsServer } from '../security/servers.js';

const SERVICES = ['users-service', 'notifications-service', 'payments-service', 'platform-service'];
const ADMIN = 'event-contracts-admin';
/** Where the admin account sees the EVENTS account's JetStream API (generated/security/nats-accounts.conf). */
const ADMIN_API_PREFIX = 'EVENTS.JS.API';
const AUDIT_READER = 'audit-reader';
const passwordVariable = (user: string) => `EC_NATS_PASSWORD_${user.toUpperCase().replace(/[^A-Z0-9]+/g, '_')}`;

export interface SecureDemo {
  readonly server: string;
  provision(plan: NatsProvisionPlan): Promise<string>;
  /** The service's transport: TLS, its own account and inbox prefix, signing and verifying. */
  connect(service: string): Promise<Transport>;
  middleware(service: string): Middleware[];
  /** Shows what is refused (payments' bus trying what it may not), prints the audit trail's size, stops the server. */
  finish(paymentsBus: EventBus): Promise<void>;
}

export async function startSecureDemo(log: (who: string, text: string) => void): Promise<SecureDemo> {
  const pki: Pki = makePki();
  const env: Record<string, string> = {};
  for (const u of [...SERVICES, ADMIN, AUDIT_READER]) {
    // nats-server parses a variable's value as a config value: one starting with a digit or
    // '-' is read as a number and fails to parse, so passwords start with a letter.
    env[passwordVariable(u)] = `pw-${randomBytes(18).toString('hex')}`;
    process.env[passwordVariable(u)] = env[passwordVariable(u)];
  }
  const server = await SecureNatsServer.start((port, store) => {
    writeFileSync(join(dirname(store), 'nats-accounts.conf'), readFileSync('generated/security/nats-accounts.conf', 'utf8'));
    return `listen: "127.0.0.1:${port}"
jetstream { store_dir: "${store}" }
tls { cert_file: "${pki.serverCert}", key_file: "${pki.serverKey}", ca_file: "${pki.ca}", verify: true, timeout: 2 }
include "nats-accounts.conf"
`;
  }, env);
  log('secure', `nats-server on tls://${server.url}: mutual TLS, generated/security/nats-accounts.conf, one account per service`);

  // A signing key per service; the public keys are what generated/security/signing-keys.json lists.
  const keys: Record<string, string[]> = {};
  const privateKeys: Record<string, string> = {};
  for (const s of SERVICES) {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    privateKeys[s] = join(pki.dir, `${s}.pem`);
    writeFileSync(privateKeys[s]!, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
    keys[s] = [Buffer.from((publicKey.export({ format: 'jwk' }) as { x: string }).x, 'base64url').toString('base64')];
  }
  const tls = { ca: { file: pki.ca }, cert: { file: pki.clientCert }, key: { file: pki.clientKey } };
  const security = (user: string): NatsSecurityOptions => ({ tls, auth: { user, password: { env: passwordVariable(user) } }, inboxPrefix: `_INBOX_${user}` });
  const raw = async (user: string) => NatsTransport.connect({ connect: { servers: server.url, name: `${user}/demo` }, security: security(user) });
  const opened: Transport[] = [];
  const byService = new Map<string, Transport>();
  const audits = new Map<string, AuditMiddleware>();
  const auditFile = join(pki.dir, 'audit.jsonl');
  let admin: NatsConnection | undefined;
  const deadLetters: Array<{ reason: string; detail: string }> = [];

  return {
    server: server.url,
    async provision(plan) {
      admin = await connect({ servers: server.url, ...natsSecurityOptions(security(ADMIN)) });
      const streams = [...(plan.streams ?? []), { name: 'AUDIT', subjects: ['audit.>'] }].map((s) => ({ ...s, replicas: 1, storage: 'memory' as const }));
      // The admin is an account of its own: the EVENTS account's JetStream API under a prefix.
      const r = await provisionNats(admin, { ...plan, streams }, { apiPrefix: ADMIN_API_PREFIX });
      return `NATS (as ${ADMIN}): ${r.streams.map((s) => `${s.name} ${s.action}`).join(', ')}`;
    },
    async connect(service) {
      const t = signedTransport(await raw(service), { sign: { service, privateKey: { file: privateKeys[service]! } }, verify: { keys } });
      opened.push(t);
      byService.set(service, t);
      return t;
    },
    middleware(service) {
      const t = byService.get(service)!;
      const audit = auditMiddleware({ account: service, instance: `${service}/demo`, sinks: [jsonLinesAuditSink(auditFile), transportAuditSink(t, `audit.${service}`)] });
      audits.set(service, audit);
      const watch: Middleware = { name: 'dead letters', notice: (n) => void (n.kind === 'dead-letter' && deadLetters.push({ reason: n.reason, detail: n.detail })) };
      return [audit, watch];
    },
    async finish(paymentsBus) {
      const refusal = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e);
      const say = (what: string, err: unknown) => log('secure', `${what}: ${err ? `refused, ${(err as Error).name}` : 'NOT REFUSED'}`);
      // The payments service's account used with another service's client: the broker refuses.
      const asUsers = new UsersServiceClient(paymentsBus);
      say('payments-service publishing user.deleted (the users service\'s event)', await refusal(asUsers.publishUserDeleted(userDeleted('forged'), { 'x-tenant': 'acme' })));
      say("payments-service reading notifications' durable consumer", await refusal(new NotificationsServiceClient(paymentsBus).onUserCreated(async () => undefined)));
      // users-service's broker password, stolen, without its signing key: accepted by the
      // broker, dead-lettered by payments with reason 'signature'.
      const thief = createEventBus({ transport: await raw('users-service'), source: 'users-service' });
      await new UsersServiceClient(thief).publishUserDeleted(userDeleted('stolen'), { 'x-tenant': 'acme' });
      for (let i = 0; i < 500 && !deadLetters.some((d) => d.reason === 'signature'); i++) await new Promise((r) => setTimeout(r, 20));
      const dl = deadLetters.find((d) => d.reason === 'signature');
      log('secure', `user.deleted sent with users-service's stolen broker password, no signing key: ${dl ? `dead-lettered by payments (reason signature: ${dl.detail})` : 'NOT dead-lettered'}`);
      await thief.close();
      for (const a of audits.values()) await a.flush();
      const lines = readFileSync(auditFile, 'utf8').trim().split('\n');
      const outcomes = new Map<string, number>();
      for (const l of lines) {
        const o = (JSON.parse(l) as { outcome: string }).outcome;
        outcomes.set(o, (outcomes.get(o) ?? 0) + 1);
      }
      log('audit', `${lines.length} records (${[...outcomes].map(([o, n]) => `${n} ${o}`).join(', ')}), also on the AUDIT stream for the audit reader`);
      await Promise.allSettled(opened.map((t) => t.close()));
      await admin?.close();
      await server.destroy();
      pki.cleanup();
    },
  };
}

function userDeleted(_why: string) {
  const id = randomUUID();
  return { eventId: randomUUID(), userId: id, reason: 'user_request' as const, erasure: 'soft' as const, requestedBy: { type: 'user' as const, id }, deletedAt: new Date().toISOString() };
}
