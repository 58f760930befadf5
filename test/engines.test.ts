/**
 * The Node range in package.json is the one the suite runs on, and the dependency that
 * declares a narrower one (@nats-io/nuid: ">= 22.x") works on it: it needs only
 * globalThis.crypto.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import semver from 'semver';
import { describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);

describe('engines', () => {
  it('the running Node is inside the range package.json declares', () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { engines: { node: string } };
    expect(semver.satisfies(process.version, pkg.engines.node), `${process.version} vs ${pkg.engines.node}`).toBe(true);
    expect(semver.minVersion(pkg.engines.node)?.major).toBe(20);
  });

  it('@nats-io/nuid declares Node 22 yet runs here: unique 22-character ids from globalThis.crypto', async () => {
    const nuidPackage = require('@nats-io/nuid/package.json') as { engines?: { node?: string } };
    expect(nuidPackage.engines?.node).toMatch(/22/);
    const { nuid } = (await import('@nats-io/nuid')) as { nuid: { next(): string } };
    const ids = new Set(Array.from({ length: 1000 }, () => nuid.next()));
    expect(ids.size).toBe(1000);
    for (const id of ids) expect(id).toMatch(/^[0-9A-Za-z]{22}$/);
  });
});
