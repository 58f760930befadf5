/**
 * provisionKafka against a real broker (the run's shared KRaft broker, test/services/kafka.mjs):
 * creates, finds unchanged, raises partitions, sets configs, never lowers, reports what it
 * cannot change; refuses a hostile plan before connecting; the CLI applies the contract and
 * reports an unreachable broker in one line. Topics get a per-run prefix and are deleted after.
 */
import { Admin, ConfigResourceTypes } from '@platformatic/kafka';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventContractsError } from '../../src/runtime/errors.js';
import { KafkaPlanError, KafkaProvisionError, provisionKafka, type KafkaProvisionPlan, type KafkaTopicSpec } from '../../src/runtime/kafka/provision.js';
import { createEventBus } from '../../src/runtime/index.js';
import { KafkaTransport } from '../../src/runtime/kafka/index.js';
import { DELAY_BUCKETS_MS } from '../../src/runtime/kafka/names.js';
import { runCli } from '../helpers/cli.js';
import { sharedKafka } from '../services/kafka.mjs';

const run = `prov-${randomUUID().slice(0, 8)}`;
let bootstrap: string;
let admin: Admin;

beforeAll(async () => {
  ({ bootstrap } = await sharedKafka());
  admin = new Admin({ clientId: 'provision-test', bootstrapBrokers: [bootstrap] });
}, 300_000);

afterAll(async () => {
  if (!admin) return;
  const mine = (await admin.listTopics()).filter((t) => t.startsWith(run));
  if (mine.length > 0) await admin.deleteTopics({ topics: mine }).catch(() => undefined);
  await admin.close();
});

const spec = (name: string, rest: Partial<KafkaTopicSpec> = {}): KafkaTopicSpec => ({ name: `${run}.${name}`, subjects: [name], partitions: 1, replicationFactor: 1, ...rest });

async function partitionsOf(topic: string): Promise<number> {
  const m = await admin.metadata({ topics: [topic], forceUpdate: true });
  return m.topics.get(topic)!.partitionsCount;
}

async function configOf(topic: string, keys: string[]): Promise<Record<string, string | null>> {
  const [d] = await admin.describeConfigs({ resources: [{ resourceType: ConfigResourceTypes.TOPIC, resourceName: topic, configurationKeys: keys }] });
  return Object.fromEntries(d!.configs.map((c) => [c.name, c.value ?? null]));
}

describe('provisionKafka on a real broker', () => {
  const orders = (rest: Partial<KafkaTopicSpec> = {}) => spec('orders', { partitions: 3, config: { 'retention.ms': '60000', 'cleanup.policy': 'delete' }, ...rest });
  const plain = spec('plain');

  it('creates what is missing, with partitions and configs as planned', async () => {
    const result = await provisionKafka({ bootstrap }, { topics: [orders(), plain] });
    expect(result.topics).toEqual([
      { name: `${run}.orders`, action: 'created' },
      { name: `${run}.plain`, action: 'created' },
    ]);
    expect(await partitionsOf(`${run}.orders`)).toBe(3);
    expect(await configOf(`${run}.orders`, ['retention.ms', 'cleanup.policy'])).toEqual({ 'retention.ms': '60000', 'cleanup.policy': 'delete' });
    expect(await partitionsOf(`${run}.plain`)).toBe(1);
  });

  it('a second run finds everything unchanged (and says nothing more)', async () => {
    const result = await provisionKafka({ bootstrap }, { topics: [orders(), plain] });
    expect(result.topics).toEqual([
      { name: `${run}.orders`, action: 'unchanged' },
      { name: `${run}.plain`, action: 'unchanged' },
    ]);
  });

  it('raises partitions', async () => {
    const result = await provisionKafka({ bootstrap }, { topics: [orders({ partitions: 5 })] });
    expect(result.topics).toEqual([{ name: `${run}.orders`, action: 'updated', detail: 'partitions 3 → 5' }]);
    expect(await partitionsOf(`${run}.orders`)).toBe(5);
  });

  it('sets changed configs with incrementalAlterConfigs and leaves the others alone', async () => {
    await admin.incrementalAlterConfigs({
      resources: [{ resourceType: ConfigResourceTypes.TOPIC, resourceName: `${run}.orders`, configs: [{ name: 'segment.ms', configOperation: 0, value: '3600000' }] }],
    });
    const result = await provisionKafka({ bootstrap }, { topics: [orders({ partitions: 5, config: { 'retention.ms': '120000', 'cleanup.policy': 'compact,delete' } })] });
    expect(result.topics).toEqual([{ name: `${run}.orders`, action: 'updated', detail: 'cleanup.policy delete → compact,delete; retention.ms 60000 → 120000' }]);
    expect(await configOf(`${run}.orders`, ['retention.ms', 'cleanup.policy', 'segment.ms'])).toEqual({ 'retention.ms': '120000', 'cleanup.policy': 'compact,delete', 'segment.ms': '3600000' });
    // A list config compares as a set: the same policies in another order are no change.
    const again = await provisionKafka({ bootstrap }, { topics: [orders({ partitions: 5, config: { 'retention.ms': '120000', 'cleanup.policy': 'delete,compact' } })] });
    expect(again.topics).toEqual([{ name: `${run}.orders`, action: 'unchanged' }]);
  });

  it('never lowers partitions, and never changes the replication factor: it says so', async () => {
    const result = await provisionKafka({ bootstrap }, { topics: [orders({ partitions: 2, replicationFactor: 3, config: { 'retention.ms': '120000', 'cleanup.policy': 'compact,delete' } })] });
    expect(result.topics).toEqual([
      {
        name: `${run}.orders`,
        action: 'unchanged',
        detail:
          'has 5 partitions where the plan says 2: left at 5 (Kafka cannot lower a partition count); replication factor is 1 where the plan says 3: not changed (that takes a partition reassignment)',
      },
    ]);
    expect(await partitionsOf(`${run}.orders`)).toBe(5);
  });

  it("the broker's refusal names the topic and gives the broker's reason", async () => {
    const error = await provisionKafka({ bootstrap }, { topics: [spec('three-replicas', { replicationFactor: 3 })] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KafkaProvisionError);
    expect((error as KafkaProvisionError).topic).toBe(`${run}.three-replicas`);
    expect((error as Error).message).toMatch(new RegExp(`^creating topic ${run}\\.three-replicas: INVALID_REPLICATION_FACTOR: .*replication factor`, 'i'));
  });

  it('uses an Admin it is given, and leaves it open', async () => {
    const result = await provisionKafka(admin, { topics: [plain] });
    expect(result.topics).toEqual([{ name: `${run}.plain`, action: 'unchanged' }]);
    expect(admin.closed).toBe(false);
  });

  it('two services provisioning at once both succeed (the loser of the create race compares instead)', async () => {
    const plan: KafkaProvisionPlan = { topics: [spec('raced', { partitions: 2, config: { 'retention.ms': '1000' } })] };
    const [a, b] = await Promise.all([provisionKafka({ bootstrap }, plan), provisionKafka({ bootstrap }, plan)]);
    // Exactly one created it; the other found it (listed, or lost the create race).
    expect([a.topics[0]!.action, b.topics[0]!.action].sort()).toEqual(['created', 'unchanged']);
    expect(await partitionsOf(`${run}.raced`)).toBe(2);
  });

  it('a topic created after the list was taken: the broker says it exists, and it is compared, not failed', async () => {
    // An Admin whose topic list is stale, as in a process that listed just before another created.
    const stale = new Proxy(admin, {
      get: (target, key) => {
        if (key === 'listTopics') return async () => [];
        const value = Reflect.get(target, key, target) as unknown;
        // The Admin's methods use private fields: call them on the Admin itself.
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const result = await provisionKafka(stale, { topics: [orders({ partitions: 6, config: { 'retention.ms': '120000', 'cleanup.policy': 'compact,delete' } })] });
    expect(result.topics).toEqual([{ name: `${run}.orders`, action: 'updated', detail: 'partitions 5 → 6' }]);
  });
});

describe('a hostile or mistaken plan is refused before anything connects', () => {
  const hostile: Array<[string, KafkaProvisionPlan, RegExp]> = [
    ["a topic name with '/'", { topics: [{ name: 'a/b', subjects: ['a'] }] }, /topic name "a\/b" may only hold/],
    ['a topic name of 300 characters', { topics: [{ name: 'x'.repeat(300), subjects: ['a'] }] }, /is 300 characters long; Kafka allows 249/],
    ["'..'", { topics: [{ name: '..', subjects: ['a'] }] }, /reserved by Kafka/],
    ['HTML for a name', { topics: [{ name: '<script>alert(1)</script>', subjects: ['a'] }] }, /may only hold/],
    ['0 partitions', { topics: [{ name: 'ok', subjects: ['a'], partitions: 0 }] }, /partitions 0 is not a whole number/],
    ['2^31 partitions', { topics: [{ name: 'ok', subjects: ['a'], partitions: 2 ** 31 }] }, /from 1 to 10000/],
    ['NaN replication', { topics: [{ name: 'ok', subjects: ['a'], replicationFactor: Number.NaN }] }, /replication factor NaN/],
    ['an unknown config', { topics: [{ name: 'ok', subjects: ['a'], config: { 'log.dirs': '/etc' } }] }, /"log\.dirs" is not a Kafka topic config/],
    ['a config value that is code', { topics: [{ name: 'ok', subjects: ['a'], config: { 'retention.ms': '1; rm -rf /' } }] }, /is not a whole number/],
    ['a config value that is not a string', { topics: [{ name: 'ok', subjects: ['a'], config: { 'retention.ms': 5 as unknown as string } }] }, /5 is not a string/],
    ['a subject with a newline', { topics: [{ name: 'ok', subjects: ['a\nb'] }] }, /whitespace or control characters/],
    ['the same topic twice', { topics: [{ name: 'ok', subjects: ['a'] }, { name: 'ok', subjects: ['b'] }] }, /"ok" is in the plan twice/],
    ["names that collide ('.' and '_')", { topics: [{ name: 'a.b', subjects: ['a'] }, { name: 'a_b', subjects: ['b'] }] }, /collide/],
    ['no topics list', { topics: 'all' as unknown as KafkaTopicSpec[] }, /no topics list/],
    ['a topic that is null', { topics: [null as unknown as KafkaTopicSpec] }, /is not an object/],
  ];

  it.each(hostile)('%s', async (_name, plan, message) => {
    // An unreachable bootstrap: reaching it would fail differently (KafkaProvisionError).
    const error = await provisionKafka({ bootstrap: '127.0.0.1:1' }, plan).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KafkaPlanError);
    // Typed like everything the runtime throws on purpose.
    expect(error).toBeInstanceOf(EventContractsError);
    expect((error as Error).name).toBe('KafkaPlanError');
    expect((error as Error).message).toMatch(message);
  });

  it('one bad topic stops the whole plan: its good neighbour is not created either', async () => {
    const good = spec('good-neighbour');
    const error = await provisionKafka({ bootstrap }, { topics: [good, { name: `${run}/bad`, subjects: ['x'] }] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KafkaPlanError);
    expect(await admin.listTopics()).not.toContain(good.name);
  });
});

describe('an unreachable broker', () => {
  it('is a KafkaProvisionError in one line', async () => {
    const error = await provisionKafka({ bootstrap: '127.0.0.1:1' }, { topics: [spec('never')] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KafkaProvisionError);
    expect((error as Error).message).toMatch(/^listing topics: /);
    expect((error as Error).message).not.toMatch(/\n/);
  });

  it('the CLI reports it without a stack trace, exit 1', async () => {
    const r = await runCli(['provision', 'kafka', '--spec', 'test/fixtures/kafka/topics', '--server', '127.0.0.1:1']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^event-contracts: provisioning 127\.0\.0\.1:1 failed: listing topics: .+$/m);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('event-contracts provision kafka', () => {
  it('creates the topics of a contract (the groups\' retry topics too), then finds them unchanged', async () => {
    const args = ['provision', 'kafka', '--spec', 'test/fixtures/kafka/topics', '--server', bootstrap, '--topic-prefix', `${run}.cli.`, '--internal-topic-prefix', `${run}.int.`, '--format', 'json'];
    const first = await runCli(args);
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout)).toEqual({
      topics: [
        { name: `${run}.cli.ledger.balance.checked.v1`, action: 'created' },
        { name: `${run}.cli.ledger.entries`, action: 'created' },
        { name: `${run}.cli.deadletter.ledger-audit`, action: 'created' },
        ...DELAY_BUCKETS_MS.map((ms) => ({ name: `${run}.int.retry.ledger-audit.${ms}`, action: 'created' })),
      ],
    });
    expect(await partitionsOf(`${run}.cli.ledger.entries`)).toBe(6);
    expect(await partitionsOf(`${run}.int.retry.ledger-audit.200`)).toBe(6);
    expect(await configOf(`${run}.cli.ledger.entries`, ['cleanup.policy', 'min.insync.replicas'])).toEqual({ 'cleanup.policy': 'delete,compact', 'min.insync.replicas': '1' });
    const second = await runCli([...args.slice(0, -2), '--format', 'human']);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toMatch(new RegExp(`^topic ${run}\\.cli\\.ledger\\.entries: unchanged$`, 'm'));

    // A consumer of the group finds every topic it needs: the plan names its retry topics as
    // the transport does, so a service with no right to create topics can consume.
    const plan = JSON.parse((await runCli([...args.slice(0, -2), '--dry-run', '--format', 'json'])).stdout) as KafkaProvisionPlan;
    const before = new Set(await admin.listTopics());
    const transport = await KafkaTransport.connect({ bootstrap, topology: plan.topics, internalTopicPrefix: `${run}.int.` });
    const bus = createEventBus({ transport, source: 'ledger-audit' });
    try {
      const posted = { type: 'ledger.entry.posted', version: '1.0.0', address: 'ledger.{accountId}.entry.posted.v1', parameters: ['accountId'], validate: (d: unknown) => ({ ok: true as const, value: d }) };
      await bus.subscribe({ group: 'ledger-audit', handlers: [{ type: posted.type, accepts: [posted], handle: async () => undefined }] });
      expect([...new Set(await admin.listTopics())].filter((t) => !before.has(t) && t.startsWith(run))).toEqual([]);
    } finally {
      await bus.close();
    }
  });
});
