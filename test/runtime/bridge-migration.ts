/**
 * A consumer moves from one broker to another mid-stream through a bridge, shared by the
 * bridge tests of every pair of transports: a producer keeps publishing on the source; the
 * consumer group handles part of the stream there, stops, and starts again on the target,
 * where the bridge forwards every event. The dedupe store the two consumers share turns what
 * was handled on the source into duplicates on the target. Result: every published event
 * handled exactly once, none lost.
 */
import { expect } from 'vitest';
import { startBridge, type Bridge } from '../../src/runtime/bridge.js';
import { createEventBus, MemoryDedupeStore, type EventBus, type Transport } from '../../src/runtime/index.js';
import { rand, userCreated, waitFor } from './helpers.js';

export interface MigrationSetup {
  /** Subjects live under this root on both brokers. */
  prefix: string;
  source(): Promise<Transport>;
  target(): Promise<Transport>;
}

export interface MigrationResult {
  handledOnSource: number;
  handledOnTarget: number;
  bridge: Bridge['stats'];
}

export async function consumerMovesMidStream(setup: MigrationSetup, total = 300): Promise<MigrationResult> {
  const event = userCreated(setup.prefix);
  const group = `mover_${rand()}`;
  const dedupe = new MemoryDedupeStore();
  const handled = new Map<string, number>();
  const on = { source: 0, target: 0 };
  const buses: EventBus[] = [];
  const bus = async (t: Promise<Transport>): Promise<EventBus> => {
    const b = createEventBus({ transport: await t, source: 'test/bridge' });
    buses.push(b);
    return b;
  };
  let bridge: Bridge | undefined;
  try {
    const producer = await bus(setup.source());
    const consumerOnSource = await bus(setup.source());
    const spec = (where: 'source' | 'target') => ({
      group,
      maxInFlight: 16,
      dedupe,
      handlers: [
        {
          type: event.type,
          accepts: [event],
          handle: async (e: { id: string }) => {
            handled.set(e.id, (handled.get(e.id) ?? 0) + 1);
            on[where]++;
          },
        },
      ],
    });
    const sourceSub = await consumerOnSource.subscribe(spec('source'));
    // The bridge reads the whole source stream (its own group), whatever the consumer did.
    bridge = await startBridge({ from: await setup.source(), to: await setup.target(), events: ['user.*'], subjects: [`${setup.prefix}.>`], name: `bridge_${rand()}` });

    const published: string[] = [];
    const publishing = (async () => {
      for (let i = 0; i < total; i++) {
        const r = await producer.publish(event, { userId: `u${i}`, email: `u${i}@example.com` }, { params: { userId: `u${i}` } });
        published.push(r.id);
      }
    })();

    // Mid-stream: once the consumer has handled a third, it moves.
    await waitFor(() => on.source >= total / 3, 60_000, 'a third handled on the source');
    await sourceSub.close();
    const consumerOnTarget = await bus(setup.target());
    await consumerOnTarget.subscribe(spec('target'));

    await publishing;
    await waitFor(() => published.every((id) => handled.has(id)), 120_000, 'every published event handled');
    // Let the bridge finish forwarding: whatever it still forwards must be a duplicate.
    await waitFor(() => bridge!.stats.forwarded >= total, 120_000, 'the bridge forwarded every event');
    expect([...handled.values()].filter((n) => n !== 1)).toEqual([]);
    expect(new Set(published).size).toBe(total);
    expect(handled.size).toBe(total);
    return { handledOnSource: on.source, handledOnTarget: on.target, bridge: { ...bridge.stats } };
  } finally {
    await bridge?.stop();
    await Promise.allSettled(buses.map((b) => b.close()));
  }
}
