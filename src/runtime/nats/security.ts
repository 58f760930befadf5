/**
 * TLS and authentication of the NATS transport: options whose secrets are read from files
 * or environment variables when the transport connects, turned into nats.js connect
 * options; and connect failures classified as TlsHandshakeError / AuthenticationError.
 */
import {
  credsAuthenticator,
  errors,
  nkeyAuthenticator,
  tokenAuthenticator,
  usernamePasswordAuthenticator,
  type Authenticator,
  type NodeConnectionOptions,
} from '@nats-io/transport-node';
import { AuthenticationError, TlsHandshakeError } from '../errors.js';
import { resetDuringTls, describeSecret, nodeTlsOptions, readSecret, readSecretBytes, tlsAdvice, tlsFailureCode, type Secret, type TlsClientOptions } from '../security/secrets.js';

/** How a NATS client proves who it is. Secrets are read at connect time. */
export type NatsAuth =
  | { readonly user: string; readonly password: Secret }
  | { readonly token: Secret }
  /** An nkey seed (`SU…`), as `nk -gen user` writes it. */
  | { readonly nkeySeed: Secret }
  /** A `.creds` file (user JWT + seed), as `nsc` writes it. */
  | { readonly creds: Secret };

export interface NatsSecurityOptions {
  /** TLS (mutual when `cert`/`key` are set). The server's certificate and name are always checked. */
  tls?: TlsClientOptions;
  auth?: NatsAuth;
  /**
   * The prefix of this client's reply inboxes (`_INBOX_<service>` in the generated
   * permissions), so its account can be allowed to read its own replies and no one else's.
   */
  inboxPrefix?: string;
}

export function natsAuthMechanism(auth: NatsAuth | undefined): string {
  if (!auth) return 'anonymous';
  if ('user' in auth) return `user/password (user '${auth.user}', password from ${describeSecret(auth.password)})`;
  if ('token' in auth) return `token (from ${describeSecret(auth.token)})`;
  if ('nkeySeed' in auth) return `nkey (seed from ${describeSecret(auth.nkeySeed)})`;
  return `creds (from ${describeSecret(auth.creds)})`;
}

function authenticator(auth: NatsAuth): Authenticator {
  if ('user' in auth) return usernamePasswordAuthenticator(auth.user, readSecret(auth.password, 'NATS password'));
  if ('token' in auth) return tokenAuthenticator(readSecret(auth.token, 'NATS token'));
  if ('nkeySeed' in auth) return nkeyAuthenticator(new TextEncoder().encode(readSecret(auth.nkeySeed, 'NATS nkey seed').trim()));
  return credsAuthenticator(new Uint8Array(readSecretBytes(auth.creds, 'NATS creds file')));
}

/** nats.js connect options for `security`; reads the secrets now (SecretUnavailableError if one is missing). */
export function natsSecurityOptions(security: NatsSecurityOptions): NodeConnectionOptions {
  return {
    ...(security.tls ? { tls: nodeTlsOptions(security.tls) } : {}),
    ...(security.auth ? { authenticator: authenticator(security.auth) } : {}),
    ...(security.inboxPrefix ? { inboxPrefix: security.inboxPrefix } : {}),
  };
}

/** A connect failure as TlsHandshakeError or AuthenticationError when it is one; else as it is. */
export function classifyNatsConnectError(err: unknown, server: string, security: NatsSecurityOptions | undefined): unknown {
  if (err instanceof errors.AuthorizationError || /authorization violation|authentication/i.test((err as Error)?.message ?? '')) {
    return new AuthenticationError('nats', server, natsAuthMechanism(security?.auth), 'Authorization Violation', { cause: err });
  }
  const code = tlsFailureCode(err);
  if (code) return new TlsHandshakeError('nats', server, code, tlsAdvice(code), { cause: err });
  const reset = resetDuringTls(err, security?.tls);
  if (reset) return new TlsHandshakeError('nats', server, reset, tlsAdvice(reset), { cause: err });
  if (/tls is not available|requires tls|tls required/i.test((err as Error)?.message ?? '')) {
    return new TlsHandshakeError('nats', server, 'TLS_MISMATCH', 'the client and the server disagree on TLS: set tls on both or on neither', { cause: err });
  }
  return err;
}
