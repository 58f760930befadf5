/**
 * The AMQP transport given several URLs, and the notices it sends through the bus's
 * middleware when its connection is lost and reopened. The "servers" are TCP proxies inside
 * the test in front of the one real RabbitMQ (CuttableProxy): closing a proxy is, for the
 * client, a node going away for good; the shared broker and other tests are left alone.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { AmqpTransport, connectAmqp } from '../../src/runtime/amqp/index.js';
import { createEventBus, type EventBus, type Middleware, type RuntimeNotice, type TransportNotice } from '../../src/runtime/index.js';
import { CuttableProxy, TopologyTracker } from './amqp-helpers.js';
import { freePort, rand, userCreated, waitFor } from './helpers.js';

function noticeLog(): { middleware: Middleware; notices: TransportNotice[] } {
  const notices: TransportNotice[] = [];
  return { notices, middleware: { name: 'notices', notice: (n: RuntimeNotice) => void ((n.kind === 'connection' || n.kind === 'consumer-error') && notices.push(n)) } };
}

const hostPort = (p: CuttableProxy) => `127.0.0.1:${p.port}`;

describe('AMQP: several URLs and connection notices', () => {
  const proxies: CuttableProxy[] = [];
  const buses: EventBus[] = [];
  const tracker = new TopologyTracker();
  afterEach(async () => {
    await Promise.allSettled(buses.splice(0).map((b) => b.close()));
    await tracker.cleanup();
    await Promise.allSettled(proxies.splice(0).map((p) => p.close()));
  });
  const proxy = async () => {
    const p = await CuttableProxy.start();
    proxies.push(p);
    return p;
  };
  const deadUrl = async () => `amqp://guest:guest@127.0.0.1:${await freePort()}`;
  const connect = async (url: string[], prefix: string) =>
    tracker.track(await AmqpTransport.connect({ url, exchange: prefix, queuePrefix: `${prefix}.`, reconnect: { initialMs: 50, maxMs: 500 } }));

  it('URLs are tried in order: the first down at start, the second is used; both up, the first', async () => {
    const [a, b] = [await proxy(), await proxy()];
    const prefix = `rn${rand()}`;
    const t1 = await connect([await deadUrl(), a.url], prefix);
    expect(t1.link.server).toBe(hostPort(a));
    const t2 = await connect([b.url, a.url], prefix);
    expect(t2.link.server).toBe(hostPort(b));
    // connectAmqp takes the list as well.
    const t3 = tracker.track(await connectAmqp([await deadUrl(), b.url], { exchange: prefix, queuePrefix: `${prefix}.` }));
    expect(t3.link.server).toBe(hostPort(b));
  });

  it('every URL down at start: the connect fails fast, with an empty list refused too', async () => {
    await expect(AmqpTransport.connect({ url: [await deadUrl(), await deadUrl()] })).rejects.toThrow(/ECONNREFUSED/);
    await expect(AmqpTransport.connect({ url: [] })).rejects.toThrow(/empty list/);
  });

  it("the server in use goes away: 'disconnected' with it, 'reconnected' with the next, publishes and the consumer go on", async () => {
    const [a, b] = [await proxy(), await proxy()];
    const prefix = `rn${rand()}`;
    const ev = userCreated(prefix);
    const pubT = await connect([a.url, b.url], prefix);
    const subT = await connect([a.url, b.url], prefix);
    const { middleware, notices } = noticeLog();
    const producer = createEventBus({ transport: pubT, source: 'rn/producer', middleware: [middleware] });
    const consumer = createEventBus({ transport: subT, source: 'rn/consumer' });
    buses.push(producer, consumer);
    const handled = new Set<string>();
    await consumer.subscribe({ group: 'rn', handlers: [{ type: ev.type, accepts: [ev], handle: async (e) => void handled.add(e.id) }] });
    const publish = (i: number) => producer.publish(ev, { userId: `u${i}`, email: 'a@x.io', seq: i }, { params: { userId: `u${i}` }, id: `${prefix}-${i}` });
    for (let i = 0; i < 20; i++) await publish(i);
    await waitFor(() => handled.size === 20, 15_000, '20 events handled');

    await a.close(); // node a is gone for good: its connections cut, new ones refused
    await waitFor(() => notices.some((n) => n.kind === 'connection' && n.state === 'reconnected'), 20_000, "a 'reconnected' notice");
    expect(notices).toEqual([
      { kind: 'connection', transport: 'amqp', state: 'disconnected', server: hostPort(a) },
      { kind: 'connection', transport: 'amqp', state: 'reconnected', server: hostPort(b) },
    ]);
    expect(pubT.link.server).toBe(hostPort(b));

    await Promise.all(Array.from({ length: 100 }, (_, k) => publish(20 + k)));
    await waitFor(() => handled.size === 120, 20_000, `120 events handled (have ${handled.size})`);
    expect(subT.link.server).toBe(hostPort(b));
  }, 60_000);

  it("one server, connection cut and back: 'disconnected' then 'reconnected' with the same server; none after close", async () => {
    const a = await proxy();
    const prefix = `rn${rand()}`;
    const t = await connect([a.url], prefix);
    const { middleware, notices } = noticeLog();
    const bus = createEventBus({ transport: t, source: 'rn/one', middleware: [middleware] });
    buses.push(bus);
    // Connections refused for 300 ms, so the reconnect loop fails at least once first.
    await a.cut(300);
    await waitFor(() => notices.length === 2, 20_000, 'two notices');
    expect(notices).toEqual([
      { kind: 'connection', transport: 'amqp', state: 'disconnected', server: hostPort(a) },
      { kind: 'connection', transport: 'amqp', state: 'reconnected', server: hostPort(a) },
    ]);
    await bus.close();
    expect(notices).toHaveLength(2);
  }, 60_000);
});
