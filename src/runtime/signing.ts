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
 * Events are signed in batches (see Signer): one signature over the Merkle root of their
 * hashes, each event carrying the hashes that lead from it to the root. An ed25519 signature
 * costs 45–60 µs and a verification 130–170 µs on a small server, several times what the
 * rest of a publish or a consume does; per batch, it is paid once. Both run in libuv's
 * thread pool, so the event loop goes on meanwhile: what is sent while a signature is being
 * made is signed together next (group commit), and deliveries wait for their batch's
 * verification in the order they came.
 *
 * Keys: `event-contracts keygen <service>` writes a private key (PEM, PKCS#8) for the
 * service's secrets and its public key to `security/keys/<service>.pub`; `generate` lists
 * the public keys in `generated/security/signing-keys.json`, which verifiers load.
 */
import { createPrivateKey, createPublicKey, hash, sign, verify, type KeyObject } from 'node:crypto';
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
/** The longest proof this signer writes: `63/64:` and six hashes in base64. */
const SIZE_OF_PROOF = 'x'.repeat(6 + 256);
const signed = (name: string) => name.startsWith('ce-') || name === 'content-type' || name === 'content-encoding';
const enc = new TextEncoder();

/**
 * Hashes inside the signer and the verifier are SHA-256 digests as 32-character latin1
 * strings, made in one call: node's createHash() builds a stream object per hash, and a
 * digest as a Buffer is an ArrayBuffer the garbage collector tracks; a string is neither,
 * and it is the key the verifier remembers anyway. A node hash costs 0.85 µs this way,
 * 3.4 µs with createHash().
 */
type Digest = string;
const sha256Of = (bytes: Uint8Array): Digest => hash('sha256', bytes, 'binary');

/** An event's leaf in its batch's Merkle tree: sha256 of 0x00 and the bytes signedBytes() gives. */
export function leafHash(subject: string, headers: Iterable<[string, string]>, body: Uint8Array): Buffer {
  lines.clear();
  for (const [k, v] of headers) if (signed(k)) lines.add(k, v);
  return Buffer.from(leafDigest(subject, body), 'latin1');
}

/**
 * The signed header lines of the event being hashed, as two parallel arrays reused for
 * every leaf (hashing is synchronous): an array of [name, value] pairs per header and per
 * event, sorted with a comparator, was garbage made on every publish and every delivery.
 */
class Lines {
  readonly names: string[] = [];
  readonly values: string[] = [];
  clear(): void {
    this.names.length = 0;
    this.values.length = 0;
  }
  add(name: string, value: string): void {
    this.names.push(name);
    this.values.push(value);
  }
  /**
   * Puts the lines in name order, a name given twice in the order it came. An event has a
   * dozen lines, sorted in place by insertion; a message may carry thousands (a hostile one
   * does), and an insertion sort of those would take quadratic time, so many lines are
   * sorted as pairs.
   */
  sort(): void {
    const { names, values } = this;
    const n = names.length;
    if (n > 32) {
      const pairs = names.map((name, i) => [name, values[i]!] as const).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      for (let i = 0; i < n; i++) [names[i], values[i]] = pairs[i]!;
      return;
    }
    for (let j = 1; j < n; j++) {
      const name = names[j]!;
      const value = values[j]!;
      let i = j;
      for (; i > 0 && names[i - 1]! > name; i--) {
        names[i] = names[i - 1]!;
        values[i] = values[i - 1]!;
      }
      names[i] = name;
      values[i] = value;
    }
  }
}
const lines = new Lines();

/** The signed lines of a record about to be sent. */
function linesOfRecord(headers: Readonly<HeaderRecord>): void {
  lines.clear();
  for (const k in headers) if (signed(k)) lines.add(k, headers[k] as string);
}

/** The signed lines of what arrived (names as lower case: a broker may change their case). */
function linesOfReader(h: HeaderReader): void {
  lines.clear();
  for (const k of h.keys()) {
    const v = h.get(k);
    if (v === undefined) continue;
    const name = k.toLowerCase();
    if (signed(name)) lines.add(name, v);
  }
}

/** The leaf of `lines` (filled just before) with `subject` and `body`. */
function leafDigest(subject: string, body: Uint8Array): Digest {
  lines.sort();
  const { names, values } = lines;
  let head = `ec-sig-v1\n${subject}\n`;
  for (let i = 0; i < names.length; i++) head += (i === 0 ? '' : '\n') + names[i]! + ':' + values[i]!;
  head += '\n\n';
  // 0x00, the head and the body in one buffer (pooled by node below 4 KiB), hashed at once.
  const headBytes = Buffer.byteLength(head, 'utf8');
  const all = Buffer.allocUnsafe(1 + headBytes + body.byteLength);
  all[0] = LEAF_BYTE;
  all.write(head, 1, 'utf8');
  all.set(body, 1 + headBytes);
  return sha256Of(all);
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

/** Events one signature may cover, for a verifier (proofs of 10 hashes or fewer). */
export const MAX_SIGNED_BATCH = 1024;
/**
 * Events the signer puts under one signature at most. Each event carries log2(batch) hashes
 * of 32 bytes, which the broker stores and every consumer parses: 64 events keep that at 6
 * (256 characters) while one signature still costs under 1 µs per event.
 */
const SIGNED_BATCH = 64;
/** Batches signed at once in the thread pool (libuv has 4 threads unless told otherwise). */
const SIGNATURES_AT_ONCE = 4;
/** Verified (signer, batch, signature) triples remembered, so a batch is verified once. */
const VERIFIED_CACHE = 10_000;
/** Hashes of verified trees remembered (about 2 per event). */
const TRUSTED_CACHE = 200_000;

/**
 * A bounded memory of keys in two generations: keys go into the young one; when it is full
 * it becomes the old one and the previous old one is dropped. A key is remembered for at
 * least `max / 2` insertions. (Evicting the oldest key of one Map one at a time made every
 * eviction skip the deleted entries before it: at 200 000 keys, 23 µs per insertion.)
 */
export class BoundedMemory<V> {
  private young = new Map<string, V>();
  private old = new Map<string, V>();
  constructor(private readonly max: number) {}
  get(key: string): V | undefined {
    return this.young.get(key) ?? this.old.get(key);
  }
  set(key: string, value: V): void {
    if (this.young.size >= Math.max(1, this.max >> 1)) {
      this.old = this.young;
      this.young = new Map();
    }
    this.young.set(key, value);
  }
  delete(key: string): void {
    this.young.delete(key);
    this.old.delete(key);
  }
  get size(): number {
    return this.young.size + this.old.size;
  }
}

const LEAF_BYTE = 0;
const NODE_BYTE = 1;
const ROOT_BYTE = 2;

/** Where a node's input is put together: hashing is synchronous, so one buffer serves every call. */
const nodeInput = Buffer.alloc(65);

/** A node of the tree: sha256 of 0x01, the left and the right hash. */
function nodeHash(left: Digest, right: Digest): Digest {
  nodeInput[0] = NODE_BYTE;
  nodeInput.write(left, 1, 32, 'latin1');
  nodeInput.write(right, 33, 32, 'latin1');
  return sha256Of(nodeInput);
}

/** What the signature covers: the batch's Merkle root and its size, domain-separated. */
function rootMessage(root: Digest, size: number): Buffer {
  const bytes = Buffer.alloc(37);
  bytes[0] = ROOT_BYTE;
  bytes.writeUInt32BE(size, 1);
  bytes.write(root, 5, 32, 'latin1');
  return Buffer.from(sha256Of(bytes), 'latin1');
}

/**
 * Signs events in batches, with group commit: one signature is made at a time, in libuv's
 * thread pool; the events handed over meanwhile (up to MAX_SIGNED_BATCH) wait, and are the
 * next batch. A lone event is signed at once as a batch of one, with no hashes, so a quiet
 * producer waits for one signature; a busy one pays one signature per batch, and the more
 * events arrive during a signature the bigger the next batch. Each batch's events are the
 * leaves of a Merkle tree whose root (with the batch size) is signed; each event carries that
 * signature and the hashes that lead from it to the root (`ec-signature-proof`:
 * `<index>/<size>:<base64 hashes>`).
 */
export class Signer {
  private pending: Array<{ leaf: Digest; headers: HeaderRecord; resolve: (h: HeaderRecord) => void; reject: (e: unknown) => void }> = [];
  /** A signature is being made, or a flush is due: events handed over now join the next batch. */
  private busy = false;

  constructor(
    readonly service: string,
    private readonly key: KeyObject,
    /** Signs in the thread pool; a test holds it to see what joins the next batch. */
    private readonly signAsync: (message: Buffer, key: KeyObject, done: (err: Error | null, signature: Buffer) => void) => void = (message, key, done) =>
      sign(null, message, key, done),
  ) {}

  headers(subject: string, headers: HeaderRecord, body: Uint8Array): Promise<HeaderRecord> {
    linesOfRecord(headers);
    const leaf = leafDigest(subject, body);
    return new Promise((resolve, reject) => {
      this.pending.push({ leaf, headers, resolve, reject });
      if (!this.busy) {
        // The rest of this turn's events join this batch.
        this.busy = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    const waiting = this.pending.splice(0, SIGNED_BATCH * SIGNATURES_AT_ONCE);
    if (waiting.length === 0) {
      this.busy = false;
      return;
    }
    // Batches of at most SIGNED_BATCH events, each signed in the thread pool at the same time.
    let left = 0;
    for (let from = 0; from < waiting.length; from += SIGNED_BATCH, left++);
    const signed = () => {
      // What arrived meanwhile is the next batch.
      if (--left === 0) this.flush();
    };
    for (let from = 0; from < waiting.length; from += SIGNED_BATCH) this.signBatch(waiting.slice(from, from + SIGNED_BATCH), signed);
  }

  private signBatch(batch: Signer['pending'], done: () => void): void {
    let levels: Digest[][];
    let message: Buffer;
    try {
      levels = [batch.map((b) => b.leaf)];
      while (levels[levels.length - 1]!.length > 1) {
        const below = levels[levels.length - 1]!;
        const up: Digest[] = [];
        for (let i = 0; i < below.length; i += 2) up.push(i + 1 < below.length ? nodeHash(below[i]!, below[i + 1]!) : below[i]!);
        levels.push(up);
      }
      message = rootMessage(levels[levels.length - 1]![0]!, batch.length);
    } catch (err) {
      for (const b of batch) b.reject(err);
      return done();
    }
    this.signAsync(message, this.key, (err, bytes) => {
      if (err) for (const b of batch) b.reject(err);
      else this.settle(batch, levels, bytes.toString('base64'));
      done();
    });
  }

  private settle(batch: Signer['pending'], levels: Digest[][], signature: string): void {
    const depth = levels.length - 1;
    // One buffer holds each event's proof in turn while it is encoded.
    const proof = Buffer.allocUnsafe(depth * 32);
    const size = `/${batch.length}:`;
    for (let index = 0; index < batch.length; index++) {
      let used = 0;
      for (let level = 0, i = index; level < depth; level++, i >>= 1) {
        const sibling = levels[level]![i ^ 1];
        if (sibling !== undefined) used += proof.write(sibling, used, 32, 'latin1');
      }
      const b = batch[index]!;
      // Object.assign, not a spread: a spread copy given three more keys costs V8 about
      // 3.5 µs (the copy leaves the fast object layout); this about 0.2 µs.
      const headers: HeaderRecord = Object.assign({}, b.headers);
      headers[SIGNER_HEADER] = this.service;
      headers[SIGNATURE_HEADER] = signature;
      headers[PROOF_HEADER] = index + size + proof.toString('base64', 0, used);
      b.resolve(headers);
    }
  }
}

/** Where a hash of a tree stands: verified as `signer`'s, or waiting for its root's verification. */
interface Trust {
  signer: string;
  verdict: true | Promise<boolean>;
}

/** What the verifier says of a message: undefined when it is signed by a known service, else why not. */
type Verdict = string | undefined;

class Verifier {
  private readonly keys = new Map<string, KeyObject[]>();
  /** Roots verified (signer, signature, root): a batch is verified once. */
  private readonly verified = new BoundedMemory<true>(VERIFIED_CACHE);
  /** Roots being verified in the thread pool, so the rest of their batch waits for the same answer. */
  private readonly verifying = new Map<string, Promise<boolean>>();
  /**
   * Hashes of trees verified or being verified (nodes and leaves; the key is the hash's 32
   * bytes as a latin1 string): an event whose path meets one is in that tree, and needs no
   * more hashing (nor the signature checked again). Events of a batch usually arrive
   * together, so most stop at their first sibling. A path that meets a tree still being
   * verified waits for that verdict; if it fails (a replay of real hashes under a forged
   * signature), the event is checked again on its own, against its own signature.
   */
  private readonly trusted = new BoundedMemory<Trust>(TRUSTED_CACHE);
  constructor(keys: Readonly<Record<string, string | readonly string[]>>) {
    for (const [service, texts] of Object.entries(keys)) this.keys.set(service, ([] as string[]).concat(texts).map(publicKeyOf));
  }

  /** Undefined when the message is signed by a known service; else why not. A promise while its batch's root is verified. */
  problem(m: InboundMessage, followPending = true): Verdict | Promise<Verdict> {
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
    linesOfReader(m.headers);
    let node = leafDigest(m.subject, m.body);
    const seen: Digest[] = [node];
    let met = this.meet(node, signer, followPending);
    let used = 0;
    while (met === undefined && size > 1) {
      const last = index === size - 1 && size % 2 === 1;
      if (!last) {
        if (used + 32 > hashes.byteLength) return mismatch;
        const sibling = hashes.toString('latin1', used, used + 32);
        used += 32;
        node = index % 2 === 0 ? nodeHash(node, sibling) : nodeHash(sibling, node);
        seen.push(sibling, node);
        met = this.meet(node, signer, followPending);
      }
      index >>= 1;
      size = Math.ceil(size / 2);
    }
    if (met === true) return undefined;
    if (met !== undefined) return met.then((ok) => (ok ? undefined : this.problem(m, false)));
    if (used !== hashes.byteLength) return mismatch;
    const message = rootMessage(node, batchSize);
    const cacheKey = `${signer}\n${sig}\n${message.toString('base64')}`;
    if (this.verified.get(cacheKey)) {
      this.trust(seen, { signer, verdict: true });
      return undefined;
    }
    let verdict = this.verifying.get(cacheKey);
    if (!verdict) {
      verdict = verifyWithAny(message, keys, Buffer.from(sig, 'base64')).then((ok) => {
        this.verifying.delete(cacheKey);
        if (ok) this.verified.set(cacheKey, true);
        return ok;
      });
      this.verifying.set(cacheKey, verdict);
    }
    // The path is part of a tree being verified: the leaf, the siblings and the nodes on the way.
    const pending: Trust = { signer, verdict };
    this.trust(seen, pending);
    return verdict.then((ok) => {
      if (ok) this.trust(seen, { signer, verdict: true });
      else this.distrust(seen, pending);
      return ok ? undefined : mismatch;
    });
  }

  /** Whether `hash` is in a tree of `signer`'s: true if verified, a promise while being verified. */
  private meet(hash: Digest, signer: string, followPending: boolean): true | Promise<boolean> | undefined {
    const t = this.trusted.get(hash);
    if (!t || t.signer !== signer) return undefined;
    if (t.verdict === true) return true;
    return followPending ? t.verdict : undefined;
  }

  private trust(hashes: readonly Digest[], trust: Trust): void {
    for (const h of hashes) {
      const now = this.trusted.get(h);
      // A hash verified stays verified; a pending one does not replace it.
      if (now?.verdict === true && now.signer === trust.signer) continue;
      this.trusted.set(h, trust);
    }
  }

  private distrust(hashes: readonly Digest[], trust: Trust): void {
    for (const h of hashes) if (this.trusted.get(h) === trust) this.trusted.delete(h);
  }
}

/** Whether `signature` over `message` verifies with one of `keys`, checked in libuv's thread pool. */
async function verifyWithAny(message: Buffer, keys: readonly KeyObject[], signature: Buffer): Promise<boolean> {
  for (const key of keys) {
    const ok = await new Promise<boolean>((resolve) => verify(null, message, key, signature, (err, result) => resolve(!err && result)));
    if (ok) return true;
  }
  return false;
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

/**
 * Hands deliveries on verified, in the order they arrived: one whose batch's root is being
 * verified holds back those behind it, so a consumer that keeps per-key order still can.
 * While nothing waits, a delivery whose tree is known goes on at once.
 */
function inOrder(verifier: Verifier, onDelivery: DeliveryHandler): DeliveryHandler {
  // A queue read from `head` (shift() on a long array copies it) and emptied when all is handed on.
  let queue: Array<{ d: Delivery; verdict: Verdict | Promise<Verdict>; done: boolean } | undefined> = [];
  let head = 0;
  const hand = (d: Delivery, problem: Verdict) => onDelivery(problem ? rejected(d, problem) : d);
  const drain = () => {
    while (head < queue.length && queue[head]!.done) {
      const { d, verdict } = queue[head]!;
      queue[head++] = undefined;
      hand(d, verdict as Verdict);
    }
    if (head === queue.length) {
      queue = [];
      head = 0;
    }
  };
  return (d) => {
    if (d.malformed) {
      if (head === queue.length) return onDelivery(d);
      queue.push({ d, verdict: undefined, done: true });
      return;
    }
    const verdict = verifier.problem(d);
    if (typeof verdict !== 'object') {
      if (head === queue.length) return hand(d, verdict);
      queue.push({ d, verdict, done: true });
      return;
    }
    const entry: (typeof queue)[number] = { d, verdict, done: false };
    queue.push(entry);
    verdict.then(
      (v) => Object.assign(entry, { verdict: v, done: true }),
      (err: unknown) => Object.assign(entry, { verdict: `the signature could not be checked: ${err instanceof Error ? err.message : String(err)}`, done: true }),
    ).then(drain);
  };
}

/** `inner` with signatures added to what it sends and checked on what it receives. */
export function signedTransport(inner: Transport, options: SigningOptions): Transport {
  const signer = options.sign ? new Signer(options.sign.service, createPrivateKey(readSecretBytes(options.sign.privateKey, 'signing private key'))) : undefined;
  const verifier = options.verify ? new Verifier(options.verify.keys) : undefined;
  // What the signature headers add to a message on this transport, measured once on a probe
  // with the longest signature and proof (headers add their bytes to every transport's
  // encoding; 8 bytes more cover a length prefix that grows by a byte).
  let extra: number | undefined;
  const signatureBytes = () => {
    if (extra === undefined) {
      const probe: OutboundMessage = { subject: 'probe', id: 'probe', headers: { 'ce-id': 'probe' }, body: new Uint8Array(0) };
      const signedProbe = { ...probe, headers: { 'ce-id': 'probe', [SIGNER_HEADER]: signer!.service, [SIGNATURE_HEADER]: SIZE_OF_SIGNATURE, [PROOF_HEADER]: SIZE_OF_PROOF } };
      extra = inner.messageBytes!(signedProbe) - inner.messageBytes!(probe) + 8;
    }
    return extra;
  };
  // `m`, signed, handed to `to`: one await per send (signing in a helper of its own, awaited
  // here, cost another promise and turn per event: up to 1 µs of a 5-7 µs signing cost).
  const send = async <R>(m: OutboundMessage, to: (m: OutboundMessage) => Promise<R>): Promise<R> =>
    to(signer ? { ...m, headers: await signer.headers(m.subject, m.headers, m.body) } : m);
  const t: Transport = {
    name: inner.name,
    maxMessageBytes: () => inner.maxMessageBytes(),
    // The size with the signature headers, without signing (an ed25519 signature is 88 base64 characters).
    ...(inner.messageBytes ? { messageBytes: (m: OutboundMessage) => inner.messageBytes!(m) + (signer ? signatureBytes() : 0) } : {}),
    publish: (m): Promise<TransportReceipt> => send(m, (x) => inner.publish(x)),
    publishTransient: (m) => send(m, (x) => inner.publishTransient(x)),
    consume: (spec: ConsumeSpec, onDelivery: DeliveryHandler): Promise<TransportSubscription> =>
      inner.consume(spec, verifier ? inOrder(verifier, onDelivery) : onDelivery),
    request: async (m, timeoutMs) => {
      const reply = await send(m, (x) => inner.request(x, timeoutMs));
      // A reply is signed over the request's subject (its own is an inbox chosen per request).
      const problem = await verifier?.problem({ ...reply, subject: m.subject });
      if (problem) throw new SignatureError(m.subject, problem);
      return reply;
    },
    serve: (spec: ServeSpec, handler: RequestHandler) =>
      inner.serve(spec, async (req) => {
        const problem = await verifier?.problem(req);
        if (problem) throw new SignatureError(spec.subject, problem);
        const r = await handler(req);
        return signer ? { headers: await signer.headers(req.subject, r.headers, r.body), body: r.body } : r;
      }),
    close: () => inner.close(),
  };
  return t;
}
