/**
 * Signed events end to end, on the memory transport, a NATS server and RabbitMQ: what a
 * service signs is handled; an unsigned event, one signed with another key in the owner's
 * name (stolen broker credentials, no signing key), one altered on the way, are
 * dead-lettered with reason `signature`. Requests and replies are signed both ways. Keys from
 * `keygen`, listed by `generate`; a rotation lists two keys and both verify.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { afterAll, describe, expect, it } from 'vitest';
import { keygenCommand } from '../../src/cli/keygen-command.js';
import {
  createEventBus,
  MemoryTransport,
  SIGNATURE_HEADER,
  SIGNER_HEADER,
  signedTransport,
  type EventBus,
  type RuntimeNotice,
  type Transport,
} from '../../src/runtime/index.js';
import { AmqpTransport } from '../../src/runtime/amqp/index.js';
import { leafHash, signedBytes } from '../../src/runtime/signing.js';
import { NatsTransport, provisionNats } from '../../src/runtime/nats/index.js';
import { emitSecurity } from '../../src/security/emit.js';
import { readSigningKeys } from '../../src/security/keys.js';
import { openWorkspace } from '../../src/workspace.js';
import { AMQP_URL, TopologyTracker } from '../runtime/amqp-helpers.js';
import { NATS_URL, rand, userCreated } from '../runtime/helpers.js';
import { recordingTransport, signingKeys, type Sent } from './signing-helpers.js';

/** A key pair made like keygen does: the private key in a file, the public key as base64. */
const keyPair = signingKeys('sign');

interface Broker {
  prefix: string;
  /** A new connection to the same broker. */
  open(): Promise<Transport>;
  cleanup(): Promise<void>;
}

const brokers: Record<string, () => Promise<Broker>> = {
  memory: async () => {
    const first = new MemoryTransport();
    return { prefix: `m${rand()}`, open: async () => new MemoryTransport({ sharedWith: first }), cleanup: async () => first.close() };
  },
  nats: async () => {
    const id = rand();
    const prefix = `ecsig${id}`;
    const admin = await connect({ servers: NATS_URL });
    await provisionNats(admin, { streams: [{ name: `ECSIG_${id}`, subjects: [`${prefix}.>`], storage: 'memory', maxAgeMs: 600_000 }] });
    const opened: NatsTransport[] = [];
    return {
      prefix,
      open: async () => {
        const t = await NatsTransport.connect({ connect: { servers: NATS_URL } });
        opened.push(t);
        return t;
      },
      cleanup: async () => {
        await Promise.allSettled(opened.map((t) => t.close()));
        await (await jetstreamManager(admin)).streams.delete(`ECSIG_${id}`);
        await admin.close();
      },
    };
  },
  amqp: async () => {
    const id = rand();
    const prefix = `ecsig${id}`;
    const tracker = new TopologyTracker();
    return {
      prefix,
      open: async () => tracker.track(await AmqpTransport.connect({ url: AMQP_URL, exchange: prefix, queuePrefix: `${prefix}.`, unroutable: 'drop' })),
      cleanup: () => tracker.cleanup(),
    };
  },
};

for (const [name, make] of Object.entries(brokers)) {
  describe(`signed events on ${name}`, () => {
    const users = keyPair('users');
    const attacker = keyPair('attacker');
    const keys = { 'users-service': [users.pub] };
    let broker: Broker;
    const buses: EventBus[] = [];
    afterAll(async () => {
      await Promise.allSettled(buses.map((b) => b.close()));
      await broker?.cleanup();
    });

    const bus = async (t: Transport, source: string, notices?: RuntimeNotice[]) => {
      const b = createEventBus({ transport: t, source, ...(notices ? { middleware: [{ name: 'n', notice: (n: RuntimeNotice) => void notices.push(n) }] } : {}) });
      buses.push(b);
      return b;
    };

    it('signed events are handled; unsigned, forged and altered ones are dead-lettered with reason signature', async () => {
      broker = await make();
      const ev = userCreated(broker.prefix);
      const notices: RuntimeNotice[] = [];
      const handled: string[] = [];
      const consumer = await bus(signedTransport(await broker.open(), { verify: { keys } }), 'payments-service', notices);
      await consumer.subscribe({
        group: `g${rand()}`,
        deadLetter: { subject: `${broker.prefix}.dl.g` },
        handlers: [{ type: 'user.created', accepts: [ev], handle: async (e) => void handled.push(e.data.userId) }],
      });
      const producer = await bus(signedTransport(await broker.open(), { sign: { service: 'users-service', privateKey: { file: users.file } } }), 'users-service');
      const unsigned = await bus(await broker.open(), 'users-service');
      const forged = await bus(signedTransport(await broker.open(), { sign: { service: 'users-service', privateKey: { file: attacker.file } } }), 'users-service');
      // Altered on the way: signed, then its type header changed before it reaches the broker.
      const inner = await broker.open();
      const tampering: Transport = { ...inner, name: inner.name, maxMessageBytes: () => inner.maxMessageBytes(), publish: (m) => inner.publish({ ...m, headers: { ...m.headers, 'ce-source': 'elsewhere' } }), publishTransient: (m) => inner.publishTransient(m), consume: (s, d) => inner.consume(s, d), request: (m, t) => inner.request(m, t), serve: (s, h) => inner.serve(s, h), close: () => inner.close() };
      const altered = await bus(signedTransport(tampering, { sign: { service: 'users-service', privateKey: { file: users.file } } }), 'users-service');

      await producer.publish(ev, { userId: 'signed', email: 'a@b' }, { params: { userId: 'signed' } });
      await unsigned.publish(ev, { userId: 'unsigned', email: 'a@b' }, { params: { userId: 'unsigned' } });
      await forged.publish(ev, { userId: 'forged', email: 'a@b' }, { params: { userId: 'forged' } });
      await altered.publish(ev, { userId: 'altered', email: 'a@b' }, { params: { userId: 'altered' } });
      const dead = () => notices.filter((n) => n.kind === 'dead-letter');
      for (let i = 0; i < 600 && (dead().length < 3 || handled.length < 1); i++) await new Promise((r) => setTimeout(r, 10));
      expect(handled).toEqual(['signed']);
      expect(dead().map((n) => (n as { reason: string }).reason)).toEqual(['signature', 'signature', 'signature']);
      expect(dead().map((n) => (n as { detail: string }).detail).sort()).toEqual([
        expect.stringContaining('does not match'),
        expect.stringContaining('does not match'),
        'unsigned',
      ]);
    }, 60_000);

    it('requests and replies are signed both ways; an unsigned request gets an error reply', async () => {
      const platform = keyPair('platform');
      const both = { 'users-service': [users.pub], 'platform-service': [platform.pub] };
      const check = userCreated(`${broker.prefix}rpc`);
      const status = userCreated(`${broker.prefix}rpcreply`);
      const responder = await bus(signedTransport(await broker.open(), { sign: { service: 'platform-service', privateKey: { file: platform.file } }, verify: { keys: both } }), 'platform-service');
      await responder.respond(check, status, async (e) => ({ userId: e.data.userId, email: 'ok@x' }), { group: `r${rand()}` });
      const requester = await bus(signedTransport(await broker.open(), { sign: { service: 'users-service', privateKey: { file: users.file } }, verify: { keys: both } }), 'users-service');
      const reply = await requester.request(check, { userId: 'q1', email: 'a@b' }, status, { params: { userId: 'q1' }, timeoutMs: 10_000 });
      expect(reply.data).toEqual({ userId: 'q1', email: 'ok@x' });
      const plain = await bus(await broker.open(), 'users-service');
      await expect(plain.request(check, { userId: 'q2', email: 'a@b' }, status, { params: { userId: 'q2' }, timeoutMs: 10_000 })).rejects.toThrow(/signature/);
    }, 60_000);
  });
}

describe('signing cost', () => {
  it('the size check before a publish does not sign', async () => {
    const k = keyPair('size');
    const inner = new MemoryTransport();
    const sized: string[] = [];
    const measured: Transport = Object.assign(Object.create(inner) as MemoryTransport, {
      messageBytes: (m: { headers: Record<string, string>; body: Uint8Array }) => {
        sized.push(m.headers[SIGNATURE_HEADER] ?? '');
        return m.body.byteLength + 200;
      },
    });
    const bus = createEventBus({ transport: signedTransport(measured, { sign: { service: 'svc', privateKey: { file: k.file } } }), source: 'svc' });
    const ev = userCreated(`size${rand()}`);
    await bus.publish(ev, { userId: 'u', email: 'a@b' }, { params: { userId: 'u' } });
    await bus.publish(ev, { userId: 'v', email: 'a@b' }, { params: { userId: 'v' } });
    // Sized without signatures, plus what the signature headers add, measured once on a
    // probe carrying the longest ones.
    expect(sized.filter((s) => s !== '')).toEqual(['x'.repeat(88)]);
    expect(sized.filter((s) => s === '').length).toBeGreaterThanOrEqual(2);
    await bus.close();
  });
});

describe('batched signatures', () => {
  it('the streamed leaf hash is the hash of the signed bytes (differential, random headers and bodies)', () => {
    for (let i = 0; i < 200; i++) {
      const headers: Array<[string, string]> = Array.from({ length: i % 7 }, (_, j) => [[`ce-${rand()}`, 'content-type', 'x-other', `ce-é${j}`][j % 4]!, `v${rand()}ü`]);
      const body = randomBytes(i * 3);
      const want = createHash('sha256').update(Uint8Array.of(0)).update(signedBytes(`s.${i}`, headers, body)).digest();
      expect(leafHash(`s.${i}`, headers, body).equals(want)).toBe(true);
    }
  });

  it('a message with a million signed headers in random order is hashed as signedBytes() defines, in n log n (hostile input)', () => {
    // An insertion sort of the lines (fast for an event's dozen) would take about 5e11 steps here,
    // far beyond the suite's test timeout.
    const headers: Array<[string, string]> = Array.from({ length: 1_000_000 }, (_, i) => [`ce-${((i * 7919) % 1_000_000).toString(36)}`, `v${i}`]);
    headers.push(['ce-1', 'twice'], ['ce-1', 'three times']);
    const body = randomBytes(16);
    const want = createHash('sha256').update(Uint8Array.of(0)).update(signedBytes('s.many', headers, body)).digest();
    expect(leafHash('s.many', headers, body).equals(want)).toBe(true);
  });

  it('events published together share one signature; each verifies through its own proof; a proof moved to another event does not', async () => {
    const k = keyPair('batch');
    const shared = new MemoryTransport();
    const ev = userCreated(`batch${rand()}`);
    const notices: RuntimeNotice[] = [];
    const handled: string[] = [];
    const consumer = createEventBus({
      transport: signedTransport(new MemoryTransport({ sharedWith: shared }), { verify: { keys: { svc: [k.pub] } } }),
      source: 'c',
      middleware: [{ name: 'n', notice: (n) => void notices.push(n) }],
    });
    await consumer.subscribe({ group: 'batch', concurrency: 8, handlers: [{ type: 'user.created', accepts: [ev], handle: async (e) => void handled.push(e.data.userId) }] });
    // What the producer's transport sends, for the test to replay altered.
    const sent: Sent[] = [];
    const producer = createEventBus({ transport: signedTransport(recordingTransport(shared, sent), { sign: { service: 'svc', privateKey: { file: k.file } } }), source: 'svc' });
    await Promise.all(Array.from({ length: 37 }, (_, i) => producer.publish(ev, { userId: `b${i}`, email: 'a@b' }, { params: { userId: `b${i}` } })));
    expect(new Set(sent.map((m) => m.headers[SIGNATURE_HEADER])).size).toBe(1);
    expect(sent.map((m) => m.headers['ec-signature-proof']!.split(':')[0]).sort()).toContain('36/37');
    for (let i = 0; i < 500 && handled.length < 37; i++) await new Promise((r) => setTimeout(r, 10));
    expect(handled).toHaveLength(37);
    // To a consumer that has not verified this batch yet (one that has would know the event):
    // another event's proof does not verify this event, nor a proof with its index changed or
    // a hash dropped; the event with its own proof does.
    const other = new MemoryTransport();
    const fresh = createEventBus({
      transport: signedTransport(new MemoryTransport({ sharedWith: other }), { verify: { keys: { svc: [k.pub] } } }),
      source: 'c2',
      middleware: [{ name: 'n', notice: (n) => void notices.push(n) }],
    });
    await fresh.subscribe({ group: 'fresh', handlers: [{ type: 'user.created', accepts: [ev], handle: async (e) => void handled.push(`fresh-${e.data.userId}`) }] });
    const [a, b] = [sent[0]!, sent[1]!];
    const [index, rest] = a.headers['ec-signature-proof']!.split(':') as [string, string];
    const [i, n] = index.split('/').map(Number) as [number, number];
    const into = new MemoryTransport({ sharedWith: other });
    await into.publish({ ...a, id: `x${rand()}`, headers: { ...a.headers, 'ec-signature-proof': b.headers['ec-signature-proof']! } });
    await into.publish({ ...a, id: `y${rand()}`, headers: { ...a.headers, 'ec-signature-proof': `${(i + 1) % n}/${n}:${rest}` } });
    await into.publish({ ...a, id: `z${rand()}`, headers: { ...a.headers, 'ec-signature-proof': `${i}/${n}:${Buffer.from(rest, 'base64').subarray(32).toString('base64')}` } });
    await into.publish({ ...a, id: `w${rand()}` });
    const dead = () => notices.filter((x) => x.kind === 'dead-letter');
    for (let j = 0; j < 500 && dead().length < 3; j++) await new Promise((r) => setTimeout(r, 10));
    for (let j = 0; j < 500 && !handled.some((h) => h.startsWith('fresh-')); j++) await new Promise((r) => setTimeout(r, 10));
    expect(dead().map((x) => (x as { reason: string }).reason)).toEqual(['signature', 'signature', 'signature']);
    expect(handled.filter((h) => h.startsWith('fresh-'))).toHaveLength(1);
    await producer.close();
    await consumer.close();
    await fresh.close();
  });
});

describe('signing keys', () => {
  it('a rotation lists two keys; events signed with either verify', async () => {
    const old = keyPair('old');
    const fresh = keyPair('fresh');
    const shared = new MemoryTransport();
    const ev = userCreated(`rot${rand()}`);
    const handled: string[] = [];
    const consumer = createEventBus({ transport: signedTransport(new MemoryTransport({ sharedWith: shared }), { verify: { keys: { svc: [old.pub, fresh.pub] } } }), source: 'c' });
    await consumer.subscribe({ group: 'rot', handlers: [{ type: 'user.created', accepts: [ev], handle: async (e) => void handled.push(e.data.userId) }] });
    for (const k of [old, fresh]) {
      const p = createEventBus({ transport: signedTransport(new MemoryTransport({ sharedWith: shared }), { sign: { service: 'svc', privateKey: { file: k.file } } }), source: 'svc' });
      await p.publish(ev, { userId: k === old ? 'old' : 'fresh', email: 'a@b' }, { params: { userId: 'x' } });
      await p.close();
    }
    for (let i = 0; i < 300 && handled.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    expect(handled.sort()).toEqual(['fresh', 'old']);
    await consumer.close();
  });

  it('keygen writes the private key (0600, never overwritten) and the public key; generate lists it; --add keeps the old one', async () => {
    const root = mkdtempSync(join(keyPair.dir, 'ws-'));
    const io = { out: () => undefined, err: () => undefined };
    const config = { root } as Parameters<typeof keygenCommand>[0]['config'];
    const first = join(root, 'users.pem');
    expect(await keygenCommand({ service: 'users-service', privateKey: first, add: false, config }, io)).toBe(0);
    expect(statSync(first).mode & 0o777).toBe(0o600);
    expect(readFileSync(first, 'utf8')).toContain('BEGIN PRIVATE KEY');
    expect(await keygenCommand({ service: 'users-service', privateKey: first, add: false, config }, io)).toBe(2);
    expect(await keygenCommand({ service: 'users-service', privateKey: join(root, 'users2.pem'), add: true, config }, io)).toBe(0);
    const keys = readSigningKeys(join(root, 'security', 'signing-keys.json'));
    expect(keys['users-service']).toHaveLength(2);
    const ws = await openWorkspace(['asyncapi'], { examples: false });
    const file = emitSecurity(ws.catalog, { ...keys, 'not-a-service': 'x' }).files.find((f) => f.path === 'security/signing-keys.json')!;
    expect(JSON.parse(file.content).keys).toEqual({ 'users-service': keys['users-service'] });
    // The headers a signature travels in.
    expect([SIGNER_HEADER, SIGNATURE_HEADER]).toEqual(['ec-signer', 'ec-signature']);
  }, 60_000);
});
