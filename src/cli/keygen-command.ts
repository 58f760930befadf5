/**
 * `event-contracts keygen <service> --private-key <file>`: a new ed25519 signing key for a
 * service. The private key goes to the file named (mode 0600, never overwritten), for the
 * service's secret store; the public key into `security/signing-keys.json`, which `generate`
 * copies to `generated/security/signing-keys.json`. `--add` keeps the service's current
 * keys (a rotation: consumers accept both until the old one is removed).
 */
import { existsSync, writeFileSync } from 'node:fs';
import type { Config } from '../config.js';
import { EXIT, type Io } from './report.js';

export async function keygenCommand(args: { service: string; privateKey: string; add: boolean; config?: Config }, io: Io): Promise<number> {
  const { newSigningKey, readSigningKeys, signingKeysFile, writeSigningKeys } = await import('../security/keys.js');
  if (existsSync(args.privateKey)) {
    io.err(`event-contracts: ${args.privateKey} exists; keygen never overwrites a private key`);
    return EXIT.usage;
  }
  const file = signingKeysFile(args.config?.root);
  const keys = readSigningKeys(file);
  const { privatePem, publicBase64 } = newSigningKey();
  writeFileSync(args.privateKey, privatePem, { mode: 0o600, flag: 'wx' });
  const current = args.add ? ([] as string[]).concat(keys[args.service] ?? []) : [];
  keys[args.service] = [...current, publicBase64];
  writeSigningKeys(file, keys);
  io.err(`wrote the private key of ${args.service} to ${args.privateKey} (keep it secret) and its public key to ${file}; run generate`);
  return EXIT.ok;
}
