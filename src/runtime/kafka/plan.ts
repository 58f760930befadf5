/**
 * The Kafka topology a contract implies, as plain data: the generator writes it into the
 * generated provisioning.ts (`kafkaProvisioning`), `provisionKafka` creates it and the
 * KafkaTransport routes by it. Types only, so neither the generator nor generated code
 * loads a Kafka client.
 *
 * Subjects stay the runtime's addressing scheme on every broker. Kafka topics are coarse
 * (one per channel, not one per concrete subject: `transaction.{accountId}.created.v1`
 * would otherwise be a topic per account), so each topic lists the subject patterns it
 * carries (NATS syntax), the concrete subject travels with the message, and a consumer
 * group reads the topics that cover its subjects and skips what its patterns do not match.
 */

export interface KafkaTopicSpec {
  /** Topic name: `[A-Za-z0-9._-]{1,249}`. */
  name: string;
  /** Subject patterns (`*` one token, `>` the rest) whose messages go to this topic. */
  subjects: string[];
  /** Default 1 on the plan; a cluster wants more. Never lowered by provisioning (Kafka cannot). */
  partitions?: number;
  /** Default 1; 3 on a three-broker cluster. */
  replicationFactor?: number;
  /** Topic configs as Kafka names them: 'cleanup.policy', 'retention.ms', 'min.insync.replicas'… */
  config?: Record<string, string>;
}

export interface KafkaProvisionPlan {
  topics: KafkaTopicSpec[];
  /**
   * The transport's own topics that a plan can know of: each consumer group's retry topics
   * (`_ec.retry.<group>.<bucket ms>`), carrying no subjects. Provisioned with the rest, so a
   * service needs no right to create topics; a consumer creates what is missing.
   */
  internalTopics?: KafkaTopicSpec[];
}

export type KafkaProvisionAction = 'created' | 'unchanged' | 'updated';

export interface KafkaProvisionResult {
  topics: Array<{ name: string; action: KafkaProvisionAction; detail?: string }>;
}
