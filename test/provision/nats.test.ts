/**
 * Streams and durable consumers from the contract, applied to a nats-server of the
 * test's own (the shared one on 4222 is left alone): created once, unchanged the second
 * time, and shaped as the contract says.
 */
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isoDurationMs, subjectPattern } from '../../src/provision/nats-plan.js';
import { runCli } from '../helpers/cli.js';
import { OwnNatsServer } from '../runtime/helpers.js';

describe('plan helpers', () => {
  it.each([
    ['P30D', 30 * 86_400_000],
    ['PT12H', 12 * 3_600_000],
    ['P1DT30M', 86_400_000 + 30 * 60_000],
    ['P2W', 14 * 86_400_000],
    ['PT1.5S', 1500],
  ])('%s is %d ms', (text, ms) => expect(isoDurationMs(text)).toBe(ms));

  it.each(['30d', 'P', 'PT', 'P1H', ''])('%s is not a duration', (text) => expect(isoDurationMs(text)).toBeUndefined());

  it('turns address parameters into single-token wildcards', () => {
    expect(subjectPattern('transaction.{accountId}.created.v1')).toBe('transaction.*.created.v1');
    expect(subjectPattern('user.created.v2')).toBe('user.created.v2');
  });
});

describe('event-contracts provision nats', () => {
  let server: OwnNatsServer;
  beforeAll(async () => {
    server = await OwnNatsServer.start();
  });
  afterAll(async () => {
    await server?.destroy();
  });

  it('creates the streams and consumers of asyncapi/, then finds them unchanged', async () => {
    const args = ['provision', 'nats', '--server', server.url, '--max-replicas', '1', '--format', 'json'];
    const first = await runCli(args);
    expect(first.code, first.stderr).toBe(0);
    const created = JSON.parse(first.stdout) as { streams: Array<{ name: string; action: string }>; consumers: Array<{ name: string; action: string }> };
    expect(created.streams).toEqual([
      { name: 'SYSTEM', action: 'created' },
      { name: 'TRANSACTIONS', action: 'created' },
      { name: 'USERS', action: 'created' },
      // One stream per consumer group for its dead letters (deadletter.<group>, the bus's default).
      { name: 'DEADLETTER_notifications-maintenance', action: 'created' },
      { name: 'DEADLETTER_notifications-payment-alerts', action: 'created' },
      { name: 'DEADLETTER_notifications-receipts', action: 'created' },
      { name: 'DEADLETTER_notifications-welcome', action: 'created' },
      { name: 'DEADLETTER_payments-user-cleanup', action: 'created' },
    ]);
    expect(created.consumers.map((c) => c.name).sort()).toEqual([
      'notifications-maintenance',
      'notifications-payment-alerts',
      'notifications-receipts',
      'notifications-welcome',
      'payments-user-cleanup',
    ]);
    const second = JSON.parse((await runCli(args)).stdout) as typeof created;
    expect([...second.streams, ...second.consumers].every((x) => x.action === 'unchanged')).toBe(true);

    const nc = await connect({ servers: server.url });
    try {
      const jsm = await jetstreamManager(nc);
      const transactions = await jsm.streams.info('TRANSACTIONS');
      expect(transactions.config.subjects.sort()).toEqual(['transaction.*.cancelled.v1', 'transaction.*.completed.v1', 'transaction.*.created.v1', 'transaction.*.failed.v1']);
      expect(transactions.config.max_age).toBe(90 * 86_400 * 1e9);
      const cleanup = await jsm.consumers.info('USERS', 'payments-user-cleanup');
      expect(cleanup.config.filter_subject).toBe('user.deleted.v1');
      expect(cleanup.config.ack_policy).toBe('explicit');
      const dead = await jsm.streams.info('DEADLETTER_payments-user-cleanup');
      expect(dead.config.subjects).toEqual(['deadletter.payments-user-cleanup']);
      // As long-lived as the stream the group reads (USERS: 30 days).
      expect(dead.config.max_age).toBe(30 * 86_400 * 1e9);
    } finally {
      await nc.close();
    }
  });

  it('a broker that cannot be reached is reported, not thrown', async () => {
    const result = await runCli(['provision', 'nats', '--server', '127.0.0.1:1', '--max-replicas', '1']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/provisioning 127\.0\.0\.1:1 failed/);
  });
});
