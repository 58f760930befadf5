/** `npm run demo` runs end to end over the local NATS and RabbitMQ: events flow both ways and request/reply answers. */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const exec = promisify(execFile);

describe('demo', () => {
  it.each(['nats', 'amqp'])('exchanges events and a request/reply between the generated clients over %s', async (transport) => {
    const { stdout } = await exec(path.resolve('node_modules/.bin/tsx'), ['test/demo/demo.ts', '--transport', transport], { timeout: 60_000 });
    expect(stdout).toMatch(new RegExp(`^provision +${transport === 'nats' ? 'NATS' : 'RabbitMQ'}: `, 'm'));
    expect(stdout).toMatch(/^notifications welcome e-mail to ada@example\.com/m);
    expect(stdout).toMatch(/^users +refused an invalid user\.created: .*\/eventId must match format "uuid"/m);
    expect(stdout).toMatch(/^notifications platform health: up \(reply system\.health\.status@1\.0\.0, correlation [0-9a-f-]{36}\)/m);
    expect(stdout).toMatch(/^payments +cancelled the open transaction/m);
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
