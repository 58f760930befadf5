/**
 * The generator learns consumer and dead-letter names from src/runtime/nats/names.ts, which
 * must not load the NATS client: here loading any @nats-io package fails the import.
 */
import { describe, expect, it, vi } from 'vitest';

vi.mock('@nats-io/transport-node', () => {
  throw new Error('the generator loaded @nats-io/transport-node');
});
vi.mock('@nats-io/jetstream', () => {
  throw new Error('the generator loaded @nats-io/jetstream');
});
vi.mock('@nats-io/kv', () => {
  throw new Error('the generator loaded @nats-io/kv');
});

describe('NATS names without the NATS client', () => {
  it('the provisioning plan and the emitters that use it load no @nats-io package', async () => {
    const plan = await import('../../src/provision/nats-plan.js');
    const names = await import('../../src/runtime/nats/names.js');
    await import('../../src/emit/provisioning.js');
    await import('../../src/emit/clients.js');
    expect(typeof plan.natsPlan).toBe('function');
    expect(names.durableName('g', ['a'], 'a')).toBe('g');
    expect(names.durableName('g', ['a', 'b'], 'b')).toMatch(/^g-[0-9a-f]{10}$/);
    expect(names.deadLetterStreamName('g')).toBe('DEADLETTER_g');
    expect(names.deadLetterSubject('g')).toBe('deadletter.g');
  });

  it('the mock is in force (a module that does load the client fails)', async () => {
    await expect(import('../../src/runtime/nats/connection.js')).rejects.toThrow(/mock/);
  });
});
