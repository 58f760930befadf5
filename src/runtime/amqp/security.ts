/**
 * TLS and authentication of the AMQP transport: `amqps://` with a CA, a client certificate
 * and the server name checked; PLAIN credentials whose password is read from a file or an
 * environment variable (never written into the URL, so it appears in no error), or EXTERNAL
 * (the client certificate is the credential, RabbitMQ's rabbitmq_auth_mechanism_ssl). Connect
 * failures come back as TlsHandshakeError / AuthenticationError.
 */
import amqp from 'amqplib';
import { AuthenticationError, TlsHandshakeError } from '../errors.js';
import { resetDuringTls, describeSecret, nodeTlsOptions, readSecret, tlsAdvice, tlsFailureCode } from '../security/secrets.js';
import type { AmqpSecurityOptions } from './types.js';

export function amqpAuthMechanism(security: AmqpSecurityOptions | undefined): string {
  const auth = security?.auth;
  if (!auth) return 'URL (PLAIN)';
  if ('external' in auth) return 'EXTERNAL (client certificate)';
  return `PLAIN (user '${auth.user}', password from ${describeSecret(auth.password)})`;
}

/** Socket options for amqplib's connect: TLS material and the SASL mechanism. Reads the secrets now. */
export function amqpSocketOptions(security: AmqpSecurityOptions): Record<string, unknown> {
  const auth = security.auth;
  return {
    ...(security.tls ? nodeTlsOptions(security.tls) : {}),
    ...(auth && 'external' in auth ? { credentials: amqp.credentials.external() } : {}),
    ...(auth && 'user' in auth ? { credentials: amqp.credentials.plain(auth.user, readSecret(auth.password, 'AMQP password')) } : {}),
  };
}

/** The URL without its user info, for messages. */
export function redactedUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return '(unparsable URL)';
  }
}

/**
 * A connect failure as TlsHandshakeError or AuthenticationError when it is one; else as it
 * is. `plaintext`: the URL was `amqp://` (no TLS).
 */
export function classifyAmqpConnectError(err: unknown, server: string, security: AmqpSecurityOptions | undefined, plaintext = false): unknown {
  const message = (err as Error)?.message ?? '';
  if (/ACCESS[-_]REFUSED|Login was refused|403/.test(message) && /handshake|login|auth/i.test(message)) {
    return new AuthenticationError('amqp', server, amqpAuthMechanism(security), 'ACCESS_REFUSED at login', { cause: err });
  }
  const code = tlsFailureCode(err);
  if (code) return new TlsHandshakeError('amqp', server, code, tlsAdvice(code), { cause: err });
  // A TLS listener drops a client that opens with the AMQP header instead of a TLS hello.
  if (plaintext && /ECONNRESET|EPIPE|closed abruptly/i.test(`${(err as { code?: unknown })?.code ?? ''} ${(err as Error)?.message ?? ''}`)) {
    return new TlsHandshakeError('amqp', server, 'PLAINTEXT_REFUSED', 'the broker closed the connection before the AMQP handshake: if it listens with TLS, use an amqps:// URL (and tls options)', { cause: err });
  }
  const reset = resetDuringTls(err, security?.tls);
  if (reset) return new TlsHandshakeError('amqp', server, reset, tlsAdvice(reset), { cause: err });
  return err;
}
