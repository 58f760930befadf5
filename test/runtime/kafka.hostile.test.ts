/**
 * The hostile-input suite on Kafka, from a raw @platformatic/kafka producer writing the
 * CloudEvents Kafka binding (`ce_*` headers, `ec-subject`); then what only Kafka framing
 * allows: header values and names that are not UTF-8, null header values, a header given
 * twice, a record with no subject, forged retry bookkeeping (`ec-kafka-*`) on an events
 * topic, and a record so close to the size limit that its dead letter cannot carry it.
 */
import { Consumer, Producer } from '@platformatic/kafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEventBus, type DeadLetter, type EventBus, type HeaderRecord } from '../../src/runtime/index.js';
import { KafkaTransport, recordBytes, retryTopics } from '../../src/runtime/kafka/index.js';
import { describeHostileInput } from './hostile.js';
import { rand, userCreated, waitFor } from './helpers.js';
import { createTopics, deleteByPrefix, KafkaTracker, kafkaBootstrap } from './kafka-helpers.js';

type RawHeaders = Map<Buffer, Buffer>;

/** The bus's header names as the Kafka binding writes them, plus the subject. */
function bindingHeaders(subject: string | undefined, headers: HeaderRecord): RawHeaders {
  const out: RawHeaders = new Map();
  for (const [k, v] of Object.entries(headers)) out.set(Buffer.from(k.startsWith('ce-') ? `ce_${k.slice(3)}` : k), Buffer.from(v));
  if (subject !== undefined) out.set(Buffer.from('ec-subject'), Buffer.from(subject));
  return out;
}

function rawProducer(bootstrap: string) {
  const p = new Producer<Buffer, Buffer, Buffer, Buffer>({ clientId: 'hostile-producer', bootstrapBrokers: bootstrap.split(','), acks: -1 });
  return {
    send: (topic: string, headers: RawHeaders, body: Uint8Array, key?: string) =>
      p.send({ messages: [{ topic, headers, value: Buffer.from(body), ...(key ? { key: Buffer.from(key) } : {}) }] }),
    sendMany: (messages: Array<{ topic: string; headers: RawHeaders; body: Uint8Array }>) =>
      p.send({ messages: messages.map((m) => ({ topic: m.topic, headers: m.headers, value: Buffer.from(m.body) })) }),
    close: () => p.close(),
  };
}

/** Committed offset = end offset on every partition of the group's topics, as the broker says. */
async function settledOnBroker(bootstrap: string, group: string, topics: string[]): Promise<boolean> {
  const c = new Consumer<Buffer, Buffer, Buffer, Buffer>({ clientId: 'hostile-check', groupId: group, bootstrapBrokers: bootstrap.split(',') });
  try {
    const ends = await c.listOffsets({ topics });
    const committed = await c.listCommittedOffsets({ topics: topics.map((topic) => ({ topic, partitions: [...(ends.get(topic) ?? []).keys()] })) });
    for (const [topic, offsets] of ends) {
      for (let p = 0; p < offsets.length; p++) {
        const end = offsets[p]!;
        const at = committed.get(topic)?.[p] ?? -1n;
        if (end > 0n && at !== end) return false;
      }
    }
    return true;
  } finally {
    await c.close(true, () => undefined);
  }
}

const shared: KafkaTransport[] = [];

describeHostileInput('kafka', async () => {
  const id = rand();
  const prefix = `hsk${id}`;
  const internal = `_hsk${id}.`;
  const bootstrap = await kafkaBootstrap();
  const topology = [{ name: prefix, subjects: [`${prefix}.>`], partitions: 2 }];
  await createTopics(bootstrap, topology);
  const tracker = new KafkaTracker({ bootstrap, topology, internalTopicPrefix: internal });
  const producer = rawProducer(bootstrap);
  return {
    prefix,
    connect: async () => {
      const t = await tracker.connect();
      shared.push(t);
      return t;
    },
    sendRaw: async (subject, headers, body) => void (await producer.send(prefix, bindingHeaders(subject, headers), body)),
    sendMany: async (messages) => {
      for (let i = 0; i < messages.length; i += 500) {
        await producer.sendMany(messages.slice(i, i + 500).map((m) => ({ topic: prefix, headers: bindingHeaders(m.subject, m.headers), body: m.body })));
      }
    },
    settledOnBroker: (group) => settledOnBroker(bootstrap, group, [prefix, ...retryTopics(internal, group)]),
    cleanup: async () => {
      await producer.close();
      await tracker.close();
      await deleteByPrefix(bootstrap, [prefix, internal]);
    },
  };
});

describe('hostile wire input: kafka, afterwards', () => {
  it('no hand-off threw in the suite', () => {
    expect(shared.length).toBeGreaterThanOrEqual(2);
    for (const t of shared) expect(t.stats.handoffErrors).toBe(0);
  });
});

describe('hostile wire input, Kafka only: bytes that are not text, forged bookkeeping, records at the size limit', () => {
  const id = rand();
  const prefix = `hsq${id}`;
  const internal = `_hsq${id}.`;
  const group = `forged_${rand()}`;
  const ev = userCreated(prefix);
  const dlq = `${prefix}.dlq`;
  const limit = 256 * 1024;
  let bootstrap: string;
  let tracker: KafkaTracker;
  let producer: ReturnType<typeof rawProducer>;
  let bus: EventBus;
  let reader: EventBus;
  let consumer: KafkaTransport;
  const attempts = new Map<string, Array<{ n: number; subject: string }>>();
  const dls: DeadLetter[] = [];
  const ce = (id: string): HeaderRecord => ({
    'ce-specversion': '1.0',
    'ce-id': id,
    'ce-type': 'user.created',
    'ce-source': 'hostile',
    'ce-time': new Date().toISOString(),
    'ce-eventversion': '1.0.0',
    'content-type': 'application/json',
  });
  const body = (userId: string) => Buffer.from(JSON.stringify({ userId, email: 'a@x.io' }));
  const subjectOf = (userId: string) => `${prefix}.users.${userId}.created`;
  const send = async (userId: string, headers: RawHeaders, value: Uint8Array = body(userId)) => producer.send(prefix, headers, value, subjectOf(userId));
  const dlOf = (ceId: string) => dls.filter((d) => d.headers.get('ce-id') === ceId);

  beforeAll(async () => {
    bootstrap = await kafkaBootstrap();
    const topology = [{ name: prefix, subjects: [`${prefix}.>`], partitions: 1, config: { 'max.message.bytes': String(limit) } }];
    await createTopics(bootstrap, topology);
    tracker = new KafkaTracker({ bootstrap, topology, internalTopicPrefix: internal });
    producer = rawProducer(bootstrap);
    reader = createEventBus({ transport: await tracker.connect(), source: 'test/hostile-reader' });
    await reader.subscribeDeadLetters({ subject: dlq, group: `${group}_dl` }, async (dl) => void dls.push(dl));
    consumer = await tracker.connect();
    bus = createEventBus({ transport: consumer, source: 'test/hostile' });
    await bus.subscribe({
      group,
      deadLetter: { subject: dlq },
      maxDeliver: 3,
      backoff: { initialMs: 20, maxMs: 50 },
      handlers: [
        {
          type: ev.type,
          accepts: [ev],
          handle: async (e, ctx) => {
            const seen = attempts.get(e.id) ?? [];
            seen.push({ n: ctx.deliveryCount, subject: ctx.subject });
            attempts.set(e.id, seen);
            // Fails once: a forged attempt count would make this first failure the last.
            if (ctx.deliveryCount === 1) throw new Error('first try fails');
          },
        },
      ],
    });
  });
  afterAll(async () => {
    await Promise.allSettled([bus?.close(), reader?.close()]);
    await producer?.close();
    await tracker?.close();
    await deleteByPrefix(bootstrap, [prefix, internal]);
  });

  it('the size limit is the topic’s max.message.bytes, read when connecting', () => {
    expect(consumer.maxMessageBytes()).toBe(limit);
  });

  it('forged ec-kafka-attempt and ec-kafka-due on an events topic: retried as attempt 2 of 3 at once, not dead-lettered', async () => {
    const h = bindingHeaders(subjectOf('real'), ce('forged'));
    h.set(Buffer.from('ec-kafka-attempt'), Buffer.from('99'));
    h.set(Buffer.from('ec-kafka-due'), Buffer.from(String(Date.now() + 3_600_000)));
    await send('real', h);
    await waitFor(() => (attempts.get('forged')?.length ?? 0) >= 2, 20_000, 'the retry');
    expect(attempts.get('forged')).toEqual([
      { n: 1, subject: subjectOf('real') },
      { n: 2, subject: subjectOf('real') },
    ]);
    expect(dlOf('forged')).toEqual([]);
  });

  it.each([
    ['value-not-utf8', (h: RawHeaders) => h.set(Buffer.from('x-tenant'), Buffer.from([0xff, 0xfe, 0x41])), 'x-tenant'],
    ['name-not-utf8', (h: RawHeaders) => h.set(Buffer.from([0xc3, 0x28]), Buffer.from('v')), 'name'],
    ['type-twice', (h: RawHeaders) => h.set(Buffer.from('ce_type'), Buffer.from('user.deleted')), 'ce-type'],
    ['literal-and-binding', (h: RawHeaders) => h.set(Buffer.from('ce-id'), Buffer.from('another-id')), 'ce-id'],
    ['subject-twice', (h: RawHeaders) => h.set(Buffer.from('ec-subject'), Buffer.from(subjectOf('elsewhere'))), 'ec-subject'],
  ])('%s: dead-lettered once as headers-invalid, the consumer goes on', async (kind, spoil, named) => {
    const caseId = `odd-${kind}`;
    const h = bindingHeaders(subjectOf(kind), ce(caseId));
    spoil(h);
    await send(kind, h);
    await send(`after-${kind}`, bindingHeaders(subjectOf(`after-${kind}`), ce(`after-${kind}`)));
    await waitFor(() => dls.some((d) => d.originalSubject === subjectOf(kind)), 20_000, `the dead letter of ${caseId}`);
    await waitFor(() => (attempts.get(`after-${kind}`)?.length ?? 0) >= 2, 20_000, `the event after ${caseId}`);
    const mine = dls.filter((d) => d.originalSubject === subjectOf(kind));
    expect(mine.map((d) => d.reason)).toEqual(['headers-invalid']);
    expect(mine[0]!.detail).toContain(named);
    expect(attempts.has(caseId)).toBe(false);
  });

  it('a record without a subject is dead-lettered as missing-attributes by the group, with its bytes', async () => {
    await send('nosubject', bindingHeaders(undefined, ce('no-subject')));
    // Every group reading the topic reports it (none can tell whether it was meant for it):
    // the dead-letter reader too, which reads the same topic and sees it as malformed.
    await waitFor(() => dls.some((d) => d.reason === 'missing-attributes' && d.group === group), 20_000, 'the dead letter');
    const mine = dls.filter((d) => d.reason === 'missing-attributes' && d.group === group);
    expect(mine).toHaveLength(1);
    expect(mine[0]!.detail).toContain('ec-subject');
    expect(JSON.parse(Buffer.from(mine[0]!.body).toString())).toEqual({ userId: 'nosubject', email: 'a@x.io' });
  });

  it('a bad record at the size limit is dead-lettered without its body (size and hash instead), not redelivered forever', async () => {
    // As large as the topic takes (by the transport's own reckoning, which the broker's is below).
    const headers = bindingHeaders(subjectOf('huge'), ce('huge'));
    const text = new Map([...headers].map(([k, v]) => [k.toString(), v.toString()]));
    const shell = (note: string) => Buffer.from(JSON.stringify({ userId: 'huge', email: 'not-an-email', note }));
    const big = shell('x'.repeat(limit - recordBytes(text, shell(''), subjectOf('huge')) - 16));
    expect(recordBytes(text, big, subjectOf('huge'))).toBeLessThanOrEqual(limit);
    await send('huge', headers, big);
    await waitFor(() => dlOf('huge').length > 0, 20_000, 'the dead letter');
    const dl = dlOf('huge')[0]!;
    expect(dl.reason).toBe('validation-failed');
    expect(dl.body.byteLength).toBe(0);
    expect(dl.headers.get('ec-dead-letter-body-omitted')).toBe(String(big.byteLength));
    expect(dl.headers.get('ec-dead-letter-body-sha256')).toMatch(/^[0-9a-f]{64}$/);
  });

  it('a record over the limit is refused by the broker to the raw producer; the SDK refuses it before sending', async () => {
    await expect(send('over', bindingHeaders(subjectOf('over'), ce('over')), Buffer.alloc(limit + 1024, 0x20))).rejects.toThrow();
    const err = await bus.publish(ev, { userId: 'over', email: 'a@x.io', note: 'x'.repeat(limit) }, { params: { userId: 'over' } }).catch((e: unknown) => e);
    expect((err as Error).name).toBe('EventTooLargeError');
  });

  it('after all of it no hand-off threw', () => {
    expect(consumer.stats.handoffErrors).toBe(0);
  });
});
