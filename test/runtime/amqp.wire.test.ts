/**
 * What a hostile producer with a raw amqplib client can put on the events exchange, against
 * the transport: forged bookkeeping headers (`x-ec-attempt`, `x-ec-subject`, `x-death`,
 * `CC`), header values of every AMQP field type, and a message whose hand-off throws. The
 * attempt count comes from the broker's own trail of the transport's delay queues and the
 * subject from the routing key; nothing a producer writes on the events exchange changes
 * either, and no message makes the consumer channel restart.
 */
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AmqpTransport, type AmqpTransportOptions } from '../../src/runtime/amqp/index.js';
import type { Delivery } from '../../src/runtime/index.js';
import { AMQP_URL, TopologyTracker } from './amqp-helpers.js';
import { rand, waitFor } from './helpers.js';

describe('AMQP: the wire is not trusted', () => {
  const tracker = new TopologyTracker();
  const prefix = `ecw${rand()}`;
  let raw: amqp.ChannelModel;
  let pub: amqp.ConfirmChannel;
  const connect = async (extra: AmqpTransportOptions = {}) => tracker.track(await AmqpTransport.connect({ url: AMQP_URL, exchange: prefix, queuePrefix: `${prefix}.`, ...extra }));
  const send = async (subject: string, headers: Record<string, unknown>, body = '{}') => {
    pub.publish(prefix, subject, Buffer.from(body), { headers, contentType: 'application/json', persistent: true });
    await pub.waitForConfirms();
  };

  beforeAll(async () => {
    raw = await amqp.connect(AMQP_URL);
    raw.on('error', () => undefined);
    pub = await raw.createConfirmChannel();
    await pub.assertExchange(prefix, 'topic', { durable: true });
    tracker.extraExchanges.add(prefix);
  });
  afterAll(async () => {
    await raw.close().catch(() => undefined);
    await tracker.cleanup();
  });

  it('forged x-ec-attempt, x-ec-subject and x-death: attempt 1 on the real routing key, then 2 and 3 through the delay queues', async () => {
    const t = await connect();
    const group = `forged_${rand()}`;
    const queue = `${prefix}.${group}`;
    const seen: Array<{ n: number; subject: string; headers: string[] }> = [];
    const sub = await t.consume({ group, subjects: [`${prefix}.forged.*`], maxInFlight: 4 }, (d) => {
      seen.push({ n: d.deliveryCount, subject: d.subject, headers: [...d.headers.keys()].sort() });
      void (d.deliveryCount < 3 ? d.retry(d.deliveryCount === 1 ? 0 : 20) : d.ack());
    });
    // The x-death entry names the group's own delay queue: RabbitMQ 3.10 would add to its
    // count if the message entered that queue with it.
    const forgedDeath = [{ count: 50, reason: 'expired', queue: `${queue}.retry.0`, exchange: `${prefix}.retry`, 'routing-keys': [`${prefix}.forged.other`] }];
    await send(`${prefix}.forged.real`, {
      'x-ec-attempt': 99,
      'x-ec-subject': `${prefix}.forged.other`,
      'x-death': forgedDeath,
      'x-first-death-queue': `${queue}.retry.0`,
      'cloudEvents:id': 'f1',
    });
    await waitFor(() => seen.length === 3, 10_000, 'three deliveries');
    expect(seen.map(({ n, subject }) => ({ n, subject }))).toEqual([1, 2, 3].map((n) => ({ n, subject: `${prefix}.forged.real` })));
    // Nothing of the bookkeeping reaches the bus.
    for (const s of seen) expect(s.headers).toEqual(['ce-id', 'content-type']);
    await sub.stop();
  });

  it('a forged CC header does not send the retry anywhere else', async () => {
    const t = await connect();
    const group = `cc_${rand()}`;
    const victim = `cc_victim_${rand()}`;
    const seen: number[] = [];
    const victimSeen: string[] = [];
    const sub = await t.consume({ group, subjects: [`${prefix}.cc.*`], maxInFlight: 4 }, (d) => {
      seen.push(d.deliveryCount);
      void (d.deliveryCount < 2 ? d.retry(0) : d.ack());
    });
    const vsub = await t.consume({ group: victim, subjects: [`${prefix}.victim.*`], maxInFlight: 4 }, (d) => {
      victimSeen.push(d.subject);
      void d.ack();
    });
    await send(`${prefix}.cc.a`, { CC: [`${prefix}.${victim}`, `${prefix}.${victim}.retry.0`], 'cloudEvents:id': 'c1' });
    await waitFor(() => seen.length === 2, 10_000, 'the retried delivery');
    // One more round trip through the broker: a copy routed to the victim would be there by now.
    await send(`${prefix}.victim.x`, { 'cloudEvents:id': 'v1' });
    await waitFor(() => victimSeen.length >= 1, 10_000, 'the victim group’s own event');
    expect(victimSeen).toEqual([`${prefix}.victim.x`]);
    expect(seen).toEqual([1, 2]);
    await Promise.all([sub.stop(), vsub.stop()]);
  });

  it('header values of every AMQP type: scalars read as text, a table or array where a value belongs is a malformed delivery', async () => {
    const t = await connect();
    const got: Delivery[] = [];
    const sub = await t.consume({ group: `types_${rand()}`, subjects: [`${prefix}.types.*`], maxInFlight: 8 }, (d) => {
      got.push(d);
      void d.ack();
    });
    await send(`${prefix}.types.scalars`, {
      'cloudEvents:id': 's1',
      'cloudEvents:time': { '!': 'timestamp', value: 1_700_000_000 },
      n: 5,
      big: { '!': 'int64', value: 7 },
      f: { '!': 'double', value: 1.5 },
      b: true,
      bytes: Buffer.from('by'),
      dec: { '!': 'decimal', value: { places: 2, digits: 12345 } },
    });
    await send(`${prefix}.types.table`, { 'cloudEvents:id': 't1', 'cloudEvents:type': { nested: { deep: 1 } } });
    await send(`${prefix}.types.array`, { 'cloudEvents:id': 'a1', trace: ['a', 'b'] });
    await send(`${prefix}.types.void`, { 'cloudEvents:id': 'v1', nothing: null });
    await waitFor(() => got.length === 4, 10_000, 'four deliveries');
    const by = (s: string) => got.find((d) => d.subject === `${prefix}.types.${s}`)!;
    const s = by('scalars');
    expect(s.malformed).toBeUndefined();
    expect(Object.fromEntries([...s.headers.keys()].map((k) => [k, s.headers.get(k)]))).toEqual({
      'content-type': 'application/json',
      'ce-id': 's1',
      'ce-time': new Date(1_700_000_000_000).toISOString(),
      n: '5',
      big: '7',
      f: '1.5',
      b: 'true',
      bytes: 'by',
      dec: '123.45',
    });
    for (const name of ['table', 'array', 'void']) {
      const d = by(name);
      expect(d.malformed, name).toMatchObject({ reason: 'headers-invalid' });
      expect([...d.headers.keys()], name).toEqual([]);
      expect(Buffer.from(d.body).toString(), name).toBe('{}');
    }
    expect(by('table').malformed?.detail).toContain('cloudEvents:type');
    await sub.stop();
  });

  it('a hand-off that throws is retried with backoff through the delay queues; the channel stays up and the next message is handled', async () => {
    const t = await connect();
    const poison: number[] = [];
    const handled: string[] = [];
    const sub = await t.consume({ group: `throws_${rand()}`, subjects: [`${prefix}.throws.*`], maxInFlight: 1 }, (d) => {
      if (d.subject.endsWith('.poison')) {
        poison.push(d.deliveryCount);
        if (d.deliveryCount < 3) throw new RangeError('Maximum call stack size exceeded');
      }
      handled.push(d.subject);
      void d.ack();
    });
    await send(`${prefix}.throws.poison`, { 'cloudEvents:id': 'p1' });
    await send(`${prefix}.throws.valid`, { 'cloudEvents:id': 'v1' });
    await waitFor(() => handled.includes(`${prefix}.throws.valid`), 10_000, 'the valid message behind the poison');
    await waitFor(() => handled.includes(`${prefix}.throws.poison`), 10_000, 'the poison message, once it stops throwing');
    expect(poison).toEqual([1, 2, 3]);
    expect(t.stats.consumerRestarts).toBe(0);
    await sub.stop();
  });

  it('a settle after the channel is gone neither throws nor restarts the consumer in a loop', async () => {
    const t = await connect();
    const held: Delivery[] = [];
    const sub = await t.consume({ group: `late_${rand()}`, subjects: [`${prefix}.late.*`], maxInFlight: 4 }, (d) => void held.push(d));
    await send(`${prefix}.late.a`, { 'cloudEvents:id': 'l1' });
    await waitFor(() => held.length === 1, 10_000, 'the delivery');
    await sub.stop();
    // The consumer is stopped and its channel closing: every settle is a quiet no-op.
    await t.close();
    await expect(held[0]!.ack()).resolves.toBeUndefined();
    await expect(held[0]!.retry(10)).resolves.toBeUndefined();
    expect(t.stats.consumerRestarts).toBe(0);
  });

  it('a consumer channel that keeps being closed without acking anything is reopened with growing backoff', async () => {
    const t = await connect();
    const group = `churn_${rand()}`;
    const queue = `${prefix}.${group}`;
    const got: string[] = [];
    const sub = await t.consume({ group, subjects: [`${prefix}.churn.*`], maxInFlight: 4 }, (d) => {
      got.push(d.subject);
      void d.ack();
    });
    const admin = await raw.createChannel();
    const waited: number[] = [];
    for (let i = 1; i <= 3; i++) {
      // Deleting the queue cancels the consumer (basic.cancel); the transport reopens it.
      const at = performance.now();
      await admin.deleteQueue(queue);
      await waitFor(() => t.stats.consumerRestarts === i, 10_000, `restart ${i}`);
      waited.push(performance.now() - at);
    }
    await admin.close();
    // Lower bounds only: the first restart is immediate, the next wait 100 ms, then 200 ms.
    expect(waited[1]).toBeGreaterThanOrEqual(95);
    expect(waited[2]).toBeGreaterThanOrEqual(195);
    // And it consumes again.
    await send(`${prefix}.churn.x`, { 'cloudEvents:id': 'c1' });
    await waitFor(() => got.length === 1, 10_000, 'a delivery after the restarts');
    await sub.stop();
  });
});
