/**
 * NATS `.creds` (user JWT + nkey seed) from a file, against a nats-server in operator mode
 * that the test starts (JWTs made by the test, memory resolver): a user connects and its
 * JWT's permissions are enforced; creds of an account the server does not trust are an
 * AuthenticationError.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthenticationError, PermissionDeniedError } from '../../src/runtime/index.js';
import { NatsTransport } from '../../src/runtime/nats/index.js';
import { operatorSetup } from './jwt.js';
import { makePki, type Pki } from './pki.js';
import { SecureNatsServer } from './servers.js';

describe('NATS: .creds (JWT) authentication', () => {
  let pki: Pki;
  let server: SecureNatsServer;
  const setup = operatorSetup();
  const transports: NatsTransport[] = [];

  beforeAll(async () => {
    pki = makePki();
    server = await SecureNatsServer.start(
      (port) => `
listen: "127.0.0.1:${port}"
tls { cert_file: "${pki.serverCert}", key_file: "${pki.serverKey}", ca_file: "${pki.ca}" }
operator: "${setup.operatorJwt}"
resolver: MEMORY
resolver_preload: { ${setup.accountPublicKey}: "${setup.accountJwt}" }
`,
    );
  }, 60_000);
  afterAll(async () => {
    await Promise.allSettled(transports.map((t) => t.close()));
    await server?.destroy();
    pki?.cleanup();
  });

  const credsFile = (text: string) => {
    const f = join(pki.dir, `u-${transports.length}-${Math.random().toString(36).slice(2)}.creds`);
    writeFileSync(f, text, { mode: 0o600 });
    return f;
  };
  const open = async (creds: string) => {
    const t = await NatsTransport.connect({ connect: { servers: server.url, reconnect: false }, security: { tls: { ca: { file: pki.ca } }, auth: { creds: { file: creds } } } });
    transports.push(t);
    return t;
  };

  it('a user from a .creds file connects, and its JWT permissions are enforced', async () => {
    const t = await open(credsFile(setup.userCreds('payments-service', { pub: { allow: ['transaction.>'] }, sub: { allow: ['_INBOX.>'] } })));
    await expect(t.publishTransient({ subject: 'transaction.a.created.v1', id: '1', headers: {}, body: new Uint8Array([1]) })).resolves.toBeUndefined();
    await expect(t.publishTransient({ subject: 'user.created.v2', id: '2', headers: {}, body: new Uint8Array([1]) })).rejects.toBeInstanceOf(PermissionDeniedError);
  }, 30_000);

  it('creds of an account the server does not trust: AuthenticationError naming the file, not its content', async () => {
    const foreign = operatorSetup().userCreds('payments-service');
    const file = credsFile(foreign);
    const err = await open(file).then(() => new Error('connected'), (e: unknown) => e);
    expect(err).toBeInstanceOf(AuthenticationError);
    expect((err as Error).message).toContain(file);
    expect((err as Error).message).not.toContain(foreign.split('\n')[1]!.slice(0, 40));
  }, 30_000);
});
