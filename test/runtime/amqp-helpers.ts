/** Shared by the RabbitMQ tests: the broker URL and deleting what a test declared. */
import amqp from 'amqplib';
import type { AmqpTransport } from '../../src/runtime/index.js';

export const AMQP_URL = process.env['AMQP_URL'] ?? 'amqp://guest:guest@127.0.0.1:5672';

/** Deletes queues and exchanges by name; each on its own channel, since a failure closes it. */
export async function deleteTopology(names: { queues?: Iterable<string>; exchanges?: Iterable<string> }, url = AMQP_URL): Promise<void> {
  const c = await amqp.connect(url);
  c.on('error', () => undefined);
  try {
    for (const q of names.queues ?? []) {
      const ch = await c.createChannel();
      ch.on('error', () => undefined);
      await ch.deleteQueue(q).catch(() => undefined);
      await ch.close().catch(() => undefined);
    }
    for (const e of names.exchanges ?? []) {
      if (e === '' || e.startsWith('amq.')) continue;
      const ch = await c.createChannel();
      ch.on('error', () => undefined);
      await ch.deleteExchange(e).catch(() => undefined);
      await ch.close().catch(() => undefined);
    }
  } finally {
    await c.close().catch(() => undefined);
  }
}

/** Remembers every transport a test opened, to delete all they declared at the end. */
export class TopologyTracker {
  private readonly transports: AmqpTransport[] = [];
  readonly extraQueues = new Set<string>();
  readonly extraExchanges = new Set<string>();

  track(t: AmqpTransport): AmqpTransport {
    this.transports.push(t);
    return t;
  }

  async cleanup(): Promise<void> {
    const queues = new Set(this.extraQueues);
    const exchanges = new Set(this.extraExchanges);
    for (const t of this.transports) {
      const topo = t.topology();
      for (const q of topo.queues) queues.add(q);
      for (const e of topo.exchanges) exchanges.add(e);
    }
    await Promise.allSettled(this.transports.map((t) => t.close()));
    await deleteTopology({ queues, exchanges });
  }
}
