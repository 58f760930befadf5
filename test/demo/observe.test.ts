/** `npm run demo -- --observe`: where /metrics is served, one trace per flow printed as a tree, and the served series. */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const exec = promisify(execFile);

describe('demo --observe', () => {
  it.each(['nats', 'amqp'])('prints where /metrics is, each flow as one trace, and the served series (%s)', async (transport) => {
    const { stdout } = await exec(path.resolve('node_modules/.bin/tsx'), ['test/demo/demo.ts', '--transport', transport, '--observe'], { timeout: 60_000 });
    expect(stdout).toMatch(/^observe +metrics for Prometheus at http:\/\/127\.0\.0\.1:\d+\/metrics$/m);
    // Producer → consumer → what the handler publishes, nested in one trace.
    expect(stdout).toMatch(/^trace +trace [0-9a-f]{32}\ntrace +publish user\.deleted\.v1 [\d.]+ ms\ntrace +process user\.deleted \[payments-user-cleanup\] [\d.]+ ms\ntrace +publish transaction\.\{accountId\}\.cancelled\.v1 /m);
    // Request/reply: the responder's span under the request's.
    expect(stdout).toMatch(/^trace +request system\.health\.check\.v1 [\d.]+ ms\ntrace +process system\.health\.check \[platform-health\]/m);
    expect(stdout).toMatch(new RegExp(`messaging_client_sent_messages_total\\{messaging_system="${transport === 'amqp' ? 'rabbitmq' : 'nats'}",messaging_operation_name="publish",event_type="user.created",event_major="2",service="users-service"`));
    expect(stdout).toMatch(/^demo +done$/m);
  }, 90_000);
});
