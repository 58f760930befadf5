/**
 * The generated SDK used from another repository: this tool and generated/ are packed
 * as npm tarballs, installed into a fresh project outside this repo, and that project
 * publishes and consumes an event through the installed package over the local NATS.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { afterAll, describe, expect, it } from 'vitest';

const exec = promisify(execFile);
const npm = (args: string[], cwd: string) => exec('npm', args, { cwd, maxBuffer: 1 << 26, timeout: 240_000 });

describe('the generated package, installed elsewhere', () => {
  const work = mkdtempSync(path.join(os.tmpdir(), 'event-contracts-consumer-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('is installable and publishes and consumes through the installed SDK', async () => {
    const generated = JSON.parse(readFileSync('generated/package.json', 'utf8')) as { name: string; dependencies: Record<string, string> };
    const tool = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string; peerDependencies: Record<string, string> };
    // The runtime dependency is pinned to this tool's version.
    expect(generated.dependencies['event-contracts']).toBe(tool.version);

    await exec(path.resolve('node_modules/.bin/tsc'), ['-p', 'generated'], { maxBuffer: 1 << 24 });
    const toolTgz = JSON.parse((await npm(['pack', '--json', '--ignore-scripts', '--pack-destination', work], process.cwd())).stdout)[0].filename as string;
    const sdkTgz = JSON.parse((await npm(['pack', '--json', '--ignore-scripts', '--pack-destination', work], path.resolve('generated'))).stdout)[0].filename as string;

    writeFileSync(
      path.join(work, 'package.json'),
      JSON.stringify({
        name: 'consumer',
        private: true,
        type: 'module',
        // The broker clients are optional peer dependencies of the runtime: a NATS user installs nats.js (and no amqplib).
        dependencies: {
          'event-contracts': `file:./${toolTgz}`,
          [generated.name]: `file:./${sdkTgz}`,
          '@nats-io/transport-node': tool.peerDependencies['@nats-io/transport-node'],
          '@nats-io/jetstream': tool.peerDependencies['@nats-io/jetstream'],
        },
      }),
    );
    await npm(['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts'], work);

    const group = `pack-test-${Math.random().toString(36).slice(2, 8)}`;
    writeFileSync(
      path.join(work, 'app.mjs'),
      `
      import { randomUUID } from 'node:crypto';
      import { createEventBus } from 'event-contracts/runtime';
      import { NatsTransport, provisionNats } from 'event-contracts/runtime/nats';
      import { UsersServiceClient, NotificationsServiceClient, natsProvisioning, validateUserCreatedV2 } from '${generated.name}';
      const server = '127.0.0.1:4222';
      await provisionNats({ servers: server }, { ...natsProvisioning, streams: natsProvisioning.streams.map((s) => ({ ...s, replicas: 1 })), consumers: [] });
      const bus = createEventBus({ transport: await NatsTransport.connect({ connect: { servers: server } }), source: 'consumer-app' });
      const userId = randomUUID();
      const received = new Promise((resolve) => {
        new NotificationsServiceClient(bus).onUserCreated(async (event) => { if (event.data.userId === userId) resolve(event); }, { group: '${group}' });
      });
      const data = { eventId: randomUUID(), userId, email: 'grace@example.com', emailVerified: true, givenName: 'Grace', familyName: 'Hopper', locale: 'en-US', roles: ['admin'], createdAt: new Date().toISOString() };
      console.log('valid', validateUserCreatedV2(data).ok, validateUserCreatedV2({}).ok);
      await new UsersServiceClient(bus).publishUserCreatedV2(data, { 'x-tenant': 'acme' });
      const event = await Promise.race([received, new Promise((_, reject) => setTimeout(() => reject(new Error('not received')), 15000))]);
      console.log('received', event.type, event.version, event.data.email, event.source, event.id === data.eventId);
      console.log('amqplib installed', await import('amqplib').then(() => true, () => false));
      await bus.close();
      `,
    );
    try {
      const { stdout } = await exec(process.execPath, ['app.mjs'], { cwd: work, timeout: 60_000 });
      expect(stdout).toContain('valid true false');
      expect(stdout).toContain('received user.created 2.0.0 grace@example.com consumer-app true');
      expect(stdout).toContain('amqplib installed false');
    } finally {
      // The durable consumer this test created on the shared server goes with it.
      const nc = await connect({ servers: '127.0.0.1:4222' });
      await (await jetstreamManager(nc)).consumers.delete('USERS', group).catch(() => undefined);
      await nc.close();
    }
  }, 300_000);
});
