/**
 * Certificates made by the test itself with openssl: a CA, a server certificate for
 * 127.0.0.1/localhost, a client certificate signed by the CA, and a rogue CA with a client
 * certificate of its own (the "wrong certificate").
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Pki {
  dir: string;
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  rogueCa: string;
  rogueClientCert: string;
  rogueClientKey: string;
  /** A server certificate that names another host only (server name check). */
  otherNameCert: string;
  otherNameKey: string;
  cleanup(): void;
}

const ssl = (cwd: string, ...args: string[]) => execFileSync('openssl', args, { cwd, stdio: 'pipe', timeout: 60_000 });

function makeCa(dir: string, name: string): void {
  ssl(dir, 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', `/CN=${name}`, '-keyout', `${name}.key`, '-out', `${name}.pem`);
}

function makeLeaf(dir: string, ca: string, name: string, cn: string, ext: string): void {
  writeFileSync(join(dir, `${name}.ext`), ext);
  ssl(dir, 'req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', `/CN=${cn}`, '-keyout', `${name}.key`, '-out', `${name}.csr`);
  ssl(dir, 'x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.pem`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-days', '2', '-extfile', `${name}.ext`, '-out', `${name}.pem`);
}

export function makePki(): Pki {
  const dir = mkdtempSync(join(tmpdir(), 'ec-pki-'));
  makeCa(dir, 'ca');
  makeCa(dir, 'rogue');
  makeLeaf(dir, 'ca', 'server', 'localhost', 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  makeLeaf(dir, 'ca', 'other', 'elsewhere.example', 'subjectAltName=DNS:elsewhere.example\nextendedKeyUsage=serverAuth\n');
  makeLeaf(dir, 'ca', 'client', 'payments-service', 'extendedKeyUsage=clientAuth\n');
  makeLeaf(dir, 'rogue', 'rogueclient', 'payments-service', 'extendedKeyUsage=clientAuth\n');
  const p = (f: string) => join(dir, f);
  return {
    dir,
    ca: p('ca.pem'),
    serverCert: p('server.pem'),
    serverKey: p('server.key'),
    clientCert: p('client.pem'),
    clientKey: p('client.key'),
    rogueCa: p('rogue.pem'),
    rogueClientCert: p('rogueclient.pem'),
    rogueClientKey: p('rogueclient.key'),
    otherNameCert: p('other.pem'),
    otherNameKey: p('other.key'),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
