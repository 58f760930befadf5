/**
 * AMQP transport security: `amqps://` with the test's CA, client certificate and the server
 * name checked (through a TLS front of the local RabbitMQ, which listens in plain TCP here),
 * PLAIN credentials with the password from a file or an environment variable (a user and
 * vhost made with rabbitmqctl, deleted afterwards). Refused credentials and failed
 * handshakes are typed, and no secret appears in a message.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AmqpTransport, type AmqpSecurityOptions } from '../../src/runtime/amqp/index.js';
import { AuthenticationError, TlsHandshakeError } from '../../src/runtime/index.js';
import { rand } from '../runtime/helpers.js';
import { makePki, type Pki } from './pki.js';
import { TlsFront } from './tls-proxy.js';

const ctl = (...args: string[]) => execFileSync('rabbitmqctl', ['-q', ...args], { stdio: 'pipe', timeout: 60_000 });

describe('AMQP: TLS and credentials', () => {
  const id = rand();
  const vhost = `ecsec-${id}`;
  const user = `ecsec-svc-${id}`;
  const password = `pw-${rand()}-${rand()}`;
  const pwEnv = `EC_TEST_AMQP_PW_${id.replace(/\W/g, '')}`;
  let pki: Pki;
  let front: TlsFront;
  const transports: AmqpTransport[] = [];

  beforeAll(async () => {
    pki = makePki();
    ctl('add_vhost', vhost);
    ctl('add_user', user, password);
    ctl('set_permissions', '-p', vhost, user, '.*', '.*', '.*');
    process.env[pwEnv] = password;
    front = await TlsFront.start({ cert: pki.serverCert, key: pki.serverKey, ca: pki.ca, requireClientCert: true });
  }, 120_000);
  afterAll(async () => {
    await Promise.allSettled(transports.map((t) => t.close()));
    await front?.close();
    for (const args of [['delete_user', user], ['delete_vhost', vhost]]) {
      try {
        ctl(...args);
      } catch {
        // already gone
      }
    }
    pki?.cleanup();
    delete process.env[pwEnv];
  }, 120_000);

  const tlsOk = () => ({ ca: { file: pki.ca }, cert: { file: pki.clientCert }, key: { file: pki.clientKey } });
  const url = (host = '127.0.0.1') => `amqps://${user}@${host}:${front.port}/${encodeURIComponent(vhost)}`;
  const open = async (u: string, security: AmqpSecurityOptions) => {
    const t = await AmqpTransport.connect({ url: u, security, exchange: `ecsec${id}`, unroutable: 'drop' });
    transports.push(t);
    return t;
  };
  const failure = (u: string, security: AmqpSecurityOptions) => open(u, security).then(
    () => new Error('connected'),
    (e: unknown) => e,
  );

  it('amqps with mutual TLS and a password from an environment variable: connected, a publish is confirmed', async () => {
    const t = await open(url(), { tls: tlsOk(), auth: { user, password: { env: pwEnv } } });
    await expect(t.publish({ subject: 'x.y', id: `m-${rand()}`, headers: {}, body: Buffer.from('{}') })).resolves.toMatchObject({ duplicate: false });
  }, 30_000);

  it('a wrong password from a file: AuthenticationError naming the user and the file, not the password', async () => {
    const file = join(pki.dir, 'wrong');
    writeFileSync(file, 'definitely-wrong');
    const err = await failure(url(), { tls: tlsOk(), auth: { user, password: { file } } });
    expect(err).toBeInstanceOf(AuthenticationError);
    expect((err as Error).message).toContain(file);
    expect((err as Error).message).not.toContain('definitely-wrong');
    expect((err as Error).message).not.toContain(password);
  }, 30_000);

  it('a server certificate from an untrusted CA: TlsHandshakeError', async () => {
    const err = await failure(url(), { tls: { ca: { file: pki.rogueCa }, cert: { file: pki.clientCert }, key: { file: pki.clientKey } }, auth: { user, password: { env: pwEnv } } });
    expect(err).toBeInstanceOf(TlsHandshakeError);
    expect((err as Error).message).toContain('tls.ca');
  }, 30_000);

  it('a host name the server certificate does not carry: TlsHandshakeError', async () => {
    const err = await failure(url(), { tls: { ...tlsOk(), serverName: 'elsewhere.example' }, auth: { user, password: { env: pwEnv } } });
    expect(err).toBeInstanceOf(TlsHandshakeError);
  }, 30_000);

  it('a client certificate the server does not trust: TlsHandshakeError', async () => {
    const err = await failure(url(), { tls: { ca: { file: pki.ca }, cert: { file: pki.rogueClientCert }, key: { file: pki.rogueClientKey } }, auth: { user, password: { env: pwEnv } } });
    expect(err).toBeInstanceOf(TlsHandshakeError);
  }, 30_000);

  it('EXTERNAL is offered as the SASL mechanism when asked for', async () => {
    const { amqpSocketOptions } = await import('../../src/runtime/amqp/index.js');
    const o = amqpSocketOptions({ tls: tlsOk(), auth: { external: true } }) as { credentials: { mechanism: string }; cert: string };
    expect(o.credentials.mechanism).toBe('EXTERNAL');
    expect(o.cert).toContain('BEGIN CERTIFICATE');
  });
});
