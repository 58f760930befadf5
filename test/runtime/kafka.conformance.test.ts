/**
 * The transport conformance suite on Kafka: one topic (four partitions, so a group's two
 * instances both get work) carries the suite's events and dead letters, another its
 * request subjects. The suite's `nobody` request subject is on no topic: a request to it
 * is a NoResponderError (on a routed subject nobody serves it would be a timeout; Kafka
 * cannot tell). Retry and reply topics are the transport's own, under a per-run prefix.
 */
import { KafkaTransport } from '../../src/runtime/kafka/index.js';
import { describeTransportConformance } from './conformance.js';
import { rand } from './helpers.js';
import { createTopics, deleteByPrefix, KafkaTracker, kafkaBootstrap } from './kafka-helpers.js';

describeTransportConformance('kafka', async () => {
  const id = rand();
  const prefix = `ect${id}`;
  const rpcPrefix = `ectrpc${id}`;
  const internal = `_ect${id}.`;
  const bootstrap = await kafkaBootstrap();
  const topology = [
    { name: prefix, subjects: [`${prefix}.>`], partitions: 4 },
    { name: rpcPrefix, subjects: [`${rpcPrefix}.*.rpc.>`], partitions: 2 },
  ];
  await createTopics(bootstrap, topology);
  const tracker = new KafkaTracker({ bootstrap, topology, internalTopicPrefix: internal, clientId: `ect-${id}` });
  return {
    prefix,
    rpcPrefix,
    // Kafka keeps every copy of a re-published id; the consumer's dedupe must catch it.
    capabilities: { brokerDedupe: false },
    connect: (): Promise<KafkaTransport> => tracker.connect(),
    cleanup: async () => {
      await tracker.close();
      await deleteByPrefix(bootstrap, [prefix, rpcPrefix, internal]);
    },
  };
});
