/**
 * A consumer process for the cluster test (nats.cluster.test.ts): a bus on the NATS
 * transport, connected to every node of the cluster, deduplicating through a JetStream KV
 * bucket shared with the other worker. Started by the test with an IPC channel; the
 * configuration comes as JSON in argv[2].
 *
 * To the parent: { kind: 'ready' } once subscribed; { kind: 'handled', ids } for the ids its
 * handler ran (batched per event-loop turn); { kind: 'notice', notice } for the bus's
 * notices; { kind: 'closed' } after a { kind: 'stop' } from the parent.
 */
import { createEventBus, type Middleware, type RuntimeNotice } from '../../src/runtime/index.js';
import { KvDedupeStore, NatsTransport } from '../../src/runtime/nats/index.js';
import { userCreated } from './helpers.js';

export interface ClusterWorkerConfig {
  servers: string[];
  prefix: string;
  group: string;
  bucket: string;
}

export type ClusterWorkerMessage =
  | { kind: 'ready' }
  | { kind: 'handled'; ids: string[]; deliveries: number[] }
  | { kind: 'notice'; notice: { kind: string; state?: string; server?: string; detail?: string; id?: string; error?: string } }
  | { kind: 'closed' };

const send = (m: ClusterWorkerMessage): void => void process.send?.(m);

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2] ?? '{}') as ClusterWorkerConfig;
  const ev = userCreated(config.prefix);
  const transport = await NatsTransport.connect({ connect: { servers: config.servers, reconnectTimeWait: 100 }, publishTimeoutMs: 2000, pullExpiresMs: 1000 });
  const dedupe = await KvDedupeStore.open(transport.nc, { bucket: config.bucket, replicas: 3 });

  // Only what a reader of the report needs: errors are not cloneable over IPC.
  const forward: Middleware = {
    name: 'forward-notices',
    notice: (n: RuntimeNotice) => {
      if (n.kind === 'connection' || n.kind === 'consumer-error' || n.kind === 'dedupe-failed' || n.kind === 'duplicate') {
        send({
          kind: 'notice',
          notice: {
            kind: n.kind,
            ...('state' in n ? { state: n.state } : {}),
            ...('server' in n && n.server ? { server: n.server } : {}),
            ...('detail' in n && n.detail ? { detail: n.detail } : {}),
            ...('id' in n && n.id ? { id: n.id } : {}),
            ...('error' in n && n.error ? { error: String((n.error as Error)?.message ?? n.error) } : {}),
          },
        });
      }
    },
  };
  const bus = createEventBus({ transport, source: 'cluster/worker', middleware: [forward] });

  let batch: string[] = [];
  let deliveries: number[] = [];
  const flush = (): void => {
    const ids = batch;
    const counts = deliveries;
    batch = [];
    deliveries = [];
    if (ids.length > 0) send({ kind: 'handled', ids, deliveries: counts });
  };
  await bus.subscribe({
    group: config.group,
    subjects: [`${config.prefix}.users.*.created`],
    concurrency: 32,
    maxInFlight: 256,
    ackWaitMs: 5000,
    dedupe,
    // Short, so a redelivery stuck behind a claim that was never completed (the store
    // unreachable at that moment) comes back within the test, where a second handling shows.
    claimTtlMs: 10_000,
    handlers: [
      {
        type: ev.type,
        accepts: [ev],
        handle: async (e, ctx) => {
          if (batch.length === 0) setImmediate(flush);
          batch.push(e.id);
          deliveries.push(ctx.deliveryCount);
        },
      },
    ],
  });
  send({ kind: 'ready' });

  process.on('message', (m: { kind?: string }) => {
    if (m?.kind !== 'stop') return;
    void bus
      .close()
      .catch(() => undefined)
      .then(() => {
        flush();
        send({ kind: 'closed' });
        process.disconnect?.();
      });
  });
  // The parent went away without a stop: do not linger.
  process.on('disconnect', () => void bus.close().finally(() => process.exit(0)));
}

main().catch((err: unknown) => {
  console.error('cluster worker failed:', err);
  process.exit(1);
});
