/**
 * How signatures are batched and verified off the event loop. ed25519 costs 45–60 µs to sign
 * and 130–170 µs to verify on this machine, several times the rest of a publish or a consume,
 * so a signature must cover many events when many are sent, and still be made at once when
 * one is. The signer signs in libuv's thread pool and signs together whatever arrived while
 * it was busy (group commit); the verifier verifies each batch's root once, in the thread
 * pool, and hands deliveries on in the order they came.
 */
import { createHash, createPrivateKey, sign, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createEventBus, MemoryTransport, SIGNATURE_HEADER, signedTransport, type RuntimeNotice } from '../../src/runtime/index.js';
import type { ConsumeSpec, Delivery } from '../../src/runtime/types.js';
import { PROOF_HEADER, publicKeyOf, SIGNER_HEADER, signedBytes, Signer } from '../../src/runtime/signing.js';
import { rand, userCreated, waitFor } from '../runtime/helpers.js';
import { recordingTransport as recording, signingKeys, type Sent } from './signing-helpers.js';

/** A key pair made like keygen does: the private key in a file, the public key as base64. */
const keyPair = signingKeys('sign-batches');

describe('group commit on the producer', () => {
  it('a lone event is signed at once; events handed over while a signature is being made are signed together next', async () => {
    const k = keyPair('gc');
    // The signer's thread-pool signing, held until the test lets it go.
    const held: Array<() => void> = [];
    const signer = new Signer('svc', createPrivateKey(readFileSync(k.file)), (message, key, done) => held.push(() => done(null, sign(null, message, key))));
    const hand = (i: number) => signer.headers(`s.${i}`, { 'ce-id': `e${i}` }, new Uint8Array([i]));
    const first = hand(0);
    await waitFor(() => held.length === 1, 10_000, 'the first event being signed');
    // Handed over in later turns while the first signature is being made.
    const later: Array<Promise<Record<string, string>>> = [];
    for (let i = 1; i <= 5; i++) {
      await new Promise((r) => setImmediate(r));
      later.push(hand(i));
    }
    expect(held, 'nothing else signed while one signature is being made').toHaveLength(1);
    held.shift()!();
    expect((await first)[PROOF_HEADER]).toBe('0/1:');
    await waitFor(() => held.length === 1, 10_000, 'the next batch being signed');
    held.shift()!();
    const headers = await Promise.all(later);
    expect(new Set(headers.map((h) => h[SIGNATURE_HEADER])).size).toBe(1);
    expect(headers.map((h) => h[PROOF_HEADER]!.split(':')[0])).toEqual(['0/5', '1/5', '2/5', '3/5', '4/5']);
    expect(held).toHaveLength(0);
  });

  it('a signature that fails rejects its batch and the next batch is still signed', async () => {
    const k = keyPair('gcfail');
    let calls = 0;
    const signer = new Signer('svc', createPrivateKey(readFileSync(k.file)), (message, key, done) =>
      setImmediate(() => (++calls === 1 ? done(new Error('no signature'), Buffer.alloc(0)) : done(null, sign(null, message, key)))),
    );
    const a = signer.headers('s.a', {}, new Uint8Array());
    const b = new Promise((r) => setImmediate(r)).then(() => signer.headers('s.b', {}, new Uint8Array()));
    await expect(a).rejects.toThrow('no signature');
    expect((await b)[SIGNER_HEADER]).toBe('svc');
  });

  it("a message that already carries a signature (forwarded, sent again) gets this signer's, not the old one", async () => {
    const k = keyPair('resign');
    const signer = new Signer('svc', createPrivateKey(readFileSync(k.file)));
    const h = await signer.headers('s.r', { 'ce-id': 'r1', [SIGNER_HEADER]: 'someone-else', [SIGNATURE_HEADER]: 'stale', [PROOF_HEADER]: '0/1:' }, new Uint8Array([1]));
    expect(h[SIGNER_HEADER]).toBe('svc');
    expect(h[SIGNATURE_HEADER]).not.toBe('stale');
    expect(h[SIGNATURE_HEADER]).toHaveLength(88);
    expect(h['ce-id']).toBe('r1');
  });

  it('many publishers on a broker whose acks come back one at a time share signatures', async () => {
    const k = keyPair('gcbus');
    const shared = new MemoryTransport();
    const sent: Sent[] = [];
    const producer = createEventBus({ transport: signedTransport(recording(shared, sent), { sign: { service: 'svc', privateKey: { file: k.file } } }), source: 'svc' });
    const ev = userCreated(`gc${rand()}`);
    let next = 0;
    await Promise.all(Array.from({ length: 50 }, async () => {
      while (next < 500) {
        const i = next++;
        await producer.publish(ev, { userId: `g${i}`, email: 'a@b' }, { params: { userId: `g${i}` } });
        // An ack per turn, as a broker's come back.
        await new Promise((r) => setImmediate(r));
      }
    }));
    expect(sent).toHaveLength(500);
    expect(new Set(sent.map((m) => m.headers[SIGNATURE_HEADER])).size).toBeLessThan(100);
    await producer.close();
    await shared.close();
  });
});

describe('what is signed', () => {
  // The signer and the verifier each gather an event's signed lines their own way (a record
  // going out, a header reader coming in); both must hash exactly what signedBytes() defines,
  // or events signed by one release stop verifying in the next.
  it("a lone event's signature is over the root made of signedBytes() of what went out, and verifies with names in another case", async () => {
    const k = keyPair('bytes');
    const signer = new Signer('svc', createPrivateKey(readFileSync(k.file)));
    const sent = { 'ce-type': 'user.created', 'ce-id': 'e1', 'content-type': 'application/json', 'x-other': 'not signed', 'ce-a-b': '2', 'ce-a': '1', 'ce-é': 'ü' };
    const body = Buffer.from('{"userId":"u"}');
    const out = await signer.headers('s.one', sent, body);
    expect(out[PROOF_HEADER]).toBe('0/1:');
    const leaf = createHash('sha256').update(Uint8Array.of(0)).update(signedBytes('s.one', Object.entries(sent), body)).digest();
    const size = Buffer.alloc(4);
    size.writeUInt32BE(1);
    const root = createHash('sha256').update(Uint8Array.of(2)).update(size).update(leaf).digest();
    expect(verify(null, root, publicKeyOf(k.pub), Buffer.from(out[SIGNATURE_HEADER]!, 'base64'))).toBe(true);

    // A broker that changes the case of header names: read back as lower case, still verified.
    const shared = new MemoryTransport();
    const handled: string[] = [];
    const dead: string[] = [];
    let deliver!: (d: Delivery) => void;
    const inner = Object.assign(Object.create(new MemoryTransport({ sharedWith: shared })) as MemoryTransport, {
      consume: async (_: ConsumeSpec, on: (d: Delivery) => void) => ((deliver = on), { close: async () => undefined }),
    });
    await signedTransport(inner, { verify: { keys: { svc: [k.pub] } } }).consume({ group: 'g', subjects: ['>'] } as ConsumeSpec, (d) =>
      d.malformed ? void dead.push(d.malformed.detail) : void handled.push(d.subject),
    );
    const upper = new Map(Object.entries(out).map(([n, v]) => [n.startsWith('ce-') ? n.toUpperCase() : n, v]));
    const delivery = (subject: string, h: Map<string, string>): Delivery => ({
      subject,
      headers: { get: (n) => h.get(n), keys: () => h.keys() },
      body,
      deliveryCount: 1,
      ack: async () => undefined,
      retry: async () => undefined,
      deadLetter: async () => undefined,
    });
    deliver(delivery('s.one', upper));
    // The same lines on another subject: not what was signed.
    deliver(delivery('s.two', upper));
    await waitFor(() => handled.length + dead.length === 2, 10_000, 'both verdicts');
    expect(handled).toEqual(['s.one']);
    expect(dead).toEqual(["the signature of 'svc' does not match the message"]);
    await shared.close();
  });
});

describe('verification off the event loop', () => {
  it('deliveries are handed on in the order they arrived, across batches whose roots are still being verified', async () => {
    const k = keyPair('order');
    const shared = new MemoryTransport();
    const ev = userCreated(`ord${rand()}`);
    const handled: number[] = [];
    const consumer = createEventBus({ transport: signedTransport(new MemoryTransport({ sharedWith: shared }), { verify: { keys: { svc: [k.pub] } } }), source: 'c' });
    await consumer.subscribe({ group: 'ord', concurrency: 1, handlers: [{ type: 'user.created', accepts: [ev], handle: async (e) => void handled.push(Number(e.data.userId.slice(1))) }] });
    const producer = createEventBus({ transport: signedTransport(new MemoryTransport({ sharedWith: shared }), { sign: { service: 'svc', privateKey: { file: k.file } } }), source: 'svc' });
    // Batches of different sizes, each published after the last one's turn: many roots to verify.
    let n = 0;
    for (const size of [1, 5, 1, 17, 2, 1, 33, 3]) {
      const batch: Array<Promise<unknown>> = [];
      for (let i = 0; i < size; i++, n++) batch.push(producer.publish(ev, { userId: `o${n}`, email: 'a@b' }, { params: { userId: 'same-key' } }));
      await Promise.all(batch);
    }
    await waitFor(() => handled.length === n, 20_000, 'every event handled');
    expect(handled).toEqual(Array.from({ length: n }, (_, i) => i));
    await producer.close();
    await consumer.close();
    await shared.close();
  });

  it('a replay of a real event with a forged signature, sent first, is dead-lettered and does not take its real batch down with it', async () => {
    const k = keyPair('poison');
    const ev = userCreated(`poi${rand()}`);
    // The real batch, recorded as it went out.
    const sent: Sent[] = [];
    const origin = new MemoryTransport();
    const producer = createEventBus({ transport: signedTransport(recording(origin, sent), { sign: { service: 'svc', privateKey: { file: k.file } } }), source: 'svc' });
    await Promise.all(Array.from({ length: 16 }, (_, i) => producer.publish(ev, { userId: `p${i}`, email: 'a@b' }, { params: { userId: `p${i}` } })));
    expect(new Set(sent.map((m) => m.headers[SIGNATURE_HEADER])).size).toBe(1);
    // A consumer that has seen none of it gets the replay (same bytes and proof, a signature
    // that is not the signer's) and then the real events, in one go.
    const shared = new MemoryTransport();
    const handled: string[] = [];
    const dead: string[] = [];
    const consumer = createEventBus({
      transport: signedTransport(new MemoryTransport({ sharedWith: shared }), { verify: { keys: { svc: [k.pub] } } }),
      source: 'c',
      middleware: [{ name: 'n', notice: (x: RuntimeNotice) => void (x.kind === 'dead-letter' && dead.push(x.reason)) }],
    });
    await consumer.subscribe({ group: 'poi', concurrency: 4, handlers: [{ type: 'user.created', accepts: [ev], handle: async (e) => void handled.push(e.data.userId) }] });
    const raw = new MemoryTransport({ sharedWith: shared });
    const forged = Buffer.from(sent[5]!.headers[SIGNATURE_HEADER]!, 'base64');
    forged[7]! ^= 1;
    await Promise.all([
      raw.publish({ ...sent[5]!, id: `forged-${rand()}`, headers: { ...sent[5]!.headers, [SIGNATURE_HEADER]: forged.toString('base64') } }),
      ...sent.map((m) => raw.publish(m)),
    ]);
    await waitFor(() => handled.length === 16 && dead.length === 1, 20_000, 'the real batch handled, the replay dead-lettered');
    expect(dead).toEqual(['signature']);
    expect(handled.sort()).toEqual(Array.from({ length: 16 }, (_, i) => `p${i}`).sort());
    await producer.close();
    await consumer.close();
    await Promise.all([origin.close(), shared.close(), raw.close()]);
  });
});
