// SDK JetStream publish throughput on a 3-node nats-server cluster (an R3 stream: each publish
// acknowledged once a majority of the three stored it) against a single node (an R1 stream),
// in the same run, with the cost printed as a ratio. An R1 stream on the cluster is printed
// too: it separates what replication costs from what the cluster's routing costs.
//
// Every server is private to the run (the test helpers start them on free loopback ports and
// stop them by PID): same nats-server binary, file storage, fresh store directories. The
// publisher is connected to the node that leads the stream (as a client listing every node
// usually is not: the figure is the best case; a client on a follower adds one route hop).
// 1,000 publishes in flight, a 300-byte JSON event (bench/event.mjs), validated and wrapped in
// its CloudEvents envelope by the SDK. Rounds alternate the order of the three; the best
// round of each is kept.
//
// `run()` returns rows { name, value, unit }; `node bench/cluster.mjs` prints them.
// Needs `npm run build` (imports ../dist/runtime/index.js and ../dist/runtime/nats/index.js);
// the servers come from test/runtime/nats-cluster.ts and helpers.ts, loaded through tsx.
import { tsImport } from 'tsx/esm/api';
import { createEventBus } from '../dist/runtime/index.js';
import { NatsTransport, provisionNats } from '../dist/runtime/nats/index.js';
import { data, validate } from './event.mjs';

const N = Number(process.env.BENCH_CLUSTER_N ?? 20_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const WINDOW = 1000;

/** Keeps `window` operations in flight; resolves when `n` have completed. */
async function windowed(n, window, op) {
  let next = 0;
  const worker = async () => {
    while (next < n) await op(next++);
  };
  await Promise.all(Array.from({ length: Math.min(window, n) }, worker));
}

const rate = (n, ms) => Math.round((n / ms) * 1000);
const debug = (...a) => process.env.BENCH_DEBUG && console.error(...a);

/** A bus publishing to a stream of `replicas` on `servers`, connected to the stream leader. */
async function setUp(label, servers, replicas, leaderUrl) {
  const id = Math.random().toString(36).slice(2, 8);
  const prefix = `bench${id}`;
  const stream = `BENCH_${label}_${id}`;
  const admin = await NatsTransport.connect({ connect: { servers } });
  await provisionNats(admin, { streams: [{ name: stream, subjects: [`${prefix}.>`], storage: 'file', replicas }] });
  const leader = (await (await admin.jsm()).streams.info(stream)).cluster?.leader;
  await admin.close();
  const url = leaderUrl(leader);
  const transport = await NatsTransport.connect({ connect: { servers: url }, publishTimeoutMs: 10_000 });
  const bus = createEventBus({ transport, source: 'bench/cluster' });
  const ev = { type: 'user.created', version: '2.0.0', address: `${prefix}.users.{userId}`, parameters: ['userId'], validate };
  return { label, bus, publish: () => bus.publish(ev, data, { params: { userId: 'u1' } }) };
}

export async function run() {
  const { NatsCluster } = await tsImport('../test/runtime/nats-cluster.ts', import.meta.url);
  const { OwnNatsServer } = await tsImport('../test/runtime/helpers.ts', import.meta.url);
  const single = await OwnNatsServer.start();
  let cluster;
  const sides = [];
  try {
    cluster = await NatsCluster.start(3);
    const atNode = (name) => `127.0.0.1:${cluster.node(name).port}`;
    sides.push(await setUp('single_r1', single.url, 1, () => single.url));
    sides.push(await setUp('cluster_r3', cluster.urls, 3, atNode));
    sides.push(await setUp('cluster_r1', cluster.urls, 1, atNode));
    // Warm-up: connections, JIT, the streams' first blocks.
    for (const s of sides) await windowed(2000, WINDOW, s.publish);

    const best = {};
    for (let r = 0; r < ROUNDS; r++) {
      const order = r % 2 === 0 ? sides : [...sides].reverse();
      for (const s of order) {
        const t0 = performance.now();
        await windowed(N, WINDOW, s.publish);
        const v = rate(N, performance.now() - t0);
        best[s.label] = Math.max(best[s.label] ?? 0, v);
        debug(s.label, v);
      }
    }
    const one = best.single_r1;
    const r3 = best.cluster_r3;
    const r1 = best.cluster_r1;
    return [
      { name: 'jetstream publish sdk, single node R1 (1000 in flight)', value: one, unit: 'msgs/s' },
      { name: 'jetstream publish sdk, 3-node cluster R3 (1000 in flight)', value: r3, unit: 'msgs/s' },
      { name: 'jetstream publish sdk, 3-node cluster R1 (1000 in flight)', value: r1, unit: 'msgs/s' },
      { name: 'cluster R3 / single node R1', value: r3 / one, unit: 'x' },
      { name: 'cluster R1 / single node R1', value: r1 / one, unit: 'x' },
    ];
  } finally {
    await Promise.allSettled(sides.map((s) => s.bus.close()));
    await cluster?.destroy();
    await single.destroy();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const row of await run()) console.log(`${row.name}: ${row.unit === 'x' ? row.value.toFixed(2) : row.value} ${row.unit}`);
}
