/**
 * The services' public signing keys, kept in the workspace as `security/signing-keys.json`
 * (`{ "keys": { "<service>": "<base64 ed25519 public key>" | [...] } }`, several during a
 * rotation) and written by `event-contracts keygen`. Private keys never enter the workspace:
 * keygen writes them where it is told, for the service's secret store.
 */
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export type SigningKeys = Record<string, string | string[]>;

export function signingKeysFile(root: string | undefined): string {
  return path.resolve(root ?? '.', 'security', 'signing-keys.json');
}

export function readSigningKeys(file: string): SigningKeys {
  if (!existsSync(file)) return {};
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as { keys?: SigningKeys };
  return parsed.keys ?? {};
}

export function writeSigningKeys(file: string, keys: SigningKeys): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const sorted = Object.fromEntries(Object.entries(keys).sort(([a], [b]) => (a < b ? -1 : 1)));
  writeFileSync(file, JSON.stringify({ keys: sorted }, null, 2) + '\n');
}

/** A new ed25519 key pair: the private key as PKCS#8 PEM, the public key as raw base64. */
export function newSigningKey(): { privatePem: string; publicBase64: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const jwk = publicKey.export({ format: 'jwk' }) as { x: string };
  return { privatePem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), publicBase64: Buffer.from(jwk.x, 'base64url').toString('base64') };
}
