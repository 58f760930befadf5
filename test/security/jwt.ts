/**
 * Just enough of NATS decentralised auth for a test: operator, account and user JWTs
 * (ed25519-nkey signed, as nsc writes them) and a `.creds` file, made with the nkeys that
 * nats.js ships, so a nats-server in operator mode can be started without nsc.
 */
import { createHash } from 'node:crypto';
import { nkeys } from '@nats-io/transport-node';

type KeyPair = ReturnType<typeof nkeys.createUser>;

const b64url = (b: Uint8Array | string) => Buffer.from(b).toString('base64url');

function base32(buf: Uint8Array): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of buf) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += alphabet[(value << (5 - bits)) & 31];
  return out;
}

/** A JWT for `subject` issued (signed) by `issuer`. */
export function jwt(issuer: KeyPair, subject: string, name: string, nats: Record<string, unknown>): string {
  const claims: Record<string, unknown> = { jti: '', iat: Math.floor(Date.now() / 1000), iss: issuer.getPublicKey(), name, sub: subject, nats: { version: 2, ...nats } };
  claims['jti'] = base32(createHash('sha256').update(JSON.stringify(claims)).digest());
  const signing = `${b64url(JSON.stringify({ typ: 'JWT', alg: 'ed25519-nkey' }))}.${b64url(JSON.stringify(claims))}`;
  return `${signing}.${b64url(issuer.sign(new TextEncoder().encode(signing)))}`;
}

export interface OperatorSetup {
  operatorJwt: string;
  accountPublicKey: string;
  accountJwt: string;
  /** A `.creds` file's text for a new user of the account, with these permissions. */
  userCreds(name: string, permissions?: { pub?: { allow?: string[] }; sub?: { allow?: string[] } }): string;
}

export function operatorSetup(): OperatorSetup {
  const operator = nkeys.createOperator();
  const account = nkeys.createAccount();
  const limits = { subs: -1, data: -1, payload: -1, imports: -1, exports: -1, wildcards: true, conn: -1, leaf: -1 };
  return {
    operatorJwt: jwt(operator, operator.getPublicKey(), 'test-operator', { type: 'operator' }),
    accountPublicKey: account.getPublicKey(),
    accountJwt: jwt(operator, account.getPublicKey(), 'EVENTS', { type: 'account', limits }),
    userCreds(name, permissions = {}) {
      const user = nkeys.createUser();
      const token = jwt(account, user.getPublicKey(), name, { type: 'user', pub: permissions.pub ?? {}, sub: permissions.sub ?? {}, subs: -1, data: -1, payload: -1 });
      const seed = new TextDecoder().decode(user.getSeed());
      return `-----BEGIN NATS USER JWT-----\n${token}\n------END NATS USER JWT------\n\n-----BEGIN USER NKEY SEED-----\n${seed}\n------END USER NKEY SEED------\n`;
    },
  };
}
