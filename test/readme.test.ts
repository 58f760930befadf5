/**
 * The README's claims that code can check: the rule reference lists every rule the
 * engine and the gate can report, the CloudEvents table matches the runtime's mapping,
 * and the two commands on its first lines are the ones the project runs.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RULE_IDS } from '../src/compat/schema/index.js';
import { CLOUDEVENTS_MAPPING } from '../src/runtime/index.js';

const readme = readFileSync('README.md', 'utf8');

function gateRuleIds(): string[] {
  const ids = new Set<string>();
  for (const file of readdirSync('src/gate')) {
    for (const m of readFileSync(`src/gate/${file}`, 'utf8').matchAll(/rule: '([A-Z_]+)'/g)) ids.add(m[1]!);
    for (const m of readFileSync(`src/gate/${file}`, 'utf8').matchAll(/'((?:MESSAGE_NO_LONGER_SENT|MESSAGE_NO_LONGER_ACCEPTED))'/g)) ids.add(m[1]!);
  }
  return [...ids].sort();
}

describe('README', () => {
  it('lists every schema rule id in the rule reference', () => {
    const missing = RULE_IDS.filter((id) => !readme.includes(`| \`${id}\` |`));
    expect(missing).toEqual([]);
  });

  it('lists every gate rule id', () => {
    const ids = gateRuleIds();
    expect(ids.length).toBeGreaterThan(15);
    expect(ids.filter((id) => !readme.includes(`| \`${id}\` |`))).toEqual([]);
  });

  it('shows the runtime CloudEvents mapping', () => {
    for (const row of CLOUDEVENTS_MAPPING) {
      if (row.binaryHeader.startsWith('ce-') || row.binaryHeader.startsWith('content-')) expect(readme).toContain(`\`${row.binaryHeader}\``);
    }
  });

  it('starts with the set-up and test commands the project defines', () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> };
    const head = readme.split('\n').slice(0, 6).join('\n');
    expect(head).toContain('npm install && npm run generate');
    expect(head).toContain('npm test');
    expect(pkg.scripts.generate).toBeDefined();
    expect(readFileSync('.ci/run', 'utf8')).toContain('npm test');
  });
});
