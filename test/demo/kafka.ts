/**
 * `--transport kafka`: the demo over Apache Kafka. The broker is EC_KAFKA_BOOTSTRAP when set,
 * else the project's own (test/services/kafka.mjs: under vitest the run's shared broker, in a
 * plain process one started for this process and killed when it exits). The topics come from
 * the contract (the generated `kafkaProvisioning`), and the same plan tells the transport
 * which topic carries which subject.
 */
import type { Transport } from 'event-contracts/runtime';
import { KafkaTransport, provisionKafka } from 'event-contracts/runtime/kafka';
import { kafkaProvisioning } from '../../generated/index.js';
import { sharedKafka } from '../services/kafka.mjs';

export interface KafkaDemo {
  readonly bootstrap: string;
  connect(source: string): Promise<Transport>;
  /** Creates or updates the contract's topics; returns the line to print. */
  provision(): Promise<string>;
}

export async function startKafkaDemo(log: (who: string, text: string) => void): Promise<KafkaDemo> {
  if (!process.env.EC_KAFKA_BOOTSTRAP && !process.env.EC_KAFKA_RUN_DIR) {
    log('kafka', 'starting a broker for this run (a JVM: 25-90 s; EC_KAFKA_BOOTSTRAP=host:port uses yours)');
  }
  const started = Date.now();
  const { bootstrap } = await sharedKafka();
  log('kafka', `broker ${bootstrap} (ready in ${((Date.now() - started) / 1000).toFixed(1)} s)`);
  return {
    bootstrap,
    // The client id names the service in the broker's logs and quotas.
    connect: (source) => KafkaTransport.connect({ bootstrap, topology: kafkaProvisioning.topics, clientId: source }),
    async provision() {
      const result = await provisionKafka({ bootstrap }, kafkaProvisioning);
      const counts = new Map<string, number>();
      for (const t of result.topics) counts.set(t.action, (counts.get(t.action) ?? 0) + 1);
      return `Kafka: ${result.topics.length} topics (${[...counts].map(([action, n]) => `${n} ${action}`).join(', ')})`;
    },
  };
}
