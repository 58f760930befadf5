/**
 * The Kafka transport against a broker of its own that authenticates with SASL and enforces
 * ACLs (one KRaft node on free loopback ports: a SASL_PLAINTEXT listener taking PLAIN,
 * SCRAM-SHA-256 and SCRAM-SHA-512, and a plain listener the test administers through).
 * The account `users-svc` may write the users topic and read the payments topic in its
 * group, and nothing else:
 * - each mechanism publishes and consumes;
 * - a wrong password is an AuthenticationError, a password that cannot be read a
 *   SecretUnavailableError, and neither message holds the password;
 * - publishing to a topic without WRITE, reading a topic without READ and joining a group
 *   without READ are each a PermissionDeniedError: the publish rejects (nothing stored), the
 *   consumer does not start; a refused topic in a batch fails only its own publishes;
 * - `provision kafka` takes the same credentials from the command line;
 * - `acl kafka`'s grants for this repository's contract, applied to the broker, let each
 *   service do what its operations need and nothing else (not even with a raw client: no
 *   forged retry of another group, no other service's event).
 */
import { writeFileSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AclOperations, AclPermissionTypes, Admin, Producer, ResourcePatternTypes, ResourceTypes, type Acl } from '@platformatic/kafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthenticationError, createEventBus, PermissionDeniedError, SecretUnavailableError, type EventBus, type RuntimeNotice, type ValidationResult } from '../../src/runtime/index.js';
import { KafkaTransport } from '../../src/runtime/kafka/index.js';
import { DEFAULT_INTERNAL_PREFIX, retryTopics } from '../../src/runtime/kafka/names.js';
import { provisionKafka } from '../../src/runtime/kafka/provision.js';
import { kafkaAuthorizationFailure } from '../../src/runtime/kafka/security.js';
import type { KafkaSecurityOptions } from '../../src/runtime/kafka/types.js';
import { runCli } from '../helpers/cli.js';
import { descriptor, rand, userCreated, waitFor } from '../runtime/helpers.js';
import { openWorkspace } from '../../src/workspace.js';
import { kafkaPlan } from '../../src/provision/kafka-plan.js';
import type { KafkaAclPlan } from '../../src/security/kafka-acl.js';
import { startKafka, type KafkaCluster } from '../services/kafka.mjs';

const USER = 'users-svc';
const PASSWORD = 'pw-7f3a9c1e';
const OTHER = 'payments-svc';
const OTHER_PASSWORD = 'pw-other-55aa';
/** The services of this repository's contract (asyncapi/), each a principal of the broker. */
const CONTRACT_SERVICES = ['users-service', 'payments-service', 'notifications-service', 'platform-service'];
const contractPassword = (service: string) => `pw-${service}-1`;
const anything = (d: unknown): ValidationResult<Record<string, unknown>> => ({ ok: true, value: d as Record<string, unknown> });

describe('kafka with SASL and ACLs', () => {
  let cluster: KafkaCluster;
  let admin: Admin;
  const buses: EventBus[] = [];
  const prefix = `ksasl${rand()}`;
  const usersTopic = `${prefix}.users`;
  const paymentsTopic = `${prefix}.payments`;
  const topology = [
    { name: usersTopic, subjects: [`${prefix}.users.>`] },
    { name: paymentsTopic, subjects: [`${prefix}.payments.>`] },
  ];
  const group = `grp_${rand()}`;
  const users = userCreated(`${prefix}.users`);
  const payments = userCreated(`${prefix}.payments`);
  const dir = mkdtempSync(join(tmpdir(), 'ec-kafka-sasl-'));
  const passwordFile = join(dir, 'password');
  writeFileSync(passwordFile, `${PASSWORD}\n`);

  const sasl = (mechanism: 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512', password: { file: string } | { env: string } = { file: passwordFile }, user = USER): KafkaSecurityOptions => ({ sasl: { mechanism, user, password } });
  const open = async (security: KafkaSecurityOptions, source = 'users-service') => {
    const bus = createEventBus({ transport: await KafkaTransport.connect({ bootstrap: cluster.saslBootstrap!, topology, security }), source });
    buses.push(bus);
    return bus;
  };
  const allow = (principal: string, resourceType: number, resourceName: string, operations: number[], pattern: number = ResourcePatternTypes.LITERAL): Acl[] =>
    operations.map((operation) => ({ resourceType, resourceName, resourcePatternType: pattern, principal: `User:${principal}`, host: '*', operation, permissionType: AclPermissionTypes.ALLOW }) as Acl);
  /** Everything the test's admin (the plain listener, a super user) sees on a topic. */
  const stored = async (topic: string): Promise<number> => {
    const offsets = await admin.listOffsets({ topics: [{ name: topic, partitions: [{ partitionIndex: 0, timestamp: -1n }] }] });
    return Number(offsets[0]?.partitions[0]?.offset ?? -1n);
  };

  beforeAll(async () => {
    cluster = await startKafka({ sasl: { users: { [USER]: PASSWORD, [OTHER]: OTHER_PASSWORD, ...Object.fromEntries(CONTRACT_SERVICES.map((s) => [s, contractPassword(s)])) }, authorize: true } });
    admin = new Admin({ clientId: 'sasl-test-admin', bootstrapBrokers: [cluster.bootstrap] });
    // The group's retry topics are provisioned with the rest: the account may not create topics.
    const internal = retryTopics(DEFAULT_INTERNAL_PREFIX, group).map((name) => ({ name, subjects: [] }));
    await provisionKafka({ bootstrap: cluster.bootstrap }, { topics: topology, internalTopics: internal });
    await admin.createAcls({
      creations: [
        ...allow(USER, ResourceTypes.TOPIC, usersTopic, [AclOperations.WRITE, AclOperations.DESCRIBE, AclOperations.READ]),
        ...allow(USER, ResourceTypes.TOPIC, paymentsTopic, [AclOperations.DESCRIBE]),
        ...allow(USER, ResourceTypes.GROUP, group, [AclOperations.READ]),
        ...allow(USER, ResourceTypes.TOPIC, `${DEFAULT_INTERNAL_PREFIX}retry.${group}.`, [AclOperations.READ, AclOperations.WRITE, AclOperations.DESCRIBE], ResourcePatternTypes.PREFIXED),
      ],
    });
  }, 300_000);

  afterAll(async () => {
    await Promise.allSettled(buses.map((b) => b.close()));
    await admin?.close().catch(() => undefined);
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  for (const mechanism of ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'] as const) {
    it(`${mechanism}: the account publishes what it may and consumes in its group`, async () => {
      const bus = await open(sasl(mechanism));
      const got: string[] = [];
      const sub = await bus.subscribe({ group, subjects: [`${prefix}.users.>`], handlers: [{ type: users.type, accepts: [users], handle: async (e) => void got.push(e.data.userId) }] });
      await bus.publish(users, { userId: mechanism, email: 'a@b.io' }, { params: { userId: mechanism } });
      await waitFor(() => got.includes(mechanism), 60_000, `the event over ${mechanism}`);
      await sub.close();
    }, 120_000);
  }

  it('READ revoked while a consumer runs: it reports PermissionDeniedError, and reads on once READ is granted again', async () => {
    const notices: RuntimeNotice[] = [];
    const transport = await KafkaTransport.connect({ bootstrap: cluster.saslBootstrap!, topology, security: sasl('SCRAM-SHA-256') });
    const bus = createEventBus({ transport, source: 'users-service', middleware: [{ name: 'n', notice: (n) => void notices.push(n) }] });
    buses.push(bus);
    const got: string[] = [];
    const sub = await bus.subscribe({ group, subjects: [`${prefix}.users.>`], handlers: [{ type: users.type, accepts: [users], handle: async (e) => void got.push(e.id) }] });
    await bus.publish(users, { userId: 'r1', email: 'a@b.io' }, { params: { userId: 'r1' }, id: 'revoke-1' });
    await waitFor(() => got.includes('revoke-1'), 60_000, 'the event before the revocation');
    const read = allow(USER, ResourceTypes.TOPIC, usersTopic, [AclOperations.READ])[0]!;
    // The broker applies an ACL change when its metadata catches up: the notice says when.
    await admin.deleteAcls({ filters: [read] });
    await waitFor(() => notices.some((n) => n.kind === 'consumer-error' && n.error instanceof PermissionDeniedError), 60_000, 'a PermissionDeniedError notice');
    const denied = notices.find((n) => n.kind === 'consumer-error' && n.error instanceof PermissionDeniedError)!;
    expect(denied.kind === 'consumer-error' && denied.detail).toMatch(/permission denied to subscribe .*TOPIC_AUTHORIZATION_FAILED/);
    await bus.publish(users, { userId: 'r2', email: 'a@b.io' }, { params: { userId: 'r2' }, id: 'revoke-2' });
    await admin.createAcls({ creations: [read] });
    await waitFor(() => got.includes('revoke-2'), 60_000, 'the event after READ is granted again');
    await sub.close();
  }, 180_000);

  it('a wrong password: AuthenticationError that names the account and where its password came from, never the password', async () => {
    process.env['EC_TEST_KAFKA_PW'] = 'not-the-password';
    const err = await KafkaTransport.connect({ bootstrap: cluster.saslBootstrap!, topology, security: sasl('SCRAM-SHA-256', { env: 'EC_TEST_KAFKA_PW' }) }).then(
      async (t) => (await t.close(), new Error('connected')),
      (e: unknown) => e as Error,
    );
    delete process.env['EC_TEST_KAFKA_PW'];
    expect(err).toBeInstanceOf(AuthenticationError);
    expect(err.message).toContain(`user '${USER}'`);
    expect(err.message).toContain('EC_TEST_KAFKA_PW');
    expect(err.message).not.toContain('not-the-password');
    // One login tried, not the client's eleven retries of a refused login ("… failed 11 times").
    const chain: string[] = [];
    for (let e: unknown = err; e instanceof Error; e = (e as { cause?: unknown }).cause) chain.push(e.message);
    expect(chain.join(' | ')).not.toMatch(/failed \d+ times/);
  }, 60_000);

  it('a password that cannot be read: SecretUnavailableError, not a refusal', async () => {
    delete process.env['EC_TEST_KAFKA_PW_UNSET'];
    const err = await KafkaTransport.connect({ bootstrap: cluster.saslBootstrap!, topology, security: sasl('PLAIN', { env: 'EC_TEST_KAFKA_PW_UNSET' }) }).then(
      async (t) => (await t.close(), new Error('connected')),
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(SecretUnavailableError);
    expect((err as Error).message).toContain('EC_TEST_KAFKA_PW_UNSET');
  }, 60_000);

  it("another service's topic: the publish is refused with PermissionDeniedError and nothing is stored", async () => {
    const bus = await open(sasl('SCRAM-SHA-512'));
    const before = await stored(paymentsTopic);
    const err = await bus.publish(payments, { userId: 'x', email: 'a@b.io' }, { params: { userId: 'x' } }).then(
      () => new Error('published'),
      (e: unknown) => e as Error,
    );
    expect(err).toBeInstanceOf(PermissionDeniedError);
    expect(err.message).toMatch(/publish on 'ksasl\w+\.payments\.users\.x\.created'/);
    expect(err.message).toContain('TOPIC_AUTHORIZATION_FAILED');
    expect(await stored(paymentsTopic)).toBe(before);
  }, 60_000);

  it('a refused topic in the same batch as an allowed one fails only its own publishes', async () => {
    const bus = await open(sasl('PLAIN'));
    const before = await stored(usersTopic);
    // Same turn of the event loop: one produce request carries both topics.
    const results = await Promise.allSettled([
      bus.publish(users, { userId: 'mixed-1', email: 'a@b.io' }, { params: { userId: 'mixed-1' } }),
      bus.publish(payments, { userId: 'mixed-2', email: 'a@b.io' }, { params: { userId: 'mixed-2' } }),
      bus.publish(users, { userId: 'mixed-3', email: 'a@b.io' }, { params: { userId: 'mixed-3' } }),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason).toBeInstanceOf(PermissionDeniedError);
    expect(await stored(usersTopic)).toBeGreaterThanOrEqual(before + 2);
  }, 60_000);

  it('reading a topic without READ: the consumer does not start, PermissionDeniedError', async () => {
    const bus = await open(sasl('SCRAM-SHA-256'));
    const err = await bus.subscribe({ group, subjects: [`${prefix}.payments.>`], handlers: [{ type: payments.type, accepts: [payments], handle: async () => undefined }] }).then(
      async (s) => (await s.close(), new Error('subscribed')),
      (e: unknown) => e as Error,
    );
    expect(err).toBeInstanceOf(PermissionDeniedError);
    expect(err.message).toContain('subscribe');
  }, 60_000);

  it("joining another service's group: PermissionDeniedError", async () => {
    const bus = await open(sasl('SCRAM-SHA-256'));
    const err = await bus.subscribe({ group: `not_${group}`, subjects: [`${prefix}.users.>`], handlers: [{ type: users.type, accepts: [users], handle: async () => undefined }] }).then(
      async (s) => (await s.close(), new Error('subscribed')),
      (e: unknown) => e as Error,
    );
    expect(err).toBeInstanceOf(PermissionDeniedError);
  }, 60_000);

  it('an account without any ACL cannot even start an idempotent producer: PermissionDeniedError', async () => {
    writeFileSync(join(dir, 'other'), OTHER_PASSWORD);
    const bus = await open(sasl('PLAIN', { file: join(dir, 'other') }, OTHER), 'payments-service');
    const err = await bus.publish(users, { userId: 'y', email: 'a@b.io' }, { params: { userId: 'y' } }).then(
      () => new Error('published'),
      (e: unknown) => e as Error,
    );
    expect(err).toBeInstanceOf(PermissionDeniedError);
  }, 60_000);

  it('provision kafka with --user and --sasl-mechanism: refused without the rights, creates the topics with them; a wrong password exits 1 without printing it', async () => {
    const topics = `${prefix}.cli.`;
    const internal = `${prefix}.int.`;
    const args = (password: string) => ['provision', 'kafka', '--server', cluster.saslBootstrap!, '--topic-prefix', topics, '--internal-topic-prefix', internal, '--sasl-mechanism', 'SCRAM-SHA-512', '--user', USER, '--password-file', password];
    const refused = await runCli(args(passwordFile));
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/AUTHORIZATION_FAILED/);
    await admin.createAcls({
      creations: [topics, internal].flatMap((p) => allow(USER, ResourceTypes.TOPIC, p, [AclOperations.CREATE, AclOperations.DESCRIBE, AclOperations.DESCRIBE_CONFIGS, AclOperations.ALTER_CONFIGS], ResourcePatternTypes.PREFIXED)),
    });
    const ok = await runCli(args(passwordFile));
    expect(ok.stderr).toMatch(/topic .*: created/);
    expect(ok.code).toBe(0);
    expect((await admin.listTopics()).some((t) => t.startsWith(topics))).toBe(true);
    writeFileSync(join(dir, 'wrong'), 'wrong-password-123');
    const wrong = await runCli(args(join(dir, 'wrong')));
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/refused the SASL SCRAM-SHA-512 \(user 'users-svc', password from file/);
    expect(wrong.stderr).not.toContain('wrong-password-123');
    const nats = await runCli(['provision', 'kafka', '--server', cluster.saslBootstrap!, '--creds', passwordFile]);
    expect(nats.code).toBe(2);
    expect(nats.stderr).toMatch(/NATS credentials/);
  }, 180_000);

  it("acl kafka: the contract's ACLs applied to the broker let each service do what its operations need, and nothing else", async () => {
    const topicPrefix = `${prefix}.c.`;
    const internalTopicPrefix = `${prefix}.i.`;
    const ws = await openWorkspace(['asyncapi']);
    if (!ws.ok) throw new Error('the workspace does not load');
    const { plan } = kafkaPlan(ws.catalog, { topicPrefix, internalTopicPrefix });
    await provisionKafka({ bootstrap: cluster.bootstrap }, plan);
    // The grants as the CLI prints them, applied as they are.
    const printed = await runCli(['acl', 'kafka', '--format', 'json', '--topic-prefix', topicPrefix, '--internal-topic-prefix', internalTopicPrefix]);
    expect(printed.code, printed.stderr).toBe(0);
    const acls = (JSON.parse(printed.stdout) as { plan: KafkaAclPlan }).plan;
    expect(acls.users.map((u) => u.service).sort()).toEqual([...CONTRACT_SERVICES].sort());
    await admin.createAcls({
      creations: acls.users.flatMap((u) =>
        u.grants.flatMap((g) =>
          allow(u.service, ResourceTypes[g.resourceType], g.name, g.operations.map((o) => AclOperations[o]), ResourcePatternTypes[g.patternType]),
        ),
      ),
    });
    for (const service of CONTRACT_SERVICES) writeFileSync(join(dir, service), contractPassword(service));
    const as = async (service: string) => {
      const transport = await KafkaTransport.connect({ bootstrap: cluster.saslBootstrap!, topology: plan.topics, internalTopicPrefix, security: sasl('SCRAM-SHA-256', { file: join(dir, service) }, service) });
      const bus = createEventBus({ transport, source: service });
      buses.push(bus);
      return bus;
    };
    const userCreatedV2 = descriptor('user.created', '2.0.0', 'user.created.v2', anything);
    const userDeleted = descriptor('user.deleted', '1.0.0', 'user.deleted.v1', anything);
    const transactionCreated = descriptor('transaction.created', '1.0.0', 'transaction.{accountId}.created.v1', anything);
    const healthCheck = descriptor('system.health.check', '1.0.0', 'system.health.check.v1', anything);
    const healthStatus = descriptor('system.health.status', '1.0.0', 'system.health.status.v1', anything);
    const users = await as('users-service');
    const payments = await as('payments-service');
    const notifications = await as('notifications-service');
    const platform = await as('platform-service');

    // Sends what it sends; not another service's event.
    await payments.publish(transactionCreated, { n: 1 }, { params: { accountId: 'a1' } });
    await expect(payments.publish(userCreatedV2, { n: 2 })).rejects.toBeInstanceOf(PermissionDeniedError);

    // Receives in its group, through its retry topics (the first delivery fails).
    const welcomed: string[] = [];
    let failures = 0;
    await notifications.subscribe({
      group: 'notifications-welcome',
      subjects: ['user.created.v2'],
      handlers: [{ type: userCreatedV2.type, accepts: [userCreatedV2], handle: async (e) => {
        if (failures++ === 0) throw new Error('the first delivery fails');
        welcomed.push(e.id);
      } }],
    });
    await users.publish(userCreatedV2, { n: 3 }, { id: 'welcome-1' });
    await waitFor(() => welcomed.includes('welcome-1'), 60_000, 'the welcome event, retried');
    expect(failures).toBe(2);
    // Not another service's group, nor a topic it does not receive.
    const refusedSubscribe = (group: string, subject: string) =>
      notifications.subscribe({ group, subjects: [subject], handlers: [{ type: userDeleted.type, accepts: [userDeleted], handle: async () => undefined }] }).then(
        async (s) => (await s.close(), new Error(`subscribed to ${subject} in ${group}`)),
        (e: unknown) => e,
      );
    expect(await refusedSubscribe('payments-user-cleanup', 'user.deleted.v1')).toBeInstanceOf(PermissionDeniedError);
    expect(await refusedSubscribe('notifications-welcome', 'user.deleted.v1')).toBeInstanceOf(PermissionDeniedError);

    // A raw client with payments' credentials cannot forge a retry of another group (the
    // consumer trusts attempt counts only on its group's retry topics), nor write its events.
    const raw = new Producer({ clientId: 'forger', bootstrapBrokers: [cluster.saslBootstrap!], sasl: { mechanism: 'PLAIN', username: 'payments-service', password: contractPassword('payments-service') } });
    try {
      for (const topic of [`${internalTopicPrefix}retry.notifications-welcome.200`, `${topicPrefix}user.created.v2`]) {
        const forged = await raw.send({ messages: [{ topic, value: Buffer.from('{}') }] }).then(
          () => new Error(`wrote ${topic}`),
          (e: unknown) => e,
        );
        expect(kafkaAuthorizationFailure(forged), topic).toBe('TOPIC_AUTHORIZATION_FAILED');
      }
    } finally {
      await raw.close();
    }

    // Request/reply: the platform answers in its group; notifications asks; payments may not.
    await platform.respond(healthCheck, healthStatus, async () => ({ status: 'ok' }), { group: 'platform-health' });
    const reply = await notifications.request(healthCheck, { n: 4 }, healthStatus, { timeoutMs: 30_000 });
    expect(reply.data).toEqual({ status: 'ok' });
    await expect(payments.request(healthCheck, { n: 5 }, healthStatus, { timeoutMs: 30_000 })).rejects.toBeInstanceOf(PermissionDeniedError);
  }, 240_000);
});
