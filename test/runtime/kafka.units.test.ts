/**
 * The Kafka transport's pure parts, as given/want tables: the CloudEvents Kafka binding's
 * header names both ways, subject → topic routing and which topics a group reads, delay
 * buckets, and the commit point of a partition whose records settle out of order.
 */
import { describe, expect, it } from 'vitest';
import { outboundBytes } from '../../src/runtime/kafka/headers.js';
import { bootstrapList, delayBucket, hidden, KafkaHeaders, PartitionOffsets, patternsOverlap, recordBytes, TopicRouter, toKafkaHeaders, UnroutedSubjectError } from '../../src/runtime/kafka/index.js';

const raw = (pairs: Array<[string | Buffer | undefined, string | Buffer | undefined]>) =>
  new Map(pairs.map(([k, v]) => [typeof k === 'string' ? Buffer.from(k) : k, typeof v === 'string' ? Buffer.from(v) : v]));

describe('CloudEvents Kafka binding: bus headers → record headers', () => {
  it.each([
    [{ 'ce-id': 'e1', 'ce-type': 't', 'content-type': 'application/json' }, [['ce_id', 'e1'], ['ce_type', 't'], ['content-type', 'application/json'], ['ec-subject', 's.1']]],
    [{ 'ce-partitionkey': 'k', traceparent: '00-x' }, [['ce_partitionkey', 'k'], ['traceparent', '00-x'], ['ec-subject', 's.1']]],
    [{ 'content-type': 'application/cloudevents+json' }, [['content-type', 'application/cloudevents+json'], ['ec-subject', 's.1']]],
    [{ 'ec-dead-letter-reason': 'too-large', 'x-tenant': 'a' }, [['ec-dead-letter-reason', 'too-large'], ['x-tenant', 'a'], ['ec-subject', 's.1']]],
  ])('%j', (given, want) => {
    expect([...toKafkaHeaders(given, 's.1')]).toEqual(want);
  });

  it.each(['ec-subject', 'ec-kafka-attempt', 'ec-kafka-due', 'ce_id'])('refuses %s from the caller (the transport owns it)', (name) => {
    expect(() => toKafkaHeaders({ [name]: 'x' }, 's')).toThrow(/reserved for the Kafka transport/);
  });
});

describe('CloudEvents Kafka binding: record headers → bus headers', () => {
  it.each([
    ['binding names', [['ce_id', 'e1'], ['ce_specversion', '1.0'], ['content-type', 'application/json']], { 'ce-id': 'e1', 'ce-specversion': '1.0', 'content-type': 'application/json' }],
    ['a literal ce- name stays as it is', [['ce-id', 'e1']], { 'ce-id': 'e1' }],
    ['other headers unchanged, case kept', [['Nats-Expected-Stream', 'S'], ['x-a', '']], { 'Nats-Expected-Stream': 'S', 'x-a': '' }],
    ['the transport’s own are hidden', [['ec-subject', 'a.b'], ['ec-kafka-attempt', '3'], ['ce_id', 'e']], { 'ce-id': 'e' }],
  ] as const)('%s', (_, pairs, want) => {
    const h = new KafkaHeaders(raw(pairs as unknown as Array<[string, string]>));
    expect(h.problem).toBeUndefined();
    expect(h.record()).toEqual(want);
  });

  it('keeps the transport’s own headers apart, first value standing', () => {
    const h = new KafkaHeaders(raw([['ec-subject', 'a.b'], ['ec-kafka-attempt', '3'], ['ec-subject', 'c.d']]));
    expect(Object.fromEntries(h.own)).toEqual({ 'ec-subject': 'a.b', 'ec-kafka-attempt': '3' });
    expect(h.problem).toContain("'ec-subject' appears twice");
  });

  it.each([
    ['a value that is not UTF-8', [['x-a', Buffer.from([0xff])]], "header 'x-a' is not UTF-8 text"],
    ['a name that is not UTF-8', [[Buffer.from([0xc3, 0x28]), 'v']], 'a header name is not UTF-8 text'],
    ['a null value', [['x-a', undefined]], "header 'x-a' has a null value"],
    ['a name given twice', [['ce_type', 'a'], ['ce_type', 'b']], "header 'ce-type' appears twice"],
    ['binding and literal spellings of one attribute', [['ce_id', 'a'], ['ce-id', 'b']], "header 'ce-id' appears twice"],
  ] as const)('%s is a problem, never a guess', (_, pairs, problem) => {
    const h = new KafkaHeaders(raw(pairs as unknown as Array<[string | Buffer, string | Buffer | undefined]>));
    expect(h.problem).toBe(problem);
  });

  it('round-trips what the bus writes', () => {
    const given = { 'ce-specversion': '1.0', 'ce-id': 'e', 'ce-metadata': '{"a":1}', 'content-encoding': 'gzip', traceparent: '00-ab' };
    const back = new KafkaHeaders(new Map([...toKafkaHeaders(given, 'x.y')].map(([k, v]) => [Buffer.from(k), Buffer.from(v)])));
    expect(back.record()).toEqual(given);
    expect(back.own.get('ec-subject')).toBe('x.y');
  });

  it.each([
    [{ 'ce-id': 'e', 'content-type': 'application/json' }, 'a.b', 'k'],
    [{ 'ce-type': 'été', 'x-ü': 'ß'.repeat(40) }, 'sujet.é', 'clé'],
    [{}, 's', ''],
  ])('the fast size of %j equals the size of the record it makes', (headers, subject, key) => {
    const body = Buffer.from('{"a":"ä"}');
    expect(outboundBytes(headers, subject, body, key)).toBe(recordBytes(toKafkaHeaders(headers, subject), body, key));
  });

  it.each([
    ['ec-subject', true],
    ['ec-kafka-x', true],
    ['ec-dead-letter-reason', false],
    ['ce_id', false],
  ])('hidden(%s) = %s', (name, want) => expect(hidden(name)).toBe(want));
});

describe('routing subjects to topics', () => {
  const router = new TopicRouter([
    { name: 'users', subjects: ['app.users.*.created', 'app.users.*.deleted'] },
    { name: 'orders', subjects: ['app.orders.>'] },
    { name: 'dead', subjects: ['deadletter.>'] },
  ]);

  it.each([
    ['app.users.u1.created', 'users'],
    ['app.orders.o1', 'orders'],
    ['app.orders.o1.lines.2', 'orders'],
    ['deadletter.billing', 'dead'],
    ['app.users.u1.renamed', undefined],
    ['app.orders', undefined],
  ])('%s → %s', (subject, topic) => expect(router.topicOf(subject)).toBe(topic));

  it('an unrouted subject is an UnroutedSubjectError naming it', () => {
    expect(() => router.route('app.users.u1.renamed')).toThrow(UnroutedSubjectError);
    expect(() => router.route('app.users.u1.renamed')).toThrow(/app\.users\.u1\.renamed/);
  });

  it.each([
    [['app.users.*.created'], ['users']],
    [['app.>'], ['users', 'orders']],
    [['app.*.o1'], ['orders']],
    [['app.orders.o1.>'], ['orders']],
    [['other.>'], []],
  ])('a group on %j reads %j', (patterns, topics) => expect(router.topicsFor(patterns)).toEqual(topics));

  it.each([
    ['a.>', 'a.b.c', true],
    ['a.>', 'a', false],
    ['a.*', 'a.b', true],
    ['a.*', 'a.b.c', false],
    ['a.b', 'a.c', false],
    ['*.b.>', 'a.*.c', true],
    ['>', 'x', true],
  ])('patternsOverlap(%s, %s) = %s', (a, b, want) => {
    expect(patternsOverlap(a, b)).toBe(want);
    expect(patternsOverlap(b, a)).toBe(want);
  });

  it('refuses a topic name Kafka would refuse', () => {
    expect(() => new TopicRouter([{ name: 'bad name', subjects: ['a'] }])).toThrow(/must match/);
    // The names Kafka reserves pass the character rule but are no topics either: one rule, provisioning's.
    expect(() => new TopicRouter([{ name: '..', subjects: ['a'] }])).toThrow(/reserved by Kafka/);
    expect(() => new TopicRouter([{ name: '.', subjects: ['a'] }])).toThrow(/reserved by Kafka/);
  });
});

describe('delay buckets', () => {
  it.each([
    [0, 200],
    [200, 200],
    [201, 1000],
    [29_999, 30_000],
    [3_600_000, 300_000],
  ])('%i ms waits in the %i ms bucket', (delay, bucket) => expect(delayBucket(delay)).toBe(bucket));
});

describe('the commit point of a partition', () => {
  const run = (received: number[], settled: number[]) => {
    const p = new PartitionOffsets('t', 0);
    for (const o of received) p.received(BigInt(o));
    const points: Array<number | undefined> = [];
    for (const o of settled) {
      p.settle(BigInt(o));
      const due = p.due();
      points.push(due === undefined ? undefined : Number(due));
      if (due !== undefined) p.committing(due);
    }
    return points;
  };

  it.each([
    ['in order', [5, 6, 7], [5, 6, 7], [6, 7, 8]],
    ['a later one first waits for the earlier', [5, 6, 7], [7, 6, 5], [undefined, undefined, 8]],
    ['a gap in offsets (compaction, control records) is no hole', [5, 9, 12], [9, 5, 12], [undefined, 10, 13]],
    ['the middle one last', [1, 2, 3], [1, 3, 2], [2, undefined, 4]],
  ])('%s', (_, received, settled, want) => expect(run(received, settled)).toEqual(want));

  it('a record received again (the client went back) is refused, so the caller starts over', () => {
    const p = new PartitionOffsets('t', 0);
    expect(p.received(5n)).toBe(true);
    expect(p.received(6n)).toBe(true);
    expect(p.received(5n)).toBe(false);
  });

  it('a revoked partition commits nothing; a failed commit is tried again', () => {
    const p = new PartitionOffsets('t', 0);
    p.received(1n);
    p.settle(1n);
    expect(p.due()).toBe(2n);
    p.committing(2n);
    expect(p.due()).toBeUndefined();
    p.failed(2n);
    expect(p.due()).toBe(2n);
    p.revoked = true;
    expect(p.due()).toBeUndefined();
  });
});

describe('bootstrapList', () => {
  it('splits a string, a list, and comma-separated entries inside a list alike; refuses an empty one', () => {
    expect(bootstrapList('a:1, b:2')).toEqual(['a:1', 'b:2']);
    expect(bootstrapList(['a:1', 'b:2'])).toEqual(['a:1', 'b:2']);
    expect(bootstrapList(['a:1,b:2', ' c:3 '])).toEqual(['a:1', 'b:2', 'c:3']);
    expect(() => bootstrapList(' , ')).toThrow(/at least one host:port/);
    expect(() => bootstrapList([])).toThrow(/at least one host:port/);
  });
});
