/**
 * A finding lands on the line that changed, in the file that changed (a shared fragment
 * when the change is there), so a review annotation sits on the diff — not on the message
 * or the payload's root.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { useScratchWorkspace } from '../helpers/scratch.js';

let dir: string;
useScratchWorkspace('gate-locations', (d) => (dir = d));

/** Line 10 is the first payload; note's maxLength is line 15 in the inline form. */
const orders = (versions: Array<{ version: string; payload: string }>) =>
  [
    'asyncapi: 3.0.0',
    'info: { title: Orders, version: 1.0.0, x-service-id: orders }',
    'channels:',
    '  placed:',
    '    address: order.placed.v1',
    '    messages:',
    ...versions.flatMap((v, i) => [`      m${i}:`, '        name: order.placed', `        x-version: ${v.version}`, `        payload:${v.payload}`]),
    '',
  ].join('\n');

const inline = (maxLength: number, extra = '') =>
  `\n          type: object\n          properties:\n            note:\n              type: string\n              maxLength: ${maxLength}${extra}`;

interface Located {
  rule: string;
  location: { file: string; line: number };
}

async function check(): Promise<Located[]> {
  const result = await runCli(['check', '--format', 'json']);
  return (JSON.parse(result.stdout) as { findings: Located[] }).findings.filter((f) => (f as unknown as { severity: string }).severity === 'error');
}

describe('finding locations', () => {
  it('a released version edited in place: the changed keyword, not the payload root', async () => {
    writeFileSync('asyncapi/orders.yaml', orders([{ version: '1.0.0', payload: inline(200) }]));
    expect((await runCli(['release'])).code).toBe(0);
    writeFileSync('asyncapi/orders.yaml', orders([{ version: '1.0.0', payload: inline(100) }]));
    const [finding] = await check();
    expect(finding).toMatchObject({ rule: 'RELEASED_VERSION_MODIFIED', location: { file: 'asyncapi/orders.yaml', line: 15 } });
  });

  it('a change inside a shared fragment: the fragment, at the changed line', async () => {
    const fragment = (maxLength: number) => ['Order:', '  type: object', '  properties:', '    note:', '      type: string', `      maxLength: ${maxLength}`, ''].join('\n');
    writeFileSync('asyncapi/common.yaml', fragment(200));
    writeFileSync('asyncapi/orders.yaml', orders([{ version: '1.0.0', payload: " { $ref: 'common.yaml#/Order' }" }]));
    expect((await runCli(['release'])).code).toBe(0);
    writeFileSync('asyncapi/common.yaml', fragment(100));
    const [finding] = await check();
    expect(finding).toMatchObject({ rule: 'RELEASED_VERSION_MODIFIED', location: { file: 'asyncapi/common.yaml', line: 6 } });
  });

  it('a released version removed: the owner\'s document (a file of the change), with the lock entry as the previous location', async () => {
    writeFileSync('asyncapi/orders.yaml', orders([{ version: '1.0.0', payload: inline(200) }, { version: '2.0.0', payload: inline(200) }]));
    expect((await runCli(['release'])).code).toBe(0);
    writeFileSync('asyncapi/orders.yaml', orders([{ version: '2.0.0', payload: inline(200) }]));
    const result = await runCli(['check', '--format', 'json']);
    const finding = (JSON.parse(result.stdout) as { findings: Array<Located & { previous?: { file: string } }> }).findings.find((f) => f.rule === 'RELEASED_VERSION_REMOVED')!;
    expect(finding.location).toMatchObject({ file: 'asyncapi/orders.yaml', line: 2 });
    expect(finding.previous?.file).toBe('registry.lock.json');
  });

  it('an additive change with a patch bump: the added property', async () => {
    writeFileSync('asyncapi/orders.yaml', orders([{ version: '1.0.0', payload: inline(200) }]));
    expect((await runCli(['release'])).code).toBe(0);
    // The second message starts at line 16; its payload's added property `tag` at line 25.
    writeFileSync('asyncapi/orders.yaml', orders([
      { version: '1.0.0', payload: inline(200) },
      { version: '1.0.1', payload: inline(200, '\n            tag:\n              type: string') },
    ]));
    const findings = await check();
    expect(findings.map((f) => [f.rule, f.location.file, f.location.line])).toEqual([['SEMVER_BUMP_TOO_SMALL', 'asyncapi/orders.yaml', 25]]);
  });
});
