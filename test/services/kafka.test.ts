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
    closers.push(() => consumer.close(true));
    const stream = await consumer.consume({ topics: [topic], mode: MessagesStreamModes.EARLIEST });
    closers.push(() => stream.close());
    for await (const m of stream) {
      expect(m.value).toBe('hello');
      expect(m.key).toBe('k');
      break;
    }
  });
});
