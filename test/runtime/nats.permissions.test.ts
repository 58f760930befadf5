/**
 * What nats-server's permissions refuse fails with PermissionDeniedError naming the
 * operation and subject, not as a timeout. A private server with a restricted user; every
 * publish timeout here is far longer than the test's own, so only the permission path can
 * make these tests pass.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { createEventBus, PermissionDeniedError, type EventBus } from '../../src/runtime/index.js';
import { NatsTransport, provisionNats } from '../../src/runtime/nats/index.js';
import { userCreated } from './helpers.js';
import { ConfiguredNatsServer } from './nats-helpers.js';

const config = (port: number, store: string): string => `
listen: "127.0.0.1:${port}"
jetstream { store_dir: "${store}" }
accounts {
  APP {
    jetstream: enabled
    users: [
      { user: "admin", password: "admin" }
      {
        user: "limited", password: "limited"
        permissions: {
          publish: {
            allow: [">"]
            deny: ["secret.>", "$JS.API.CONSUMER.*.SECRETS.>", "$JS.API.CONSUMER.*.*.SECRETS.>", "$JS.API.CONSUMER.MSG.NEXT.PULLONLY.>"]
          }
          subscribe: { allow: [">"], deny: ["secret.>", "hidden.>"] }
        }
      }
    ]
  }
}
`;

describe('NATS permissions', () => {
  let server: ConfiguredNatsServer;
  let admin: NatsConnection;
  let t: NatsTransport;
  const buses: EventBus[] = [];
  // Far beyond the test timeout: a permission error surfacing as a timeout fails the test.
  const slow = { publishTimeoutMs: 120_000, publishDeadlineMs: 300_000 };

  beforeAll(async () => {
    server = await ConfiguredNatsServer.start(config, { user: 'admin', pass: 'admin' });
    admin = await connect({ servers: server.url, user: 'admin', pass: 'admin' });
    await provisionNats(admin, {
      streams: [
        { name: 'SECRETS', subjects: ['secret.>'], storage: 'memory' },
        { name: 'OPEN', subjects: ['open.>'], storage: 'memory' },
        { name: 'PULLONLY', subjects: ['pull.>'], storage: 'memory' },
      ],
    });
    t = await NatsTransport.connect({ connect: { servers: server.url, user: 'limited', pass: 'limited' }, ...slow });
  }, 30_000);
  afterAll(async () => {
    await Promise.allSettled(buses.map((b) => b.close()));
    await t?.close();
    await admin?.close();
    await server?.destroy();
  });

  const message = (subject: string) => ({ subject, id: `m-${subject}`, headers: { 'ce-id': subject }, body: new TextEncoder().encode('{}') });
  const denied = (operation: string, subject: string) => expect.objectContaining({ name: 'PermissionDeniedError', operation, subject, transport: 'nats' });

  it('a durable publish the server refuses rejects with PermissionDeniedError; the connection goes on', async () => {
    const err = await t.publish(message('secret.a')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermissionDeniedError);
    expect(err).toEqual(denied('publish', 'secret.a'));
    expect((err as Error).message).toContain('secret.a');
    expect(t.stats.publishRetries).toBe(0);
    expect(await t.publish(message('open.a'))).toMatchObject({ stream: 'OPEN', duplicate: false });
  }, 20_000);

  it('through the bus: publish of an event to a refused subject', async () => {
    const bus = createEventBus({ transport: await NatsTransport.connect({ connect: { servers: server.url, user: 'limited', pass: 'limited' }, ...slow }), source: 'perm' });
    buses.push(bus);
    const ev = userCreated('secret');
    await expect(bus.publish(ev, { userId: 'u1', email: 'a@x.io' }, { params: { userId: 'u1' } })).rejects.toEqual(denied('publish', 'secret.users.u1.created'));
  }, 20_000);

  it('a core publish the server refuses rejects too', async () => {
    await expect(t.publishTransient(message('secret.core'))).rejects.toEqual(denied('publish', 'secret.core'));
    // Known refused: refused again without waiting for the server.
    await expect(t.publishTransient(message('secret.core'))).rejects.toEqual(denied('publish', 'secret.core'));
    await expect(t.publishTransient(message('open.core'))).resolves.toBeUndefined();
    await expect(t.publishTransient(message('open.core'))).resolves.toBeUndefined();
  }, 20_000);

  it('a durable consumer whose JetStream API calls are refused fails to start', async () => {
    await expect(t.consume({ group: 'g1', subjects: ['secret.>'], maxInFlight: 8 }, () => undefined)).rejects.toEqual(denied('subscribe', 'secret.>'));
  }, 20_000);

  it('a durable consumer whose pull requests are refused fails to start, naming the pull subject', async () => {
    const err = await t.consume({ group: 'g2', subjects: ['pull.>'], maxInFlight: 8 }, () => undefined).catch((e: unknown) => e);
    expect(err).toEqual(denied('subscribe', 'pull.>'));
    expect((err as Error).message).toContain('$JS.API.CONSUMER.MSG.NEXT.PULLONLY.g2');
    // It did not go on pulling in the background.
    const info = await (await jetstreamManager(admin)).consumers.info('PULLONLY', 'g2');
    expect(info.num_waiting).toBe(0);
  }, 20_000);

  it('an ephemeral subscription and a responder the server refuses fail to start', async () => {
    await expect(t.consume({ group: 'g3', subjects: ['hidden.x'], maxInFlight: 8, ephemeral: true }, () => undefined)).rejects.toEqual(denied('subscribe', 'hidden.x'));
    await expect(t.serve({ subject: 'hidden.rpc' }, async () => ({ headers: {}, body: new Uint8Array(0) }))).rejects.toEqual(denied('respond', 'hidden.rpc'));
  }, 20_000);

  it('a request to a refused subject rejects with PermissionDeniedError, not a request timeout', async () => {
    await expect(t.request(message('secret.rpc'), 120_000)).rejects.toEqual(denied('request', 'secret.rpc'));
  }, 20_000);
});
