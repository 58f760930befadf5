/**
 * `event-contracts bridge --from nats --to kafka --events 'user.*'`: forwards the chosen
 * event types from one broker to another (src/runtime/bridge.ts) until stopped, so services
 * can move broker one at a time. The contract gives what each broker needs to route: the
 * subjects to read (every channel of the chosen types), RabbitMQ's exchanges per subject and
 * Kafka's topics per subject.
 */
import type { Catalog } from '../catalog/model.js';
import type { Config } from '../config.js';
import type { Bridge } from '../runtime/bridge.js';
import type { Transport } from '../runtime/types.js';
import { openWorkspace } from '../workspace.js';
import { EXIT, reportDiagnostics, type Io, type OutputFormat } from './report.js';

export type BrokerName = 'nats' | 'amqp' | 'kafka';

export interface BridgeArgs {
  specs: string[];
  from: BrokerName;
  to: BrokerName;
  /** Event type patterns: 'user.*', 'transaction.completed'. */
  events: string[];
  fromServer?: string;
  toServer?: string;
  /** The bridge's consumer group and its mark on forwarded messages. Default `bridge-<from>-<to>`. */
  name?: string;
  /** Kafka topic prefix, as given to `provision kafka --topic-prefix`. */
  topicPrefix?: string;
  format: OutputFormat;
  config?: Config;
  /** Seconds between progress lines. Default 10; 0 prints only at the end. */
  progressSeconds?: number;
}

const DEFAULT_SERVERS: Record<BrokerName, string> = {
  nats: 'nats://127.0.0.1:4222',
  amqp: 'amqp://guest:guest@127.0.0.1:5672',
  kafka: '127.0.0.1:9092',
};

/** Subject patterns of every channel that carries one of the chosen event types. */
export function bridgedSubjects(catalog: Catalog, matches: (type: string) => boolean): string[] {
  const out = new Set<string>();
  for (const e of catalog.events) {
    if (!matches(e.type)) continue;
    for (const v of e.versions) for (const c of v.channels) if (c.address) out.add(c.address.replace(/\{[^}]+\}/g, '*'));
  }
  return [...out].sort();
}

async function connect(broker: BrokerName, server: string, catalog: Catalog, args: BridgeArgs): Promise<Transport> {
  if (broker === 'nats') {
    const { NatsTransport } = await import('../runtime/nats/index.js');
    return NatsTransport.connect({ connect: { servers: server } });
  }
  if (broker === 'amqp') {
    const [{ AmqpTransport }, { amqpPlan }] = await Promise.all([import('../runtime/amqp/index.js'), import('../provision/amqp-plan.js')]);
    return AmqpTransport.connect({ url: server, bindings: amqpPlan(catalog).subjects });
  }
  const [{ KafkaTransport }, { kafkaPlan }] = await Promise.all([import('../runtime/kafka/index.js'), import('../provision/kafka-plan.js')]);
  const plan = kafkaPlan(catalog, args.topicPrefix !== undefined ? { topicPrefix: args.topicPrefix } : {});
  return KafkaTransport.connect({ bootstrap: server, topology: plan.plan.topics });
}

/**
 * Runs the bridge until `stop` resolves (the CLI passes SIGINT/SIGTERM); resolves with the
 * exit code. Progress goes to stderr, the final stats to stdout (JSON with --format json).
 */
export async function bridgeCommand(args: BridgeArgs, io: Io, stop: Promise<unknown>): Promise<number> {
  if (args.from === args.to) {
    io.err(`event-contracts bridge: --from and --to are both ${args.from}; a bridge moves events between two brokers`);
    return EXIT.usage;
  }
  const workspace = await openWorkspace(args.specs, { examples: false, ...(args.config ? { config: args.config } : {}) });
  if (!workspace.ok) {
    reportDiagnostics(io, args.format, workspace.diagnostics);
    return EXIT.problems;
  }
  const { startBridge, typeMatcher } = await import('../runtime/bridge.js');
  let matches: (type: string) => boolean;
  try {
    matches = typeMatcher(args.events);
  } catch (error) {
    io.err(`event-contracts bridge: ${(error as Error).message}`);
    return EXIT.usage;
  }
  const subjects = bridgedSubjects(workspace.catalog, matches);
  if (subjects.length === 0) {
    io.err(`event-contracts bridge: no event type of the contract matches ${args.events.map((e) => JSON.stringify(e)).join(', ')}`);
    return EXIT.usage;
  }
  const name = args.name ?? `bridge-${args.from}-${args.to}`;
  const fromServer = args.fromServer ?? DEFAULT_SERVERS[args.from];
  const toServer = args.toServer ?? DEFAULT_SERVERS[args.to];
  const opened: Transport[] = [];
  let bridge: Bridge | undefined;
  try {
    for (const [broker, server] of [
      [args.from, fromServer],
      [args.to, toServer],
    ] as const) {
      try {
        opened.push(await connect(broker, server, workspace.catalog, args));
      } catch (error) {
        io.err(`event-contracts bridge: cannot connect to ${broker} at ${server}: ${(error as Error).message}`);
        return EXIT.problems;
      }
    }
    const [from, to] = opened as [Transport, Transport];
    let lastError = '';
    bridge = await startBridge({
      from,
      to,
      events: args.events,
      subjects,
      name,
      onError: (error, c) => {
        const line = `${c.action} ${c.subject}${c.id ? ` (${c.id})` : ''}: ${(error as Error)?.message ?? String(error)}`;
        // The same failure over and over (the target is down) is said once until it changes.
        if (line !== lastError) io.err(`event-contracts bridge: ${line}`);
        lastError = line;
      },
    });
    io.err(`event-contracts bridge ${name}: ${args.from} ${fromServer} → ${args.to} ${toServer}, subjects ${subjects.join(' ')}`);
    const every = (args.progressSeconds ?? 10) * 1000;
    const timer = every > 0 ? setInterval(() => io.err(progress(bridge!)), every) : undefined;
    await stop;
    if (timer) clearInterval(timer);
    await bridge.stop();
    const stats = { ...bridge.stats };
    if (args.format === 'json') io.out(JSON.stringify({ name, from: args.from, to: args.to, subjects, stats }, null, 2));
    else io.out(progress(bridge));
    return EXIT.ok;
  } finally {
    await Promise.allSettled(opened.map((t) => t.close()));
  }
}

function progress(b: Bridge): string {
  const s = b.stats;
  return `forwarded ${s.forwarded}, skipped ${s.skipped}, retried ${s.retried}, dead-lettered ${s.deadLettered}`;
}
