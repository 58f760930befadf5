/** Shared by the RabbitMQ tests: the broker URL and deleting what a test declared. */
import { connect, createServer, type Server, type Socket } from 'node:net';
import amqp from 'amqplib';
import type { AmqpTransport } from '../../src/runtime/amqp/index.js';

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

  /** Every queue the tracked transports declared so far. */
  queues(): string[] {
    return this.transports.flatMap((t) => t.topology().queues);
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

/**
 * A TCP proxy in front of RabbitMQ that a test can cut: every open connection is destroyed
 * and, for `downMs`, new ones are refused, as when a broker or the network goes away.
 */
export class CuttableProxy {
  private readonly sockets = new Set<Socket>();
  private readonly pairs = new Set<{ client: Socket; upstream: Socket }>();
  private down = false;
  cuts = 0;
  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(target = { host: '127.0.0.1', port: 5672 }): Promise<CuttableProxy> {
    let self: CuttableProxy | undefined;
    const server = createServer((client) => {
      if (!self || self.down) {
        client.destroy();
        return;
      }
      const upstream = connect(target.port, target.host);
      const pair = [client, upstream];
      for (const s of pair) {
        self.sockets.add(s);
        s.on('error', () => undefined);
        s.on('close', () => {
          self?.sockets.delete(s);
          for (const o of pair) o.destroy();
        });
      }
      client.pipe(upstream);
      upstream.pipe(client);
      self.pairs.add({ client, upstream });
      client.on('close', () => self?.pairs.forEach((p) => p.client === client && self?.pairs.delete(p)));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const a = server.address();
    self = new CuttableProxy(server, typeof a === 'object' && a ? a.port : 0);
    return self;
  }

  get url(): string {
    return `amqp://guest:guest@127.0.0.1:${this.port}`;
  }

  /** Destroys every connection and refuses new ones for `downMs`. */
  async cut(downMs: number): Promise<void> {
    this.cuts++;
    this.down = true;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    await new Promise((r) => setTimeout(r, downMs));
    this.down = false;
  }

  /** Holds back everything the broker sends (confirms, deliveries), sockets left open, until the returned function is called. */
  stall(): () => void {
    const held = [...this.pairs];
    for (const p of held) p.upstream.unpipe(p.client);
    return () => {
      for (const p of held) if (!p.client.destroyed) p.upstream.pipe(p.client);
    };
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
