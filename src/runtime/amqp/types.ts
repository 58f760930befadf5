/**
 * The AMQP transport's options and descriptions: plain data and types only, so the
 * generator (src/provision/amqp-plan.ts) and generated code can use them without loading
 * amqplib.
 */
import type { Options } from 'amqplib';
import type { Secret, TlsClientOptions } from '../security/secrets.js';

export const DEFAULT_AMQP_URL = 'amqp://guest:guest@127.0.0.1:5672';

export interface AmqpExchangeSpec {
  name: string;
  /** Default 'topic'. Routing keys are subjects whatever the type. */
  type?: 'topic' | 'direct' | 'fanout' | 'headers';
  /** Default true. */
  durable?: boolean;
  /** Default false. */
  autoDelete?: boolean;
}

export interface AmqpQueueSpec {
  name: string;
  /** Default true. */
  durable?: boolean;
  exclusive?: boolean;
  autoDelete?: boolean;
}

/** What an AsyncAPI `amqp` channel or operation binding says about one subject pattern. */
export interface AmqpSubjectBinding {
  /** Publish to (and bind group queues on) this exchange instead of the default one. */
  exchange?: AmqpExchangeSpec;
  /** Consumer groups reading this subject use this queue instead of one named after the group. */
  queue?: AmqpQueueSpec;
}

export interface AmqpTransportOptions {
  /**
   * Default amqp://guest:guest@127.0.0.1:5672. A list names the nodes of a cluster: tried in
   * order when connecting, and after a loss starting from the one after the node lost.
   */
  url?: string | Options.Connect | ReadonlyArray<string | Options.Connect>;
  /** The events exchange (topic, durable). Default 'events'. */
  exchange?: string;
  /** Dead letters go here, routing key = dead-letter subject. Default `<exchange>.dlx`. */
  deadLetterExchange?: string;
  /** Requests go here, routing key = subject. Default `<exchange>.rpc`. */
  rpcExchange?: string;
  /**
   * Retries go here (a headers exchange routing each to its delay queue), routing key = the
   * original subject, which RabbitMQ records in the message's `x-death` trail. Default
   * `<exchange>.retry`. Only the transport should be allowed to write to it.
   */
  retryExchange?: string;
  /**
   * Subject patterns that carry dead letters: consuming one reads the dead-letter exchange
   * (and drains its parking queue) instead of the events exchange. Default ['deadletter.>'],
   * matching the bus's default dead-letter subject `deadletter.<group>`.
   */
  deadLetterSubjects?: string[];
  /** Per subject pattern (NATS syntax, e.g. 'transaction.*.completed.v1') overrides. */
  bindings?: Readonly<Record<string, AmqpSubjectBinding>>;
  /** Prepended to every queue this transport names (not to queues named by `bindings`). */
  queuePrefix?: string;
  /**
   * Largest message (headers + body) the bus may send. RabbitMQ does not announce its
   * `max_message_size` to clients; 3.x defaults to 128 MiB, 4.x to 16 MiB. Default 16 MiB.
   */
  maxMessageBytes?: number;
  /** Give up retrying a durable publish after this long. Default 60 000 ms. */
  publishDeadlineMs?: number;
  /** Reconnect backoff. Default 100 ms doubling to 5 000 ms. */
  reconnect?: { initialMs?: number; maxMs?: number };
  /** Shown by RabbitMQ tools for this transport's connection (client property `connection_name`). */
  connectionName?: string;
  /** AMQP heartbeat; detects a dead peer behind a half-open socket. Default 10 s. */
  heartbeatSeconds?: number;
  /**
   * An event no queue is bound for: 'error' (default) rejects the publish with
   * UnroutableError, since RabbitMQ would drop it and publish() promises a stored message;
   * 'drop' lets RabbitMQ discard it (events nobody has subscribed to are fine to lose).
   */
  unroutable?: 'error' | 'drop';
  /** Idle delay queues delete themselves after their TTL plus this. Default 10 minutes. */
  delayQueueIdleMs?: number;
  /**
   * TLS (use an `amqps://` URL) and credentials, secrets read from files or environment
   * variables when connecting. A failed handshake is a TlsHandshakeError, refused
   * credentials an AuthenticationError.
   */
  security?: AmqpSecurityOptions;
}

/** TLS and credentials of the AMQP transport. */
export interface AmqpSecurityOptions {
  /** With an `amqps://` URL: CA, client certificate and key; the server's name is always checked. */
  tls?: TlsClientOptions;
  /** PLAIN with a password from a file or the environment (the URL then carries no password), or EXTERNAL (the client certificate). */
  auth?: { readonly user: string; readonly password: Secret } | { readonly external: true };
}

export interface AmqpTransportStats {
  /** Durable publishes that needed more than one attempt. */
  publishRetries: number;
  /** Connections re-established after a loss. */
  reconnects: number;
  /** Consumer channels reopened (after a connection loss, a channel error or a cancel). */
  consumerRestarts: number;
  /** Deliveries handed back to the broker (after their delay) because republishing a retry failed. */
  retryFallbacks: number;
  /** Deliveries whose hand-off to the bus threw; each was retried with backoff. */
  handoffErrors: number;
}

/** Names this transport declared, so tests and tools can delete what they created. */
export interface AmqpTopology {
  exchanges: string[];
  queues: string[];
}

// ---------------------------------------------------------------------------------------
// Provisioning: exchanges, queues and bindings from a plain description.
// ---------------------------------------------------------------------------------------

export interface AmqpProvisionQueue extends AmqpQueueSpec {
  /** Queue arguments (x-*), compared by the broker on redeclaration. */
  arguments?: Record<string, unknown>;
}

export interface AmqpProvisionBinding {
  queue: string;
  exchange: string;
  /** Subject pattern in NATS syntax; bound as the AMQP topic key. */
  pattern: string;
}

export interface AmqpProvisionPlan {
  exchanges?: Array<AmqpExchangeSpec & { vhost?: string }>;
  queues?: AmqpProvisionQueue[];
  bindings?: AmqpProvisionBinding[];
}

/** AMQP 0-9-1 cannot list bindings (that needs the management API): a binding is 'ensured'. */
export type AmqpProvisionAction = 'created' | 'unchanged' | 'ensured';

export interface AmqpProvisionResult {
  exchanges: Array<{ name: string; action: AmqpProvisionAction }>;
  queues: Array<{ name: string; action: AmqpProvisionAction }>;
  bindings: Array<{ queue: string; exchange: string; key: string; action: AmqpProvisionAction }>;
}
