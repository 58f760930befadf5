/**
 * The design's "start with NATS, migrate to Kafka": a consumer group moves from NATS to
 * Kafka mid-stream while a bridge forwards every user event; with a dedupe store shared by
 * its old and new instances, every event is handled exactly once, none lost.
 */
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Transport } from '../../src/runtime/index.js';
import { NatsTransport, provisionNats } from '../../src/runtime/nats/index.js';
import { consumerMovesMidStream } from './bridge-migration.js';
import { NATS_URL, rand } from './helpers.js';
import { createTopics, deleteByPrefix, KafkaTracker, kafkaBootstrap } from './kafka-helpers.js';

describe('bridge NATS JetStream → Kafka', () => {
  const id = rand();
  const prefix = `eckb${id}`;
  const stream = `ECKB_${id}`;
  const internal = `_eckb${id}.`;
  let admin: Awaited<ReturnType<typeof connect>>;
  let kafka: KafkaTracker;
  let bootstrap: string;
  const opened: Transport[] = [];

  beforeAll(async () => {
    admin = await connect({ servers: NATS_URL });
    await provisionNats(admin, { streams: [{ name: stream, subjects: [`${prefix}.>`], storage: 'memory', maxAgeMs: 10 * 60_000 }] });
    bootstrap = await kafkaBootstrap();
    const topology = [{ name: prefix, subjects: [`${prefix}.>`], partitions: 2 }];
    await createTopics(bootstrap, topology);
    kafka = new KafkaTracker({ bootstrap, topology, internalTopicPrefix: internal, clientId: `eckb-${id}` });
  }, 300_000);
  afterAll(async () => {
    await Promise.allSettled(opened.map((t) => t.close()));
    await kafka?.close();
    if (bootstrap) await deleteByPrefix(bootstrap, [prefix, internal]);
    const jsm = await jetstreamManager(admin);
    await jsm.streams.delete(stream).catch(() => undefined);
    await admin.close();
  }, 120_000);

  it('moves a consumer from NATS to Kafka mid-stream: every event handled exactly once, none lost', { timeout: 300_000 }, async () => {
    const nats = async (): Promise<Transport> => {
      const t = await NatsTransport.connect({ connect: { servers: NATS_URL } });
      opened.push(t);
      return t;
    };
    const r = await consumerMovesMidStream({ prefix: `${prefix}.m${rand()}`, source: nats, target: () => kafka.connect() });
    expect(r.handledOnSource).toBeGreaterThan(0);
    expect(r.handledOnTarget).toBeGreaterThan(0);
    expect(r.handledOnSource + r.handledOnTarget).toBe(300);
  });
});
