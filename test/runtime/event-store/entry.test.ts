/** The entry point event-contracts/runtime/event-store loads neither `pg` nor any @nats-io package. */
import { describe, expect, it, vi } from 'vitest';

vi.mock('pg', () => {
  throw new Error('the event store entry point loaded pg');
});
vi.mock('@nats-io/transport-node', () => {
  throw new Error('the event store entry point loaded @nats-io/transport-node');
});
vi.mock('@nats-io/jetstream', () => {
  throw new Error('the event store entry point loaded @nats-io/jetstream');
});

describe('event store entry point', () => {
  it('loads no database or broker client', async () => {
    const es = await import('../../../src/runtime/event-store/index.js');
    expect(typeof es.createEventStore).toBe('function');
    expect(typeof es.PostgresEventStoreBackend.connect).toBe('function');
    expect(typeof es.JetStreamEventStoreBackend.connect).toBe('function');
  });

  it('the mock is in force (connecting a backend loads its client and fails)', async () => {
    const es = await import('../../../src/runtime/event-store/index.js');
    await expect(es.PostgresEventStoreBackend.connect({})).rejects.toThrow(/mock|loaded pg/);
    await expect(es.JetStreamEventStoreBackend.connect({})).rejects.toThrow(/mock|loaded @nats-io/);
  });
});
