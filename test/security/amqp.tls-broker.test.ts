/**
 * AMQP over TLS against a RabbitMQ node with a TLS listener of its own (a private node the
 * test starts: the shared broker listens in plain TCP): EXTERNAL authentication by the client
 * certificate's common name, PLAIN over amqps, and the refusals (no client certificate, one
 * from another CA, a certificate naming a user the broker does not know, a wrong password)
 * as TlsHandshakeError / AuthenticationError.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AmqpTransport, type AmqpSecurityOptions } from '../../src/runtime/amqp/index.js';
import { AuthenticationError, TlsHandshakeError } from '../../src/runtime/index.js';
import { runCli } from '../helpers/cli.js';
import { makePki, type Pki } from './pki.js';
import { PrivateRabbit } from './rabbit-node.js';

describe.skipIf(!PrivateRabbit.available())('AMQP: a RabbitMQ node with TLS and EXTERNAL', () => {
  let pki: Pki;
  let rabbit: PrivateRabbit;
  const transports: AmqpTransport[] = [];

  beforeAll(async () => {
    pki = makePki();
    rabbit = await PrivateRabbit.start(
      (port) => `listeners.tcp = none
listeners.ssl.default = 127.0.0.1:${port}
ssl_options.cacertfile = ${pki.ca}
ssl_options.certfile = ${pki.serverCert}
ssl_options.keyfile = ${pki.serverKey}
ssl_options.verify = verify_peer
ssl_options.fail_if_no_peer_cert = true
auth_mechanisms.1 = EXTERNAL
auth_mechanisms.2 = PLAIN
ssl_cert_login_from = common_name
loopback_users = none
`,
      ['rabbitmq_auth_mechanism_ssl'],
    );
    // The client certificate's CN is payments-service (pki.ts): that user, without a password.
    rabbit.ctl('add_user', 'payments-service', 'unused');
    rabbit.ctl('clear_password', 'payments-service');
    rabbit.ctl('set_permissions', '-p', '/', 'payments-service', '.*', '.*', '.*');
    rabbit.ctl('add_user', 'users-service', 'users-pw');
    rabbit.ctl('set_permissions', '-p', '/', 'users-service', '.*', '.*', '.*');
  }, 120_000);
  afterAll(async () => {
    await Promise.allSettled(transports.map((t) => t.close()));
    await rabbit?.destroy();
    pki?.cleanup();
  }, 60_000);

  const url = (user = '') => `amqps://${user ? `${user}@` : ''}localhost:${rabbit.port}/`;
  const open = async (u: string, security: AmqpSecurityOptions) => {
    const t = await AmqpTransport.connect({ url: u, security, unroutable: 'drop' });
    transports.push(t);
    return t;
  };
  const failure = (u: string, security: AmqpSecurityOptions) => open(u, security).then(() => new Error('connected'), (e: unknown) => e);
  const tls = () => ({ ca: { file: pki.ca }, cert: { file: pki.clientCert }, key: { file: pki.clientKey } });
  const publish = (t: AmqpTransport) => t.publish({ subject: 'a.b', id: `m-${Math.random()}`, headers: {}, body: Buffer.from('{}') });

  it('EXTERNAL: the client certificate is the credential', async () => {
    await expect(publish(await open(url(), { tls: tls(), auth: { external: true } }))).resolves.toMatchObject({ duplicate: false });
  }, 30_000);

  it('PLAIN over amqps with the password from a file', async () => {
    const file = join(pki.dir, 'users-pw');
    writeFileSync(file, 'users-pw\n');
    await expect(publish(await open(url('users-service'), { tls: tls(), auth: { user: 'users-service', password: { file } } }))).resolves.toMatchObject({ duplicate: false });
  }, 30_000);

  it('a wrong password over amqps: AuthenticationError', async () => {
    const file = join(pki.dir, 'wrong');
    writeFileSync(file, 'nope');
    expect(await failure(url('users-service'), { tls: tls(), auth: { user: 'users-service', password: { file } } })).toBeInstanceOf(AuthenticationError);
  }, 30_000);

  it('EXTERNAL with a certificate naming a user the broker does not have: AuthenticationError', async () => {
    rabbit.ctl('delete_user', 'payments-service');
    try {
      expect(await failure(url(), { tls: tls(), auth: { external: true } })).toBeInstanceOf(AuthenticationError);
    } finally {
      rabbit.ctl('add_user', 'payments-service', 'unused');
      rabbit.ctl('clear_password', 'payments-service');
      rabbit.ctl('set_permissions', '-p', '/', 'payments-service', '.*', '.*', '.*');
    }
  }, 30_000);

  it('no client certificate, or one from another CA: TlsHandshakeError', async () => {
    expect(await failure(url(), { tls: { ca: { file: pki.ca } }, auth: { external: true } })).toBeInstanceOf(TlsHandshakeError);
    const rogue = { ca: { file: pki.ca }, cert: { file: pki.rogueClientCert }, key: { file: pki.rogueClientKey } };
    expect(await failure(url(), { tls: rogue, auth: { external: true } })).toBeInstanceOf(TlsHandshakeError);
  }, 30_000);

  it('no TLS (amqp:// to the TLS listener): refused, as a TlsHandshakeError saying to use amqps', async () => {
    const file = join(pki.dir, 'users-pw-plain');
    writeFileSync(file, 'users-pw');
    const err = await failure(`amqp://users-service@localhost:${rabbit.port}/`, { auth: { user: 'users-service', password: { file } } });
    expect(err).toBeInstanceOf(TlsHandshakeError);
    expect((err as Error).message).toContain('amqps://');
  }, 30_000);

  it('provision amqp over amqps with EXTERNAL, from the CLI', async () => {
    rabbit.ctl('set_user_tags', 'payments-service', 'administrator');
    const r = await runCli(['provision', 'amqp', '--server', url(), '--tls-ca', pki.ca, '--tls-cert', pki.clientCert, '--tls-key', pki.clientKey, '--external']);
    expect({ code: r.code, stderr: r.stderr }).toMatchObject({ code: 0, stderr: expect.stringContaining('exchange events.dlx: created') });
  }, 60_000);

  it('a broker certificate the client does not trust: TlsHandshakeError', async () => {
    expect(await failure(url(), { tls: { ...tls(), ca: { file: pki.rogueCa } }, auth: { external: true } })).toBeInstanceOf(TlsHandshakeError);
  }, 30_000);
});
