/**
 * The NATS transport on a 3-node nats-server cluster this file starts (test/runtime/
 * nats-cluster.ts), nodes killed by PID: several server URLs (the first down at start, the
 * one in use killed), the connection notices a middleware receives, a consumer the server
 * stops serving, the KV dedupe store across a bucket leader kill, and 10 000 events published
 * while the stream leader's node is killed and restarted, handled exactly once by consumers
 * in two other processes sharing a KV dedupe bucket. About 30 to 55 s on a busy 2-core machine.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jetstreamManager } from '@nats-io/jetstream';
import { createEventBus, type EventBus, type Middleware, type RuntimeNotice, type TransportNotice } from '../../src/runtime/index.js';
import { KvDedupeStore, NatsTransport, provisionNats } from '../../src/runtime/nats/index.js';
import type { ClusterWorkerConfig, ClusterWorkerMessage } from './cluster-worker.js';
import { freePort, OwnNatsServer, rand, userCreated, waitFor } from './helpers.js';
import { NatsCluster } from './nats-cluster.js';

/** A middleware that keeps the transport's notices. */
function noticeLog(): { middleware: Middleware; notices: TransportNotice[] } {
  const notices: TransportNotice[] = [];
  const middleware: Middleware = {
    name: 'notices',
    notice: (n: RuntimeNotice) => void ((n.kind === 'connection' || n.kind === 'consumer-error') && notices.push(n)),
  };
  return { middleware, notices };
}

const connections = (ns: TransportNotice[], state: string) => ns.filter((n) => n.kind === 'connection' && n.state === state) as Array<Extract<TransportNotice, { kind: 'connection' }>>;

describe('NATS on a 3-node cluster', () => {
  let cluster: NatsCluster;
  const closers: Array<() => Promise<unknown>> = [];
  beforeAll(async () => {
    cluster = await NatsCluster.start(3);
  }, 60_000);
  afterAll(async () => {
    for (const c of closers.reverse()) await c().catch(() => undefined);
    await cluster?.destroy();
  });

  const provisionStream = async (t: NatsTransport, prefix: string, extra: { consumer?: string; ackWaitMs?: number } = {}) => {
    const stream = `C_${prefix}`;
    await provisionNats(t, {
      streams: [{ name: stream, subjects: [`${prefix}.>`], storage: 'file', replicas: 3 }],
      ...(extra.consumer ? { consumers: [{ stream, name: extra.consumer, filterSubject: `${prefix}.users.*.created`, ackWaitMs: extra.ackWaitMs ?? 5000 }] } : {}),
    });
    return stream;
  };

  /**
   * Stream info through a connection of its own, asked until some node answers: just after
   * a node is killed the JetStream API may be electing its meta leader.
   */
  const streamInfo = async (stream: string) => {
    const nc = await cluster.connect();
    try {
      // checkAPI off: the manager's own first request would fail while the meta leader is elected.
      const jsm = await jetstreamManager(nc, { timeout: 2000, checkAPI: false });
      let info: Awaited<ReturnType<typeof jsm.streams.info>> | undefined;
      await waitFor(async () => {
        info = await jsm.streams.info(stream).catch(() => undefined);
        return info !== undefined;
      }, 30_000, `stream info of ${stream}`);
      return info!;
    } finally {
      await nc.close();
    }
  };
  const messagesIn = async (stream: string) => (await streamInfo(stream)).state.messages;

  /** Restarts a killed node and waits until every replica of `stream` is current again. */
  const rejoin = async (name: string, stream: string) => {
    await cluster.restart(name);
    const nc = await cluster.connect();
    try {
      const jsm = await jetstreamManager(nc, { timeout: 2000, checkAPI: false });
      await waitFor(async () => {
        try {
          const c = (await jsm.streams.info(stream)).cluster;
          return !!c?.leader && (c.replicas ?? []).length === 2 && (c.replicas ?? []).every((r) => r.current && !r.offline);
        } catch {
          return false;
        }
      }, 30_000, `${stream} to have all 3 replicas current`);
    } finally {
      await nc.close();
    }
  };

  it('several servers: the first down at start, the client connects to the next (array and comma-separated string)', async () => {
    const dead = `127.0.0.1:${await freePort()}`;
    const alsoDead = `127.0.0.1:${await freePort()}`;
    const live = cluster.urls[0]!;
    const prefix = `cl${rand()}`;
    const ev = userCreated(prefix);
    // noRandomize: the dead server is tried first, every time. Given the string as it is,
    // nats.js would read it as one URL and keep only its last server (alsoDead).
    const commaSeparated = `nats://${dead}, nats://${live},nats://${alsoDead}`;
    for (const servers of [[dead, live], commaSeparated]) {
      const t = await NatsTransport.connect({ connect: { servers, noRandomize: true, reconnectTimeWait: 100 } });
      closers.push(() => t.close());
      expect(t.nc.getServer()).toBe(live);
      const bus = createEventBus({ transport: t, source: 'cluster/start' });
      if (servers === commaSeparated) {
        await provisionStream(t, prefix);
        const r = await bus.publish(ev, { userId: 'u1', email: 'a@x.io' }, { params: { userId: 'u1' } });
        expect(r.sequence).toBe(1);
      }
      await bus.close();
    }
  }, 60_000);

  it("the server in use killed: 'disconnected' with it, 'reconnected' with a survivor, publishes go on", async () => {
    const prefix = `cl${rand()}`;
    const ev = userCreated(prefix);
    const t = await NatsTransport.connect({ connect: { servers: cluster.urls, reconnectTimeWait: 100 }, publishTimeoutMs: 2000 });
    closers.push(() => t.close());
    const stream = await provisionStream(t, prefix);
    const { middleware, notices } = noticeLog();
    const bus = createEventBus({ transport: t, source: 'cluster/failover', middleware: [middleware] });
    closers.push(() => bus.close());
    const publish = (i: number) => bus.publish(ev, { userId: `u${i}`, email: 'a@x.io', seq: i }, { params: { userId: `u${i}` }, id: `${prefix}-${i}` });
    for (let i = 0; i < 50; i++) await publish(i);

    const inUse = t.nc.getServer();
    const killed = cluster.nodeAt(inUse)!;
    await cluster.kill(killed.name);
    try {
      await waitFor(() => connections(notices, 'reconnected').length > 0, 30_000, "a 'reconnected' notice");
      const [lost] = connections(notices, 'disconnected');
      const [back] = connections(notices, 'reconnected');
      expect(lost).toMatchObject({ kind: 'connection', transport: 'nats', state: 'disconnected', server: inUse });
      expect(back?.server).not.toBe(inUse);
      expect(cluster.nodeAt(back!.server!)).toBeDefined();
      expect(t.nc.getServer()).toBe(back!.server);

      const receipts = await Promise.all(Array.from({ length: 200 }, (_, k) => publish(50 + k)));
      expect(receipts.filter((r) => r.duplicate)).toEqual([]);
      expect(await messagesIn(stream)).toBe(250);
      // One outage, one notice each way (nats.js's per-attempt 'reconnecting' is not passed on).
      expect(connections(notices, 'disconnected')).toHaveLength(1);
      expect(connections(notices, 'reconnected')).toHaveLength(1);
    } finally {
      // The next tests want three nodes again.
      await rejoin(killed.name, stream);
    }
  }, 90_000);

  it('a consumer the server stops serving (its durable deleted): one consumer-error notice naming the group, not one per retry', async () => {
    const prefix = `cl${rand()}`;
    const ev = userCreated(prefix);
    const t = await NatsTransport.connect({ connect: { servers: cluster.urls }, pullExpiresMs: 1000 });
    closers.push(() => t.close());
    const stream = await provisionStream(t, prefix, { consumer: 'gone' });
    const { middleware, notices } = noticeLog();
    const bus = createEventBus({ transport: t, source: 'cluster/consumer', middleware: [middleware] });
    closers.push(() => bus.close());
    const handled: string[] = [];
    await bus.subscribe({ group: 'gone', subjects: [`${prefix}.users.*.created`], handlers: [{ type: ev.type, accepts: [ev], handle: async (e) => void handled.push(e.id) }] });
    await bus.publish(ev, { userId: 'u1', email: 'a@x.io' }, { params: { userId: 'u1' }, id: 'before' });
    await waitFor(() => handled.length === 1, 15_000, 'the first event handled');
    expect(notices.filter((n) => n.kind === 'consumer-error')).toEqual([]);

    await (await t.jsm()).consumers.delete(stream, 'gone');
    await waitFor(() => notices.some((n) => n.kind === 'consumer-error'), 15_000, 'a consumer-error notice');
    const errorsAtNotice = t.stats.consumeErrors;
    // The loop keeps retrying with backoff: still one notice after several more refusals.
    await waitFor(() => t.stats.consumeErrors >= errorsAtNotice + 3, 20_000, 'three more refused pulls');
    const errs = notices.filter((n) => n.kind === 'consumer-error');
    expect(errs).toHaveLength(1);
    expect(errs[0]).toMatchObject({ kind: 'consumer-error', transport: 'nats', group: 'gone' });
    expect((errs[0] as { detail: string }).detail).toContain(`${stream}/gone`);
    // A lost durable is not a lost connection.
    expect(notices.filter((n) => n.kind === 'connection')).toEqual([]);
  }, 60_000);

  it('KV dedupe store: complete() while the bucket leader is killed still records the event as done (else a redelivery is handled twice)', async () => {
    // The mechanism behind the duplicates the 10 000-event test below finds now and then:
    // complete() fails while the bucket elects a leader, the bus acks anyway, the ack is lost
    // with the consumer's leader, and the redelivery claims the event again once the claim's
    // TTL has passed.
    const t = await NatsTransport.connect({ connect: { servers: cluster.urls, reconnectTimeWait: 100 } });
    closers.push(() => t.close());
    const bucket = `ect-kvf-${rand()}`;
    const store = await KvDedupeStore.open(t.nc, { bucket, replicas: 3 });
    closers.push(() => store.destroy());
    expect(await store.claim('g/e1', 1000)).toBe('claimed');
    const leader = (await streamInfo(`KV_${bucket}`)).cluster?.leader;
    expect(leader).toMatch(/^n\d$/);
    await cluster.kill(leader!);
    try {
      const completed = await store.complete('g/e1').then(
        () => 'completed',
        (err: unknown) => `failed: ${(err as Error).message}`,
      );
      expect(completed).toBe('completed');
      await waitFor(async () => (await store.claim('g/e1', 1000).catch(() => 'unreachable')) !== 'unreachable', 30_000, 'the bucket to answer again');
      expect(await store.claim('g/e1', 1000)).toBe('done');
    } finally {
      await rejoin(leader!, `KV_${bucket}`);
    }
  }, 90_000);

  it('10 000 events published while the stream leader is killed and restarted: each acknowledged id handled exactly once across two consumer processes', async () => {
    const started = Date.now();
    const prefix = `cl${rand()}`;
    const ev = userCreated(prefix);
    const group = 'cluster';
    const bucket = `ect-cl-${rand()}`;
    const pubT = await NatsTransport.connect({ connect: { servers: cluster.urls, reconnectTimeWait: 100 }, publishTimeoutMs: 2000 });
    closers.push(() => pubT.close());
    const stream = await provisionStream(pubT, prefix, { consumer: group });
    // Created here once (replicas 3), so the workers only open it.
    const store = await KvDedupeStore.open(pubT.nc, { bucket, replicas: 3 });
    closers.push(() => store.destroy());
    const { middleware, notices } = noticeLog();
    const producer = createEventBus({ transport: pubT, source: 'cluster/producer', middleware: [middleware] });
    closers.push(() => producer.close());

    // Two consumer processes; every id their handlers ran comes back over IPC.
    const handled = new Map<string, number>();
    const trail = new Map<string, string[]>();
    const workerNotices: ClusterWorkerMessage[] = [];
    const config: ClusterWorkerConfig = { servers: cluster.urls, prefix, group, bucket };
    const workers: ChildProcess[] = [];
    let ready = 0;
    let closed = 0;
    const exits: string[] = [];
    for (let w = 0; w < 2; w++) {
      const child = fork(new URL('./cluster-worker.ts', import.meta.url).pathname, [JSON.stringify(config)], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      workers.push(child);
      child.on('message', (m: ClusterWorkerMessage) => {
        if (m.kind === 'ready') ready++;
        else if (m.kind === 'closed') closed++;
        else if (m.kind === 'handled') {
          m.ids.forEach((id, k) => {
            handled.set(id, (handled.get(id) ?? 0) + 1);
            trail.set(id, [...(trail.get(id) ?? []), `w${w} d${m.deliveries[k]} t${Date.now() - started}`]);
          });
        }
        else workerNotices.push(m);
      });
      child.on('exit', (code, signal) => void exits.push(`${code ?? signal}`));
      closers.push(async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      });
    }
    await waitFor(() => ready === 2 || exits.length > 0, 60_000, 'both workers subscribed');
    expect(exits).toEqual([]);

    const total = 10_000;
    const ids = Array.from({ length: total }, (_, i) => `${prefix}-${i}`);
    const acked = new Set<string>();
    const failed: unknown[] = [];
    let next = 0;
    // 200 publishes in flight, each awaiting its ack: the transport retries one whose ack
    // is lost under the same Nats-Msg-Id, and the stream drops the copy if the first landed.
    const worker = async () => {
      while (next < total) {
        const i = next++;
        try {
          await producer.publish(ev, { userId: `u${i % 97}`, email: 'a@x.io', seq: i }, { params: { userId: `u${i % 97}` }, id: ids[i]! });
          acked.add(ids[i]!);
        } catch (err) {
          failed.push(err);
        }
      }
    };
    const publishing = Promise.all(Array.from({ length: 200 }, worker));

    await waitFor(() => acked.size >= 3000, 60_000, '3000 acks');
    const jsm = await pubT.jsm();
    const leader = (await jsm.streams.info(stream)).cluster?.leader;
    expect(leader).toMatch(/^n\d$/);
    await cluster.kill(leader!);
    const killedAtMs = Date.now() - started;
    const ackedAtKill = acked.size;
    // The survivors elect a new leader and publishing goes on without the killed node.
    await waitFor(() => acked.size >= Math.min(total, ackedAtKill + 2000), 60_000, '2000 more acks after the kill');
    await rejoin(leader!, stream);
    await publishing;
    const publishedIn = Date.now() - started;

    expect(failed).toEqual([]);
    expect(acked.size).toBe(total);
    await waitFor(() => ids.every((id) => handled.has(id)), 90_000, `all ${total} events handled (have ${handled.size})`);
    // Then until the group has settled everything: a redelivery still waiting (behind a claim,
    // say) would be handled a second time after this point, unseen, if the workers stopped now.
    await waitFor(
      async () => {
        const c = await jsm.consumers.info(stream, group).catch(() => undefined);
        return c !== undefined && c.num_pending === 0 && c.num_ack_pending === 0;
      },
      60_000,
      'every message of the group acknowledged',
    );
    for (const w of workers) w.send({ kind: 'stop' });
    await waitFor(() => closed === 2, 30_000, 'both workers closed');

    // How it went, for the README: time, the leader change, what the processes were told.
    const after = (await jsm.streams.info(stream)).cluster?.leader;
    console.log(
      JSON.stringify({
        totalMs: Date.now() - started,
        publishedMs: publishedIn,
        killedLeader: leader,
        leaderAfter: after,
        publishRetries: pubT.stats.publishRetries,
        producerNotices: notices.map((n) => (n.kind === 'connection' ? `${n.state} ${n.server}` : `${n.kind}`)),
        workerConnectionNotices: workerNotices.flatMap((m) => (m.kind === 'notice' && m.notice.kind === 'connection' ? [`${m.notice.state} ${m.notice.server}`] : [])),
        consumerErrors: [...new Set(workerNotices.flatMap((m) => (m.kind === 'notice' && m.notice.kind === 'consumer-error' ? [m.notice.error ?? ''] : [])))],
        workerNoticeCounts: workerNotices.reduce<Record<string, number>>((c, m) => (m.kind === 'notice' ? { ...c, [m.notice.kind]: (c[m.notice.kind] ?? 0) + 1 } : c), {}),
      }),
    );
    const twice = [...handled].filter(([, n]) => n !== 1).map(([id]) => id);
    if (twice.length > 0) {
      const about = (id: string) => workerNotices.filter((m) => m.kind === 'notice' && m.notice.id === id).map((m) => (m.kind === 'notice' ? `${m.notice.kind} ${m.notice.error ?? ''}` : ''));
      console.log(JSON.stringify({ killedAtMs, twice: twice.slice(0, 10).map((id) => ({ id, handled: trail.get(id), notices: about(id) })) }, null, 1));
      console.log(JSON.stringify(workerNotices.filter((m) => m.kind === 'notice' && m.notice.kind !== 'duplicate').slice(0, 30)));
    }
    expect(ids.filter((id) => !handled.has(id))).toEqual([]);
    expect([...handled].filter(([, n]) => n !== 1)).toEqual([]);
    expect([...handled.keys()].filter((id) => !acked.has(id))).toEqual([]);
  }, 180_000);
});

describe('NATS: one server restarted', () => {
  it('servers naming no server (an empty string, only commas, an empty list) are refused, not read as the default localhost', async () => {
    for (const servers of ['', ' , ', []]) {
      await expect(NatsTransport.connect({ connect: { servers } })).rejects.toThrow(/names no server/);
    }
  });

  it('a pull expiry nats.js refuses (under 1 s) is refused when connecting, not retried forever by every pull', async () => {
    // Before, each pull failed inside nats.js ("'expires' must be at least 1000ms"), counted
    // only as a consume error: the consumer received nothing, silently.
    await expect(NatsTransport.connect({ connect: { servers: '127.0.0.1:1' }, pullExpiresMs: 500 })).rejects.toThrow(/pullExpiresMs.*1000/);
  });

  it("'disconnected' then 'reconnected' with the same server, through a middleware", async () => {
    const server = await OwnNatsServer.start();
    const t = await NatsTransport.connect({ connect: { servers: server.url, reconnectTimeWait: 100 } });
    const { middleware, notices } = noticeLog();
    const bus: EventBus = createEventBus({ transport: t, source: 'restart', middleware: [middleware] });
    try {
      await server.restart();
      await waitFor(() => connections(notices, 'reconnected').length === 1, 20_000, "a 'reconnected' notice");
      expect(notices).toEqual([
        { kind: 'connection', transport: 'nats', state: 'disconnected', server: server.url },
        { kind: 'connection', transport: 'nats', state: 'reconnected', server: server.url },
      ]);
    } finally {
      await bus.close();
      await server.destroy();
    }
  }, 60_000);
});
