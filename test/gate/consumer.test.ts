/**
 * Direction matters when something is removed: a consumer dropping its own subscription
 * is information for the producers (a warning), while a producer's send or a responder's
 * reply going away breaks someone (an error).
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { runCli } from '../helpers/cli.js';
import { useScratchWorkspace } from '../helpers/scratch.js';

let dir: string;
useScratchWorkspace('gate-consumer', (d) => (dir = d));

const message = { name: 'order.placed', 'x-version': '1.0.0', payload: { type: 'object', properties: { id: { type: 'string' } } } };
const ping = { name: 'ping', 'x-version': '1.0.0', payload: { type: 'string' } };
const pong = { name: 'pong', 'x-version': '1.0.0', payload: { type: 'string' } };

const producer = () => ({
  asyncapi: '3.0.0',
  info: { title: 'Orders', version: '1.0.0', 'x-service-id': 'orders' },
  channels: {
    placed: { address: 'order.placed.v1', messages: { placed: { $ref: '#/components/messages/placed' } } },
    ping: { address: 'ping.v1', messages: { ping: { $ref: '#/components/messages/ping' } } },
    pong: { address: null, messages: { pong: { $ref: '#/components/messages/pong' } } },
  },
  operations: {
    sendPlaced: { action: 'send', channel: { $ref: '#/channels/placed' } },
    answerPing: { action: 'receive', channel: { $ref: '#/channels/ping' }, reply: { channel: { $ref: '#/channels/pong' } } },
  },
  components: { messages: { placed: message, ping, pong } },
});

const consumer = (subscribed: boolean) => ({
  asyncapi: '3.0.0',
  info: { title: 'Billing', version: '1.0.0', 'x-service-id': 'billing' },
  channels: subscribed ? { placed: { address: 'order.placed.v1', messages: { placed: { $ref: 'orders.yaml#/components/messages/placed' } } } } : {},
  operations: subscribed ? { onPlaced: { action: 'receive', channel: { $ref: '#/channels/placed' } } } : {},
});

const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, stdio: 'pipe' });

async function baseline(): Promise<void> {
  writeFileSync('asyncapi/orders.yaml', stringify(producer()));
  writeFileSync('asyncapi/billing.yaml', stringify(consumer(true)));
  expect((await runCli(['release'])).code).toBe(0);
  git('init', '-q', '-b', 'main');
  git('-c', 'user.email=ci@example.com', '-c', 'user.name=ci', 'add', '-A');
  git('-c', 'user.email=ci@example.com', '-c', 'user.name=ci', 'commit', '-q', '-m', 'baseline');
}

const findings = (stdout: string) => (JSON.parse(stdout) as { findings: Array<{ rule: string; severity: string }> }).findings.map((f) => `${f.severity} ${f.rule}`).sort();

describe('removals, by direction', () => {
  it('a consumer dropping its own subscription (operation and channel): warnings, exit 0', async () => {
    await baseline();
    writeFileSync('asyncapi/billing.yaml', stringify(consumer(false)));
    const result = await runCli(['check', '--against', 'main', '--format', 'json']);
    expect(findings(result.stdout)).toEqual(['warning CHANNEL_REMOVED', 'warning OPERATION_REMOVED']);
    expect(result.code).toBe(0);
  });

  it('a producer dropping its send: errors, exit 1', async () => {
    await baseline();
    const doc = producer() as { operations: Record<string, unknown> };
    delete doc.operations.sendPlaced;
    writeFileSync('asyncapi/orders.yaml', stringify(doc));
    const result = await runCli(['check', '--against', 'main', '--format', 'json']);
    expect(findings(result.stdout)).toEqual(['error OPERATION_REMOVED']);
    expect(result.code).toBe(1);
  });

  it('a responder dropping the operation it answers on: an error (its requesters get no reply)', async () => {
    await baseline();
    const doc = producer() as { operations: Record<string, unknown> };
    delete doc.operations.answerPing;
    writeFileSync('asyncapi/orders.yaml', stringify(doc));
    const result = await runCli(['check', '--against', 'main', '--format', 'json']);
    expect(findings(result.stdout)).toEqual(['error OPERATION_REMOVED']);
  });
});
