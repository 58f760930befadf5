/** Signing keys for tests, made as `keygen` makes them, in a folder removed after the file's tests. */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
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
