/**
 * TLS and SASL of the Kafka transport, passed through to the client: a TLS listener with a
 * CA, a client certificate and the server name checked; SASL PLAIN or SCRAM whose password
 * is read from a file or an environment variable at every (re)connect, so a rotated secret
 * is picked up and never sits in the options. Connect failures come back as
 * TlsHandshakeError / AuthenticationError.
 */
import type { ConnectionOptions } from '@platformatic/kafka';
import { AuthenticationError, TlsHandshakeError } from '../errors.js';
import { describeSecret, nodeTlsOptions, readSecret, resetDuringTls, tlsAdvice, tlsFailureCode } from '../security/secrets.js';
import type { KafkaSecurityOptions } from './types.js';

/** The client's connection options for `security`. Reads the TLS material now. */
export function kafkaConnectionOptions(security: KafkaSecurityOptions | undefined): Pick<ConnectionOptions, 'tls' | 'sasl'> {
  if (!security) return {};
  const out: Pick<ConnectionOptions, 'tls' | 'sasl'> = {};
  if (security.tls) out.tls = nodeTlsOptions(security.tls);
  const sasl = security.sasl;
  if (sasl) out.sasl = { mechanism: sasl.mechanism, username: sasl.user, password: () => readSecret(sasl.password, 'Kafka SASL password') };
  return out;
}

export function kafkaAuthMechanism(security: KafkaSecurityOptions | undefined): string {
  const sasl = security?.sasl;
  if (!sasl) return 'none';
  return `SASL ${sasl.mechanism} (user '${sasl.user}', password from ${describeSecret(sasl.password)})`;
}

/** A connect failure as TlsHandshakeError or AuthenticationError when it is one; else as it is. */
export function classifyKafkaConnectError(err: unknown, server: string, security: KafkaSecurityOptions | undefined): unknown {
  const text = errorChainText(err);
  if (/SASL_AUTHENTICATION_FAILED|Authentication failed|AuthenticationError|PLT_KFK_AUTHENTICATION/i.test(text)) {
    return new AuthenticationError('kafka', server, kafkaAuthMechanism(security), 'SASL authentication failed', { cause: err });
  }
  const code = tlsFailureCode(err) ?? tlsFailureCode((err as { errors?: unknown[] })?.errors?.[0]);
  if (code) return new TlsHandshakeError('kafka', server, code, tlsAdvice(code), { cause: err });
  const reset = resetDuringTls(err, security?.tls);
  if (reset) return new TlsHandshakeError('kafka', server, reset, tlsAdvice(reset), { cause: err });
  return err;
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
