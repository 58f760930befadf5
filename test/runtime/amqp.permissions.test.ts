/**
 * RabbitMQ's permissions refusing a publish, a consume or a request: the transport fails at
 * once with PermissionDeniedError naming the subject and the operation (the broker closes
 * the channel with 403 ACCESS_REFUSED), never after a publish deadline. A vhost and users of
 * its own, created with rabbitmqctl (needs root) and deleted afterwards.
 */
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AmqpTransport, type AmqpTransportOptions } from '../../src/runtime/amqp/index.js';
import { createEventBus, PermissionDeniedError, type RuntimeNotice } from '../../src/runtime/index.js';
import { rand, userCreated, waitFor } from './helpers.js';

const ctl = (...args: string[]) => execFileSync('rabbitmqctl', ['-q', ...args], { stdio: 'pipe', timeout: 60_000 });

describe('AMQP: permissions refused are typed and fast', () => {
  const id = rand();
  const vhost = `ecperm-${id}`;
  const prefix = `ecp${id}`;
  const password = `pw-${rand()}`;
  const writer = `ecperm-writer-${id}`;
  const reader = `ecperm-reader-${id}`;
  const noConfigure = `ecperm-noconf-${id}`;
  const handler = `ecperm-handler-${id}`;
  const group = `g_${id}`;
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
    for (const u of [writer, reader, noConfigure, handler]) ctl('add_user', u, password);
    // The writer may write only to `<prefix>.allowed`; the reader may read nothing.
    ctl('set_permissions', '-p', vhost, writer, '.*', `^${prefix}\\.allowed$`, '.*');
    ctl('set_permissions', '-p', vhost, reader, '.*', '.*', '^$');
    // May declare nothing: uses what an operator declared.
    ctl('set_permissions', '-p', vhost, noConfigure, '^$', '.*', '.*');
    // May consume its group's queue but write to no exchange: neither retries nor dead letters can be stored.
    ctl('set_permissions', '-p', vhost, handler, '.*', `^${prefix}\\.${group}$`, '.*');
  }, 120_000);
  afterAll(async () => {
    await Promise.allSettled(transports.map((t) => t.close()));
    for (const args of [['delete_user', writer], ['delete_user', reader], ['delete_user', noConfigure], ['delete_user', handler], ['delete_vhost', vhost]]) {
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

  it('a transient publish the permissions refuse is refused too, not reported as sent', async () => {
    const t = await connect(writer, { bindings: { [`${prefix}.ok.*`]: { exchange: { name: `${prefix}.allowed` } } }, unroutable: 'drop' });
    const subject = `${prefix}.users.u2.created`;
    const msg = (s: string) => ({ subject: s, id: `t-${rand()}`, headers: { 'ce-id': 'x' }, body: Buffer.from('{}') });
    const err = await t.publishTransient(msg(subject)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermissionDeniedError);
    expect(err).toMatchObject({ operation: 'publish', subject });
    await expect(t.publishTransient(msg(`${prefix}.ok.3`))).resolves.toBeUndefined();
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

  it('without configure permission an exchange an operator declared is used as it is; one nobody declared is a PermissionDeniedError', async () => {
    const admin = await connect(writer);
    await admin.withChannel((ch) => ch.assertExchange(`${prefix}.allowed`, 'topic', { durable: true }));
    const t = await connect(noConfigure, { bindings: { [`${prefix}.ok.*`]: { exchange: { name: `${prefix}.allowed` } } }, exchange: `${prefix}.undeclared`, unroutable: 'drop' });
    await expect(t.publish({ subject: `${prefix}.ok.1`, id: 'n1', headers: {}, body: Buffer.from('{}') })).resolves.toMatchObject({ duplicate: false });
    const err = await t.publish({ subject: `${prefix}.users.x`, id: 'n2', headers: {}, body: Buffer.from('{}') }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermissionDeniedError);
    expect(err).toMatchObject({ operation: 'publish', subject: `${prefix}.users.x` });
  }, 30_000);

  it('a consumer that may store neither retries nor dead letters: each hand-back waits its backoff (no hot loop), and the notices say why', async () => {
    const ev = userCreated(prefix);
    const t = await connect(handler);
    const notices: RuntimeNotice[] = [];
    const bus = createEventBus({ transport: t, source: 'test/perm', middleware: [{ name: 'n', notice: (n) => void notices.push(n) }] });
    let runs = 0;
    const at: number[] = [];
    await bus.subscribe({
      group,
      maxDeliver: 2,
      backoff: { initialMs: 400, maxMs: 400, factor: 2, jitter: 0 },
      handlers: [
        {
          type: ev.type,
          accepts: [ev],
          handle: async () => {
            runs++;
            at.push(performance.now());
            throw new Error('fails');
          },
        },
      ],
    });
    // Published by a user that may write to the events exchange.
    ctl('set_permissions', '-p', vhost, writer, '.*', '.*', '.*');
    const producer = await connect(writer);
    await createEventBus({ transport: producer, source: 'test/perm-producer' }).publish(ev, { userId: 'p', email: 'a@x.io' }, { params: { userId: 'p' }, id: 'stuck-1' });
    await waitFor(() => t.stats.retryFallbacks >= 4, 20_000, 'four hand-backs');
    // Every delivery after the first came from a hand-back, counted before it waited its delay.
    expect(runs).toBeLessThanOrEqual(t.stats.retryFallbacks + 1);
    expect(notices.filter((n) => n.kind === 'dead-letter-failed').length).toBeGreaterThanOrEqual(1);
    // A lower bound only, which load cannot break: no hand-back came sooner than the bus's
    // backoff of 400 ms (handed back at once, the refused republish attempts take 50-150 ms).
    const gaps = at.slice(1).map((t, i) => t - at[i]!);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(395);
    const failed = notices.find((n) => n.kind === 'dead-letter-failed') as { error?: unknown } | undefined;
    expect(failed?.error).toBeInstanceOf(PermissionDeniedError);
    await bus.close();
  }, 45_000);
});
