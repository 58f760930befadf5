import { AmqpTransport } from '../../src/runtime/amqp/index.js';
import { AMQP_URL, TopologyTracker } from './amqp-helpers.js';
import { describeTransportConformance } from './conformance.js';
import { rand } from './helpers.js';

describeTransportConformance('amqp', async () => {
  const id = rand();
  const prefix = `ect${id}`;
  const tracker = new TopologyTracker();
  return {
    prefix,
    rpcPrefix: `ectrpc${id}`,
    // RabbitMQ keeps every copy of a re-published id; the consumer's dedupe must catch it.
    capabilities: { brokerDedupe: false },
    connect: async () =>
      tracker.track(
        await AmqpTransport.connect({
          url: AMQP_URL,
          exchange: prefix,
          queuePrefix: `${prefix}.`,
          // The suite's dead-letter subject; the default covers `deadletter.<group>`.
          deadLetterSubjects: [`${prefix}.dlq`],
          // The suite sends a compressed event of limit + 10 characters, which the bus must
          // inflate: at the 16 MiB default that exceeds the bus's own 16 MiB decode bound.
          // 1 MiB is nats-server's limit, so both brokers run the same case.
          maxMessageBytes: 1024 * 1024,
        }),
      ),
    cleanup: () => tracker.cleanup(),
  };
});
