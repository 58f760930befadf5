/**
 * EVENT_SOURCED_VERSION_REMOVED end to end through the CLI: a released version of an event
 * type bound to an aggregate (`x-aggregate`) may not leave the contract, even deprecated;
 * the same changes to an unbound type follow the existing rules unchanged.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { runCli } from '../helpers/cli.js';
import { useScratchWorkspace } from '../helpers/scratch.js';

type Doc = Record<string, any>;

interface Version {
  version: string;
  deprecated?: boolean;
  /** Optional properties beyond the base ones (a minor adds one). */
  extra?: string[];
  /** The major's channel has no x-aggregate (it inherits the type's). */
  unbound?: boolean;
}

/** `order.placed` at the given versions, one channel per major; `bound`: the channels say x-aggregate. Plus an unbound `order.noted`. */
function spec(versions: Version[], bound: boolean): Doc {
  const channels: Doc = {};
  const operations: Doc = {};
  const messages: Doc = {};
  for (const v of versions) {
    const major = Number(v.version.split('.')[0]);
    const key = `OrderPlaced${v.version.replace(/\./g, '_')}`;
    messages[key] = {
      name: 'order.placed',
      'x-version': v.version,
      payload: {
        type: 'object',
        required: ['orderId', 'customerId'],
        properties: Object.fromEntries([...['orderId', 'customerId', ...(major > 1 ? ['currency'] : [])], ...(v.extra ?? [])].map((p) => [p, { type: 'string' }])),
      },
      ...(v.deprecated ? { 'x-deprecated': { since: '2026-01-01', replacedBy: 'order.placed@2.0.0' } } : {}),
    };
    const id = `placedV${major}`;
    channels[id] ??= {
      address: `order.{customerId}.placed.v${major}`,
      parameters: { customerId: { location: '$message.payload#/customerId' } },
      messages: {},
      ...(bound && !v.unbound ? { 'x-aggregate': { type: 'customer', domain: 'shop', id: 'customerId' } } : {}),
    };
    channels[id].messages[key] = { $ref: `#/components/messages/${key}` };
    operations[`publish${key}`] = { action: 'send', channel: { $ref: `#/channels/${id}` }, messages: [{ $ref: `#/channels/${id}/messages/${key}` }] };
  }
  channels['noted'] = { address: 'order.noted.v1', messages: { OrderNoted: { $ref: '#/components/messages/OrderNoted' } } };
  operations['publishOrderNoted'] = { action: 'send', channel: { $ref: '#/channels/noted' } };
  messages['OrderNoted'] = { name: 'order.noted', 'x-version': '1.0.0', payload: { type: 'object', properties: { note: { type: 'string' } } } };
  return { asyncapi: '3.0.0', info: { title: 'Orders', version: '1.0.0', 'x-service-id': 'orders' }, channels, operations, components: { messages } };
}

let dir: string;
useScratchWorkspace('gate-event-sourced', (d) => (dir = d));

const FILE = 'asyncapi/orders.yaml';
const write = (doc: Doc) => {
  const text = stringify(doc);
  writeFileSync(path.join(dir, FILE), text);
  return text;
};

interface Reported {
  rule: string;
  severity: string;
  message: string;
  event?: string;
  location?: { file: string; line: number; column: number };
}

async function release(doc: Doc) {
  write(doc);
  const result = await runCli(['release']);
  expect(result.code, result.stderr).toBe(0);
}

async function check(args: string[] = []): Promise<{ code: number; errors: Reported[] }> {
  const result = await runCli(['check', '--format', 'json', ...args]);
  const findings = (JSON.parse(result.stdout) as { findings: Reported[] }).findings;
  return { code: result.code, errors: findings.filter((f) => f.severity === 'error') };
}

const v1 = { version: '1.0.0' };
const v1Deprecated = { version: '1.0.0', deprecated: true };
const v2 = { version: '2.0.0' };

describe('removing a released version of an event-sourced type', () => {
  it('release v1, add v2, remove v1: refused at the x-aggregate, with the lock entry related', async () => {
    await release(spec([v1], true));
    await release(spec([v1, v2], true));
    const text = write(spec([v2], true));
    const { code, errors } = await check();
    expect(code).toBe(1);
    expect(errors.map((e) => [e.rule, e.event])).toEqual([['EVENT_SOURCED_VERSION_REMOVED', 'order.placed@1.0.0']]);
    const [finding] = errors;
    expect(finding!.message).toMatch(/released version order\.placed@1\.0\.0 of event-sourced type "order\.placed" \(aggregate shop\.customer\) left the contract: event stores keep old versions forever/);
    expect(finding!.message).toMatch(/upcasting them to the next major, needs this version's schema/);
    expect(finding!.location).toMatchObject({ file: FILE, line: text.split('\n').findIndex((l) => l.includes('x-aggregate:')) + 1 });

    const human = await runCli(['check']);
    expect(human.stderr).toMatch(/^asyncapi\/orders\.yaml:\d+:\d+: error EVENT_SOURCED_VERSION_REMOVED: /m);
    expect(human.stderr).toMatch(/registry\.lock\.json:\d+:\d+/);
  });

  it('refused even when the deprecation was released (which allows it for other types)', async () => {
    await release(spec([v1Deprecated, v2], true));
    write(spec([v2], true));
    const { code, errors } = await check();
    expect(code).toBe(1);
    expect(errors.map((e) => e.rule)).toEqual(['EVENT_SOURCED_VERSION_REMOVED']);
    expect(errors[0]!.message).toMatch(/left the contract, though deprecated: /);
  });

  it('a newer minor replaces an older one where the level proves it reads the old events (BACKWARD or FULL)', async () => {
    await release(spec([v1], true));
    write(spec([{ version: '1.1.0', extra: ['note'] }], true));
    expect((await check()).errors).toEqual([]);
  });

  it('a newer minor does not replace an older one under FORWARD: refused', async () => {
    writeFileSync(path.join(dir, 'event-contracts.config.json'), JSON.stringify({ compatibility: { level: 'FORWARD' } }));
    await release(spec([v1], true));
    write(spec([{ version: '1.1.0', extra: ['note'] }], true));
    const { errors } = await check();
    expect(errors.map((e) => e.rule)).toEqual(['EVENT_SOURCED_VERSION_REMOVED']);
    expect(errors[0]!.message).toMatch(/order\.placed@1\.1\.0 replaces it, but FORWARD does not prove it reads the old events/);
  });

  it('release refuses it too, and writes no lock', async () => {
    await release(spec([v1Deprecated, v2], true));
    write(spec([v2], true));
    const result = await runCli(['release']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/EVENT_SOURCED_VERSION_REMOVED/);
  });

  it('an ignore rule with a reason accepts it, visibly', async () => {
    writeFileSync(
      path.join(dir, 'event-contracts.config.json'),
      JSON.stringify({ compatibility: { ignore: [{ rule: 'EVENT_SOURCED_VERSION_REMOVED', event: 'order.placed', reason: 'every store was migrated to v2 in March' }] } }),
    );
    await release(spec([v1Deprecated, v2], true));
    write(spec([v2], true));
    const result = await runCli(['check', '--format', 'json']);
    expect(result.code).toBe(0);
    const accepted = (JSON.parse(result.stdout) as { findings: Reported[] }).findings.filter((f) => f.rule === 'EVENT_SOURCED_VERSION_REMOVED');
    expect(accepted).toHaveLength(1);
    expect(JSON.stringify(accepted[0])).toContain('every store was migrated to v2 in March');
  });
});

describe('the same changes to a type without x-aggregate: the existing rules, unchanged', () => {
  it('release v1, add v2, remove v1: RELEASED_VERSION_REMOVED', async () => {
    await release(spec([v1], false));
    await release(spec([v1, v2], false));
    write(spec([v2], false));
    const { errors } = await check();
    expect(errors.map((e) => e.rule)).toEqual(['RELEASED_VERSION_REMOVED']);
  });

  it('removal allowed once the deprecation was released', async () => {
    await release(spec([v1Deprecated, v2], false));
    write(spec([v2], false));
    const { code, errors } = await check();
    expect(errors).toEqual([]);
    expect(code).toBe(0);
  });

  it('a newer minor replaces an older one under FORWARD', async () => {
    writeFileSync(path.join(dir, 'event-contracts.config.json'), JSON.stringify({ compatibility: { level: 'FORWARD' } }));
    await release(spec([v1], false));
    write(spec([{ version: '1.1.0', extra: ['note'] }], false));
    expect((await check()).errors).toEqual([]);
  });
});

describe('check --against: a bound type removed whole', () => {
  const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, stdio: 'pipe' });
  const commit = () => {
    git('-c', 'user.email=ci@example.com', '-c', 'user.name=ci', 'add', '-A');
    git('-c', 'user.email=ci@example.com', '-c', 'user.name=ci', 'commit', '-q', '-m', 'baseline');
  };

  it("the base branch's contract says it was bound: refused though deprecated", async () => {
    await release(spec([v1Deprecated], true));
    git('init', '-q', '-b', 'main');
    commit();
    write(spec([], true));
    const { errors } = await check(['--against', 'main']);
    expect(errors.map((e) => e.rule)).toContain('EVENT_SOURCED_VERSION_REMOVED');
    expect(errors.map((e) => e.rule)).not.toContain('RELEASED_VERSION_REMOVED');
    const finding = errors.find((e) => e.rule === 'EVENT_SOURCED_VERSION_REMOVED')!;
    expect(finding.event).toBe('order.placed@1.0.0');
    // Located in the owner's document, the file of the change.
    expect(finding.location?.file).toBe(FILE);
  });

  it("v1's channel held the only x-aggregate (v2 inherits it) and left with v1: the base's binding counts", async () => {
    await release(spec([v1Deprecated, { ...v2, unbound: true }], true));
    git('init', '-q', '-b', 'main');
    commit();
    write(spec([{ ...v2, unbound: true }], true));
    const { errors } = await check(['--against', 'main']);
    expect(errors.filter((e) => e.event === 'order.placed@1.0.0').map((e) => e.rule)).toEqual(['EVENT_SOURCED_VERSION_REMOVED']);
  });

  it('an unbound type removed whole after a released deprecation: no such finding', async () => {
    await release(spec([v1Deprecated], false));
    git('init', '-q', '-b', 'main');
    commit();
    write(spec([], false));
    const { errors } = await check(['--against', 'main']);
    expect(errors.map((e) => e.rule)).not.toContain('EVENT_SOURCED_VERSION_REMOVED');
    expect(errors.map((e) => e.rule)).not.toContain('RELEASED_VERSION_REMOVED');
  });
});
