/**
 * RabbitMQ's permissions refusing a publish, a consume or a request: the transport fails at
 * once with PermissionDeniedError naming the subject and the operation (the broker closes
 * the channel with 403 ACCESS_REFUSED), never after a publish deadline. A vhost and users of
 * its own, created with rabbitmqctl (needs root) and deleted afterwards.
 */
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AmqpTransport, type AmqpTransportOptions } from '../../src/runtime/amqp/index.js';
import { PermissionDeniedError } from '../../src/runtime/index.js';
import { rand } from './helpers.js';

const ctl = (...args: string[]) => execFileSync('rabbitmqctl', ['-q', ...args], { stdio: 'pipe', timeout: 60_000 });

describe('AMQP: permissions refused are typed and fast', () => {
  const id = rand();
  const vhost = `ecperm-${id}`;
  const prefix = `ecp${id}`;
  const password = `pw-${rand()}`;
  const writer = `ecperm-writer-${id}`;
  const reader = `ecperm-reader-${id}`;
  const transports: AmqpTransport[] = [];
  const url = (user: string) => `amqp://${user}:${password}@127.0.0.1:5672/${encodeURIComponent(vhost)}`;
  // A long publish deadline: a refusal must not be reported by running into it.
  const connect = async (user: string, extra: AmqpTransportOptions = {}) => {
    const t = await AmqpTransport.connect({ url: url(user), exchange: prefix, queuePrefix: `${prefix}.`, publishDeadlineMs: 60_000, ...extra });
    transports.push(t);
    return t;
  };

  beforeAll(() => {
    ctl('add_vhost', vhost);
    for (const u of [writer, reader]) ctl('add_user', u, password);
    // The writer may write only to `<prefix>.allowed`; the reader may read nothing.
    ctl('set_permissions', '-p', vhost, writer, '.*', `^${prefix}\\.allowed$`, '.*');
    ctl('set_permissions', '-p', vhost, reader, '.*', '.*', '^$');
  }, 120_000);
  afterAll(async () => {
    await Promise.allSettled(transports.map((t) => t.close()));
    for (const args of [['delete_user', writer], ['delete_user', reader], ['delete_vhost', vhost]]) {
      try {
        ctl(...args);
      } catch {
        // already gone
      }
    }
  }, 120_000);

  it('a publish to the events exchange without write permission: PermissionDeniedError naming the subject; the allowed exchange still works', async () => {
    const t = await connect(writer, { bindings: { [`${prefix}.ok.*`]: { exchange: { name: `${prefix}.allowed` } } }, unroutable: 'drop' });
    const subject = `${prefix}.users.u1.created`;
    const msg = (s: string) => ({ subject: s, id: `m-${rand()}`, headers: { 'ce-id': 'x' }, body: Buffer.from('{}') });
    // Both at once, on the shared publish channel the refusal closes.
    const [denied, allowed] = await Promise.allSettled([t.publish(msg(subject)), t.publish(msg(`${prefix}.ok.1`))]);
    expect(denied.status).toBe('rejected');
    const err = (denied as PromiseRejectedResult).reason as PermissionDeniedError;
    expect(err).toBeInstanceOf(PermissionDeniedError);
    expect(err).toMatchObject({ operation: 'publish', subject, transport: 'amqp' });
    expect(err.message).toContain('403');
    expect(allowed).toMatchObject({ status: 'fulfilled' });
    // And again: the refusal is not remembered as a broken channel.
    await expect(t.publish(msg(subject))).rejects.toBeInstanceOf(PermissionDeniedError);
    await expect(t.publish(msg(`${prefix}.ok.2`))).resolves.toMatchObject({ duplicate: false });
    expect(t.stats.publishRetries).toBeLessThanOrEqual(2);
  }, 30_000);

  it('a request the permissions refuse: PermissionDeniedError, not a timeout', async () => {
    const t = await connect(writer);
    const subject = `${prefix}.system.health.check`;
    const err = await t.request({ subject, id: `r-${rand()}`, headers: { 'ce-id': 'r' }, body: Buffer.from('{}') }, 30_000).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermissionDeniedError);
    expect(err).toMatchObject({ operation: 'request', subject });
  }, 45_000);

  it('a consume the permissions refuse: PermissionDeniedError naming the subjects, and no consumer left retrying', async () => {
    const t = await connect(reader);
    const subject = `${prefix}.users.*.created`;
    const err = await t.consume({ group: `g_${rand()}`, subjects: [subject], maxInFlight: 4 }, () => undefined).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermissionDeniedError);
    expect(err).toMatchObject({ operation: 'subscribe', subject });
    const err2 = await t.serve({ subject: `${prefix}.rpc.x`, group: 'responders' }, async () => ({ headers: {}, body: new Uint8Array(0) })).catch((e: unknown) => e);
    expect(err2).toBeInstanceOf(PermissionDeniedError);
    expect(err2).toMatchObject({ operation: 'respond', subject: `${prefix}.rpc.x` });
    expect(t.stats.consumerRestarts).toBe(0);
  }, 30_000);
});
