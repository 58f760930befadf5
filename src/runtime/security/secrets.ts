/**
 * Where the runtime's secrets come from: a file or an environment variable, never the
 * contract, generated code or a literal in configuration. An error names the source (the
 * file's path, the variable's name), never its content.
 */
import { readFileSync } from 'node:fs';
import { SecretUnavailableError } from '../errors.js';

/** A secret (or a certificate) read when the transport connects: from a file, or from an environment variable. */
export type Secret = { readonly file: string } | { readonly env: string };

/** Client-side TLS, shared by every transport. The server's certificate and name are always checked. */
export interface TlsClientOptions {
  /** CA certificate(s) (PEM) that signed the server's certificate. Default: the system's CAs. */
  ca?: Secret;
  /** Client certificate (PEM) for mutual TLS. */
  cert?: Secret;
  /** The client certificate's private key (PEM). */
  key?: Secret;
  /** Name the server's certificate must carry. Default: the host connected to. */
  serverName?: string;
}

/** Where a secret comes from, for messages: `file /path` or `environment variable NAME`. */
export function describeSecret(s: Secret): string {
  return 'file' in s ? `file ${s.file}` : `environment variable ${s.env}`;
}

/** Reads a secret's bytes. `what` says what it is for (e.g. 'NATS password'). */
export function readSecretBytes(s: Secret, what: string): Buffer {
  if ('file' in s) {
    try {
      return readFileSync(s.file);
    } catch (err) {
      throw new SecretUnavailableError(what, describeSecret(s), (err as NodeJS.ErrnoException).code ?? 'unreadable');
    }
  }
  const v = process.env[s.env];
  if (v === undefined || v === '') throw new SecretUnavailableError(what, describeSecret(s), 'not set');
  return Buffer.from(v, 'utf8');
}

/** Reads a secret as text, without a trailing newline (as files written by `echo` have). */
export function readSecret(s: Secret, what: string): string {
  return readSecretBytes(s, what).toString('utf8').replace(/\r?\n$/, '');
}

/** Node's TLS options (PEM text) from TlsClientOptions: never `rejectUnauthorized: false`. */
export function nodeTlsOptions(tls: TlsClientOptions): { ca?: string; cert?: string; key?: string; servername?: string; rejectUnauthorized: true } {
  return {
    ...(tls.ca ? { ca: readSecretBytes(tls.ca, 'TLS CA certificate').toString('utf8') } : {}),
    ...(tls.cert ? { cert: readSecretBytes(tls.cert, 'TLS client certificate').toString('utf8') } : {}),
    ...(tls.key ? { key: readSecretBytes(tls.key, 'TLS client key').toString('utf8') } : {}),
    ...(tls.serverName ? { servername: tls.serverName } : {}),
    rejectUnauthorized: true,
  };
}

/** Node's TLS error codes that mean the handshake (certificates, names, protocol) failed. */
const TLS_CODES = /^(ERR_TLS_|ERR_SSL_|CERT_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_(VERIFY|GET)_|HOSTNAME_MISMATCH|ERR_OSSL_)/;

/** The TLS error code of `err` or of one of its causes, if it is a TLS handshake failure. */
export function tlsFailureCode(err: unknown): string | undefined {
  for (let e = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && TLS_CODES.test(code)) return code;
    const message = (e as { message?: unknown }).message;
    if (typeof message === 'string' && /ssl|tls|certificate/i.test(message) && /alert|handshake|certificate|wrong version/i.test(message)) return 'TLS';
  }
  return undefined;
}

/** What to fix for a TLS failure code. */
export function tlsAdvice(code: string): string {
  if (/ALTNAME|HOSTNAME/.test(code)) return "the server's certificate does not name the host connected to: connect by a name it carries or set tls.serverName";
  if (/SELF_SIGNED|UNABLE_TO|VERIFY/.test(code)) return "the server's certificate is not signed by a trusted CA: set tls.ca to the CA that signed it";
  if (/EXPIRED|NOT_YET_VALID/.test(code)) return "a certificate is outside its validity period: renew it";
  if (/EXPECTS_TLS/.test(code)) return 'the server did not answer a plain-text request as a broker would: its listener probably requires TLS: set tls (tls.ca, and tls.cert and tls.key for mutual TLS)';
  if (/WITHOUT_CLIENT_CERTIFICATE/.test(code)) return 'the server closed the connection during TLS: it may require a client certificate: set tls.cert and tls.key to one signed by the CA the server trusts';
  if (/CERTIFICATE_REQUIRED|BAD_CERTIFICATE|UNKNOWN_CA|ALERT|AFTER_CLIENT_CERTIFICATE/.test(code)) return 'the server refused the client certificate: set tls.cert and tls.key to a certificate signed by the CA the server trusts';
  return 'check tls.ca, tls.cert, tls.key and the server name';
}

/**
 * Under TLS 1.3 the client's side of the handshake is over before the server checks the
 * client certificate: a refused certificate, or a missing one the server requires, then
 * shows only as the new connection being reset or closed during the protocol's opening.
 * The code for such an error when TLS is configured, else undefined.
 */
export function resetDuringTls(err: unknown, tls: TlsClientOptions | undefined): string | undefined {
  if (!tls) return undefined;
  const text = `${(err as { code?: unknown })?.code ?? ''} ${(err as Error)?.message ?? ''}`;
  if (!/ECONNRESET|EPIPE|closed abruptly|connection closed/i.test(text)) return undefined;
  return tls.cert ? 'CONNECTION_RESET_AFTER_CLIENT_CERTIFICATE' : 'CONNECTION_RESET_WITHOUT_CLIENT_CERTIFICATE';
}
