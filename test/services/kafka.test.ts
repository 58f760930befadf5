/**
 * The project's own Kafka broker (test/services/kafka.mjs): the shared one is started once per
 * run whoever asks first, and it really is a Kafka broker (a raw client stores and reads back).
 */
import { Admin, Consumer, MessagesStreamModes, Producer, stringDeserializers, stringSerializers } from '@platformatic/kafka';
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { sharedKafka } from './kafka.mjs';

const closers: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const c of closers.reverse()) await c().catch(() => undefined);
});

describe('the shared Kafka broker', () => {
  it('is started once per run: concurrent callers get the same broker', { timeout: 300_000 }, async () => {
    const [a, b] = await Promise.all([sharedKafka(), sharedKafka()]);
    expect(a.bootstrap).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(b.bootstrap).toBe(a.bootstrap);
    // Under vitest the run directory exists: the broker belongs to the run, not to this file.
    expect(process.env.EC_KAFKA_RUN_DIR ?? process.env.EC_KAFKA_BOOTSTRAP).toBeTruthy();
  });

  it('stores a record and serves it to a consumer group (KRaft, acks=all, idempotent producer)', { timeout: 120_000 }, async () => {
    const { bootstrap } = await sharedKafka();
    const topic = `svc-${randomUUID()}`;
    const admin = new Admin({ clientId: 'svc-test', bootstrapBrokers: [bootstrap] });
    closers.push(() => admin.close());
    await admin.createTopics({ topics: [topic], partitions: 1, replicas: 1 });
    const producer = new Producer({ clientId: 'svc-test', bootstrapBrokers: [bootstrap], serializers: stringSerializers, idempotent: true, acks: -1 });
    closers.push(() => producer.close());
    await producer.send({ messages: [{ topic, key: 'k', value: 'hello' }] });
    const consumer = new Consumer({ clientId: 'svc-test', groupId: `g-${randomUUID()}`, bootstrapBrokers: [bootstrap], deserializers: stringDeserializers });
    closers.push(async () => consumer.close(true));
    const stream = await consumer.consume({ topics: [topic], mode: MessagesStreamModes.EARLIEST });
    closers.push(async () => stream.close());
    for await (const m of stream) {
      expect(m.value).toBe('hello');
      expect(m.key).toBe('k');
      break;
    }
  });
});

describe('the broker of a plain process (a bench, a script)', () => {
  it('does not keep the process alive, and goes with it', { timeout: 300_000 }, async () => {
    const { spawn } = await import('node:child_process');
    const env = { ...process.env };
    delete env['EC_KAFKA_RUN_DIR'];
    delete env['EC_KAFKA_BOOTSTRAP'];
    const script = `const m = await import(${JSON.stringify(new URL('./kafka.mjs', import.meta.url).href)}); const { bootstrap } = await m.sharedKafka(); console.log(JSON.stringify({ bootstrap }));`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { env, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    expect(code).toBe(0);
    const { bootstrap } = JSON.parse(out) as { bootstrap: string };
    // The broker went with its process: nothing listens on its port any more.
    const { connect } = await import('node:net');
    const port = Number(bootstrap.split(':')[1]);
    const { waitFor } = await import('../runtime/helpers.js');
    await waitFor(
      () =>
        new Promise<boolean>((resolve) => {
          const s = connect({ host: '127.0.0.1', port });
          s.once('connect', () => (s.destroy(), resolve(false)));
          s.once('error', () => resolve(true));
        }),
      30_000,
      'the broker gone',
    );
  });
});
