/**
 * `event-contracts provision nats` against a secured server (mutual TLS, the generated
 * permissions): as the admin, with its password named by --password-env, it provisions; as a
 * service account it is refused and nothing is claimed done.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NATS_ADMIN_API_PREFIX, NATS_ADMIN_USER, NATS_AUDIT_READER, passwordVariable } from '../../src/security/nats-acl.js';
import { runCli } from '../helpers/cli.js';
import { rand } from '../runtime/helpers.js';
import { makePki, type Pki } from './pki.js';
import { SecureNatsServer } from './servers.js';

describe('provision nats on a secured server', () => {
  let pki: Pki;
  let server: SecureNatsServer;
  const users = [NATS_ADMIN_USER, NATS_AUDIT_READER, 'users-service', 'payments-service', 'notifications-service', 'platform-service'];
  const env = Object.fromEntries(users.map((u) => [passwordVariable(u), `pw-${rand()}${rand()}`]));

  beforeAll(async () => {
    pki = makePki();
    Object.assign(process.env, env);
    server = await SecureNatsServer.start((port, store) => {
      writeFileSync(join(dirname(store), 'nats-accounts.conf'), readFileSync('generated/security/nats-accounts.conf', 'utf8'));
      return `listen: "127.0.0.1:${port}"
jetstream { store_dir: "${store}" }
tls { cert_file: "${pki.serverCert}", key_file: "${pki.serverKey}", ca_file: "${pki.ca}", verify: true }
include "nats-accounts.conf"
`;
    }, env);
  }, 60_000);
  afterAll(async () => {
    await server?.destroy();
    pki?.cleanup();
    for (const k of Object.keys(env)) delete process.env[k];
  });

  const tls = () => ['--tls-ca', pki.ca, '--tls-cert', pki.clientCert, '--tls-key', pki.clientKey];

  it('as the admin, in its own account, through the API prefix: streams created; without the prefix its account has no JetStream, exit 1', async () => {
    const as = [...tls(), '--user', NATS_ADMIN_USER, '--password-env', passwordVariable(NATS_ADMIN_USER)];
    const without = await runCli(['provision', 'nats', '--server', server.url, '--max-replicas', '1', ...as]);
    expect(without.code).toBe(1);
    const r = await runCli(['provision', 'nats', '--server', server.url, '--max-replicas', '1', ...as, '--api-prefix', NATS_ADMIN_API_PREFIX]);
    expect(r.stderr).toContain('stream TRANSACTIONS: created');
    expect(r.code).toBe(0);
    expect(r.stderr + r.stdout).not.toContain(env[passwordVariable(NATS_ADMIN_USER)]!);
  }, 60_000);

  it('as a service account: refused, exit 1', async () => {
    const r = await runCli(['provision', 'nats', '--server', server.url, '--max-replicas', '1', ...tls(), '--user', 'payments-service', '--password-env', passwordVariable('payments-service')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/provisioning .* failed: .*(permission|Permission)/);
  }, 60_000);
});
