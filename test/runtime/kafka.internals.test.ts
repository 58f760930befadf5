/**
 * Canary for src/runtime/kafka/internals.ts: what it relies on in @platformatic/kafka (pinned
 * exactly) is still there, and the guard does its job. Fails on an upgrade that changes it.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { ConnectionPool, GenericError } from '@platformatic/kafka';
import { describe, expect, it } from 'vitest';
import { BROKER_GONE, guardConnectionPool, isBrokerGone } from '../../src/runtime/kafka/internals.js';

describe('@platformatic/kafka internals the Kafka transport relies on', () => {
  it('is the pinned version', () => {
    const require = createRequire(import.meta.url);
    const pkg = JSON.parse(readFileSync(require.resolve('@platformatic/kafka').replace(/dist\/index\.js$/, 'package.json'), 'utf8')) as { version: string };
    const ours = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { devDependencies: Record<string, string>; peerDependencies: Record<string, string> };
    expect(pkg.version).toBe('1.35.0');
    expect(ours.devDependencies['@platformatic/kafka']).toBe(pkg.version);
    expect(ours.peerDependencies['@platformatic/kafka']).toBe(pkg.version);
  });

  it('the consumer still looks its cached coordinator up in fresh metadata (the lookup that finds no broker once it left)', () => {
    // The consumer's group operations call pool.get(metadata.brokers.get(coordinatorId)).
    const source = readFileSync(createRequire(import.meta.url).resolve('@platformatic/kafka').replace(/index\.js$/, 'clients/consumer/consumer.js'), 'utf8');
    expect(source).toMatch(/kGetConnection\]\(metadata\.brokers\.get\(coordinatorId\)/);
  });

  it('with the guard, an absent broker is a retriable NetworkError for the callback and the promise, and other calls pass through', async () => {
    guardConnectionPool();
    guardConnectionPool(); // idempotent
    const pool = new ConnectionPool('canary');
    const viaCallback = await new Promise<Error | null>((resolve) => void pool.get(undefined as never, (e: Error | null) => resolve(e)));
    expect(viaCallback).toBeInstanceOf(GenericError);
    expect(viaCallback!.message).toContain(BROKER_GONE);
    expect((viaCallback as GenericError & { canRetry?: boolean }).canRetry).toBe(true);
    // The client's metadata handler calls findBy on it: a plain Error would throw there.
    expect(typeof (viaCallback as GenericError).findBy).toBe('function');
    await expect(pool.get(undefined as never)).rejects.toThrow(BROKER_GONE);
    expect(isBrokerGone(viaCallback)).toBe(true);
    expect(isBrokerGone(new AggregateError([viaCallback!], 'wrapped'))).toBe(true);
    expect(isBrokerGone(new Error('other'))).toBe(false);
    // A real broker address still goes to the client's own code (refused: nothing listens on port 1).
    await expect(pool.get({ host: '127.0.0.1', port: 1 })).rejects.toThrow();
    await pool.close();
  });
});
