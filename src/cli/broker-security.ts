/**
 * The `--tls-*` and credential options of the commands that talk to a broker (`provision`),
 * as the transports' security options: secrets are named (a file, an environment
 * variable), never given on the command line.
 */
import type { Argv } from 'yargs';
import type { AmqpSecurityOptions } from '../runtime/amqp/types.js';
import type { KafkaSecurityOptions } from '../runtime/kafka/types.js';
import type { NatsSecurityOptions } from '../runtime/nats/security.js';
import type { Secret, TlsClientOptions } from '../runtime/security/secrets.js';

export interface BrokerSecurityArgs {
  tlsCa?: string;
  tlsCert?: string;
  tlsKey?: string;
  tlsServerName?: string;
  user?: string;
  passwordEnv?: string;
  passwordFile?: string;
  creds?: string;
  nkeySeed?: string;
  external?: boolean;
  saslMechanism?: string;
}

export const KAFKA_SASL_MECHANISMS = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'] as const;

export const brokerSecurityOptions = <T>(y: Argv<T>) =>
  y
    .option('tls-ca', { type: 'string', describe: 'CA certificate (PEM) of the broker; turns TLS on' })
    .option('tls-cert', { type: 'string', describe: 'client certificate (PEM) for mutual TLS' })
    .option('tls-key', { type: 'string', describe: 'client key (PEM) for mutual TLS' })
    .option('tls-server-name', { type: 'string', describe: "name the broker's certificate must carry (default: the host)" })
    .option('user', { type: 'string', describe: 'user to connect as (the password from --password-env or --password-file)' })
    .option('password-env', { type: 'string', describe: 'environment variable holding the password' })
    .option('password-file', { type: 'string', describe: 'file holding the password' })
    .option('creds', { type: 'string', describe: 'NATS .creds file' })
    .option('nkey-seed', { type: 'string', describe: 'NATS nkey seed file' })
    .option('external', { type: 'boolean', describe: 'AMQP EXTERNAL: the client certificate is the credential' })
    .option('sasl-mechanism', { type: 'string', choices: KAFKA_SASL_MECHANISMS, describe: 'kafka: the SASL mechanism of --user (default SCRAM-SHA-512)' });

function tlsOf(a: BrokerSecurityArgs): TlsClientOptions | undefined {
  if (!a.tlsCa && !a.tlsCert && !a.tlsKey && !a.tlsServerName) return undefined;
  return {
    ...(a.tlsCa ? { ca: { file: a.tlsCa } } : {}),
    ...(a.tlsCert ? { cert: { file: a.tlsCert } } : {}),
    ...(a.tlsKey ? { key: { file: a.tlsKey } } : {}),
    ...(a.tlsServerName ? { serverName: a.tlsServerName } : {}),
  };
}

function passwordOf(a: BrokerSecurityArgs): Secret | undefined {
  if (a.passwordEnv) return { env: a.passwordEnv };
  if (a.passwordFile) return { file: a.passwordFile };
  return undefined;
}

export function natsSecurityFromArgs(a: BrokerSecurityArgs): NatsSecurityOptions | undefined {
  const tls = tlsOf(a);
  const password = passwordOf(a);
  const auth = a.creds
    ? { creds: { file: a.creds } }
    : a.nkeySeed
      ? { nkeySeed: { file: a.nkeySeed } }
      : a.user && password
        ? { user: a.user, password }
        : undefined;
  if (!tls && !auth) return undefined;
  return { ...(tls ? { tls } : {}), ...(auth ? { auth } : {}) };
}

/**
 * Kafka: TLS, and SASL for --user with its password (--sasl-mechanism, SCRAM-SHA-512 unless
 * said). A string when the options ask for what Kafka has not (NATS credentials, EXTERNAL).
 */
export function kafkaSecurityFromArgs(a: BrokerSecurityArgs): KafkaSecurityOptions | undefined | string {
  if (a.creds || a.nkeySeed) return '--creds and --nkey-seed are NATS credentials; Kafka takes --user with --password-env or --password-file';
  if (a.external) return 'Kafka has no --external: with --tls-cert the certificate already identifies the client (mutual TLS)';
  const tls = tlsOf(a);
  const password = passwordOf(a);
  if (a.user && !password) return '--user needs --password-env or --password-file';
  if (!a.user && a.saslMechanism) return '--sasl-mechanism needs --user';
  const mechanism = (a.saslMechanism ?? 'SCRAM-SHA-512') as (typeof KAFKA_SASL_MECHANISMS)[number];
  const sasl = a.user && password ? { mechanism, user: a.user, password } : undefined;
  if (!tls && !sasl) return undefined;
  return { ...(tls ? { tls } : {}), ...(sasl ? { sasl } : {}) };
}

export function amqpSecurityFromArgs(a: BrokerSecurityArgs): AmqpSecurityOptions | undefined {
  const tls = tlsOf(a);
  const password = passwordOf(a);
  const auth = a.external ? { external: true as const } : a.user && password ? { user: a.user, password } : undefined;
  if (!tls && !auth) return undefined;
  return { ...(tls ? { tls } : {}), ...(auth ? { auth } : {}) };
}
