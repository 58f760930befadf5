/**
 * A broker of a three-node cluster killed (SIGKILL) under a running bus: the transport is
 * told to reconnect by nobody. It reports the lost connection and the recovery through
 * onNotice, publishes go on (acks=all on the surviving in-sync replicas) and the consumer
 * group goes on reading, every event handled once.
 */
import { Admin } from '@platformatic/kafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEventBus, type EventBus, type RuntimeNotice } from '../../src/runtime/index.js';
import { KafkaTransport } from '../../src/runtime/kafka/index.js';
import { startKafka } from '../services/kafka.mjs';
import type { KafkaCluster } from '../services/kafka.mjs';
import { rand, userCreated, waitFor } from './helpers.js';
import { createTopics } from './kafka-helpers.js';

/*
 * Starts three JVMs: about 100 s here, 25 s of it the test; run with EC_KAFKA_FAULTS=1.
 * Seen once while the consumer dropped the client's metadata before reading again (it no
 * longer does): @platformatic/kafka 1.35.0 threw an uncaught TypeError (connection-pool.js
 * #get, `broker.host` of undefined) looking up a cached group coordinator id, the killed
 * node, in metadata that no longer listed it.
 */
describe.skipIf(!process.env['EC_KAFKA_FAULTS'])('kafka: a broker of the cluster killed', () => {
  const prefix = `kft${rand()}`;
  const ev = userCreated(prefix);
  const topology = [{ name: prefix, subjects: [`${prefix}.>`], partitions: 2, replicationFactor: 3, config: { 'min.insync.replicas': '2' } }];
  let cluster: KafkaCluster;
  const buses: EventBus[] = [];

  beforeAll(async () => {
    cluster = await startKafka({ nodes: 3 });
    await createTopics(cluster.bootstrap, topology);
  }, 300_000);
  afterAll(async () => {
    await Promise.allSettled(buses.map((b) => b.close()));
    await cluster?.stop();
  }, 120_000);

  it('reports the loss and the recovery; publishing and consuming go on; every event handled once', async () => {
    const notices: RuntimeNotice[] = [];
    const transport = await KafkaTransport.connect({ bootstrap: cluster.bootstrap, topology, sessionTimeoutMs: 6000 });
    const bus = createEventBus({ transport, source: 'test/faults', middleware: [{ name: 'n', notice: (n) => void notices.push(n) }] });
    buses.push(bus);
    const handled: string[] = [];
    await bus.subscribe({ group: `faults_${rand()}`, handlers: [{ type: ev.type, accepts: [ev], handle: async (e) => void handled.push(e.id) }] });
    for (let i = 0; i < 10; i++) await bus.publish(ev, { userId: `u${i}`, email: 'a@x.io' }, { params: { userId: `u${i}` }, id: `before-${i}` });
    await waitFor(() => handled.length === 10, 60_000, 'the events before');

    // The leader of partition 0, the broker most of the clients talk to.
    const admin = new Admin({ clientId: 'faults', bootstrapBrokers: cluster.bootstrap.split(',') });
    const md = await admin.metadata({ topics: [prefix] });
    await admin.close();
    const leaderId = md.topics.get(prefix)!.partitions[0]!.leader;
    const victim = cluster.nodes.find((n) => n.id === leaderId)!;
    await victim.kill();

    for (let i = 0; i < 10; i++) await bus.publish(ev, { userId: `u${i}`, email: 'a@x.io' }, { params: { userId: `u${i}` }, id: `after-${i}` });
    await waitFor(() => handled.filter((id) => id.startsWith('after-')).length === 10, 90_000, 'the events after');
    const connection = notices.filter((n) => n.kind === 'connection');
    expect(connection.some((n) => n.kind === 'connection' && n.state === 'disconnected' && n.server === `127.0.0.1:${victim.port}`)).toBe(true);
    const lostAt = connection.findIndex((n) => n.kind === 'connection' && n.state === 'disconnected');
    expect(connection.slice(lostAt).some((n) => n.kind === 'connection' && n.state === 'reconnected')).toBe(true);
    expect([...handled].sort()).toEqual([...Array.from({ length: 10 }, (_, i) => `after-${i}`), ...Array.from({ length: 10 }, (_, i) => `before-${i}`)].sort());
  }, 240_000);
});
