/**
 * `npm run demo` runs end to end over the local NATS, RabbitMQ and Kafka: events flow both
 * ways and request/reply answers. `--event-sourcing` runs the payments accounts on the event
 * store (PostgreSQL, JetStream): conflict, replay and projection rebuild agree.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { sharedKafka } from '../services/kafka.mjs';

const exec = promisify(execFile);
const tsx = path.resolve('node_modules/.bin/tsx');

/** What the services print on every broker: the same generated clients, the same flow. */
function expectServicesTalked(stdout: string, provisioned: string): void {
  expect(stdout).toMatch(new RegExp(`^provision +${provisioned}: `, 'm'));
  expect(stdout).toMatch(/^notifications welcome e-mail to ada@example\.com/m);
  expect(stdout).toMatch(/^users +refused an invalid user\.created: .*\/eventId must match format "uuid"/m);
  expect(stdout).toMatch(/^notifications platform health: up \(reply system\.health\.status@1\.0\.0, correlation [0-9a-f-]{36}\)/m);
  expect(stdout).toMatch(/^payments +cancelled the open transaction/m);
  expect(stdout).toMatch(/^demo +done$/m);
}

describe('demo', () => {
  it.each(['nats', 'amqp'])('exchanges events and a request/reply between the generated clients over %s', async (transport) => {
    const { stdout } = await exec(tsx, ['test/demo/demo.ts', '--transport', transport], { timeout: 60_000 });
    expectServicesTalked(stdout, transport === 'nats' ? 'NATS' : 'RabbitMQ');
  }, 90_000);

  it('exchanges events and a request/reply between the generated clients over kafka (the run\'s shared broker)', async () => {
    // Found or started here, outside the demo's own time limit: a JVM broker takes 25-90 s on a busy machine.
    const { bootstrap } = await sharedKafka();
    const { stdout } = await exec(tsx, ['test/demo/demo.ts', '--transport', 'kafka'], { timeout: 90_000, env: { ...process.env, EC_KAFKA_BOOTSTRAP: bootstrap } });
    expect(stdout).toContain(`kafka         broker ${bootstrap} `);
    expect(stdout).toMatch(/^provision +Kafka: 17 topics, 25 retry topics \((\d+ (created|unchanged|updated)(, )?)+\)$/m);
    expectServicesTalked(stdout, 'Kafka');
  }, 300_000);

  it.each([
    [['--transport', 'redis'], /unknown transport redis: nats, amqp or kafka/],
    [['--event-sourcing', '--store', 'mysql'], /unknown store mysql: postgres or nats/],
    [['--event-sourcing', '--transport', 'kafka'], /--event-sourcing runs alone/],
    [['--transport', 'kafka', '--secure'], /--secure runs over NATS only/],
  ])('refuses %j before connecting to anything', async (args, message) => {
    const run = exec(tsx, ['test/demo/demo.ts', ...args], { timeout: 60_000, env: { ...process.env, EC_KAFKA_BOOTSTRAP: '127.0.0.1:1' } });
    await expect(run).rejects.toMatchObject({ code: 1, stderr: expect.stringMatching(message) });
  }, 90_000);

  it.each(['postgres', 'nats'])('--event-sourcing --store %s: a conflict retried at the actual version, a replay from a snapshot, a projection rebuild whose progress reaches 100 percent and agrees with it', async (store) => {
    const { stdout } = await exec(tsx, ['test/demo/demo.ts', '--event-sourcing', '--store', store], { timeout: 60_000 });
    expect(stdout).toMatch(/^payments +credit 100\.00 EUR: appended transaction\.created \+ transaction\.completed to payments\.account\.acc_[0-9a-f]{20} \(version 2\)$/m);

    expect(stdout).toMatch(/^payments +refused: WrongAggregateError: transaction\.created cannot be appended to 'payments\.account\.acc_[0-9a-f]{20}': /m);

    // Two writers read version 4; one is refused with the stream's real version and retries there.
    const conflict = /^payments +(writer-\d) conflict: WrongExpectedVersionError, expected version 4, actual version (\d+); /m.exec(stdout);
    expect(conflict, stdout).not.toBeNull();
    const [, loser, actual] = conflict!;
    expect(actual).toBe('6');
    expect(stdout).toMatch(new RegExp(`^payments +${loser} appended at expected version 6 \\(attempt 2\\): version 8$`, 'm'));

    // 100 - 30 - 20 - 15 + 5: both debits were applied, neither was lost to the conflict.
    const replay = /^replay +payments\.account\.(acc_\w+): from the snapshot at version 8 \+ 2 events, balance (40\.00 EUR) at version (10) /m.exec(stdout);
    expect(replay, stdout).not.toBeNull();
    const [, accountId, balance, version] = replay!;
    expect(stdout).toMatch(new RegExp(`^projection +"demo_es_\\w+"\\."account_balances_g1": ${accountId} ${balance} at version ${version} `, 'm'));

    const progress = [...stdout.matchAll(/^projection +rebuild generation 2: (\d+)\/(\d+) events \((\d+)%\)$/gm)].map((m) => Number(m[3]));
    expect(progress.length).toBeGreaterThan(1);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(progress.at(-1)).toBe(100);
    expect(stdout).toMatch(/^projection +rebuild generation 2: switched to it in one transaction$/m);
    expect(stdout).toMatch(new RegExp(`^projection +while rebuilding, reads were served by "demo_es_\\w+"\\."account_balances_g1": ${balance}$`, 'm'));
    expect(stdout).toMatch(new RegExp(`^projection +generation 2 active \\(90 events, 0 dead letters\\): "demo_es_\\w+"\\."account_balances_g2" ${accountId} ${balance} `, 'm'));

    // The run's schema is gone: runs never see each other's events.
    const schema = /^event-store +dropped schema (demo_es_[0-9a-f]+)/m.exec(stdout)?.[1];
    expect(schema).toBeDefined();
    const client = new pg.Client({ host: '127.0.0.1', user: 'postgres', database: 'test' });
    await client.connect();
    try {
      expect((await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema])).rowCount).toBe(0);
    } finally {
      await client.end();
    }
    expect(stdout).toMatch(/^demo +done$/m);
  }, 90_000);

  it('--secure: TLS, per-service accounts from the generated permissions, signed events and an audit trail', async () => {
    const { stdout } = await exec(path.resolve('node_modules/.bin/tsx'), ['test/demo/demo.ts', '--secure'], { timeout: 60_000 });
    expect(stdout).toMatch(/^secure +nats-server on tls:\/\/127\.0\.0\.1:\d+: mutual TLS/m);
    expect(stdout).toMatch(/^notifications welcome e-mail to ada@example\.com/m);
    expect(stdout).toMatch(/^notifications platform health: up/m);
    expect(stdout).toMatch(/^payments +cancelled the open transaction/m);
    expect(stdout).toMatch(/^secure +payments-service publishing user\.deleted .*: refused, PermissionDeniedError$/m);
    expect(stdout).toMatch(/^secure +payments-service reading notifications' durable consumer: refused, PermissionDeniedError$/m);
    expect(stdout).toMatch(/^secure +user\.deleted sent with users-service's stolen broker password, no signing key: dead-lettered by payments \(reason signature: unsigned\)$/m);
    const audit = /^audit +\d+ records \((.*)\)/m.exec(stdout)?.[1] ?? '';
    expect(audit.split(', ').map((o) => o.replace(/^\d+ /, '')).sort()).toEqual(['dead-lettered', 'denied', 'handled', 'published']);
    expect(stdout).toMatch(/^demo +done$/m);
  }, 90_000);
});
