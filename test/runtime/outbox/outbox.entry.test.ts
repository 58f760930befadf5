/**
 * event-contracts/runtime/outbox loads no broker client and not `pg` either (the caller
 * passes its own pool): loading any of them here fails the import.
 */
import { describe, expect, it, vi } from 'vitest';

vi.mock('@nats-io/transport-node', () => {
  throw new Error('the outbox loaded @nats-io/transport-node');
});
vi.mock('@nats-io/jetstream', () => {
  throw new Error('the outbox loaded @nats-io/jetstream');
});
vi.mock('amqplib', () => {
  throw new Error('the outbox loaded amqplib');
});
vi.mock('pg', () => {
  throw new Error('the outbox loaded pg');
});

describe('outbox entry point', () => {
  it('loads neither a broker client nor pg', async () => {
    const outbox = await import('../../../src/runtime/outbox/index.js');
    expect(typeof outbox.createOutbox).toBe('function');
    expect(typeof outbox.createOutboxRelay).toBe('function');
    expect(typeof outbox.migrateOutbox).toBe('function');
  });

  it('the mocks are in force (a module that does load pg fails)', async () => {
    await expect(import('./pg-helpers.js')).rejects.toThrow(/mock|outbox loaded pg/);
  });
});
