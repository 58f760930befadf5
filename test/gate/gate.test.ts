/**
 * End to end through the CLI: a workspace is released, edited, and checked. Each case
 * names the change and the rule ids the gate must report (or none); the expectations
 * come from the rules (released versions are immutable, a breaking change needs a new
 * major, an additive one a minor), not from the engine's output.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { runCli } from '../helpers/cli.js';
import { useScratchWorkspace } from '../helpers/scratch.js';

type Doc = Record<string, any>;

const order = (version: string, properties: Record<string, unknown>, required: string[], extra: Doc = {}): Doc => ({
  name: 'order.placed',
  'x-version': version,
  summary: 'An order was placed.',
  payload: { type: 'object', required, properties },
  ...extra,
});

const base = () => ({
  orderId: { type: 'string', format: 'uuid' },
  total: { type: 'integer', minimum: 0 },
  note: { type: 'string', maxLength: 200, description: 'Free text.' },
});

function spec(messages: Record<string, Doc>, channelAddress = (major: number) => `order.placed.v${major}`): Doc {
  const channels: Doc = {};
  const operations: Doc = {};
  for (const [key, message] of Object.entries(messages)) {
    const major = Number(String(message['x-version']).split('.')[0]);
    channels[`ch${key}`] = { address: channelAddress(major), messages: { [key]: { $ref: `#/components/messages/${key}` } } };
    operations[`publish${key}`] = { action: 'send', channel: { $ref: `#/channels/ch${key}` } };
  }
  return { asyncapi: '3.0.0', info: { title: 'Orders', version: '1.0.0' }, channels, operations, components: { messages } };
}

const v1 = () => ({ OrderPlacedV1: order('1.0.0', base(), ['orderId', 'total']) });

let dir: string;
useScratchWorkspace('gate', (d) => (dir = d));

const write = (doc: Doc) => writeFileSync(path.join(dir, 'asyncapi/orders.yaml'), stringify(doc));
const rules = (stdout: string) => (JSON.parse(stdout) as { findings: Array<{ rule: string; severity: string }> }).findings.filter((f) => f.severity === 'error').map((f) => f.rule).sort();

async function releaseThenCheck(before: Record<string, Doc>, after: Record<string, Doc>, config?: Doc) {
  if (config) writeFileSync(path.join(dir, 'event-contracts.config.json'), JSON.stringify(config));
  write(spec(before));
  const released = await runCli(['release']);
  expect(released.code, released.stderr).toBe(0);
  write(spec(after));
  return runCli(['check', '--format', 'json']);
}

describe('check against the released registry', () => {
  const cases: Array<{ name: string; after: () => Record<string, Doc>; want: string[] }> = [
    { name: 'nothing changed', after: v1, want: [] },
    {
      name: 'documentation edited in a released version',
      after: () => ({ OrderPlacedV1: order('1.0.0', { ...base(), note: { type: 'string', maxLength: 200, description: 'Anything the buyer wrote.' } }, ['orderId', 'total'], { summary: 'Placed.' }) }),
      want: [],
    },
    {
      name: 'released version edited in place (required property added)',
      after: () => ({ OrderPlacedV1: order('1.0.0', { ...base(), currency: { type: 'string' } }, ['orderId', 'total', 'currency']) }),
      want: ['RELEASED_VERSION_MODIFIED'],
    },
    {
      name: 'new minor version adds a required property',
      after: () => ({ OrderPlacedV1: order('1.1.0', { ...base(), currency: { type: 'string' } }, ['orderId', 'total', 'currency']) }),
      want: ['REQUIRED_PROPERTY_ADDED'],
    },
    {
      name: 'new minor version narrows a type and drops a maximum length',
      after: () => ({ OrderPlacedV1: order('1.1.0', { ...base(), total: { type: 'integer', minimum: 1 } }, ['orderId', 'total']) }),
      want: ['MINIMUM_INCREASED'],
    },
    {
      name: 'optional property added with only a patch bump',
      after: () => ({ OrderPlacedV1: order('1.0.1', { ...base(), coupon: { type: 'string' } }, ['orderId', 'total']) }),
      want: ['SEMVER_BUMP_TOO_SMALL'],
    },
    {
      name: 'optional property added with a minor bump',
      after: () => ({ OrderPlacedV1: order('1.1.0', { ...base(), coupon: { type: 'string' } }, ['orderId', 'total']) }),
      want: [],
    },
    {
      name: 'documentation-only change with a patch bump',
      after: () => ({ OrderPlacedV1: order('1.0.1', base(), ['orderId', 'total'], { description: 'Now documented.' }) }),
      want: [],
    },
    {
      name: 'breaking change as a new major beside the old one',
      after: () => ({ ...v1(), OrderPlacedV2: order('2.0.0', { orderId: { type: 'string' }, amount: { type: 'string' } }, ['orderId', 'amount']) }),
      want: [],
    },
    {
      name: 'released version removed without deprecation',
      after: () => ({ OrderPlacedV2: order('2.0.0', { orderId: { type: 'string' } }, ['orderId']) }),
      want: ['RELEASED_VERSION_REMOVED'],
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const result = await releaseThenCheck(v1(), c.after());
      expect(rules(result.stdout)).toEqual(c.want);
      expect(result.code).toBe(c.want.length === 0 ? 0 : 1);
    });
  }

  it('removal is allowed once the deprecation was released', async () => {
    const deprecated = { OrderPlacedV1: order('1.0.0', base(), ['orderId', 'total'], { 'x-deprecated': { since: '2026-01-01', replacedBy: 'order.placed@2.0.0' } }) };
    const v2 = { OrderPlacedV2: order('2.0.0', { orderId: { type: 'string' } }, ['orderId']) };
    write(spec({ ...deprecated, ...v2 }));
    expect((await runCli(['release'])).code).toBe(0);
    write(spec(v2));
    const result = await runCli(['check', '--format', 'json']);
    expect(rules(result.stdout)).toEqual([]);
    expect(result.code).toBe(0);
  });

  it('human output points at the changed property and the previous version', async () => {
    write(spec(v1()));
    await runCli(['release']);
    write(spec({ ...v1(), OrderPlacedV1: order('1.1.0', { ...base(), currency: { type: 'string' } }, ['orderId', 'total', 'currency']) }));
    const result = await runCli(['check']);
    expect(result.code).toBe(1);
    const [first, previous, hint] = result.stderr.split('\n');
    expect(first).toMatch(/^asyncapi\/orders\.yaml:\d+:\d+: error REQUIRED_PROPERTY_ADDED: order\.placed@1\.1\.0 breaks FULL_TRANSITIVE compatibility with order\.placed@1\.0\.0: /);
    expect(previous).toMatch(/^ {2}previously: registry\.lock\.json:\d+:\d+$/);
    expect(hint).toMatch(/order\.placed@2\.0\.0/);
  });

  it('a finding accepted in config (with its reason) no longer fails the gate', async () => {
    const result = await releaseThenCheck(v1(), { OrderPlacedV1: order('1.1.0', { ...base(), currency: { type: 'string' } }, ['orderId', 'total', 'currency']) }, {
      compatibility: { ignore: [{ rule: 'REQUIRED_PROPERTY_ADDED', event: 'order.placed', path: '/properties/currency', reason: 'every producer sends currency since March' }] },
    });
    expect(rules(result.stdout)).toEqual([]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('every producer sends currency since March');
  });

  it('an ignore rule without a reason is a usage error', async () => {
    writeFileSync(path.join(dir, 'event-contracts.config.json'), JSON.stringify({ compatibility: { ignore: [{ rule: 'X' }] } }));
    write(spec(v1()));
    const result = await runCli(['check']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/needs a "reason"/);
  });

  it('the BACKWARD level lets a producer-side narrowing through that FULL rejects', async () => {
    const after = { OrderPlacedV1: order('1.1.0', { ...base(), note: { type: 'string', maxLength: 300, description: 'Free text.' } }, ['orderId', 'total']) };
    const full = await releaseThenCheck(v1(), after);
    expect(rules(full.stdout)).toEqual(['MAX_LENGTH_INCREASED']);
    rmSync(path.join(dir, 'registry.lock.json'));
    const backward = await releaseThenCheck(v1(), after, { compatibility: { level: 'BACKWARD' } });
    expect(rules(backward.stdout)).toEqual([]);
  });
});

describe('check --against a git baseline', () => {
  const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, stdio: 'pipe' });

  async function commitBaseline(doc: Doc) {
    write(doc);
    expect((await runCli(['release'])).code).toBe(0);
    git('init', '-q', '-b', 'main');
    git('-c', 'user.email=ci@example.com', '-c', 'user.name=ci', 'add', '-A');
    git('-c', 'user.email=ci@example.com', '-c', 'user.name=ci', 'commit', '-q', '-m', 'baseline');
  }

  it('reports a moved channel and a removed operation, located on both sides', async () => {
    await commitBaseline(spec(v1()));
    const moved = spec(v1(), (major) => `orders.placed.v${major}`);
    write(moved);
    const result = await runCli(['check', '--against', 'main', '--format', 'json']);
    expect(rules(result.stdout)).toEqual(['CHANNEL_ADDRESS_CHANGED']);
    const finding = (JSON.parse(result.stdout) as { findings: Array<{ previous: { file: string } }> }).findings[0]!;
    expect(finding.previous.file).toBe('main:asyncapi/orders.yaml');

    const noOperation = spec(v1());
    delete noOperation.operations.publishOrderPlacedV1;
    write(noOperation);
    expect(rules((await runCli(['check', '--against', 'main', '--format', 'json'])).stdout)).toEqual(['OPERATION_REMOVED']);
  });

  it('the base branch lock defines what is released, and the lock is append-only', async () => {
    await commitBaseline(spec(v1()));
    writeFileSync(path.join(dir, 'registry.lock.json'), JSON.stringify({ lockfileVersion: 1, events: {} }));
    write(spec({ OrderPlacedV1: order('1.0.0', { ...base(), currency: { type: 'string' } }, ['orderId', 'total', 'currency']) }));
    const result = await runCli(['check', '--against', 'main', '--format', 'json']);
    expect(rules(result.stdout)).toEqual(['LOCK_ENTRY_REMOVED', 'RELEASED_VERSION_MODIFIED']);
  });

  it('sarif and github formats carry the same findings', async () => {
    await commitBaseline(spec(v1()));
    write(spec({ OrderPlacedV1: order('1.1.0', { ...base(), currency: { type: 'string' } }, ['orderId', 'total', 'currency']) }));
    const sarif = JSON.parse((await runCli(['check', '--against', 'main', '--format', 'sarif'])).stdout) as { version: string; runs: Array<{ results: Array<{ ruleId: string; level: string; locations: Array<{ physicalLocation: { artifactLocation: { uri: string }; region: { startLine: number } } }> }> }> };
    expect(sarif.version).toBe('2.1.0');
    expect(sarif.runs[0]!.results.map((r) => [r.ruleId, r.level])).toEqual([['REQUIRED_PROPERTY_ADDED', 'error']]);
    expect(sarif.runs[0]!.results[0]!.locations[0]!.physicalLocation.artifactLocation.uri).toBe('asyncapi/orders.yaml');
    const github = await runCli(['check', '--against', 'main', '--format', 'github']);
    expect(github.code).toBe(1);
    expect(github.stdout).toMatch(/^::error file=asyncapi\/orders\.yaml,line=\d+,col=\d+,title=REQUIRED_PROPERTY_ADDED::order\.placed@1\.1\.0 breaks/);
  });

  it('an unknown ref is a usage error, not a crash', async () => {
    await commitBaseline(spec(v1()));
    const result = await runCli(['check', '--against', 'no-such-branch']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/cannot read "no-such-branch" from git/);
  });
});

describe('recursive payloads end to end', () => {
  const category = (required: string[]) => ({
    type: 'object',
    required,
    properties: { name: { type: 'string' }, code: { type: 'string' }, children: { type: 'array', items: { $ref: '#/components/schemas/Category' } } },
  });
  const doc = (version: string, required: string[]) => ({
    ...spec({ OrderPlacedV1: order(version, { orderId: { type: 'string' }, category: { $ref: '#/components/schemas/Category' } }, ['orderId']) }),
    components: {
      messages: { OrderPlacedV1: order(version, { orderId: { type: 'string' }, category: { $ref: '#/components/schemas/Category' } }, ['orderId']) },
      schemas: { Category: category(required) },
    },
  });

  it('a change deep inside a recursive schema is found, and the recursion terminates', async () => {
    write(doc('1.0.0', ['name']));
    expect((await runCli(['release'])).code).toBe(0);
    const lock = JSON.parse(readFileSync(path.join(dir, 'registry.lock.json'), 'utf8')) as { events: Record<string, { versions: Record<string, { payload: unknown }> }> };
    // Recursion is stored as a local reference, not expanded.
    expect(JSON.stringify(lock.events['order.placed']!.versions['1.0.0']!.payload)).toContain('"$ref":"#/properties/category"');
    write(doc('1.1.0', ['name', 'code']));
    const result = await runCli(['check', '--format', 'json']);
    expect(rules(result.stdout)).toEqual(['REQUIRED_PROPERTY_ADDED']);
    const finding = (JSON.parse(result.stdout) as { findings: Array<{ location: { file: string; line: number } }> }).findings[0]!;
    expect(finding.location.file).toBe('asyncapi/orders.yaml');
  });
});
