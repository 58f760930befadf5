/**
 * The audit stream on the provisioning plan: config `audit` (true or { maxAge, maxBytes,
 * replicas }) adds the stream AUDIT on `audit.>` to the NATS plan that `generate` writes
 * (natsProvisioning) and `provision nats` applies; a contract that would collide with it is
 * a located error; bad settings are refused when the config is read. (The real-server test
 * that records reach the stream and only the audit reader reads them is in nats.acl.test.ts,
 * on this plan.) Also: the RabbitMQ plan holds the rpc exchange when the contract has a
 * responder, since no service may declare it.
 */
import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError, resolveConfig } from '../../src/config.js';
import { amqpPlan } from '../../src/provision/amqp-plan.js';
import { natsPlan } from '../../src/provision/nats-plan.js';
import { AUDIT_STREAM, auditSubject } from '../../src/security/audit-stream.js';
import { openWorkspace } from '../../src/workspace.js';
import { runCli } from '../helpers/cli.js';
import { useScratchWorkspace } from '../helpers/scratch.js';

const example = async () => (await openWorkspace(['asyncapi'], { examples: false })).catalog;
const DAY = 86_400_000;

describe('config audit', () => {
  const resolve = (audit: unknown) => resolveConfig({ audit }, 'event-contracts.config.json').audit;
  it('given/want', () => {
    expect(resolve(undefined)).toBeUndefined();
    expect(resolve(false)).toBeUndefined();
    expect(resolve(true)).toEqual({});
    expect(resolve({ maxAge: 'P90D', replicas: 3, maxBytes: 1_000_000 })).toEqual({ maxAgeMs: 90 * DAY, replicas: 3, maxBytes: 1_000_000 });
  });
  it('refuses what it cannot apply, naming the setting', () => {
    for (const [audit, what] of [
      ['yes', 'audit must be true or an object'],
      [{ maxAge: '90 days' }, 'audit.maxAge'],
      [{ maxAge: 'PT0S' }, 'audit.maxAge'],
      [{ replicas: 0 }, 'audit.replicas'],
      [{ maxBytes: 1.5 }, 'audit.maxBytes'],
      [{ retention: 'interest' }, 'audit.retention is not a setting'],
    ] as const) {
      expect(() => resolve(audit), JSON.stringify(audit)).toThrow(ConfigError);
      expect(() => resolve(audit)).toThrow(what);
    }
  });
});

describe('the NATS plan with and without audit', () => {
  it('without: no audit stream (as before)', async () => {
    expect(natsPlan(await example()).plan.streams?.map((s) => s.name)).not.toContain(AUDIT_STREAM);
  }, 60_000);

  it('with: AUDIT stores audit.> (every service\'s audit subject), limits retention, the settings given, replicas capped', async () => {
    const { plan, diagnostics } = natsPlan(await example(), { audit: { maxAgeMs: 90 * DAY, replicas: 3 }, maxReplicas: 1 });
    expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const audit = plan.streams?.find((s) => s.name === AUDIT_STREAM);
    expect(audit).toMatchObject({ subjects: ['audit.>'], retention: 'limits', storage: 'file', maxAgeMs: 90 * DAY, replicas: 1 });
    expect(auditSubject('payments-service')).toMatch(/^audit\./);
    // No other stream of the plan stores an audit subject (JetStream would refuse the overlap).
    for (const s of plan.streams ?? []) if (s.name !== AUDIT_STREAM) for (const subject of s.subjects) expect(subject, s.name).not.toMatch(/^(audit|\*|>)(\.|$)/);
  }, 60_000);
});

describe('contracts that collide with the audit stream', () => {
  useScratchWorkspace('audit-stream', () => undefined);
  const doc = (address: string, stream: string) =>
    ['asyncapi: 3.0.0', 'info: { title: Orders, version: 1.0.0, x-service-id: orders }', 'channels:', '  placed:', `    address: ${JSON.stringify(address)}`, `    x-stream: { name: ${stream} }`, '    messages:', '      m:', '        name: order.placed', '        x-version: 1.0.0', '        payload: { type: object }', 'operations:', '  send:', '    action: send', "    channel: { $ref: '#/channels/placed' }", ''].join('\n');
  for (const [address, stream] of [
    ['audit.orders.placed', 'ORDERS'],
    ['{tenant}.orders.placed', 'ORDERS'],
    ['order.placed', 'AUDIT'],
  ] as const) {
    it(`${address} on stream ${stream}: AUDIT_STREAM_CONFLICT at the channel when audit is on; nothing without it`, async () => {
      writeFileSync('asyncapi/orders.yaml', doc(address, stream));
      const catalog = (await openWorkspace(['asyncapi'], { examples: false })).catalog;
      const on = natsPlan(catalog, { audit: {} }).diagnostics;
      expect(on).toEqual([expect.objectContaining({ code: 'AUDIT_STREAM_CONFLICT', severity: 'error', location: expect.objectContaining({ line: 4 }) })]);
      expect(natsPlan(catalog).diagnostics).toEqual([]);
      // provision refuses it before connecting to anything.
      writeFileSync('event-contracts.config.json', JSON.stringify({ audit: true }));
      const r = await runCli(['provision', 'nats', '--dry-run']);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('AUDIT_STREAM_CONFLICT');
    }, 60_000);
  }

  it('provision nats --dry-run shows the audit stream when the config asks for it', async () => {
    writeFileSync('asyncapi/orders.yaml', doc('order.{id}.placed', 'ORDERS').replace('order.{id}.placed"', 'order.{id}.placed"\n    parameters: { id: {} }'));
    writeFileSync('event-contracts.config.json', JSON.stringify({ audit: { maxAge: 'P30D' } }));
    const r = await runCli(['provision', 'nats', '--dry-run']);
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { streams: Array<{ name: string; maxAgeMs?: number }> }).streams).toContainEqual(expect.objectContaining({ name: AUDIT_STREAM, maxAgeMs: 30 * DAY }));
    // This contract has no request/reply: no rpc exchange on its RabbitMQ plan.
    expect(amqpPlan((await openWorkspace(['asyncapi'], { examples: false })).catalog).plan.exchanges?.map((e) => e.name)).not.toContain('events.rpc');
  }, 60_000);
});

describe('the RabbitMQ plan: the rpc exchange', () => {
  it('is on the plan when the contract has a responder (the example: health checks), named after the events exchange', async () => {
    const catalog = await example();
    expect(amqpPlan(catalog).plan.exchanges).toContainEqual(expect.objectContaining({ name: 'events.rpc', type: 'topic', durable: true }));
    expect(amqpPlan(catalog, { exchange: 'ev' }).plan.exchanges).toContainEqual(expect.objectContaining({ name: 'ev.rpc' }));
    expect(amqpPlan(catalog, { rpcExchange: 'requests' }).plan.exchanges).toContainEqual(expect.objectContaining({ name: 'requests' }));
  }, 60_000);
});
