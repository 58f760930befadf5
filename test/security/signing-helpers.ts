/** For the signing tests: key pairs made as `keygen` makes them, and a transport that records what it sends. */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { MemoryTransport } from '../../src/runtime/index.js';
import { rand } from '../runtime/helpers.js';

export type KeyMaker = ((name: string) => { file: string; pub: string }) & { readonly dir: string };

/** A maker of key pairs: the private key in a file (PEM, PKCS#8), the public key as raw base64; `dir` holds them. */
export function signingKeys(tag: string): KeyMaker {
  const dir = mkdtempSync(join(tmpdir(), `ec-${tag}-`));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return Object.assign((name: string) => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const file = join(dir, `${name}-${rand()}.pem`);
    writeFileSync(file, privateKey.export({ format: 'pem', type: 'pkcs8' }));
    return { file, pub: Buffer.from((publicKey.export({ format: 'jwk' }) as { x: string }).x, 'base64url').toString('base64') };
  }, { dir });
}

/** What a producer's transport sent, for a test to replay, altered or not. */
export type Sent = { subject: string; headers: Record<string, string>; body: Uint8Array; id: string };

/** A memory transport on `shared` that records each message it publishes in `sent`. */
export function recordingTransport(shared: MemoryTransport, sent: Sent[]): MemoryTransport {
  const inner = new MemoryTransport({ sharedWith: shared });
  return Object.assign(Object.create(inner) as MemoryTransport, { publish: (m: Sent) => (sent.push(m), inner.publish(m)) });
}
