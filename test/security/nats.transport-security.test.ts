/**
 * NATS transport security against real nats-servers the test starts: mutual TLS with a CA
 * and certificates the test makes, user/password (from an environment variable, as the
 * server's configuration reads it too), nkey seed and token (from files). Each failure is its
 * own typed error, and no secret appears in any message.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nkeys } from '@nats-io/transport-node';
import { AuthenticationError, SecretUnavailableError, TlsHandshakeError } from '../../src/runtime/index.js';
import { classifyNatsConnectError, NatsTransport, type NatsSecurityOptions } from '../../src/runtime/nats/index.js';
import { rand } from '../runtime/helpers.js';
import { makePki, type Pki } from './pki.js';
import { RawTlsProbe } from './probes.js';
import { SecureNatsServer } from './servers.js';

describe('NATS: TLS and credentials', () => {
  let pki: Pki;
  let mtls: SecureNatsServer;
  let tokenServer: SecureNatsServer;
  const password = `pw-${rand()}-${rand()}`;
  const token = `tok-${rand()}-${rand()}`;
  const pwEnv = `EC_TEST_NATS_PW_${rand().replace(/\W/g, '')}`;
  const user = nkeys.createUser();
  const transports: NatsTransport[] = [];
  let seedFile: string;
  let tokenFile: string;

  beforeAll(async () => {
    pki = makePki();
    seedFile = join(pki.dir, 'user.nk');
    writeFileSync(seedFile, new TextDecoder().decode(user.getSeed()) + '\n');
    tokenFile = join(pki.dir, 'token');
    writeFileSync(tokenFile, token);
    process.env[pwEnv] = password;
    mtls = await SecureNatsServer.start(
      (port, store) => `
listen: "127.0.0.1:${port}"
jetstream { store_dir: "${store}" }
tls { cert_file: "${pki.serverCert}", key_file: "${pki.serverKey}", ca_file: "${pki.ca}", verify: true, timeout: 2 }
accounts {
  APP {
    jetstream: enabled
    users: [
      { user: "payments-service", password: $${pwEnv} }
      { nkey: "${user.getPublicKey()}" }
    ]
  }
}
`,
      { [pwEnv]: password },
    );
    tokenServer = await SecureNatsServer.start((port) => `listen: "127.0.0.1:${port}"\nauthorization { token: "${token}" }\n`);
  }, 60_000);

  afterAll(async () => {
    await Promise.allSettled(transports.map((t) => t.close()));
    await mtls?.destroy();
    await tokenServer?.destroy();
    pki?.cleanup();
    delete process.env[pwEnv];
  });

  const tlsOk = () => ({ ca: { file: pki.ca }, cert: { file: pki.clientCert }, key: { file: pki.clientKey } });
  const open = async (servers: string, security: NatsSecurityOptions) => {
    const t = await NatsTransport.connect({ connect: { servers, reconnect: false, timeout: 5000 }, security });
    transports.push(t);
    return t;
  };
  const failure = (servers: string, security: NatsSecurityOptions) => open(servers, security).then(
    () => new Error('connected'),
    (e: unknown) => e,
  );
  const roundTrip = async (t: NatsTransport) => {
    const sub = t.nc.subscribe('ping.x', { max: 1 });
    await t.nc.flush();
    await t.publishTransient({ subject: 'ping.x', id: 'p', headers: {}, body: new Uint8Array([1]) });
    for await (const m of sub) return m.data;
    return undefined;
  };

  it('mutual TLS and a password from an environment variable: connected, messages flow', async () => {
    const t = await open(mtls.url, { tls: tlsOk(), auth: { user: 'payments-service', password: { env: pwEnv } } });
    expect(Array.from((await roundTrip(t)) ?? [])).toEqual([1]);
  }, 20_000);

  it('an nkey seed from a file', async () => {
    const t = await open(mtls.url, { tls: tlsOk(), auth: { nkeySeed: { file: seedFile } } });
    expect(Array.from((await roundTrip(t)) ?? [])).toEqual([1]);
  }, 20_000);

  it('a token from a file', async () => {
    const t = await open(tokenServer.url, { auth: { token: { file: tokenFile } } });
    expect(Array.from((await roundTrip(t)) ?? [])).toEqual([1]);
  }, 20_000);

  it('a wrong password: AuthenticationError naming the user and where the password came from, never the password', async () => {
    const wrongFile = join(pki.dir, 'wrong-pw');
    writeFileSync(wrongFile, 'not-the-password');
    const err = await failure(mtls.url, { tls: tlsOk(), auth: { user: 'payments-service', password: { file: wrongFile } } });
    expect(err).toBeInstanceOf(AuthenticationError);
    expect((err as Error).message).toContain("user 'payments-service'");
    expect((err as Error).message).toContain(wrongFile);
    expect((err as Error).message).not.toContain('not-the-password');
    expect((err as Error).message).not.toContain(password);
  }, 20_000);

  it('a wrong token: AuthenticationError without the token', async () => {
    const wrong = join(pki.dir, 'wrong-token');
    writeFileSync(wrong, 'tok-wrong');
    const err = await failure(tokenServer.url, { auth: { token: { file: wrong } } });
    expect(err).toBeInstanceOf(AuthenticationError);
    expect((err as Error).message).not.toContain('tok-wrong');
  }, 20_000);

  it('no CA configured (the server certificate is not trusted): TlsHandshakeError saying to set tls.ca', async () => {
    const err = await failure(mtls.url, { auth: { user: 'payments-service', password: { env: pwEnv } } });
    expect(err).toBeInstanceOf(TlsHandshakeError);
    expect((err as Error).message).toMatch(/tls\.ca/);
  }, 20_000);

  it('a client certificate from another CA: TlsHandshakeError', async () => {
    const err = await failure(mtls.url, {
      tls: { ca: { file: pki.ca }, cert: { file: pki.rogueClientCert }, key: { file: pki.rogueClientKey } },
      auth: { user: 'payments-service', password: { env: pwEnv } },
    });
    expect(err).toBeInstanceOf(TlsHandshakeError);
  }, 20_000);

  it('no client certificate where the server requires one: TlsHandshakeError', async () => {
    const err = await failure(mtls.url, { tls: { ca: { file: pki.ca } }, auth: { user: 'payments-service', password: { env: pwEnv } } });
    expect(err).toBeInstanceOf(TlsHandshakeError);
  }, 20_000);

  it('a server name the certificate does not carry: TlsHandshakeError (the name is checked)', async () => {
    const err = await failure(mtls.url, { tls: { ...tlsOk(), serverName: 'elsewhere.example' }, auth: { user: 'payments-service', password: { env: pwEnv } } });
    expect(err).toBeInstanceOf(TlsHandshakeError);
    expect((err as TlsHandshakeError).code).toMatch(/ALTNAME|HOSTNAME/);
  }, 20_000);

  it('a client that does not speak TLS is refused by the server', async () => {
    expect(await mtls.info()).toContain('"tls_required":true');
    expect(await RawTlsProbe.plainConnect(mtls.port)).toMatch(/TLS Required|closed/i);
  }, 20_000);

  it('a secret that is not there: SecretUnavailableError naming the variable', async () => {
    const err = await failure(mtls.url, { tls: tlsOk(), auth: { user: 'payments-service', password: { env: 'EC_TEST_NOT_SET_ANYWHERE' } } });
    expect(err).toBeInstanceOf(SecretUnavailableError);
    expect((err as Error).message).toContain('EC_TEST_NOT_SET_ANYWHERE');
  });
});

describe('classifying a connection the server resets during TLS', () => {
  // Under TLS 1.3 a server that wants a client certificate and gets none (or a foreign one)
  // may only reset the connection: which of the two shows depends on timing, so both are pinned here.
  const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
  it.each([
    [{ ca: { file: 'ca.pem' } }, 'CONNECTION_RESET_WITHOUT_CLIENT_CERTIFICATE', /may require a client certificate/],
    [{ ca: { file: 'ca.pem' }, cert: { file: 'c.pem' }, key: { file: 'k.pem' } }, 'CONNECTION_RESET_AFTER_CLIENT_CERTIFICATE', /refused the client certificate/],
  ])('with tls %j: %s', (tls, code, advice) => {
    const err = classifyNatsConnectError(reset, '127.0.0.1:4222', { tls } as NatsSecurityOptions);
    expect(err).toBeInstanceOf(TlsHandshakeError);
    expect((err as TlsHandshakeError).message).toMatch(advice);
    expect((err as TlsHandshakeError).code).toBe(code);
  });
  it('without TLS a reset stays what it is', () => {
    expect(classifyNatsConnectError(reset, '127.0.0.1:4222', undefined)).toBe(reset);
  });
});
