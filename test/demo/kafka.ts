/**
 * `--transport kafka`: the demo over Apache Kafka. The broker is EC_KAFKA_BOOTSTRAP when set,
 * under vitest the run's shared one (sharedKafka), else the project's own (startKafka), started
 * for this run and stopped by `stop()` when the demo ends. The topics come from the contract
 * (the generated `kafkaProvisioning`), and the same plan tells the transport which topic
 * carries which subject.
 */
import type { Transport } from 'event-contracts/runtime';
import { KafkaTransport, provisionKafka } from 'event-contracts/runtime/kafka';
import { kafkaProvisioning } from '../../generated/index.js';
import { sharedKafka, startKafka } from '../services/kafka.mjs';

export interface KafkaDemo {
  readonly bootstrap: string;
  connect(source: string): Promise<Transport>;
  /** Creates or updates the contract's topics; returns the line to print. */
  provision(): Promise<string>;
  /** Stops the broker this run started, if it started one. */
  stop(): Promise<void>;
}

export async function startKafkaDemo(log: (who: string, text: string) => void): Promise<KafkaDemo> {
  const started = Date.now();
  const given = process.env.EC_KAFKA_BOOTSTRAP !== undefined || process.env.EC_KAFKA_RUN_DIR !== undefined;
  // Not sharedKafka() in a plain process: the broker it starts there is only killed at exit,
  // and its JVM keeps the process from ever exiting. Ours is stopped when the demo is done.
  if (!given) log('kafka', 'starting a broker for this run (a JVM: 25-90 s; EC_KAFKA_BOOTSTRAP=host:port uses yours)');
  const own = given ? undefined : await startKafka({ nodes: 1 });
  if (own) {
    // Ctrl-C stops the JVM too (stop() sends SIGTERM, then SIGKILL after 10 s).
    process.once('SIGINT', () => void own.stop().finally(() => process.exit(130)));
  }
  const { bootstrap } = own ?? (await sharedKafka());
  log('kafka', `broker ${bootstrap} (ready in ${((Date.now() - started) / 1000).toFixed(1)} s)`);
  return {
    bootstrap,
    stop: async () => {
      await own?.stop();
    },
    // The client id names the service in the broker's logs and quotas.
    connect: (source) => KafkaTransport.connect({ bootstrap, topology: kafkaProvisioning.topics, clientId: source }),
    async provision() {
      const result = await provisionKafka({ bootstrap }, kafkaProvisioning);
      const counts = new Map<string, number>();
      for (const t of result.topics) counts.set(t.action, (counts.get(t.action) ?? 0) + 1);
      const retries = kafkaProvisioning.internalTopics?.length ?? 0;
      return `Kafka: ${result.topics.length - retries} topics, ${retries} retry topics (${[...counts].map(([action, n]) => `${n} ${action}`).join(', ')})`;
    },
  };
}
