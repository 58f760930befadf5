/**
 * A consumer process for the Kafka cluster test (kafka.cluster.test.ts): a bus on the Kafka
 * transport, bootstrapped with every broker of the cluster, deduplicating through a
 * PostgreSQL table shared with the other worker (Kafka does not drop a re-sent record, and
 * a partition may move to the other process after a rebalance). Configuration as JSON in argv[2].
 *
 * To the parent: { kind: 'ready' } once subscribed; { kind: 'handled', ids } for the ids its
 * handler ran; { kind: 'notice', ... } for connection notices; { kind: 'closed' } after a
 * { kind: 'stop' } from the parent.
 */
import pg from 'pg';
import { createEventBus, PgDedupeStore, type Middleware, type RuntimeNotice } from '../../src/runtime/index.js';
import { KafkaTransport } from '../../src/runtime/kafka/index.js';
import type { KafkaTopicSpec } from '../../src/runtime/kafka/plan.js';
import { userCreated } from '../runtime/helpers.js';

export interface KafkaClusterWorkerConfig {
  bootstrap: string;
  prefix: string;
  group: string;
  topology: KafkaTopicSpec[];
  pgUrl: string;
  dedupeSchema: string;
}

export type KafkaClusterWorkerMessage =
  | { kind: 'ready' }
  | { kind: 'handled'; ids: string[] }
  | { kind: 'notice'; notice: { kind: string; state?: string; server?: string } }
  | { kind: 'closed' };

const send = (m: KafkaClusterWorkerMessage): void => void process.send?.(m);

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2] ?? '{}') as KafkaClusterWorkerConfig;
  const ev = userCreated(config.prefix);
  const pool = new pg.Pool({ connectionString: config.pgUrl, max: 8 });
  const dedupe = await PgDedupeStore.open(pool, { schema: config.dedupeSchema });
  const transport = await KafkaTransport.connect({ bootstrap: config.bootstrap, topology: config.topology, clientId: `worker-${process.pid}` });
  const forward: Middleware = {
    name: 'forward-notices',
    notice: (n: RuntimeNotice) => {
      if (n.kind === 'connection') send({ kind: 'notice', notice: { kind: n.kind, state: n.state, ...(n.server ? { server: n.server } : {}) } });
      else if (n.kind === 'consumer-error') send({ kind: 'notice', notice: { kind: n.kind, state: n.detail.slice(0, 300) } });
    },
  };
  const bus = createEventBus({ transport, source: 'kafka-cluster/worker', middleware: [forward] });
  let batch: string[] = [];
  const flush = (): void => {
    const ids = batch;
    batch = [];
    if (ids.length > 0) send({ kind: 'handled', ids });
  };
  await bus.subscribe({
    group: config.group,
    subjects: [`${config.prefix}.users.*.created`],
    concurrency: 32,
    maxInFlight: 256,
    dedupe,
    handlers: [
      {
        type: ev.type,
        accepts: [ev],
        handle: async (e) => {
          if (batch.length === 0) setImmediate(flush);
          batch.push(e.id);
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
      .then(() => pool.end())
      .then(() => {
        flush();
        send({ kind: 'closed' });
        process.disconnect?.();
      });
  });
  process.on('disconnect', () => void bus.close().finally(() => process.exit(0)));
}

main().catch((err: unknown) => {
  console.error('kafka cluster worker failed:', err);
  process.exit(1);
});
