/**
 * Kafka topics from the contract: given/want tables for topic names, bindings.kafka and
 * x-kafka, merging, dead-letter topics and every refusal (each located at its channel);
 * the generated `kafkaProvisioning` is the plan; `provision kafka --dry-run` prints it.
 *
 * Nothing here may load a Kafka client: the generator must not, so both clients are mocked
 * to throw. Provisioning a real broker is test/runtime/kafka.provision.test.ts.
 */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import type { Catalog } from '../../src/catalog/model.js';
import { formatDiagnostic, type Diagnostic } from '../../src/diagnostics.js';
import { emitProvisioning } from '../../src/emit/provisioning.js';
import { defaultTopicName, kafkaPlan, type KafkaPlanOptions } from '../../src/provision/kafka-plan.js';
import type { KafkaTopicSpec } from '../../src/runtime/kafka/plan.js';
import { openWorkspace } from '../../src/workspace.js';
import { runCli } from '../helpers/cli.js';
import { artifactDir, generateInto } from '../helpers/generate.js';

vi.mock('@platformatic/kafka', () => {
  throw new Error('the generator loaded @platformatic/kafka');
});
vi.mock('kafkajs', () => {
  throw new Error('the generator loaded kafkajs');
});

interface GivenChannel {
  id: string;
  address: string;
  kafka?: unknown;
  xKafka?: unknown;
}
interface GivenService {
  id: string;
  channels: GivenChannel[];
  receive?: Array<{ id: string; channel: string; group?: string; reply?: boolean }>;
}

/** Each channel at its own line of x.yaml, so a diagnostic's location says which one. */
function catalog(services: GivenService[]): Catalog {
  let line = 0;
  return {
    events: [],
    services: services.map((s) => ({
      id: s.id,
      channels: s.channels.map((c) => ({
        id: c.id,
        serviceId: s.id,
        address: c.address,
        parameters: [],
        messages: [],
        bindings: c.kafka !== undefined ? { kafka: c.kafka } : {},
        ...(c.xKafka !== undefined ? { xKafka: c.xKafka } : {}),
        location: { file: 'x.yaml', line: ++line, column: 3 },
      })),
      operations: (s.receive ?? []).map((o) => ({
        id: o.id,
        serviceId: s.id,
        action: 'receive',
        channelId: o.channel,
        messages: [],
        bindings: {},
        security: [],
        location: { file: 'x.yaml', line: 100 + ++line, column: 5 },
        ...(o.group ? { consumerGroup: o.group } : {}),
        ...(o.reply ? { reply: { messages: [] } } : {}),
      })),
    })),
  } as unknown as Catalog;
}

const one = (channels: GivenChannel[], receive: GivenService['receive'] = []) => catalog([{ id: 'svc', channels, receive }]);
const topic = (name: string, subjects: string[], rest: Partial<KafkaTopicSpec> = {}): KafkaTopicSpec => ({ name, subjects, partitions: 1, replicationFactor: 1, ...rest });
/** `file:line: severity CODE` of each diagnostic: which rule fired, where. */
const where = (ds: Diagnostic[]) => ds.map((d) => `${d.location ? `${d.location.file}:${d.location.line}` : '-'} ${d.severity} ${d.code}`);

describe('defaultTopicName', () => {
  it.each([
    ['transaction.{accountId}.created.v1', 'transaction.created.v1'],
    ['user.created.v2', 'user.created.v2'],
    ['user-{id}.profile', 'user.profile'],
    ['smartylighting/streetlights/1/0/event/{streetlightId}/lighting/measured', 'smartylighting-streetlights-1-0-event-lighting-measured'],
    ['<script>alert(1)</script>.x', 'script-alert-1-script.x'],
    ["a.'; DROP TABLE t; --", 'a.DROP-TABLE-t'],
    ['ünï.cödé', 'n.c-d'],
  ])('%s → %s', (address, want) => expect(defaultTopicName(address)).toBe(want));

  it('an address of parameters only is named after its hash', () => {
    expect(defaultTopicName('{tenant}')).toMatch(/^subjects-[0-9a-f]{12}$/);
    expect(defaultTopicName('{a}.{b}')).not.toBe(defaultTopicName('{tenant}'));
  });

  it('a long address is cut to 249 characters, prefix included, and stays distinct', () => {
    const a = `${'x'.repeat(300)}.a`;
    const b = `${'x'.repeat(300)}.b`;
    expect(defaultTopicName(a, 'test-')).toHaveLength(249);
    expect(defaultTopicName(a, 'test-')).toMatch(/^test-x+-[0-9a-f]{12}$/);
    expect(defaultTopicName(a)).not.toBe(defaultTopicName(b));
  });
});

describe('kafkaPlan: what the contract says', () => {
  const cases: Array<{ name: string; given: GivenService[]; options?: KafkaPlanOptions; want: KafkaTopicSpec[]; diagnostics?: string[] }> = [
    {
      name: 'a topic per channel, named after its address; no description needed',
      given: [{ id: 's', channels: [{ id: 'c', address: 'tx.{id}.done.v1' }, { id: 'd', address: 'user.up' }] }],
      want: [topic('tx.done.v1', ['tx.*.done.v1']), topic('user.up', ['user.up'])],
    },
    {
      name: 'bindings.kafka 0.5.0: topic, partitions, replicas, topicConfiguration (cleanup.policy a list)',
      given: [
        {
          id: 's',
          channels: [
            {
              id: 'c',
              address: 'ledger.{id}.posted',
              kafka: {
                bindingVersion: '0.5.0',
                topic: 'ledger',
                partitions: 6,
                replicas: 3,
                topicConfiguration: { 'cleanup.policy': ['delete', 'compact'], 'retention.ms': 604800000, 'retention.bytes': -1, 'delete.retention.ms': 86400000, 'max.message.bytes': 1048588 },
              },
            },
          ],
        },
      ],
      want: [
        topic('ledger', ['ledger.*.posted'], {
          partitions: 6,
          replicationFactor: 3,
          config: { 'cleanup.policy': 'delete,compact', 'delete.retention.ms': '86400000', 'max.message.bytes': '1048588', 'retention.bytes': '-1', 'retention.ms': '604800000' },
        }),
      ],
    },
    {
      name: 'x-kafka: topic, partitions, replicationFactor, config (any topic config)',
      given: [{ id: 's', channels: [{ id: 'c', address: 'a.b', xKafka: { topic: 'ab', partitions: 2, replicationFactor: 1, config: { 'min.insync.replicas': 1, 'compression.type': 'zstd', 'unclean.leader.election.enable': false } } }] }],
      want: [topic('ab', ['a.b'], { partitions: 2, config: { 'compression.type': 'zstd', 'min.insync.replicas': '1', 'unclean.leader.election.enable': 'false' } })],
    },
    {
      name: 'both on one channel: each field from whichever gives it',
      given: [{ id: 's', channels: [{ id: 'c', address: 'a.b', kafka: { topic: 'ab', partitions: 4 }, xKafka: { topic: 'ab', config: { 'retention.ms': '1000' } } }] }],
      want: [topic('ab', ['a.b'], { partitions: 4, config: { 'retention.ms': '1000' } })],
    },
    {
      name: 'channels naming one topic share it: subjects merged, settings from whichever channel gives them',
      given: [
        {
          id: 's',
          channels: [
            { id: 'p', address: 'ledger.{id}.posted', kafka: { topic: 'ledger', partitions: 6 } },
            { id: 'r', address: 'ledger.{id}.reversed', xKafka: { topic: 'ledger', config: { 'retention.ms': 1000 } } },
          ],
        },
      ],
      want: [topic('ledger', ['ledger.*.posted', 'ledger.*.reversed'], { partitions: 6, config: { 'retention.ms': '1000' } })],
    },
    {
      name: "the publisher's description also holds for a consumer's document that has the address without one",
      given: [
        { id: 'consumer', channels: [{ id: 'done', address: 'tx.{id}.done' }], receive: [{ id: 'onDone', channel: 'done', group: 'receipts' }] },
        { id: 'publisher', channels: [{ id: 'done', address: 'tx.{id}.done', kafka: { topic: 'payments', partitions: 3, topicConfiguration: { 'retention.ms': 5000 } } }] },
      ],
      want: [topic('payments', ['tx.*.done'], { partitions: 3, config: { 'retention.ms': '5000' } }), topic('deadletter.receipts', ['deadletter.receipts'], { config: { 'retention.ms': '5000' } })],
    },
    {
      name: 'dead-letter topics per group: default group names, as long-lived and replicated as what the group reads; responders have none',
      given: [
        {
          id: 'notify',
          channels: [
            { id: 'a', address: 'a.v1', kafka: { replicas: 3, topicConfiguration: { 'retention.ms': 1000 } } },
            { id: 'b', address: 'b.v1', kafka: { topicConfiguration: { 'retention.ms': 99999999999999 } } },
            { id: 'q', address: 'q.v1' },
          ],
          receive: [
            { id: 'onA', channel: 'a', group: 'g' },
            { id: 'onB', channel: 'b', group: 'g' },
            { id: 'on.q', channel: 'q' },
            { id: 'ask', channel: 'q', group: 'rpc', reply: true },
          ],
        },
      ],
      want: [
        topic('a.v1', ['a.v1'], { replicationFactor: 3, config: { 'retention.ms': '1000' } }),
        topic('b.v1', ['b.v1'], { config: { 'retention.ms': '99999999999999' } }),
        topic('q.v1', ['q.v1']),
        topic('deadletter.g', ['deadletter.g'], { replicationFactor: 3, config: { 'retention.ms': '99999999999999' } }),
        // q.v1 gives no retention: the broker's default, which the plan cannot know, so none.
        topic('deadletter.notify-on-q', ['deadletter.notify-on-q']),
      ],
    },
    {
      name: 'options: a prefix on every topic; default partitions and replication only where the contract gives none',
      given: [{ id: 's', channels: [{ id: 'a', address: 'a.v1', kafka: { partitions: 2 } }, { id: 'b', address: 'b.v1' }], receive: [{ id: 'r', channel: 'b', group: 'g' }] }],
      options: { topicPrefix: 'run1.', partitions: 4, replicationFactor: 2 },
      want: [
        topic('run1.a.v1', ['a.v1'], { partitions: 2, replicationFactor: 2 }),
        topic('run1.b.v1', ['b.v1'], { partitions: 4, replicationFactor: 2 }),
        topic('run1.deadletter.g', ['deadletter.g'], { partitions: 4, replicationFactor: 2 }),
      ],
    },
    {
      name: 'a channel that documents dead letters carries them: no second topic for them',
      given: [{ id: 's', channels: [{ id: 'dl', address: 'deadletter.{group}' }, { id: 'a', address: 'a.v1' }], receive: [{ id: 'r', channel: 'a', group: 'g' }] }],
      want: [topic('a.v1', ['a.v1']), topic('deadletter', ['deadletter.*'])],
      diagnostics: ['x.yaml:103 info KAFKA_DEAD_LETTERS_ON_CHANNEL'],
    },
    {
      name: 'a group the bus would refuse never dead-letters: a warning, no topic',
      given: [{ id: 's', channels: [{ id: 'a', address: 'a.v1' }], receive: [{ id: 'r', channel: 'a', group: 'evil */ group' }] }],
      want: [topic('a.v1', ['a.v1'])],
      diagnostics: ['x.yaml:102 warning KAFKA_GROUP_NAME_INVALID'],
    },
    {
      name: 'Confluent Server keys of bindings 0.5.0 are not Apache Kafka configs: warned, left out',
      given: [{ id: 's', channels: [{ id: 'a', address: 'a.v1', kafka: { topicConfiguration: { 'confluent.value.schema.validation': true, 'retention.ms': 1 } } }] }],
      want: [topic('a.v1', ['a.v1'], { config: { 'retention.ms': '1' } })],
      diagnostics: ['x.yaml:1 warning KAFKA_CONFIG_CONFLUENT'],
    },
    {
      name: 'patterns of two topics that one subject can match: a warning (the first topic wins)',
      given: [{ id: 's', channels: [{ id: 'a', address: 'a.{x}.c', kafka: { topic: 't1' } }, { id: 'b', address: 'a.b.{y}', kafka: { topic: 't2' } }] }],
      want: [topic('t1', ['a.*.c']), topic('t2', ['a.b.*'])],
      diagnostics: ['x.yaml:2 warning KAFKA_SUBJECT_OVERLAP'],
    },
    {
      name: 'an unknown field is warned about (a typo would otherwise be silently ignored)',
      given: [{ id: 's', channels: [{ id: 'a', address: 'a.v1', xKafka: { partition: 3 } }] }],
      want: [topic('a.v1', ['a.v1'])],
      diagnostics: ['x.yaml:1 warning KAFKA_FIELD_UNKNOWN'],
    },
  ];

  it.each(cases)('$name', ({ given, options, want, diagnostics = [] }) => {
    const result = kafkaPlan(catalog(given), options);
    expect(where(result.diagnostics)).toEqual(diagnostics);
    expect(result.plan.topics).toEqual(want);
  });
});

describe('kafkaPlan: refusals, located at the channel that says it', () => {
  const refusals: Array<{ name: string; given: GivenChannel[]; code: string; message: RegExp; line?: number; related?: number }> = [
    { name: "a topic name with '/'", given: [{ id: 'a', address: 'a', kafka: { topic: 'a/b' } }], code: 'KAFKA_TOPIC_NAME_INVALID', message: /bindings\.kafka\.topic: topic name "a\/b" may only hold/ },
    { name: 'a topic name of 300 characters', given: [{ id: 'a', address: 'a', xKafka: { topic: 'x'.repeat(300) } }], code: 'KAFKA_TOPIC_NAME_INVALID', message: /is 300 characters long; Kafka allows 249/ },
    { name: "the topic name '..'", given: [{ id: 'a', address: 'a', kafka: { topic: '..' } }], code: 'KAFKA_TOPIC_NAME_INVALID', message: /reserved by Kafka/ },
    { name: 'a topic name that is HTML', given: [{ id: 'a', address: 'a', kafka: { topic: '<img src=x onerror=alert(1)>' } }], code: 'KAFKA_TOPIC_NAME_INVALID', message: /may only hold/ },
    { name: 'a topic name that is not a string', given: [{ id: 'a', address: 'a', kafka: { topic: { $gt: '' } } }], code: 'KAFKA_TOPIC_NAME_INVALID', message: /is not a string/ },
    { name: '0 partitions', given: [{ id: 'a', address: 'a', kafka: { partitions: 0 } }], code: 'KAFKA_PARTITIONS_INVALID', message: /partitions 0 is not a whole number from 1/ },
    { name: '1.5 partitions', given: [{ id: 'a', address: 'a', xKafka: { partitions: 1.5 } }], code: 'KAFKA_PARTITIONS_INVALID', message: /partitions 1\.5/ },
    { name: 'partitions as text', given: [{ id: 'a', address: 'a', kafka: { partitions: '3' } }], code: 'KAFKA_PARTITIONS_INVALID', message: /partitions "3"/ },
    { name: '2^31 partitions', given: [{ id: 'a', address: 'a', kafka: { partitions: 2 ** 31 } }], code: 'KAFKA_PARTITIONS_INVALID', message: /from 1 to 10000/ },
    { name: 'replicas 0', given: [{ id: 'a', address: 'a', kafka: { replicas: 0 } }], code: 'KAFKA_REPLICATION_INVALID', message: /replication factor 0/ },
    { name: 'a cleanup.policy Kafka does not know', given: [{ id: 'a', address: 'a', kafka: { topicConfiguration: { 'cleanup.policy': ['delete', 'nuke'] } } }], code: 'KAFKA_CONFIG_INVALID', message: /"delete,nuke" is not a comma-separated list of compact, delete/ },
    { name: 'a cleanup.policy that is code', given: [{ id: 'a', address: 'a', xKafka: { config: { 'cleanup.policy': "delete'; rm -rf /" } } }], code: 'KAFKA_CONFIG_INVALID', message: /cleanup\.policy/ },
    { name: 'retention.ms that is not a number', given: [{ id: 'a', address: 'a', kafka: { topicConfiguration: { 'retention.ms': '7 days' } } }], code: 'KAFKA_CONFIG_INVALID', message: /"7 days" is not a whole number/ },
    { name: 'max.message.bytes beyond an int', given: [{ id: 'a', address: 'a', kafka: { topicConfiguration: { 'max.message.bytes': 2 ** 31 } } }], code: 'KAFKA_CONFIG_INVALID', message: /within a 32-bit integer/ },
    { name: 'a config name Kafka does not know', given: [{ id: 'a', address: 'a', xKafka: { config: { 'retention.msec': 1 } } }], code: 'KAFKA_CONFIG_INVALID', message: /"retention\.msec" is not a Kafka topic config/ },
    { name: 'a config name that is HTML', given: [{ id: 'a', address: 'a', xKafka: { config: { '<script>': 'x' } } }], code: 'KAFKA_CONFIG_INVALID', message: /"<script>" is not a Kafka topic config/ },
    { name: 'a config value that is an object', given: [{ id: 'a', address: 'a', xKafka: { config: { 'retention.ms': { $ne: 1 } } } }], code: 'KAFKA_CONFIG_INVALID', message: /is not a string, number, boolean or list/ },
    { name: 'x-kafka that is not an object', given: [{ id: 'a', address: 'a', xKafka: 'ledger' }], code: 'KAFKA_EXTENSION_INVALID', message: /x-kafka must be an object/ },
    { name: 'binding and extension disagree', given: [{ id: 'a', address: 'a', kafka: { partitions: 3 }, xKafka: { partitions: 4 } }], code: 'KAFKA_DESCRIPTION_CONFLICT', message: /x-kafka says partitions 4 where bindings\.kafka says 3/ },
    {
      name: 'two channels of one topic disagree on partitions',
      given: [
        { id: 'a', address: 'a', kafka: { topic: 't', partitions: 3 } },
        { id: 'b', address: 'b', kafka: { topic: 't', partitions: 6 } },
      ],
      code: 'KAFKA_TOPIC_CONFLICT',
      message: /topic t: partitions 6 here, 3 on another channel/,
      line: 2,
      related: 1,
    },
    {
      name: 'two channels of one topic disagree on a config',
      given: [
        { id: 'a', address: 'a', xKafka: { topic: 't', config: { 'cleanup.policy': 'compact' } } },
        { id: 'b', address: 'b', xKafka: { topic: 't', config: { 'cleanup.policy': 'delete' } } },
      ],
      code: 'KAFKA_TOPIC_CONFLICT',
      message: /cleanup\.policy "delete" here, "compact" on another channel/,
      line: 2,
      related: 1,
    },
    {
      name: "topics Kafka cannot hold together ('.' and '_' collide)",
      given: [
        { id: 'a', address: 'user.created' },
        { id: 'b', address: 'user_created' },
      ],
      code: 'KAFKA_TOPIC_COLLISION',
      message: /topics user\.created and user_created collide/,
      line: 2,
    },
    {
      name: "a channel's topic named like a group's dead-letter topic",
      given: [{ id: 'a', address: 'a', kafka: { topic: 'deadletter.g' } }],
      code: 'DEAD_LETTER_TOPIC_CONFLICT',
      message: /consumer group g needs topic deadletter\.g/,
      line: 102,
    },
  ];

  it.each(refusals)('$name', ({ given, code, message, line = 1, related }) => {
    const receive = code === 'DEAD_LETTER_TOPIC_CONFLICT' ? [{ id: 'r', channel: 'a', group: 'g' }] : [];
    const { plan, diagnostics } = kafkaPlan(one(given, receive));
    const errors = diagnostics.filter((d) => d.severity === 'error');
    expect(errors.map((d) => d.code)).toContain(code);
    const error = errors.find((d) => d.code === code)!;
    expect(error.message).toMatch(message);
    expect(formatDiagnostic(error)).toMatch(new RegExp(`^x\\.yaml:${line}:\\d+: error ${code}: `));
    if (related !== undefined) expect(error.related?.line).toBe(related);
    // Whatever was refused is not in the plan.
    const names = plan.topics.map((t) => t.name);
    expect(names.every((n) => /^[A-Za-z0-9._-]{1,249}$/.test(n))).toBe(true);
    for (const t of plan.topics) expect(Object.keys(t.config ?? {}).every((k) => !k.includes('<') && k !== 'retention.msec')).toBe(true);
  });

  it('a prefix Kafka cannot hold is refused for every topic', () => {
    const { diagnostics } = kafkaPlan(one([{ id: 'a', address: 'a' }], [{ id: 'r', channel: 'a', group: 'g' }]), { topicPrefix: 'bad/' });
    expect(diagnostics.map((d) => d.code)).toEqual(['KAFKA_TOPIC_NAME_INVALID', 'DEAD_LETTER_TOPIC_CONFLICT']);
  });

  it.each([
    [{ partitions: 0 }, /default partitions: partitions 0/],
    [{ replicationFactor: 1.5 }, /default replication factor: replication factor 1\.5/],
  ])('a default option out of range is an error: %j', (options, message) => {
    const { diagnostics } = kafkaPlan(one([{ id: 'a', address: 'a' }]), options);
    expect(diagnostics.map((d) => [d.code, d.message])).toEqual([['KAFKA_OPTION_INVALID', expect.stringMatching(message)]]);
  });
});

describe('the contract on disk', () => {
  it('bindings.kafka and x-kafka survive the parser and the catalog (test/fixtures/kafka/topics)', async () => {
    const workspace = await openWorkspace(['test/fixtures/kafka/topics'], { examples: false });
    expect(workspace.ok).toBe(true);
    const { plan, diagnostics } = kafkaPlan(workspace.catalog);
    expect(diagnostics.map(formatDiagnostic)).toEqual([
      expect.stringMatching(/^test\/fixtures\/kafka\/topics\/ledger\.yaml:7:3: warning KAFKA_CONFIG_CONFLUENT: channel entryPosted: bindings\.kafka\.topicConfiguration\.confluent\.value\.schema\.validation/),
    ]);
    expect(plan.topics).toEqual([
      topic('ledger.balance.checked.v1', ['ledger.balance.checked.v1']),
      topic('ledger.entries', ['ledger.*.entry.posted.v1', 'ledger.*.entry.reversed.v1'], {
        partitions: 6,
        config: { 'cleanup.policy': 'delete,compact', 'max.message.bytes': '1048588', 'min.insync.replicas': '1', 'retention.ms': '604800000' },
      }),
      topic('deadletter.ledger-audit', ['deadletter.ledger-audit']),
    ]);
  });

  it('the example contract (asyncapi/) plans a topic per address and a dead-letter topic per group, without a diagnostic', async () => {
    const workspace = await openWorkspace(['asyncapi'], { examples: false });
    const { plan, diagnostics } = kafkaPlan(workspace.catalog);
    expect(diagnostics).toEqual([]);
    expect(plan.topics.find((t) => t.name === 'transaction.created.v1')?.subjects).toEqual(['transaction.*.created.v1']);
    expect(plan.topics.filter((t) => t.name.startsWith('deadletter.')).map((t) => t.name)).toEqual([
      'deadletter.notifications-maintenance',
      'deadletter.notifications-payment-alerts',
      'deadletter.notifications-receipts',
      'deadletter.notifications-welcome',
      'deadletter.payments-user-cleanup',
    ]);
  });

  it('a hostile x-kafka fails generation with located errors and writes nothing (test/fixtures/kafka/hostile)', async () => {
    const out = artifactDir('kafka-hostile');
    const result = await generateInto(['test/fixtures/kafka/hostile'], out);
    const errors = result.diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic);
    expect(errors).toEqual([
      expect.stringMatching(/^test\/fixtures\/kafka\/hostile\/api\.yaml:6:3: error KAFKA_TOPIC_NAME_INVALID: .*"<script>alert\(1\)<\/script>"/),
      expect.stringMatching(/^test\/fixtures\/kafka\/hostile\/api\.yaml:6:3: error KAFKA_PARTITIONS_INVALID: /),
      expect.stringMatching(/^test\/fixtures\/kafka\/hostile\/api\.yaml:6:3: error KAFKA_CONFIG_INVALID: .*DROP TABLE/),
    ]);
    expect(existsSync(out) ? readdirSync(out) : []).toEqual([]);
  }, 60_000);
});

describe('generated kafkaProvisioning', () => {
  it('is the plan, as a typed constant from event-contracts/runtime, and the same on every run', async () => {
    const workspace = await openWorkspace(['test/fixtures/kafka/topics'], { examples: false });
    const first = emitProvisioning(workspace.catalog, 'event-contracts/runtime');
    const second = emitProvisioning(workspace.catalog, 'event-contracts/runtime');
    expect(second.file.content).toBe(first.file.content);
    const content = first.file.content;
    expect(content).toMatch(/^import type \{[^}]*\bKafkaProvisionPlan\b[^}]*\} from "event-contracts\/runtime";$/m);
    const literal = /export const kafkaProvisioning: KafkaProvisionPlan = (\{[\s\S]*?\n\});/.exec(content);
    expect(literal).not.toBeNull();
    expect(JSON.parse(literal![1]!)).toEqual(kafkaPlan(workspace.catalog).plan);
  });

  it('carries what comes from an address as data, never as code', () => {
    const evil = one([{ id: 'e', address: 'evil.{x}."};process.exit(1);//</script>' }]);
    const { file } = emitProvisioning(evil, 'event-contracts/runtime');
    const literal = /export const kafkaProvisioning: KafkaProvisionPlan = (\{[\s\S]*?\n\});/.exec(file.content)![1]!;
    const plan = JSON.parse(literal) as { topics: KafkaTopicSpec[] };
    expect(plan.topics[0]!.subjects).toEqual(['evil.*."};process.exit(1);//</script>']);
    expect(plan.topics[0]!.name).toMatch(/^[A-Za-z0-9._-]+$/);
  });
});

describe('event-contracts provision kafka --dry-run', () => {
  const spec = path.join('test', 'fixtures', 'kafka', 'topics');

  it('prints the plan as JSON, with the default sizes from the flags', async () => {
    const r = await runCli(['provision', 'kafka', '--spec', spec, '--dry-run', '--format', 'json', '--partitions', '3', '--replication-factor', '2', '--topic-prefix', 'dev.']);
    expect(r.code, r.stderr).toBe(0);
    const plan = JSON.parse(r.stdout) as { topics: KafkaTopicSpec[] };
    expect(plan.topics.map((t) => [t.name, t.partitions, t.replicationFactor])).toEqual([
      ['dev.ledger.balance.checked.v1', 3, 2],
      // The contract says 6 partitions and replicas 1: the flags change defaults only.
      ['dev.ledger.entries', 6, 1],
      ['dev.deadletter.ledger-audit', 3, 2],
    ]);
    expect(r.stderr).toMatch(/warning KAFKA_CONFIG_CONFLUENT/);
  });

  it('prints the plan as text', async () => {
    const r = await runCli(['provision', 'kafka', '--spec', spec, '--dry-run']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual([
      'topic ledger.balance.checked.v1: 1 partition, replication factor 1; subjects ledger.balance.checked.v1',
      'topic ledger.entries: 6 partitions, replication factor 1, cleanup.policy=delete,compact, max.message.bytes=1048588, min.insync.replicas=1, retention.ms=604800000; subjects ledger.*.entry.posted.v1, ledger.*.entry.reversed.v1',
      'topic deadletter.ledger-audit: 1 partition, replication factor 1; subjects deadletter.ledger-audit',
      // The group's retry topics, partitioned like ledger.entries, which it reads.
      ...[200, 1000, 5000, 30000, 300000].map((ms) => `topic _ec.retry.ledger-audit.${ms}: 6 partitions, replication factor 1; retries of a consumer group`),
    ]);
  });

  it('a hostile contract: located errors, exit 1, nothing printed as a plan, no broker contacted', async () => {
    const r = await runCli(['provision', 'kafka', '--spec', 'test/fixtures/kafka/hostile', '--server', '127.0.0.1:1']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^test\/fixtures\/kafka\/hostile\/api\.yaml:6:3: error KAFKA_TOPIC_NAME_INVALID/m);
    expect(r.stderr).not.toMatch(/provisioning .* failed|\n\s+at /);
  });

  it('a bad default from the flags is an error, not a plan', async () => {
    const r = await runCli(['provision', 'kafka', '--spec', spec, '--dry-run', '--partitions', '0']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error KAFKA_OPTION_INVALID: default partitions/);
  });

  it('refuses credential options Kafka has not, or half given (TLS and SASL against brokers: test/security/kafka.tls-broker.test.ts, kafka.sasl-broker.test.ts)', async () => {
    for (const [extra, said] of [
      [['--creds', 'x.creds'], /NATS credentials/],
      [['--nkey-seed', 'x.nk'], /NATS credentials/],
      [['--external'], /no --external/],
      [['--user', 'admin'], /--user needs --password-env or --password-file/],
      [['--sasl-mechanism', 'PLAIN'], /--sasl-mechanism needs --user/],
    ] as const) {
      const r = await runCli(['provision', 'kafka', '--spec', spec, ...extra]);
      expect(r.code, extra.join(' ')).toBe(2);
      expect(r.stderr).toMatch(said);
    }
    const unknown = await runCli(['provision', 'kafka', '--spec', spec, '--user', 'a', '--password-env', 'X', '--sasl-mechanism', 'GSSAPI']);
    expect(unknown.code).toBe(2);
  });

  it('a SASL password that cannot be read is named, never sent', async () => {
    delete process.env['EC_TEST_NO_SUCH_PASSWORD'];
    const r = await runCli(['provision', 'kafka', '--spec', spec, '--server', '127.0.0.1:1', '--user', 'admin', '--password-env', 'EC_TEST_NO_SUCH_PASSWORD']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/EC_TEST_NO_SUCH_PASSWORD/);
  });

  it('a TLS file that cannot be read is named, nothing is sent', async () => {
    const r = await runCli(['provision', 'kafka', '--spec', spec, '--server', '127.0.0.1:1', '--tls-ca', 'no-such-ca.pem']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no-such-ca\.pem/);
  });
});

describe('no Kafka client in the generator', () => {
  it('the mock is in force: applying a plan does load the client, and fails here', async () => {
    const { provisionKafka } = await import('../../src/runtime/kafka/provision.js');
    await expect(provisionKafka({ bootstrap: '127.0.0.1:1' }, { topics: [topic('a', ['a'])] })).rejects.toThrow(/mock|loaded @platformatic\/kafka/);
  });
});
