/**
 * Descriptors of aggregate-bound events carry `aggregate`, and `eventSourced` in
 * generated/events.ts lists each aggregate with its events and the `type@major` that need
 * an upcaster. Checked by compiling the generated package and reading it back in Node
 * (not by snapshotting its text), on a contract with two majors and on this workspace's.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { eventSourcedAggregates } from '../../src/emit/events.js';
import { openWorkspace } from '../../src/workspace.js';
import { artifactDir, compile, generateInto, runNode, typecheck } from '../helpers/generate.js';

const payload = (required: string[], extra: string[] = []) => [
  '        payload:',
  '          type: object',
  `          required: [${required.join(', ')}]`,
  '          properties:',
  '            accountId: { type: string }',
  '            entryId: { type: string }',
  '            amount: { type: string }',
  ...extra,
];

const message = (name: string, version: string, required: string[]) => [`        name: ${name}`, `        x-version: ${version}`, ...payload(required)];

/** account: transaction.created 1, 2 (its channel inherits), 3; transaction.closed 1. ledger entry: entry.posted 1. note.added: unbound. */
const CONTRACT = [
  'asyncapi: 3.0.0',
  'info: { title: Payments, version: 1.0.0, x-service-id: payments }',
  'channels:',
  '  createdV1:',
  "    address: 'transaction.{accountId}.created.v1'",
  '    parameters:',
  "      accountId: { location: '$message.payload#/accountId' }",
  '    messages:',
  '      created1:',
  ...message('transaction.created', '1.0.0', ['accountId']),
  '    x-aggregate: account',
  '  createdV2:',
  "    address: 'transaction.created.v2'",
  '    messages:',
  '      created2:',
  ...message('transaction.created', '2.0.0', ['accountId', 'amount']),
  '  createdV3:',
  "    address: 'transaction.created.v3'",
  '    messages:',
  '      created3:',
  ...message('transaction.created', '3.0.0', ['accountId', 'amount']),
  '      created31:',
  ...message('transaction.created', '3.1.0', ['accountId', 'amount']),
  '    x-aggregate: { type: account, id: accountId }',
  '  closed:',
  "    address: 'transaction.closed.v1'",
  '    messages:',
  '      closed1:',
  ...message('transaction.closed', '1.0.0', ['accountId']),
  '    x-aggregate: { type: account, id: accountId }',
  '  posted:',
  "    address: 'ledger.entry.posted.v1'",
  '    messages:',
  '      posted1:',
  ...message('entry.posted', '1.0.0', ['entryId']),
  '    x-aggregate: { type: entry, domain: ledger, id: entryId }',
  '  notes:',
  "    address: 'note.added.v1'",
  '    messages:',
  '      note1:',
  ...message('note.added', '1.0.0', ['accountId']),
  '',
].join('\n');

interface Read {
  aggregates: Record<string, { type: string; domain: string; streamIdPrefix: string; events: string[]; upcasters: string[] }>;
  descriptors: Record<string, unknown>;
}

const READ = (dist: string) => `
  const events = await import(${JSON.stringify(`file://${dist}/events.js`)});
  const aggregates = {};
  for (const [name, a] of Object.entries(events.eventSourced)) {
    aggregates[name] = { ...a, events: a.events.map((d) => d.type + '@' + d.version) };
  }
  const descriptors = Object.fromEntries(events.allEvents.map((d) => [d.type + '@' + d.version, d.aggregate ?? null]));
  console.log(JSON.stringify({ aggregates, descriptors }));`;

describe('event-sourced descriptors', () => {
  let out: string;
  let read: Read;
  beforeAll(async () => {
    const dir = artifactDir('event-sourced', 'spec');
    writeFileSync(path.join(dir, 'payments.yaml'), CONTRACT);
    out = artifactDir('event-sourced', 'out');
    const result = await generateInto([dir], out);
    expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    read = JSON.parse(await runNode(READ(await compile(out)), out)) as Read;
  }, 180_000);

  it('every version of a bound type carries its aggregate; an unbound type none', () => {
    const account = { type: 'account', domain: 'payments', idField: 'accountId' };
    expect(read.descriptors).toEqual({
      'entry.posted@1.0.0': { type: 'entry', domain: 'ledger', idField: 'entryId' },
      'note.added@1.0.0': null,
      'transaction.closed@1.0.0': account,
      'transaction.created@1.0.0': account,
      'transaction.created@2.0.0': account,
      'transaction.created@3.0.0': account,
      'transaction.created@3.1.0': account,
    });
  });

  it('eventSourced: one entry per aggregate, sorted, with its events and the older majors needing upcasters', () => {
    expect(read.aggregates).toEqual({
      'ledger.entry': { type: 'entry', domain: 'ledger', streamIdPrefix: 'ledger.entry.', events: ['entry.posted@1.0.0'], upcasters: [] },
      'payments.account': {
        type: 'account',
        domain: 'payments',
        streamIdPrefix: 'payments.account.',
        events: ['transaction.closed@1.0.0', 'transaction.created@1.0.0', 'transaction.created@2.0.0', 'transaction.created@3.0.0', 'transaction.created@3.1.0'],
        upcasters: ['transaction.created@1', 'transaction.created@2'],
      },
    });
    expect(Object.keys(read.aggregates)).toEqual(['ledger.entry', 'payments.account']);
  });

  it('is typed for users: the aggregate on a descriptor, the aggregates by name', async () => {
    writeFileSync(
      path.join(out, 'uses-event-sourced.ts'),
      `import { eventSourced, TransactionCreatedV1Event } from './events.js';
const field: string | undefined = TransactionCreatedV1Event.aggregate?.idField;
const upcasters: readonly string[] = eventSourced['payments.account'].upcasters;
const prefix: 'payments.account.' = eventSourced['payments.account'].streamIdPrefix;
// @ts-expect-error no such aggregate
void eventSourced['payments.wallet'];
void field; void upcasters; void prefix;
`,
    );
    await typecheck(out);
  }, 120_000);

  it('is deterministic: generating again writes the same events.ts', async () => {
    const first = readFileSync(path.join(out, 'events.ts'), 'utf8');
    const again = artifactDir('event-sourced', 'again');
    await generateInto([path.resolve('test-artifacts/event-sourced/spec')], again);
    expect(readFileSync(path.join(again, 'events.ts'), 'utf8')).toBe(first);
  });
});

describe("this workspace's payments contract", () => {
  // The emitted form is executed above; here the same view (eventSourcedAggregates) over the real contract.
  it('forms the payments.account aggregate of the four transaction events, one major each: no upcaster', async () => {
    const workspace = await openWorkspace(['asyncapi'], { examples: false });
    expect(workspace.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const aggregates = [...eventSourcedAggregates(workspace.catalog)].map(([name, a]) => ({ name, ...a.binding, events: a.events.map((e) => e.key), upcasters: a.upcasters }));
    expect(aggregates).toEqual([
      {
        name: 'payments.account',
        type: 'account',
        domain: 'payments',
        events: ['transaction.cancelled@1.0.0', 'transaction.completed@1.1.0', 'transaction.created@1.0.0', 'transaction.failed@1.0.0'],
        upcasters: [],
      },
    ]);
    const bound = workspace.catalog.events.flatMap((t) => t.versions).filter((v) => v.aggregate !== undefined);
    expect(bound.map((v) => [v.key, v.aggregate!.idField])).toEqual(aggregates[0]!.events.map((key) => [key, 'accountId']));
  });
});
