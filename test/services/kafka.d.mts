// Types of test/services/kafka.mjs for the TypeScript tests that import it.
export interface KafkaNode {
  readonly id: number;
  readonly port: number;
  readonly pid: number | undefined;
  readonly running: boolean;
  /** SIGKILL: a crash. */
  kill(): Promise<void>;
  /** Starts the node again on the same ports and data; resolves once it is serving. */
  start(): Promise<void>;
  /** SIGTERM, SIGKILL after 10 s. */
  stop(): Promise<void>;
}
export interface KafkaCluster {
  /** `127.0.0.1:port[,127.0.0.1:port…]` */
  readonly bootstrap: string;
  /** With `sasl`: the SASL_PLAINTEXT listeners. */
  readonly saslBootstrap?: string;
  readonly nodes: readonly KafkaNode[];
  readonly dir: string;
  stop(): Promise<void>;
}
export function fetchKafka(options?: { quiet?: boolean }): string;
export function freePort(): Promise<number>;
/** `tls`: PEM files, the node's key and certificate chain in one and the CA of its clients: clients then need mutual TLS (one node). */
/** `sasl`: users (name → password) on a SASL_PLAINTEXT listener more (PLAIN, SCRAM-SHA-256/512); `authorize` turns ACLs on (one node). */
export function startKafka(options?: { nodes?: 1 | 3; dir?: string; tls?: { keystore: string; truststore: string }; sasl?: { users: Record<string, string>; authorize?: boolean } }): Promise<KafkaCluster>;
export function sharedKafka(): Promise<{ bootstrap: string }>;
export function stopShared(runDir: string): Promise<void>;
export function sweepAbandoned(): Promise<void>;
export function newRunDir(): string;
