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
 * Events sent in the same turn of the event loop are signed together (see Signer): one
 * signature over the Merkle root of their hashes, each event carrying the hashes that lead
 * from it to the root. An ed25519 signature or verification costs several times what the
 * rest of a publish or a consume does; per batch, it is paid once.
 *
 * Keys: `event-contracts keygen <service>` writes a private key (PEM, PKCS#8) for the
 * service's secrets and its public key to `security/keys/<service>.pub`; `generate` lists
 * the public keys in `generated/security/signing-keys.json`, which verifiers load.
 */
import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
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
/** Where the event sits in the batch its signature covers, and the hashes that lead to its root. */
export const PROOF_HEADER = 'ec-signature-proof';

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
/** The longest proof: `1023/1024:` and ten hashes in base64. */
const SIZE_OF_PROOF = 'x'.repeat(10 + 428);
const signed = (name: string) => name.startsWith('ce-') || name === 'content-type' || name === 'content-encoding';
const enc = new TextEncoder();

/** An event's leaf in its batch's Merkle tree: sha256 of 0x00 and the bytes signedBytes() gives, without building them. */
export function leafHash(subject: string, headers: Iterable<[string, string]>, body: Uint8Array): Buffer {
  const lines = [...headers].filter(([k]) => signed(k)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  let head = `ec-sig-v1\n${subject}\n`;
  for (let i = 0; i < lines.length; i++) head += `${i === 0 ? '' : '\n'}${lines[i]![0]}:${lines[i]![1]}`;
  return createHash('sha256').update(LEAF).update(`${head}\n\n`, 'utf8').update(body).digest();
}

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

/** Events signed together at most (their proofs stay at 10 hashes or fewer). */
export const MAX_SIGNED_BATCH = 1024;
/** Verified (signer, batch, signature) triples remembered, so a batch is verified once. */
const VERIFIED_CACHE = 10_000;
/** Hashes of verified trees remembered (about 2 per event). */
const TRUSTED_CACHE = 200_000;

/** Adds `key`, dropping the oldest entry beyond `max`. */
function remember(m: Map<string, true>, key: string, max: number): void {
  if (m.size >= max) m.delete(m.keys().next().value!);
  m.set(key, true);
}

const sha256 = (...parts: Uint8Array[]) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
};
const LEAF = Uint8Array.of(0);
const NODE = Uint8Array.of(1);
const ROOT = Uint8Array.of(2);

/** What the signature covers: the batch's Merkle root and its size, domain-separated. */
function rootMessage(root: Uint8Array, size: number): Buffer {
  const n = Buffer.alloc(4);
  n.writeUInt32BE(size);
  return sha256(ROOT, n, root);
}

/**
 * Signs events in batches: the events handed over in one turn of the event loop (up to
 * MAX_SIGNED_BATCH) are the leaves of a Merkle tree whose root (with the batch size) gets
 * one ed25519 signature; each event carries that signature and the hashes that lead from
 * it to the root (`ec-signature-proof`: `<index>/<size>:<base64 hashes>`). A lone event is a
 * batch of one, with no hashes. One signature per batch instead of one per event, and a
 * consumer verifies each batch's signature once.
 */
class Signer {
  private pending: Array<{ leaf: Buffer; headers: HeaderRecord; resolve: (h: HeaderRecord) => void; reject: (e: unknown) => void }> = [];

  constructor(
    readonly service: string,
    private readonly key: KeyObject,
  ) {}

  headers(subject: string, headers: HeaderRecord, body: Uint8Array): Promise<HeaderRecord> {
    const leaf = leafHash(subject, Object.entries(headers), body);
    return new Promise((resolve, reject) => {
      this.pending.push({ leaf, headers, resolve, reject });
      if (this.pending.length === 1) setImmediate(() => this.flush());
      else if (this.pending.length >= MAX_SIGNED_BATCH) this.flush();
    });
  }

  private flush(): void {
    const batch = this.pending.splice(0, MAX_SIGNED_BATCH);
    if (batch.length === 0) return;
    try {
      const levels: Buffer[][] = [batch.map((b) => b.leaf)];
      while (levels[levels.length - 1]!.length > 1) {
        const below = levels[levels.length - 1]!;
        const up: Buffer[] = [];
        for (let i = 0; i < below.length; i += 2) up.push(i + 1 < below.length ? sha256(NODE, below[i]!, below[i + 1]!) : below[i]!);
        levels.push(up);
      }
      const root = levels[levels.length - 1]![0]!;
      const signature = sign(null, rootMessage(root, batch.length), this.key).toString('base64');
      batch.forEach((b, index) => {
        const proof: Buffer[] = [];
        for (let level = 0, i = index; level < levels.length - 1; level++, i >>= 1) {
          const sibling = levels[level]![i ^ 1];
          if (sibling) proof.push(sibling);
        }
        b.resolve({
          ...b.headers,
          [SIGNER_HEADER]: this.service,
          [SIGNATURE_HEADER]: signature,
          [PROOF_HEADER]: `${index}/${batch.length}:${Buffer.concat(proof).toString('base64')}`,
        });
      });
    } catch (err) {
      for (const b of batch) b.reject(err);
    }
    if (this.pending.length > 0) setImmediate(() => this.flush());
  }
}

class Verifier {
  private readonly keys = new Map<string, KeyObject[]>();
  private readonly verified = new Map<string, true>();
  /**
   * Hashes of verified trees (nodes and leaves, per signer): an event whose path meets one is
   * in a batch already verified, and needs no more hashing (nor the signature checked again).
   * Events of a batch usually arrive together, so most stop at their first sibling.
   */
  private readonly trusted = new Map<string, true>();
  constructor(keys: Readonly<Record<string, string | readonly string[]>>) {
    for (const [service, texts] of Object.entries(keys)) this.keys.set(service, ([] as string[]).concat(texts).map(publicKeyOf));
  }

  /** Undefined when the message is signed by a known service; else why not. */
  problem(m: InboundMessage): string | undefined {
    const signer = m.headers.get(SIGNER_HEADER);
    const sig = m.headers.get(SIGNATURE_HEADER);
    const proof = m.headers.get(PROOF_HEADER);
    if (!signer || !sig || proof === undefined) return 'unsigned';
    const keys = this.keys.get(signer);
    if (!keys || keys.length === 0) return `signed by '${signer.slice(0, 100)}', whose public key is not listed`;
    const parsed = /^(\d{1,4})\/(\d{1,4}):([A-Za-z0-9+/=]*)$/.exec(proof);
    const mismatch = `the signature of '${signer}' does not match the message`;
    if (!parsed) return mismatch;
    let index = Number(parsed[1]);
    let size = Number(parsed[2]);
    const hashes = Buffer.from(parsed[3]!, 'base64');
    if (size < 1 || size > MAX_SIGNED_BATCH || index >= size || hashes.byteLength % 32 !== 0) return mismatch;
    const batchSize = size;
    let node = leafHash(m.subject, entriesOf(m.headers), m.body);
    const seen: Buffer[] = [node];
    if (this.trusted.has(`${signer}:${node.toString('base64')}`)) return undefined;
    let used = 0;
    while (size > 1) {
      const last = index === size - 1 && size % 2 === 1;
      if (!last) {
        if (used + 32 > hashes.byteLength) return mismatch;
        const sibling = hashes.subarray(used, used + 32);
        used += 32;
        node = index % 2 === 0 ? sha256(NODE, node, sibling) : sha256(NODE, sibling, node);
        seen.push(Buffer.from(sibling), node);
        if (this.trusted.has(`${signer}:${node.toString('base64')}`)) return undefined;
      }
      index >>= 1;
      size = Math.ceil(size / 2);
    }
    if (used !== hashes.byteLength) return mismatch;
    const message = rootMessage(node, batchSize);
    const cacheKey = `${signer}\n${sig}\n${message.toString('base64')}`;
    if (!this.verified.has(cacheKey)) {
      const signature = Buffer.from(sig, 'base64');
      if (!keys.some((k) => verify(null, message, k, signature))) return mismatch;
      remember(this.verified, cacheKey, VERIFIED_CACHE);
    }
    // The path is part of a verified tree now: the leaf, the siblings and the nodes on the way.
    for (const h of seen) remember(this.trusted, `${signer}:${h.toString('base64')}`, TRUSTED_CACHE);
    return undefined;
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
  const out = async (m: OutboundMessage): Promise<OutboundMessage> => (signer ? { ...m, headers: await signer.headers(m.subject, m.headers, m.body) } : m);
  const t: Transport = {
    name: inner.name,
    maxMessageBytes: () => inner.maxMessageBytes(),
    // The size with the signature headers, without signing (an ed25519 signature is 88 base64 characters).
    ...(inner.messageBytes
      ? { messageBytes: (m: OutboundMessage) => inner.messageBytes!(signer ? { ...m, headers: { ...m.headers, [SIGNER_HEADER]: signer.service, [SIGNATURE_HEADER]: SIZE_OF_SIGNATURE, [PROOF_HEADER]: SIZE_OF_PROOF } } : m) }
      : {}),
    publish: async (m): Promise<TransportReceipt> => inner.publish(await out(m)),
    publishTransient: async (m) => inner.publishTransient(await out(m)),
    consume: (spec: ConsumeSpec, onDelivery: DeliveryHandler): Promise<TransportSubscription> =>
      inner.consume(spec, (d) => {
        if (!verifier || d.malformed) return onDelivery(d);
        const problem = verifier.problem(d);
        onDelivery(problem ? rejected(d, problem) : d);
      }),
    request: async (m, timeoutMs) => {
      const reply = await inner.request(await out(m), timeoutMs);
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
        return signer ? { headers: await signer.headers(req.subject, r.headers, r.body), body: r.body } : r;
      }),
    close: () => inner.close(),
  };
  return t;
}
