/**
 * The payload's event id is the JetStream dedupe id (Nats-Msg-Id). A retry on the same subject
 * is dropped as a duplicate, as intended; the same id on another subject (two majors of a
 * dual publish sharing one stream) would vanish silently, so it is refused loudly.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jetstreamManager } from '@nats-io/jetstream';
import { createEventBus, EventIdCollisionError, type EventBus, type EventDescriptor, type ValidationResult } from '../../src/runtime/index.js';
import { NatsTransport, provisionNats } from '../../src/runtime/nats/index.js';
import { NATS_URL, rand } from './helpers.js';

interface Thing {
  eventId: string;
}
const validate = (d: unknown): ValidationResult<Thing> => ({ ok: true, value: d as Thing });

describe('NATS: the payload event id as dedupe id', () => {
  const id = rand();
  const prefix = `eid${id}`;
  let bus: EventBus;
  let t: NatsTransport;
  const v1: EventDescriptor<Thing> = { type: 'thing.made', version: '1.0.0', address: `${prefix}.thing.v1`, parameters: [], validate, eventIdField: 'eventId' };
  const v2: EventDescriptor<Thing> = { type: 'thing.made', version: '2.0.0', address: `${prefix}.thing.v2`, parameters: [], validate, eventIdField: 'eventId' };
  beforeAll(async () => {
    t = await NatsTransport.connect({ connect: { servers: NATS_URL } });
    await provisionNats(t, { streams: [{ name: `EID_${id}`, subjects: [`${prefix}.>`], storage: 'memory' }] });
    bus = createEventBus({ transport: await NatsTransport.connect({ connect: { servers: NATS_URL } }), source: 'test' });
  });
  afterAll(async () => {
    await bus.close();
    await (await jetstreamManager(t.nc)).streams.delete(`EID_${id}`);
    await t.close();
  });

  it('a retry is a duplicate; the same id on another major is refused, not dropped', async () => {
    const first = await bus.publish(v1, { eventId: 'e-1' });
    expect([first.id, first.duplicate]).toEqual(['e-1', false]);
    const retry = await bus.publish(v1, { eventId: 'e-1' });
    expect([retry.duplicate, retry.sequence]).toEqual([true, first.sequence]);
    await expect(bus.publish(v2, { eventId: 'e-1' })).rejects.toThrow(EventIdCollisionError);
    await expect(bus.publish(v2, { eventId: 'e-1' })).rejects.toThrow(/already published on 'eid\w+\.thing\.v1'/);
    // Its own id goes through.
    expect((await bus.publish(v2, { eventId: 'e-1-v2' })).duplicate).toBe(false);
  });
});
