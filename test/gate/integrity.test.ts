/**
 * The gate cannot be talked out of its baseline: `check --against` reads the base's config
 * to find the base's specs and lock, reports a moved spec folder or lock, treats every
 * edit of a released lock entry as its own finding, and only trusts a deprecation the base
 * recorded (or the branch's specs declare). Locally, a lock edited by hand no longer
 * matches its checksum.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { runCli } from '../helpers/cli.js';
import { useScratchWorkspace } from '../helpers/scratch.js';

type Doc = Record<string, any>;

const order = (version: string, required: string[], extra: Doc = {}): Doc => ({
  name: 'order.placed',
  'x-version': version,
  payload: {
    type: 'object',
    required,
    properties: { orderId: { type: 'string' }, total: { type: 'integer' }, currency: { type: 'string' } },
  },
  ...extra,
});

function spec(messages: Record<string, Doc>): Doc {
  const channels: Doc = {};
  const operations: Doc = {};
  for (const [key, message] of Object.entries(messages)) {
    const major = Number(String(message['x-version']).split('.')[0]);
    channels[`ch${key}`] = { address: `order.placed.v${major}`, messages: { [key]: { $ref: `#/components/messages/${key}` } } };
    operations[`publish${key}`] = { action: 'send', channel: { $ref: `#/channels/ch${key}` } };
  }
  return { asyncapi: '3.0.0', info: { title: 'Orders', version: '1.0.0', 'x-service-id': 'orders' }, channels, operations, components: { messages } };
}

let dir: string;
useScratchWorkspace('gate-integrity', (d) => (dir = d));

const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, stdio: 'pipe' });
const write = (doc: Doc, folder = 'asyncapi') => writeFileSync(path.join(dir, folder, 'orders.yaml'), stringify(doc));
const readLock = (file = 'registry.lock.json') => JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as Doc;
const writeLock = (lock: Doc, file = 'registry.lock.json') => writeFileSync(path.join(dir, file), JSON.stringify(lock, null, 2) + '\n');
const errors = (stdout: string) =>
  (JSON.parse(stdout) as { findings: Array<{ rule: string; severity: string; ignored?: string }> }).findings
    .filter((f) => f.severity === 'error')
    .map((f) => f.rule)
    .sort();
const config = (c: Doc) => writeFileSync(path.join(dir, 'event-contracts.config.json'), JSON.stringify(c));

async function baseline(doc: Doc, cfg?: Doc): Promise<void> {
  if (cfg) config(cfg);
  write(doc);
  const released = await runCli(['release']);
  expect(released.code, released.stderr).toBe(0);
  git('init', '-q', '-b', 'main');
  git('-c', 'user.email=ci@example.com', '-c', 'user.name=ci', 'add', '-A');
  git('-c', 'user.email=ci@example.com', '-c', 'user.name=ci', 'commit', '-q', '-m', 'baseline');
}

const against = async () => runCli(['check', '--against', 'main', '--format', 'json']);
const v1 = () => ({ OrderPlacedV1: order('1.0.0', ['orderId']) });
/** Released 1.0.0 edited in place: a breaking change the gate must catch. */
const edited = () => ({ OrderPlacedV1: order('1.0.0', ['orderId', 'total']) });

describe('check --against reads the base where the base keeps it', () => {
  it('a branch that moves the lock (emptied) still meets the base lock, and the move is reported', async () => {
    await baseline(spec(v1()), { lockFile: 'registry.lock.json' });
    config({ lockFile: 'elsewhere.lock.json' });
    writeLock({ lockfileVersion: 2, events: {} }, 'elsewhere.lock.json');
    write(spec(edited()));
    const result = await against();
    expect(result.code).toBe(1);
    expect(errors(result.stdout)).toEqual(['CONFIG_PATHS_CHANGED', 'LOCK_ENTRY_REMOVED', 'RELEASED_VERSION_MODIFIED']);
  });

  it('a branch that renames the spec folder is compared with the base folder, and the rename is reported', async () => {
    await baseline(spec(v1()), { specs: ['asyncapi'] });
    renameSync(path.join(dir, 'asyncapi'), path.join(dir, 'contracts'));
    config({ specs: ['contracts'] });
    write(spec(edited()), 'contracts');
    const result = await against();
    expect(errors(result.stdout)).toEqual(['CONFIG_PATHS_CHANGED', 'RELEASED_VERSION_MODIFIED']);
    const finding = (JSON.parse(result.stdout) as { findings: Array<{ rule: string; location?: { file: string; line: number } }> }).findings.find((f) => f.rule === 'CONFIG_PATHS_CHANGED')!;
    expect(finding.location).toMatchObject({ file: 'event-contracts.config.json', line: 1 });
  });

  it('without a config on either side, the defaults are compared: nothing to report', async () => {
    await baseline(spec(v1()));
    expect(errors((await against()).stdout)).toEqual([]);
  });
});

describe('compatibility settings on the branch', () => {
  it.each([
    ['level NONE', { compatibility: { level: 'NONE' } }, true],
    ['a non-transitive level', { compatibility: { level: 'FULL' } }, true],
    ['one event set to FORWARD only', { compatibility: { events: { 'order.placed': { level: 'FORWARD' } } } }, true],
    ['a stricter policy', { compatibility: { policy: 'strict' } }, false],
    ['the same settings written out', { compatibility: { level: 'FULL_TRANSITIVE', policy: 'lenient' } }, false],
  ])('%s: weakened = %s', async (_name, cfg, weakened) => {
    await baseline(spec(v1()));
    config(cfg);
    const found = errors((await against()).stdout);
    expect(found.includes('COMPATIBILITY_WEAKENED')).toBe(weakened);
  });

  it('a branch that sets level NONE to pass a breaking change is caught; the change itself is still reported against the lock', async () => {
    await baseline(spec(v1()));
    config({ compatibility: { level: 'NONE' } });
    write(spec(edited()));
    expect(errors((await against()).stdout)).toEqual(['COMPATIBILITY_WEAKENED', 'RELEASED_VERSION_MODIFIED']);
  });
});

describe('a released lock entry is immutable, field by field', () => {
  const cases: Array<[string, (entry: Doc) => void, string]> = [
    ['owner', (e) => (e.owner = 'someone-else'), 'LOCK_ENTRY_OWNER_CHANGED'],
    ['channels', (e) => (e.channels = ['order.other.v1']), 'LOCK_ENTRY_CHANNELS_CHANGED'],
    ['payload', (e) => (e.payload.required = []), 'LOCK_ENTRY_PAYLOAD_CHANGED'],
    ['fingerprint', (e) => (e.fingerprint = 'sha256:0000'), 'LOCK_ENTRY_FINGERPRINT_CHANGED'],
    ['payload fingerprint', (e) => (e.payloadFingerprint = 'sha256:0000'), 'LOCK_ENTRY_FINGERPRINT_CHANGED'],
    ['content type', (e) => (e.contentType = 'text/plain'), 'LOCK_ENTRY_CONTENT_TYPE_CHANGED'],
    ['operations', (e) => (e.operations = []), 'LOCK_ENTRY_OPERATIONS_CHANGED'],
    ['deprecation (forged)', (e) => (e.deprecated = true), 'LOCK_ENTRY_DEPRECATION_CHANGED'],
    ['an unknown field', (e) => (e.note = 'x'), 'LOCK_ENTRY_CHANGED'],
  ];
  it.each(cases)('%s', async (_name, edit, rule) => {
    await baseline(spec(v1()));
    const lock = readLock();
    edit(lock.events['order.placed'].versions['1.0.0']);
    writeLock(lock);
    expect(errors((await against()).stdout)).toEqual([rule]);
  });

  it('a forged deprecation does not allow removing the released version', async () => {
    await baseline(spec({ ...v1(), OrderPlacedV2: order('2.0.0', ['orderId', 'total']) }));
    const lock = readLock();
    lock.events['order.placed'].versions['1.0.0'].deprecated = true;
    writeLock(lock);
    write(spec({ OrderPlacedV2: order('2.0.0', ['orderId', 'total']) }));
    const result = await against();
    expect(errors(result.stdout)).toEqual(expect.arrayContaining(['LOCK_ENTRY_DEPRECATION_CHANGED', 'RELEASED_VERSION_REMOVED']));
  });

  it('a deprecation the specs declare and release recorded is no edit', async () => {
    await baseline(spec({ ...v1(), OrderPlacedV2: order('2.0.0', ['orderId', 'total']) }));
    write(spec({ OrderPlacedV1: order('1.0.0', ['orderId'], { 'x-deprecated': { reason: 'use 2.0.0' } }), OrderPlacedV2: order('2.0.0', ['orderId', 'total']) }));
    const released = await runCli(['release']);
    expect(released.stderr).toMatch(/recorded deprecation of order\.placed@1\.0\.0/);
    expect(readLock().events['order.placed'].versions['1.0.0'].deprecated).toBe(true);
    expect(errors((await against()).stdout)).toEqual([]);
  });

  it('a format-1 lock upgraded by release is no edit; the base must still hold the values the upgrade adds', async () => {
    // The base holds a format-1 lock: the new fields are absent.
    write(spec(v1()));
    expect((await runCli(['release'])).code).toBe(0);
    const lock = readLock();
    const entry = lock.events['order.placed'].versions['1.0.0'];
    delete entry.payloadFingerprint;
    delete entry.operations;
    writeLock({ lockfileVersion: 1, events: lock.events });
    git('init', '-q', '-b', 'main');
    git('-c', 'user.email=ci@example.com', '-c', 'user.name=ci', 'add', '-A');
    git('-c', 'user.email=ci@example.com', '-c', 'user.name=ci', 'commit', '-q', '-m', 'baseline');
    const local = await runCli(['check', '--format', 'json']);
    expect(local.code).toBe(0);
    expect((JSON.parse(local.stdout) as { findings: Array<{ rule: string; severity: string }> }).findings.map((f) => [f.rule, f.severity])).toEqual([['LOCK_CHECKSUM_MISSING', 'warning']]);
    const upgrade = await runCli(['release']);
    expect(upgrade.stderr).toMatch(/upgraded 1 entries to lock format 2/);
    expect(readLock()).toMatchObject({ lockfileVersion: 2, checksum: expect.stringMatching(/^sha256:/) });
    expect(errors((await against()).stdout)).toEqual([]);
    // An upgrade that brings a value the base does not support is an edit.
    const forged = readLock();
    forged.events['order.placed'].versions['1.0.0'].operations = ['orders send somethingElse'];
    writeLock(forged);
    expect(errors((await against()).stdout)).toEqual(['LOCK_ENTRY_OPERATIONS_CHANGED']);
  });
});

describe('the local check and the lock checksum', () => {
  it('a lock written by release passes; an entry edited by hand fails, located', async () => {
    write(spec(v1()));
    expect((await runCli(['release'])).code).toBe(0);
    expect(errors((await runCli(['check', '--format', 'json'])).stdout)).toEqual([]);
    const lock = readLock();
    lock.events['order.placed'].versions['1.0.0'].deprecated = true;
    writeLock(lock);
    const result = await runCli(['check']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/registry\.lock\.json:\d+:\d+: error LOCK_CHECKSUM_MISMATCH: /);
  });
});

describe('a baseline whose documents reference files outside the spec folder', () => {
  const shared = (required: string[]) =>
    stringify({ Order: { type: 'object', required, properties: { orderId: { type: 'string' }, total: { type: 'integer' } } } });
  const withShared = (): Doc => {
    const doc = spec({ OrderPlacedV1: { name: 'order.placed', 'x-version': '1.0.0', payload: { $ref: '../shared/order.yaml#/Order' } } });
    return doc;
  };

  it('fetches them from the base too, so the contract checks run (and catch a break)', async () => {
    mkdirSync(path.join(dir, 'shared'));
    writeFileSync(path.join(dir, 'shared/order.yaml'), shared(['orderId']));
    await baseline(withShared(), { specs: ['asyncapi'] });
    expect(errors((await against()).stdout)).toEqual([]);
    // Breaking, in the shared file, and the channel moved: both seen against the base.
    writeFileSync(path.join(dir, 'shared/order.yaml'), shared(['orderId', 'total']));
    const moved = withShared();
    moved.channels.chOrderPlacedV1.address = 'orders.placed.v1';
    write(moved);
    expect(errors((await against()).stdout)).toEqual(['CHANNEL_ADDRESS_CHANGED', 'RELEASED_VERSION_MODIFIED']);
  });

  it('a base whose documents do not load is a finding, not a silent pass', async () => {
    mkdirSync(path.join(dir, 'shared'));
    writeFileSync(path.join(dir, 'shared/order.yaml'), shared(['orderId']));
    // The fragment is on disk but was never committed: the base cannot load its document.
    writeFileSync(path.join(dir, '.gitignore'), 'shared/\n');
    await baseline(withShared(), { specs: ['asyncapi'] });
    const result = await against();
    expect(errors(result.stdout)).toEqual(['BASELINE_NOT_LOADED']);
    expect(result.stdout).toContain('main:asyncapi/orders.yaml');
  });
});
