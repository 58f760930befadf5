/**
 * Where the contract monitor listens. It never takes anything a real consumer needs: on
 * NATS a plain core subscription (no queue group, no JetStream consumer, no acks) gets its
 * own copy of every message published on the subjects; on RabbitMQ a temporary exclusive,
 * auto-deleted queue bound to the exchange with `#` gets a copy of everything routed
 * through it, consumed without acks. Broker clients are loaded only by the tap that uses them.
 */
import type { ContractMonitor } from './monitor.js';

export interface Tap {
  /** What the tap listens to, for the header line. */
  readonly describe: string;
  stop(): Promise<void>;
}

export interface NatsTapOptions {
  servers: string;
  /** Default ['>']: everything but the server's own ($...), inboxes and dead-letter copies. */
  subjects?: readonly string[];
}

/** Not events of the contract: JetStream API and acks, reply inboxes (`_INBOX.` and per-service `_INBOX_<service>.`). */
function infrastructure(subject: string): boolean {
  return subject.startsWith('$') || subject.startsWith('_INBOX');
}

const DEAD_LETTER_REASON = 'ec-dead-letter-reason';

export async function tapNats(monitor: ContractMonitor, o: NatsTapOptions): Promise<Tap> {
  const { connect } = await import('@nats-io/transport-node');
  const { readHeaders, NO_HEADERS } = await import('../../runtime/nats/headers.js');
  const nc = await connect({ servers: o.servers, name: 'event-contracts monitor', noAsyncTraces: true });
  const subjects = o.subjects && o.subjects.length > 0 ? o.subjects : ['>'];
  for (const subject of subjects) {
    nc.subscribe(subject, {
      callback: (err, m) => {
        if (err || infrastructure(m.subject)) return;
        let headers;
        try {
          headers = readHeaders(m);
        } catch (e) {
          // A header block nats.js refuses: the monitor reports it as undecodable.
          monitor.observe({ subject: m.subject, headers: NO_HEADERS, body: m.data, malformed: (e as Error).message });
          return;
        }
        if (headers.get(DEAD_LETTER_REASON) !== undefined) return;
        monitor.observe({ subject: m.subject, headers, body: m.data });
      },
    });
  }
  return {
    describe: `nats ${o.servers} ${subjects.join(' ')}`,
    async stop() {
      await nc.drain().catch(() => nc.close());
    },
  };
}

export interface AmqpTapOptions {
  url: string;
  /** The topic exchange the services publish to. */
  exchange: string;
  /** Default '#'. */
  bindingKey?: string;
}

export async function tapAmqp(monitor: ContractMonitor, o: AmqpTapOptions): Promise<Tap> {
  const amqp = (await import('amqplib')).default;
  const { AmqpHeaders } = await import('../../runtime/amqp/headers.js');
  const conn = await amqp.connect(o.url);
  conn.on('error', () => undefined);
  const ch = await conn.createChannel();
  ch.on('error', () => undefined);
  // Fails if the exchange does not exist, rather than creating one nobody publishes to.
  await ch.checkExchange(o.exchange);
  const q = await ch.assertQueue('', { exclusive: true, autoDelete: true, durable: false });
  await ch.bindQueue(q.queue, o.exchange, o.bindingKey ?? '#');
  await ch.prefetch(0);
  await ch.consume(
    q.queue,
    (m) => {
      if (!m) return;
      const headers = new AmqpHeaders(m.properties);
      if (headers.get(DEAD_LETTER_REASON) !== undefined) return;
      monitor.observe({ subject: m.fields.routingKey, headers, body: m.content });
    },
    { noAck: true, exclusive: true },
  );
  return {
    describe: `amqp exchange ${o.exchange} (${o.bindingKey ?? '#'}) via temporary queue ${q.queue}`,
    async stop() {
      await ch.close().catch(() => undefined);
      await conn.close().catch(() => undefined);
    },
  };
}
