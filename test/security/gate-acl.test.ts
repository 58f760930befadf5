/**
 * `check` and `acl` refuse the same contracts at the same places: every ACL rule the access
 * view reports (a wildcard in an address, a consumer group of two services, a service whose
 * operations the broker cannot grant) is a located error finding of the gate, and `acl`
 * writes nothing for it. A document that only declares channels and messages asks for no
 * account and passes both.
 */
import { cpSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyIgnores, gateFails } from '../../src/gate/index.js';
import { checkAccessGrantable } from '../../src/gate/access-rules.js';
import { ACL_RULES, serviceAccess } from '../../src/security/access.js';
import { natsAclPlan } from '../../src/security/nats-acl.js';
import { openWorkspace } from '../../src/workspace.js';
import { runCli } from '../helpers/cli.js';
import { useScratchWorkspace } from '../helpers/scratch.js';

const FIX = resolve('test/security/fixtures');
/** A scratch workspace (no lock: nothing released) holding the fixture as `asyncapi/<dir>`. */
const workspaceOf = (dir: string) => cpSync(join(FIX, dir), join('asyncapi', dir), { recursive: true });
const cases = [
  { dir: 'wildcard', code: 'ACL_WILDCARD_ADDRESS', at: 'wildcard/orders.yaml:7:3' },
  { dir: 'twice', code: 'ACL_GROUP_CLAIMED_TWICE', at: 'twice/shipping.yaml:15:3' },
  { dir: 'nothing', code: 'ACL_NOTHING_GRANTED', at: 'nothing/idle.yaml:2:1' },
  { dir: 'group-name', code: 'ACL_GROUP_NAME', at: 'group-name/shipping.yaml:15:3' },
] as const;

interface JsonFinding {
  rule: string;
  severity: string;
  location?: { file: string; line: number; column: number };
}

describe('check reports what acl refuses', () => {
  let out = '';
  useScratchWorkspace('gate-acl', (d) => (out = d));

  for (const c of cases) {
    it(`${c.dir}: ${c.code} from check (human and json) and acl, at ${c.at}; acl writes nothing`, async () => {
      workspaceOf(c.dir);
      const human = await runCli(['check']);
      expect(human.code).toBe(1);
      expect(human.stderr + human.stdout).toMatch(new RegExp(`${c.at.replace(/[./]/g, '\\$&')}:? .*${c.code}`));

      const json = await runCli(['check', '--format', 'json']);
      expect(json.code).toBe(1);
      const errors = (JSON.parse(json.stdout) as { findings: JsonFinding[] }).findings.filter((f) => f.severity === 'error');
      const [file, line, column] = c.at.split(':');
      expect(errors).toEqual([expect.objectContaining({ rule: c.code, location: expect.objectContaining({ file: expect.stringContaining(file!), line: Number(line), column: Number(column) }) })]);

      const written = join(out, `${c.dir}.conf`);
      const acl = await runCli(['acl', 'nats', 'asyncapi', '--out', written]);
      expect(acl.code).toBe(1);
      expect(acl.stderr).toContain(`${c.at}: error ${c.code}`);
      expect(acl.stderr).toContain('acl nats: nothing written');
      expect(existsSync(written)).toBe(false);
    }, 60_000);
  }

  it('acl --format json refuses too, and writes nothing', async () => {
    workspaceOf('nothing');
    const written = join(out, 'json.conf');
    const r = await runCli(['acl', 'amqp', 'asyncapi', '--out', written, '--format', 'json']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('ACL_NOTHING_GRANTED');
    expect(existsSync(written)).toBe(false);
  }, 60_000);

  it('the gate and acl read one access view: the same codes at the same places', async () => {
    for (const c of cases) {
      const catalog = (await openWorkspace([`${FIX}/${c.dir}`], { examples: false })).catalog;
      const key = (d: { code: string; location?: { file: string; line: number; column: number } }) => `${d.code} ${resolve(d.location!.file)}:${d.location!.line}:${d.location!.column}`;
      const gate = checkAccessGrantable(catalog).map(key).sort();
      expect(gate).toEqual(natsAclPlan(catalog).diagnostics.map(key).sort());
      expect(gate.length).toBeGreaterThan(0);
    }
  }, 60_000);

  it('every ACL rule can reach check: none is filtered out on the way', async () => {
    const reported = new Set<string>();
    for (const c of cases) for (const f of checkAccessGrantable((await openWorkspace([`${FIX}/${c.dir}`], { examples: false })).catalog)) reported.add(f.rule);
    expect([...ACL_RULES].filter((r) => !reported.has(r))).toEqual([]);
  }, 60_000);

  it('an accepted ACL_NOTHING_GRANTED (compatibility.ignore with a reason) no longer fails the gate', async () => {
    const catalog = (await openWorkspace([`${FIX}/nothing`], { examples: false })).catalog;
    const findings = checkAccessGrantable(catalog);
    expect(gateFails(findings)).toBe(true);
    const accepted = applyIgnores(findings, [{ rule: 'ACL_NOTHING_GRANTED', reason: 'idle is being built' }]);
    expect(gateFails(accepted)).toBe(false);
    expect(accepted[0]).toMatchObject({ ignored: 'idle is being built', severity: 'info' });
  }, 60_000);
});

describe('a document that only declares channels and messages', () => {
  useScratchWorkspace('gate-acl-declares', () => undefined);
  it('asks for no account: check and acl pass, and no user is generated for it', async () => {
    const catalog = (await openWorkspace([`${FIX}/declares-only`], { examples: false })).catalog;
    expect(catalog.services.map((s) => s.id).sort()).toEqual(['orders', 'shared-catalog']);
    expect(serviceAccess(catalog)).toEqual({ access: [expect.objectContaining({ service: 'orders' })], diagnostics: [] });
    expect(natsAclPlan(catalog).plan.users.map((u) => u.user)).not.toContain('shared-catalog');
    workspaceOf('declares-only');
    expect((await runCli(['check'])).code).toBe(0);
    expect((await runCli(['acl', 'nats', 'asyncapi'])).code).toBe(0);
  }, 60_000);
});
