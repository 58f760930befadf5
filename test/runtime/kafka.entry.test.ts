/**
 * The Kafka entry point loads the Kafka client and no other broker's: here loading nats.js
 * or amqplib fails the import. (test/package/entry-points.test.ts checks the built package:
 * the broker-neutral runtime never loads @platformatic/kafka.)
 */
import { describe, expect, it, vi } from 'vitest';

vi.mock('@nats-io/transport-node', () => {
  throw new Error('the Kafka transport loaded @nats-io/transport-node');
});
vi.mock('@nats-io/jetstream', () => {
  throw new Error('the Kafka transport loaded @nats-io/jetstream');
});
vi.mock('amqplib', () => {
  throw new Error('the Kafka transport loaded amqplib');
});

describe('the Kafka entry point without the other brokers’ clients', () => {
  it('src/runtime/kafka loads no @nats-io package and no amqplib', async () => {
    const k = await import('../../src/runtime/kafka/index.js');
    expect(typeof k.KafkaTransport.connect).toBe('function');
    expect(typeof k.provisionKafka).toBe('function');
  });

  it('the mocks are in force (a module that does load a client fails)', async () => {
    await expect(import('../../src/runtime/nats/connection.js')).rejects.toThrow(/mock/);
    await expect(import('../../src/runtime/amqp/connection.js')).rejects.toThrow(/mock/);
  });
});
