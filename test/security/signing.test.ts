/**
 * Signed events end to end, on the memory transport, a NATS server and RabbitMQ: what a
 * service signs is handled; an unsigned event, one signed with another key in the owner's
 * name (stolen broker credentials, no signing key), one altered on the way, are
 * dead-lettered with reason `signature`. Requests and replies are signed both ways. Keys from
 * `keygen`, listed by `generate`; a rotation lists two keys and both verify.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
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
import { NatsTransport, provisionNats } from '../../src/runtime/nats/index.js';
import { emitSecurity } from '../../src/security/emit.js';
import { readSigningKeys } from '../../src/security/keys.js';
import { openWorkspace } from '../../src/workspace.js';
import { AMQP_URL, TopologyTracker } from '../runtime/amqp-helpers.js';
import { NATS_URL, rand, userCreated } from '../runtime/helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'ec-sign-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A key pair made like keygen does: the private key in a file, the public key as base64. */
function keyPair(name: string): { file: string; pub: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const file = join(dir, `${name}-${rand()}.pem`);
  writeFileSync(file, privateKey.export({ format: 'pem', type: 'pkcs8' }));
  return { file, pub: Buffer.from((publicKey.export({ format: 'jwk' }) as { x: string }).x, 'base64url').toString('base64') };
}

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
  it('one signature per event: the size check before a publish does not sign', async () => {
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
    expect(sized).toEqual(['x'.repeat(88)]);
    await bus.close();
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
    const root = mkdtempSync(join(dir, 'ws-'));
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
