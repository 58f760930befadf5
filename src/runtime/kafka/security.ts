/**
 * TLS and SASL of the Kafka transport, passed through to the client: a TLS listener with a
 * CA, a client certificate and the server name checked; SASL PLAIN or SCRAM whose password
 * is read from a file or an environment variable at every (re)connect, so a rotated secret
 * is picked up and never sits in the options. Connect failures come back as
 * TlsHandshakeError / AuthenticationError.
 */
import { connect as tcpConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { ConnectionOptions } from '@platformatic/kafka';
import { AuthenticationError, PermissionDeniedError, SecretUnavailableError, TlsHandshakeError, type BrokerOperation } from '../errors.js';
import { describeSecret, nodeTlsOptions, readSecret, resetDuringTls, tlsAdvice, tlsFailureCode } from '../security/secrets.js';
import type { KafkaSecurityOptions } from './types.js';

/** The client's connection options for `security`. Reads the TLS material now, and checks that the SASL password can be read. */
export function kafkaConnectionOptions(security: KafkaSecurityOptions | undefined): Pick<ConnectionOptions, 'tls' | 'sasl'> {
  if (!security) return {};
  const out: Pick<ConnectionOptions, 'tls' | 'sasl'> = {};
  if (security.tls) out.tls = nodeTlsOptions(security.tls);
  const sasl = security.sasl;
  if (sasl) {
    // Read once now: a password that cannot be read is said at once (SecretUnavailableError),
    // not after the client's retries, nor only once a broker answers.
    readSecret(sasl.password, 'Kafka SASL password');
    out.sasl = { mechanism: sasl.mechanism, username: sasl.user, password: () => readSecret(sasl.password, 'Kafka SASL password') };
  }
  return out;
}

export function kafkaAuthMechanism(security: KafkaSecurityOptions | undefined): string {
  const sasl = security?.sasl;
  if (!sasl) return 'none';
  return `SASL ${sasl.mechanism} (user '${sasl.user}', password from ${describeSecret(sasl.password)})`;
}

/** A connect failure as TlsHandshakeError or AuthenticationError when it is one; else as it is. */
export function classifyKafkaConnectError(err: unknown, server: string, security: KafkaSecurityOptions | undefined): unknown {
  if (err instanceof AuthenticationError || err instanceof TlsHandshakeError) return err;
  // A password that could not be read never reached the broker: say that, not "refused".
  const unreadable = errorChain(err).find((e) => e instanceof SecretUnavailableError);
  if (unreadable) return unreadable;
  const text = errorChainText(err);
  if (/SASL_AUTHENTICATION_FAILED|Authentication failed|AuthenticationError|PLT_KFK_AUTHENTICATION/i.test(text)) {
    return new AuthenticationError('kafka', server, kafkaAuthMechanism(security), 'SASL authentication failed', { cause: err });
  }
  // The client wraps failures in retries of retries: the TLS error is a few levels down.
  const errors = errorChain(err);
  for (const e of errors) {
    const code = tlsFailureCode(e);
    if (code) return new TlsHandshakeError('kafka', server, code, tlsAdvice(code), { cause: err });
  }
  for (const e of errors) {
    const reset = resetDuringTls(e, security?.tls);
    if (reset) return new TlsHandshakeError('kafka', server, reset, tlsAdvice(reset), { cause: err });
  }
  return err;
}

/**
 * One SASL login before any client's retries (the transport's and `provision kafka`'s): the
 * client retries a refused login as it would a network failure (eleven times, about 9 s,
 * then "Cannot connect to any broker"). A refused login or an unreadable password is thrown
 * (AuthenticationError, SecretUnavailableError); anything else is left to the retries.
 */
export async function probeKafkaLogin(brokers: readonly string[], security: KafkaSecurityOptions): Promise<void> {
  const options = kafkaConnectionOptions(security);
  // Loaded here, not at the top: the CLI reads this module before it needs a Kafka client.
  const { Admin } = await import('@platformatic/kafka');
  const probe = new Admin({ clientId: 'event-contracts-login', bootstrapBrokers: [...brokers], ...options, retries: 0, connectTimeout: 5000 });
  try {
    await probe.metadata({ topics: [] });
  } catch (err) {
    const classified = classifyKafkaConnectError(err, brokers.join(','), security);
    if (classified instanceof AuthenticationError || classified instanceof SecretUnavailableError) throw classified;
  } finally {
    await probe.close().catch(() => undefined);
  }
}

/** What each refusal asks of the broker's ACLs, by operation. */
const NEEDS: Record<string, Partial<Record<BrokerOperation, string>>> = {
  TOPIC_AUTHORIZATION_FAILED: {
    publish: 'the account needs WRITE and DESCRIBE on the topic',
    subscribe: "the account needs READ and DESCRIBE on the topics, and on the group's retry topics (provision kafka creates them) READ, WRITE and DESCRIBE",
    request: 'the account needs WRITE on the topic, and READ, CREATE and DELETE on its reply topic (prefix <internal>reply.)',
    respond: 'the account needs READ on the topic and WRITE on the reply topics (prefix <internal>reply.)',
  },
  GROUP_AUTHORIZATION_FAILED: {
    subscribe: 'the account needs READ on the consumer group',
    respond: 'the account needs READ on its responder groups (prefix <internal>rpc.<group>.)',
    request: 'the account needs READ on the group of its reply topic (prefix <internal>reply.)',
  },
  CLUSTER_AUTHORIZATION_FAILED: { publish: 'an idempotent producer needs WRITE on a topic (or IDEMPOTENT_WRITE on the cluster)', subscribe: 'the account needs CREATE on the cluster or on the retry topics, or the topics provisioned beforehand' },
};

/**
 * A PermissionDeniedError when the broker's ACLs refused `err`'s request (Kafka's
 * TOPIC_, GROUP_ or CLUSTER_AUTHORIZATION_FAILED anywhere in the client's error tree), else undefined.
 */
export function kafkaPermissionDenied(err: unknown, operation: BrokerOperation, subject: string): PermissionDeniedError | undefined {
  const id = kafkaAuthorizationFailure(err);
  if (id === undefined) return undefined;
  const needs = NEEDS[id]?.[operation];
  return new PermissionDeniedError(operation, subject, 'kafka', needs ? `${id}: ${needs}` : id);
}

/** The broker's refusal code (`TOPIC_AUTHORIZATION_FAILED`, …) in the client's error tree, or undefined. */
export function kafkaAuthorizationFailure(err: unknown): string | undefined {
  for (const e of errorChain(err)) {
    const id = (e as { apiId?: unknown }).apiId;
    if (typeof id === 'string' && id.endsWith('_AUTHORIZATION_FAILED')) return id;
  }
  return undefined;
}

/** A Kafka ApiVersions request (v0, no client id): every listener answers it, before any authentication. */
const API_VERSIONS = Buffer.from([0, 0, 0, 10, 0, 18, 0, 0, 0x7e, 0xc0, 0x00, 0x01, 0xff, 0xff]);

/** How long the probe waits for a broker that accepted the connection to answer. */
const PROBE_MS = 5_000;

/**
 * Asks one broker for its API versions over the connection `tls` describes, before the
 * client connects. The client retries a broker that closes the connection for about a
 * minute and then reports only "Connection closed"; this finds out at once why: a code for
 * TlsHandshakeError when the TLS handshake fails, when the broker closes the connection
 * after it (under TLS 1.3, how a refused or missing client certificate shows), or when a
 * plain-text request gets a TLS record back (a TLS listener). Undefined when the
 * broker answered or could not be reached at all (that is for the client's retries).
 */
export function probeKafkaTls(broker: string, tls: KafkaSecurityOptions['tls']): Promise<string | undefined> {
  const at = broker.lastIndexOf(':');
  const host = broker.slice(0, at);
  const port = Number(broker.slice(at + 1));
  return new Promise((resolve) => {
    let handshaken = false;
    let settled = false;
    let socket: Socket;
    const done = (code: string | undefined) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(code);
    };
    const ask = () => {
      handshaken = true;
      socket.write(API_VERSIONS);
    };
    // No servername unless given: node checks the certificate against the host, and an IP
    // address as a server name is deprecated (and printed as a warning).
    if (tls) socket = tlsConnect({ host, port, ...nodeTlsOptions(tls) }, ask);
    else socket = tcpConnect({ host, port }, ask);
    const timer = setTimeout(() => done(undefined), PROBE_MS);
    timer.unref();
    // A broker answers with a length-prefixed response; a TLS listener read in plain text
    // answers with a TLS record (an alert) instead, whose first byte is its type (20-23).
    let answer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      answer = Buffer.concat([answer, chunk]);
      if (!tls && answer[0] !== undefined && answer[0] >= 0x14 && answer[0] <= 0x17) return done('SERVER_EXPECTS_TLS');
      // Anything else (an answer, or a service that is no broker) is for the client to handle.
      if (answer.length >= 8) done(undefined);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      if (!handshaken) return done(tlsFailureCode(err));
      done(tlsFailureCode(err) ?? resetDuringTls(err, tls));
    });
    socket.once('close', () => {
      if (!handshaken) return done(undefined);
      if (!tls) return done(undefined);
      done(tls.cert ? 'CONNECTION_RESET_AFTER_CLIENT_CERTIFICATE' : 'CONNECTION_RESET_WITHOUT_CLIENT_CERTIFICATE');
    });
  });
}

function errorChain(err: unknown): unknown[] {
  const out: unknown[] = [];
  const seen = new Set<unknown>();
  const walk = (e: unknown, depth: number): void => {
    if (!e || depth > 6 || seen.has(e)) return;
    seen.add(e);
    out.push(e);
    walk((e as { cause?: unknown }).cause, depth + 1);
    for (const x of (e as { errors?: unknown[] }).errors ?? []) walk(x, depth + 1);
  };
  walk(err, 0);
  return out;
}

function errorChainText(err: unknown): string {
  const parts: string[] = [];
  const seen = new Set<unknown>();
  const walk = (e: unknown, depth: number): void => {
    if (!e || depth > 5 || seen.has(e)) return;
    seen.add(e);
    parts.push(`${(e as { code?: unknown }).code ?? ''} ${(e as { name?: unknown }).name ?? ''} ${(e as { message?: unknown }).message ?? ''}`);
    walk((e as { cause?: unknown }).cause, depth + 1);
    for (const x of (e as { errors?: unknown[] }).errors ?? []) walk(x, depth + 1);
  };
  walk(err, 0);
  return parts.join(' | ');
}
