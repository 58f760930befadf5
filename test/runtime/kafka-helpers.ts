/**
 * Shared by the Kafka tests: the broker (the run's shared one, test/services/kafka.mjs),
 * topics created for a test and deleted after it, and the transports it opened.
 */
import { Admin } from '@platformatic/kafka';
import { KafkaTransport, type KafkaTopicSpec, type KafkaTransportOptions } from '../../src/runtime/kafka/index.js';
import { sharedKafka } from '../services/kafka.mjs';

export async function kafkaBootstrap(): Promise<string> {
  return (await sharedKafka()).bootstrap;
}

/** Creates topics for a test (provisioning proper is provisionKafka's; the tests need only topics). */
export async function createTopics(bootstrap: string, topics: readonly KafkaTopicSpec[]): Promise<void> {
  const admin = new Admin({ clientId: 'ec-test-admin', bootstrapBrokers: bootstrap.split(',') });
  try {
    for (const t of topics) {
      await admin.createTopics({
        topics: [t.name],
        partitions: t.partitions ?? 1,
        replicas: t.replicationFactor ?? 1,
        ...(t.config ? { configs: Object.entries(t.config).map(([name, value]) => ({ name, value })) } : {}),
      });
    }
  } finally {
    await admin.close();
  }
}

/** Deletes every topic and consumer group whose name starts with one of `prefixes`. */
export async function deleteByPrefix(bootstrap: string, prefixes: readonly string[]): Promise<void> {
  const admin = new Admin({ clientId: 'ec-test-admin', bootstrapBrokers: bootstrap.split(',') });
  try {
    const mine = (n: string) => prefixes.some((p) => n.startsWith(p));
    const topics = (await admin.listTopics()).filter(mine);
    const groups = [...(await admin.listGroups()).keys()].filter(mine);
    if (groups.length > 0) await admin.deleteGroups({ groups }).catch(() => undefined);
    if (topics.length > 0) await admin.deleteTopics({ topics }).catch(() => undefined);
  } finally {
    await admin.close();
  }
}

/** Opens transports with one set of options and closes them all at the end. */
export class KafkaTracker {
  readonly transports: KafkaTransport[] = [];
  constructor(private readonly options: KafkaTransportOptions) {}

  async connect(extra: Partial<KafkaTransportOptions> = {}): Promise<KafkaTransport> {
    const t = await KafkaTransport.connect({ ...this.options, ...extra });
    this.transports.push(t);
    return t;
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.transports.map((t) => t.close()));
  }
}
