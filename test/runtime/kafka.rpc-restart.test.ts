/**
 * Request/reply over Kafka across a broker crash: a broker of its own (one KRaft node on
 * free loopback ports), killed by PID and started again on the same data. The responder's
 * group and the requester's reply reader lose their streams with the broker; both must read
 * again on their own, so that once the broker is back, requests are answered again without
 * restarting either service.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEventBus, RequestTimeoutError, type EventBus, type EventDescriptor, type RuntimeNotice } from '../../src/runtime/index.js';
import { KafkaTransport } from '../../src/runtime/kafka/index.js';
import { startKafka, type KafkaCluster } from '../services/kafka.mjs';
import { rand } from './helpers.js';
import { createTopics } from './kafka-helpers.js';

type Ping = { n: number };
const descriptor = (type: string, address: string): EventDescriptor<Ping> => ({
  type,
  version: '1.0.0',
  address,
  parameters: [],
  validate: (d) => (typeof (d as Ping)?.n === 'number' ? { ok: true, value: d as Ping } : { ok: false, errors: [{ path: '/n', message: 'must be a number' }] }),
});

describe('kafka request/reply across a broker restart', () => {
  let cluster: KafkaCluster;
  const buses: EventBus[] = [];
  beforeAll(async () => {
    cluster = await startKafka({ nodes: 1 });
  }, 300_000);
  afterAll(async () => {
    await Promise.allSettled(buses.map((b) => b.close()));
    await cluster?.stop();
  }, 120_000);

  it('the responder and the requester read again once the broker is back: requests are answered without restarting either', async () => {
    const prefix = `krr${rand()}`;
    const topology = [{ name: prefix, subjects: [`${prefix}.>`] }];
    const req = descriptor('ping.requested', `${prefix}.ping`);
    const rep = descriptor('ping.replied', `${prefix}.pong`);
    await createTopics(cluster.bootstrap, topology);
    const notices: RuntimeNotice[] = [];
    const open = async (source: string) => {
      const transport = await KafkaTransport.connect({ bootstrap: cluster.bootstrap, topology, sessionTimeoutMs: 6000 });
      const bus = createEventBus({ transport, source, middleware: [{ name: 'notices', notice: (n) => void notices.push(n) }] });
      buses.push(bus);
      return bus;
    };
    const responder = await open('responder');
    const requester = await open('requester');
    await responder.respond(req, rep, async (e) => ({ n: e.data.n + 1 }), { group: `pong_${rand()}` });
    const ask = (n: number) => requester.request(req, { n }, rep, { timeoutMs: 5_000 });
    // The first request may wait for the responder's group to form.
    let first: number | undefined;
    for (let i = 0; i < 24 && first === undefined; i++) first = await ask(1).then((r) => r.data.n, (e: unknown) => (e instanceof RequestTimeoutError ? undefined : Promise.reject(e)));
    expect(first).toBe(2);

    await cluster.nodes[0]!.kill();
    // An outage long enough for the client to give its streams up: requests fail meanwhile.
    for (let i = 0; i < 6; i++) await expect(ask(i)).rejects.toBeInstanceOf(Error);
    await cluster.nodes[0]!.start();

    // Bounded: 36 tries of 5 s. Before the fix no answer ever came (both streams had closed).
    let after: number | undefined;
    const failures: string[] = [];
    for (let i = 0; i < 36 && after === undefined; i++) {
      after = await ask(41).then(
        (r) => r.data.n,
        (e: unknown) => void failures.push((e as Error).constructor.name),
      );
    }
    expect(after, `failures: ${failures.join(', ')}`).toBe(42);
    // And it keeps answering.
    expect((await ask(99)).data.n).toBe(100);
  }, 600_000);
});
