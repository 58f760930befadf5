/**
 * The Kafka transport's options and counters: plain data and types only, so generated code
 * and tools can name them without loading a Kafka client.
 */
import type { Secret, TlsClientOptions } from '../security/secrets.js';
import type { KafkaTopicSpec } from './plan.js';

export interface KafkaTransportOptions {
  /** `host:port`, a comma-separated list of them, or an array: any live one will do. */
  bootstrap: string | readonly string[];
  /** Kafka client id (broker logs, quotas). Default 'event-contracts'. */
  clientId?: string;
  /**
   * Subject → topic routing (the generated `kafkaProvisioning.topics`). A subject no topic
   * covers is an error on publish (UnroutedSubjectError) and a NoResponderError on request:
   * there is no default topic, because an event that silently lands somewhere nobody reads is
   * the failure this runtime exists to prevent.
   */
  topology: readonly KafkaTopicSpec[];
  /**
   * Prefix of the topics the transport creates for itself: per consumer group and delay
   * bucket a retry topic (`<prefix>retry.<group>.<bucket>`), per transport instance a reply
   * topic (`<prefix>reply.<id>`). Default '_ec.'. Producers other than this transport must
   * not be allowed to write to `<prefix>retry.*` (Kafka ACLs): the delivery count travels there.
   */
  internalTopicPrefix?: string;
  /** Replication factor of the topics the transport creates. Default: min(3, brokers in the cluster). */
  internalReplicationFactor?: number;
  /**
   * Largest record (key + headers + body) the bus may send. Default: the smallest of the
   * broker's `message.max.bytes` and the routed topics' `max.message.bytes`, read when connecting.
   */
  maxMessageBytes?: number;
  /** Consumer group session timeout: a consumer that vanished loses its partitions after this long. Default 10 000 ms. */
  sessionTimeoutMs?: number;
  /** Group heartbeat. Default 500 ms (a joining instance waits for the others' next heartbeat). */
  heartbeatIntervalMs?: number;
  /**
   * Most bytes one fetch asks a broker for (Kafka's `fetch.max.bytes`). Default 1 MiB. A
   * record larger than this is still delivered, alone in its fetch (brokers return at least
   * one record batch). Larger fetches are slower here, not faster: the client reads each
   * field of a response by walking the list of socket chunks it arrived in, so decoding a
   * response costs its record count times its chunk count: with 10 MiB fetches the SDK read a
   * backlog at about 0.8 of its rate with 1 MiB ones, the bare client at about 0.65.
   */
  fetchMaxBytes?: number;
  /** Give up a durable publish after this long. Default 30 000 ms. */
  publishTimeoutMs?: number;
  /** TLS and SASL, secrets read from files or environment variables when connecting. */
  security?: KafkaSecurityOptions;
}

/** TLS and SASL of the Kafka transport. */
export interface KafkaSecurityOptions {
  /** The brokers' TLS listener: CA, client certificate and key; the server's name is always checked. */
  tls?: TlsClientOptions;
  /** SASL PLAIN or SCRAM with a password from a file or the environment. */
  sasl?: { readonly mechanism: 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512'; readonly user: string; readonly password: Secret };
}

export interface KafkaTransportStats {
  /** Records skipped (committed past) because no pattern of the reading group matched their subject. */
  skipped: number;
  /** Deliveries republished to a retry topic. */
  retries: number;
  /** Offset commits that failed (the records are redelivered: at least once). */
  commitFailures: number;
  /** Deliveries whose hand-off to the bus threw. */
  handoffErrors: number;
}

export type { KafkaTopicSpec };
