/**
 * Signed events: ed25519 signatures over an event's envelope attributes and payload bytes,
 * made by the producing service and checked by consumers, end to end through the broker. A
 * producer with stolen broker credentials can write to a subject; it cannot sign as the
 * service that owns the event. An unsigned or wrongly signed delivery is dead-lettered with
 * reason `signature`.
 *
 * It wraps a Transport, so it works for every broker. What is signed: the subject, every
 * `ce-*` header (the CloudEvents envelope: id, type, source, time, version, correlation,
 * causation, partition key, ...), `content-type` and `content-encoding`, sorted by name, then
 * the body as sent (compressed bodies as compressed). A header the broker adds is not signed;
 * a `ce-*` header anyone adds on the way breaks the signature.
 *
 * Keys: `event-contracts keygen <service>` writes a private key (PEM, PKCS#8) for the
 * service's secrets and its public key to `security/keys/<service>.pub`; `generate` lists
 * the public keys in `generated/security/signing-keys.json`, which verifiers load.
 */
import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { EventContractsError } from './errors.js';
import { readSecretBytes, type Secret } from './security/secrets.js';
import type {
  ConsumeSpec,
  Delivery,
  DeliveryHandler,
  HeaderReader,
  HeaderRecord,
  InboundMessage,
  OutboundMessage,
  RequestHandler,
  ServeSpec,
  Transport,
  TransportReceipt,
  TransportSubscription,
} from './types.js';

/** Headers the signature travels in. */
export const SIGNATURE_HEADER = 'ec-signature';
export const SIGNER_HEADER = 'ec-signer';

export interface SigningOptions {
  /** Sign what this transport sends, as `service` with its private key (PEM, from a file or the environment). */
  sign?: { service: string; privateKey: Secret };
  /**
   * Verify what this transport receives against these public keys (service → PEM or raw
   * base64 ed25519 key), e.g. loadSigningKeys('generated/security/signing-keys.json').
   */
  verify?: { keys: Readonly<Record<string, string | readonly string[]>> };
}

/** A reply or request whose signature is missing or wrong. */
export class SignatureError extends EventContractsError {
  constructor(
    readonly subject: string,
    readonly detail: string,
  ) {
    super(`signature check failed for a message on '${subject}': ${detail}`);
  }
}

const SIZE_OF_SIGNATURE = 'x'.repeat(88);
const signed = (name: string) => name.startsWith('ce-') || name === 'content-type' || name === 'content-encoding';
const enc = new TextEncoder();

/** The bytes a signature covers. */
export function signedBytes(subject: string, headers: Iterable<[string, string]>, body: Uint8Array): Uint8Array {
  const lines = [...headers].filter(([k]) => signed(k)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const head = enc.encode(`ec-sig-v1\n${subject}\n${lines.map(([k, v]) => `${k}:${v}`).join('\n')}\n\n`);
  const out = new Uint8Array(head.byteLength + body.byteLength);
  out.set(head, 0);
  out.set(body, head.byteLength);
  return out;
}

function entriesOf(h: HeaderReader): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const k of h.keys()) {
    const v = h.get(k);
    if (v !== undefined) out.push([k.toLowerCase(), v]);
  }
  return out;
}

/** A public key as given in signing-keys.json: PEM (SPKI) or the raw 32-byte key in base64. */
export function publicKeyOf(text: string): KeyObject {
  if (text.includes('BEGIN')) return createPublicKey(text);
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(text, 'base64').toString('base64url') }, format: 'jwk' });
}

/** Reads `generated/security/signing-keys.json` (service → its public keys). */
export function loadSigningKeys(path: string): Record<string, string | string[]> {
  const parsed = JSON.parse(readFileSync(path, 'utf8')) as { keys?: Record<string, string | string[]> };
  return parsed.keys ?? {};
}

class Signer {
  constructor(
    readonly service: string,
    private readonly key: KeyObject,
  ) {}

  headers(subject: string, headers: HeaderRecord, body: Uint8Array): HeaderRecord {
    const sig = sign(null, signedBytes(subject, Object.entries(headers), body), this.key).toString('base64');
    return { ...headers, [SIGNER_HEADER]: this.service, [SIGNATURE_HEADER]: sig };
  }
}

class Verifier {
  private readonly keys = new Map<string, KeyObject[]>();
  constructor(keys: Readonly<Record<string, string | readonly string[]>>) {
    for (const [service, texts] of Object.entries(keys)) this.keys.set(service, ([] as string[]).concat(texts).map(publicKeyOf));
  }

  /** Undefined when the message is signed by a known service; else why not. */
  problem(m: InboundMessage): string | undefined {
    const signer = m.headers.get(SIGNER_HEADER);
    const sig = m.headers.get(SIGNATURE_HEADER);
    if (!signer || !sig) return 'unsigned';
    const keys = this.keys.get(signer);
    if (!keys || keys.length === 0) return `signed by '${signer.slice(0, 100)}', whose public key is not listed`;
    const bytes = signedBytes(m.subject, entriesOf(m.headers), m.body);
    const signature = Buffer.from(sig, 'base64');
    const ok = keys.some((k) => verify(null, bytes, k, signature));
    return ok ? undefined : `the signature of '${signer}' does not match the message`;
  }
}

/** A delivery marked for the dead letter (reason `signature`), settled through the original. */
function rejected(d: Delivery, detail: string): Delivery {
  return {
    subject: d.subject,
    headers: d.headers,
    body: d.body,
    get deliveryCount() {
      return d.deliveryCount;
    },
    ack: () => d.ack(),
    retry: (ms) => d.retry(ms),
    deadLetter: (info) => d.deadLetter(info),
    ...(d.working ? { working: () => d.working!() } : {}),
    malformed: { reason: 'signature', detail },
  };
}

/** `inner` with signatures added to what it sends and checked on what it receives. */
export function signedTransport(inner: Transport, options: SigningOptions): Transport {
  const signer = options.sign ? new Signer(options.sign.service, createPrivateKey(readSecretBytes(options.sign.privateKey, 'signing private key'))) : undefined;
  const verifier = options.verify ? new Verifier(options.verify.keys) : undefined;
  const out = (m: OutboundMessage): OutboundMessage => (signer ? { ...m, headers: signer.headers(m.subject, m.headers, m.body) } : m);
  const t: Transport = {
    name: inner.name,
    maxMessageBytes: () => inner.maxMessageBytes(),
    // The size with the signature headers, without signing (an ed25519 signature is 88 base64 characters).
    ...(inner.messageBytes ? { messageBytes: (m: OutboundMessage) => inner.messageBytes!(signer ? { ...m, headers: { ...m.headers, [SIGNER_HEADER]: signer.service, [SIGNATURE_HEADER]: SIZE_OF_SIGNATURE } } : m) } : {}),
    publish: (m): Promise<TransportReceipt> => inner.publish(out(m)),
    publishTransient: (m) => inner.publishTransient(out(m)),
    consume: (spec: ConsumeSpec, onDelivery: DeliveryHandler): Promise<TransportSubscription> =>
      inner.consume(spec, (d) => {
        if (!verifier || d.malformed) return onDelivery(d);
        const problem = verifier.problem(d);
        onDelivery(problem ? rejected(d, problem) : d);
      }),
    request: async (m, timeoutMs) => {
      const reply = await inner.request(out(m), timeoutMs);
      // A reply is signed over the request's subject (its own is an inbox chosen per request).
      const problem = verifier?.problem({ ...reply, subject: m.subject });
      if (problem) throw new SignatureError(m.subject, problem);
      return reply;
    },
    serve: (spec: ServeSpec, handler: RequestHandler) =>
      inner.serve(spec, async (req) => {
        const problem = verifier?.problem(req);
        if (problem) throw new SignatureError(spec.subject, problem);
        const r = await handler(req);
        return signer ? { headers: signer.headers(req.subject, r.headers, r.body), body: r.body } : r;
      }),
    close: () => inner.close(),
  };
  return t;
}
