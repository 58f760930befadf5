/**
 * The Kafka transport against a broker of its own with a mutual-TLS listener (one KRaft node
 * on free loopback ports; certificates the test makes with openssl): events go through
 * over TLS; a client without a certificate, with one from another CA, or not trusting the
 * broker's CA is refused, and says so as TlsHandshakeError; `provision kafka` takes the same
 * `--tls-*` options as for NATS and RabbitMQ.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEventBus, TlsHandshakeError, type EventBus } from '../../src/runtime/index.js';
import { KafkaTransport } from '../../src/runtime/kafka/index.js';
import { provisionKafka } from '../../src/runtime/kafka/provision.js';
import { kafkaConnectionOptions } from '../../src/runtime/kafka/security.js';
import type { KafkaSecurityOptions } from '../../src/runtime/kafka/types.js';
import { startKafka, type KafkaCluster } from '../services/kafka.mjs';
import { runCli } from '../helpers/cli.js';
import { rand, userCreated, waitFor } from '../runtime/helpers.js';
import { makePki, type Pki } from './pki.js';

describe('kafka over mutual TLS', () => {
  let pki: Pki;
  let cluster: KafkaCluster;
  const buses: EventBus[] = [];
  const prefix = `ktls${rand()}`;
  const topology = [{ name: prefix, subjects: [`${prefix}.>`] }];
  const mtls = (): KafkaSecurityOptions => ({ tls: { ca: { file: pki.ca }, cert: { file: pki.clientCert }, key: { file: pki.clientKey } } });

  // The broker is an IP address: nothing may hand it to TLS as a server name (node warns, DEP0123).
  const warnings: string[] = [];
  const onWarning = (w: Error & { code?: string }) => void warnings.push(`${w.code ?? w.name}: ${w.message}`);

  beforeAll(async () => {
    process.on('warning', onWarning);
    pki = makePki();
    // Kafka reads a PEM key store as one file: the key, then the certificate chain.
    const keystore = join(pki.dir, 'kafka-server.pem');
    writeFileSync(keystore, readFileSync(pki.serverKey, 'utf8') + readFileSync(pki.serverCert, 'utf8'));
    cluster = await startKafka({ tls: { keystore, truststore: pki.ca } });
    await provisionKafka({ bootstrap: cluster.bootstrap, ...kafkaConnectionOptions(mtls()) }, { topics: topology });
  }, 300_000);

  afterAll(async () => {
    process.off('warning', onWarning);
    await Promise.allSettled(buses.map((b) => b.close()));
    await cluster?.stop();
    pki?.cleanup();
  }, 120_000);

  it('events are published and consumed over mutual TLS', async () => {
    const ev = userCreated(prefix);
    const open = async (source: string) => {
      const bus = createEventBus({ transport: await KafkaTransport.connect({ bootstrap: cluster.bootstrap, topology, security: mtls() }), source });
      buses.push(bus);
      return bus;
    };
    const producer = await open('users-service');
    const consumer = await open('payments-service');
    const got: string[] = [];
    await consumer.subscribe({ group: `tls_${rand()}`, handlers: [{ type: ev.type, accepts: [ev], handle: async (e) => void got.push(e.data.userId) }] });
    await producer.publish(ev, { userId: 'over-tls', email: 'a@b.io' }, { params: { userId: 'over-tls' } });
    await waitFor(() => got.length === 1, 60_000, 'the event over TLS');
    expect(got).toEqual(['over-tls']);
  }, 120_000);

  const refused = (security: KafkaSecurityOptions) => KafkaTransport.connect({ bootstrap: cluster.bootstrap, topology, security }).then(
    async (t) => {
      await t.close();
      throw new Error('connected');
    },
    (e: unknown) => e,
  );

  it('a client certificate from another CA: TlsHandshakeError', async () => {
    const err = await refused({ tls: { ca: { file: pki.ca }, cert: { file: pki.rogueClientCert }, key: { file: pki.rogueClientKey } } });
    expect(err).toBeInstanceOf(TlsHandshakeError);
  }, 60_000);

  it('no client certificate: TlsHandshakeError', async () => {
    const err = await refused({ tls: { ca: { file: pki.ca } } });
    expect(err).toBeInstanceOf(TlsHandshakeError);
  }, 60_000);

  it("not trusting the broker's CA: TlsHandshakeError naming the certificate problem", async () => {
    const err = await refused({ tls: { ca: { file: pki.rogueCa }, cert: { file: pki.clientCert }, key: { file: pki.clientKey } } });
    expect(err).toBeInstanceOf(TlsHandshakeError);
    expect((err as Error).message).toMatch(/certificate/i);
  }, 60_000);

  it('a plain-text client at the TLS listener: TlsHandshakeError saying the listener wants TLS', async () => {
    const err = await KafkaTransport.connect({ bootstrap: cluster.bootstrap, topology }).then(
      async (t) => {
        await t.close();
        throw new Error('connected');
      },
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(TlsHandshakeError);
    expect((err as TlsHandshakeError).code).toBe('SERVER_EXPECTS_TLS');
  }, 60_000);

  it('provision kafka with --tls-ca, --tls-cert, --tls-key creates the topics; without TLS it fails, exit 1', async () => {
    const r = await runCli(['provision', 'kafka', '--server', cluster.bootstrap, '--topic-prefix', `${prefix}.cli.`, '--tls-ca', pki.ca, '--tls-cert', pki.clientCert, '--tls-key', pki.clientKey]);
    expect(r.stderr, r.stdout).toMatch(/topic .*: created/);
    expect(r.code).toBe(0);
    const plain = await runCli(['provision', 'kafka', '--server', cluster.bootstrap, '--topic-prefix', `${prefix}.cli2.`]);
    expect(plain.code).toBe(1);
    expect(plain.stderr).toMatch(/SERVER_EXPECTS_TLS.*requires TLS/);
    const rogue = await runCli(['provision', 'kafka', '--server', cluster.bootstrap, '--tls-ca', pki.ca, '--tls-cert', pki.rogueClientCert, '--tls-key', pki.rogueClientKey]);
    expect(rogue.code).toBe(1);
    expect(rogue.stderr).toMatch(/refused the client certificate/);
    const external = await runCli(['provision', 'kafka', '--server', cluster.bootstrap, '--external']);
    expect(external.code).toBe(2);
  }, 120_000);

  it('no TLS warning was printed on the way (server names are host names only)', () => {
    expect(warnings.filter((w) => /DEP0123|ServerName/.test(w))).toEqual([]);
  });
});
