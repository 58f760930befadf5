/**
 * Broker permissions from the contract: what each service of the example contract is
 * granted (given/want), the bad inputs `acl` refuses with located errors and writes nothing
 * for, the gate's access findings, and the README's rule reference.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Catalog } from '../../src/catalog/model.js';
import { checkAccessGrantable, checkAccessWidened } from '../../src/gate/access-rules.js';
import { ACL_RULES } from '../../src/security/access.js';
import { amqpAclPlan, routingKeyRegex } from '../../src/security/amqp-acl.js';
import { emitSecurity } from '../../src/security/emit.js';
import { kafkaAclPlan, renderKafkaAclScript, type KafkaAclPlan } from '../../src/security/kafka-acl.js';
import { natsAclPlan, type NatsAclUser } from '../../src/security/nats-acl.js';
import { openWorkspace } from '../../src/workspace.js';
import { runCli } from '../helpers/cli.js';

const FIX = 'test/security/fixtures';
const load = async (dir: string): Promise<Catalog> => {
  const ws = await openWorkspace([dir], { examples: false });
  expect(ws.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return ws.catalog;
};

describe('NATS permissions of the example contract', () => {
  let users: Map<string, NatsAclUser>;
  beforeAll(async () => {
    users = new Map(natsAclPlan(await load('asyncapi')).plan.users.map((u) => [u.user, u]));
  }, 60_000);
  const subjects = (g: readonly { subject: string }[] | undefined) => (g ?? []).map((x) => x.subject);

  it('payments: publishes its four transaction events, reads only its own durable consumer on USERS', () => {
    const p = users.get('payments-service')!;
    expect(subjects(p.publish)).toEqual([
      '$JS.ACK.USERS.payments-user-cleanup.>',
      '$JS.API.CONSUMER.CREATE.USERS.payments-user-cleanup.user.deleted.v1',
      '$JS.API.CONSUMER.INFO.USERS.payments-user-cleanup',
      '$JS.API.CONSUMER.MSG.NEXT.USERS.payments-user-cleanup',
      '$JS.API.INFO',
      '$JS.API.STREAM.NAMES',
      'audit.payments-service',
      'deadletter.payments-user-cleanup',
      'transaction.*.cancelled.v1',
      'transaction.*.completed.v1',
      'transaction.*.created.v1',
      'transaction.*.failed.v1',
    ]);
    expect(subjects(p.subscribe)).toEqual(['_INBOX_payments-service.>']);
    expect(p.allowResponses).toBe(false);
  });

  it('platform: answers health checks (subscribe + allow_responses), publishes maintenance events', () => {
    const p = users.get('platform-service')!;
    expect(subjects(p.subscribe)).toEqual(['_INBOX_platform-service.>', 'system.health.check.v1']);
    expect(subjects(p.publish)).toEqual(['audit.platform-service', 'system.maintenance.end.v1', 'system.maintenance.start.v1']);
    expect(p.allowResponses).toBe(true);
  });

  it('notifications: requests health checks; no subscription beyond its inbox (its reads are durable)', () => {
    const n = users.get('notifications-service')!;
    expect(subjects(n.subscribe)).toEqual(['_INBOX_notifications-service.>']);
    expect(subjects(n.publish)).toContain('system.health.check.v1');
    expect(subjects(n.publish).filter((s) => s.startsWith('$JS.API.CONSUMER.MSG.NEXT.'))).toEqual([
      '$JS.API.CONSUMER.MSG.NEXT.SYSTEM.notifications-maintenance',
      '$JS.API.CONSUMER.MSG.NEXT.TRANSACTIONS.notifications-payment-alerts',
      '$JS.API.CONSUMER.MSG.NEXT.TRANSACTIONS.notifications-receipts',
      '$JS.API.CONSUMER.MSG.NEXT.USERS.notifications-welcome',
    ]);
  });

  it('no service account may publish or subscribe to everything; the admin is not among them', () => {
    expect(users.has('event-contracts-admin')).toBe(false);
    for (const u of users.values()) {
      for (const s of [...subjects(u.publish), ...subjects(u.subscribe)]) {
        expect(s, u.user).not.toBe('>');
        expect(s, u.user).not.toMatch(/^(\$JS\.API\.>|\$JS\.API\.CONSUMER\.>|_INBOX\.>)$/);
      }
    }
  });

  it('generated/security is what the contract implies today', async () => {
    for (const f of emitSecurity(await load('asyncapi')).files) expect(readFileSync(join('generated', f.path), 'utf8'), f.path).toBe(f.content);
  }, 60_000);
});

describe('RabbitMQ permissions of the example contract', () => {
  it('routing keys: a parameter matches one word, and the binding key itself', () => {
    const re = new RegExp(`^${routingKeyRegex('transaction.*.completed.v1')}$`);
    expect(re.test('transaction.acc_1.completed.v1')).toBe(true);
    expect(re.test('transaction.*.completed.v1')).toBe(true);
    expect(re.test('transaction.a.b.completed.v1')).toBe(false);
    expect(re.test('transactionXaccXcompletedXv1')).toBe(false);
  });

  it('payments writes transaction.completed to the exchange its binding names, the others to events; configures only its own queues', async () => {
    const p = amqpAclPlan(await load('asyncapi')).plan.users.find((u) => u.user === 'payments-service')!;
    expect(p.topics.find((t) => t.exchange === 'transactions')?.write).toBe('^(transaction\\.[^.]+\\.completed\\.v1)$');
    expect(p.topics.find((t) => t.exchange === 'events')?.write).toContain('transaction\\.[^.]+\\.created\\.v1');
    expect(p.topics.find((t) => t.exchange === 'events')?.read).toBe('^(user\\.deleted\\.v1)$');
    expect(new RegExp(p.configure).test('payments-user-cleanup')).toBe(true);
    expect(new RegExp(p.configure).test('notifications-receipts')).toBe(false);
    expect(new RegExp(p.configure).test('events')).toBe(false);
    expect(new RegExp(p.read).test('notifications-receipts')).toBe(false);
  }, 60_000);
});

describe('Kafka ACLs of the example contract (applied to a broker: kafka.sasl-broker.test.ts)', () => {
  it('payments writes its transaction topics and reads user.deleted in its group; nothing of another service', async () => {
    const p = kafkaAclPlan(await load('asyncapi')).plan.users.find((u) => u.service === 'payments-service')!;
    const on = (type: string, name: string) => p.grants.find((g) => g.resourceType === type && g.name === name)?.operations;
    expect(p.principal).toBe('User:payments-service');
    expect(on('TOPIC', 'transaction.created.v1')).toEqual(['WRITE', 'DESCRIBE']);
    expect(on('TOPIC', 'user.deleted.v1')).toEqual(['READ', 'DESCRIBE']);
    expect(on('GROUP', 'payments-user-cleanup')).toEqual(['READ']);
    expect(on('TOPIC', '_ec.retry.payments-user-cleanup.')).toEqual(['READ', 'WRITE', 'DESCRIBE']);
    expect(on('TOPIC', 'deadletter.payments-user-cleanup')).toEqual(['WRITE', 'DESCRIBE']);
    expect(on('TOPIC', 'user.created.v2')).toBeUndefined();
    expect(on('GROUP', 'notifications-welcome')).toBeUndefined();
    // It neither requests nor answers: no reply topics, and no right to create any topic.
    expect(p.grants.filter((g) => g.operations.includes('CREATE'))).toEqual([]);
  }, 60_000);

  it('the script hands every name to kafka-acls.sh as one argument, whatever it holds', () => {
    const hostile = "a'; touch pwned; echo '$(id)`x`";
    const plan: KafkaAclPlan = { users: [{ principal: `User:${hostile}`, service: `svc\nrm -rf /`, grants: [{ resourceType: 'TOPIC', patternType: 'PREFIXED', name: hostile, operations: ['READ'], reasons: ['line one\nline two'] }] }] };
    const dir = mkdtempSync(join(tmpdir(), 'ec-kafka-acl-'));
    try {
      // A kafka-acls.sh that records its arguments, one per line.
      writeFileSync(join(dir, 'kafka-acls.sh'), '#!/bin/sh\nfor a in "$@"; do printf "%s\\n" "$a"; done >> "$ARGS_OUT"\n');
      chmodSync(join(dir, 'kafka-acls.sh'), 0o755);
      writeFileSync(join(dir, 'acls.sh'), renderKafkaAclScript(plan, 'header'));
      const r = spawnSync('sh', [join(dir, 'acls.sh')], { cwd: dir, env: { PATH: `${dir}:${process.env['PATH']}`, EC_KAFKA_BOOTSTRAP: '127.0.0.1:1', ARGS_OUT: join(dir, 'args') }, encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      expect(existsSync(join(dir, 'pwned'))).toBe(false);
      const args = readFileSync(join(dir, 'args'), 'utf8').trimEnd().split('\n');
      expect(args).toEqual(['--bootstrap-server', '127.0.0.1:1', '--add', '--allow-principal', `User:${hostile}`, '--operation', 'Read', '--topic', hostile, '--resource-pattern-type', 'prefixed']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('acl: bad input gives located errors and writes nothing', () => {
  const out = mkdtempSync(join(tmpdir(), 'ec-acl-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));
  const cases = [
    { dir: 'wildcard', code: 'ACL_WILDCARD_ADDRESS', at: 'wildcard/orders.yaml:7:3' },
    { dir: 'twice', code: 'ACL_GROUP_CLAIMED_TWICE', at: 'twice/shipping.yaml:15:3' },
    { dir: 'nothing', code: 'ACL_NOTHING_GRANTED', at: 'nothing/idle.yaml:2:1' },
  ];
  for (const c of cases) {
    for (const broker of ['nats', 'amqp', 'kafka']) {
      it(`${c.dir} (${broker}): ${c.code}`, async () => {
        const file = join(out, `${c.dir}-${broker}`);
        const r = await runCli(['acl', broker, `${FIX}/${c.dir}`, '--out', file]);
        expect(r.code).toBe(1);
        expect(r.stderr).toContain(`${c.at}: error ${c.code}`);
        expect(r.stderr).toContain('nothing written');
        expect(existsSync(file)).toBe(false);
      }, 60_000);
    }
  }

  it('a good contract: the fragment is written', async () => {
    const file = join(out, 'good.conf');
    const r = await runCli(['acl', 'nats', `${FIX}/base`, '--out', file]);
    expect(r.code).toBe(0);
    expect(readFileSync(file, 'utf8')).toContain('"$JS.API.CONSUMER.MSG.NEXT.ORDERS.shipping-orders"');
  }, 60_000);
});

describe('check: access findings', () => {
  it('a new send operation widens the service account: ACCESS_WIDENED at the operation', async () => {
    const findings = checkAccessWidened(await load(`${FIX}/base`), await load(`${FIX}/widened`), 'origin/main');
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ rule: 'ACCESS_WIDENED', severity: 'warning', location: { file: expect.stringContaining('widened/shipping.yaml'), line: 20 } });
    expect(findings[0]!.message).toContain('service shipping may now publish on order.*.placed.v1');
  }, 60_000);

  it('the same contract widens nothing', async () => {
    const c = await load(`${FIX}/base`);
    expect(checkAccessWidened(c, c, 'origin/main')).toEqual([]);
  }, 60_000);

  it('what cannot be granted is an error finding with its location', async () => {
    const ws = await openWorkspace([`${FIX}/wildcard`], { examples: false });
    expect(checkAccessGrantable(ws.catalog)).toEqual([expect.objectContaining({ rule: 'ACL_WILDCARD_ADDRESS', severity: 'error', breaking: true, location: expect.objectContaining({ line: 7 }) })]);
  }, 60_000);

  it('the README rule reference lists every access rule', () => {
    const readme = readFileSync('README.md', 'utf8');
    expect([...ACL_RULES, 'ACCESS_WIDENED'].filter((id) => !readme.includes(`| \`${id}\` |`))).toEqual([]);
  });
});
