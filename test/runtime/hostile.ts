/**
 * The hostile-input suite: what a misbehaving or malicious producer sends with the broker's
 * own client, against a consumer set up as the README says. Every transport runs it
 * unchanged. The promise it checks: every bad message is dead-lettered once with its reason,
 * every valid one handled once, and the consumer goes on (a valid event queued behind
 * thousands of bad ones is still handled).
 */
import { gzipSync } from 'node:zlib';
import { Ajv } from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEventBus, type DeadLetter, type EventBus, type EventDescriptor, type HeaderRecord, type Transport, type ValidationResult } from '../../src/runtime/index.js';
import { rand, waitFor } from './helpers.js';

export interface HostileHarness {
  /** Unique subject root; durable storage covers `<prefix>.>` (dead letters included). */
  prefix: string;
  /** A new connection for a bus (each bus closes its own). */
  connect(): Promise<Transport>;
  /** Sends exactly these headers and bytes, as a producer using the broker's client would. */
  sendRaw(subject: string, headers: HeaderRecord, body: Uint8Array): Promise<void>;
  /** Sends many at once (pipelined), for the flood case. */
  sendMany?(messages: ReadonlyArray<{ subject: string; headers: HeaderRecord; body: Uint8Array }>): Promise<void>;
  /** True when the broker holds nothing unsettled for the consumer `group` (checked on the server). */
  settledOnBroker?(group: string): Promise<boolean>;
  cleanup(): Promise<void>;
}

/** A recursive schema, as a contract with a tree or a comment thread has; compiled with ajv as generated validators are. */
const treeSchema = {
  $id: 'tree',
  type: 'object',
  required: ['name'],
  properties: { name: { type: 'string' }, note: { type: 'string' }, children: { type: 'array', items: { $ref: 'tree' } } },
};
const compiled = new Ajv({ allErrors: true }).compile(treeSchema);
interface Tree {
  name: string;
  note?: string;
  children?: Tree[];
}
const validateTree = (d: unknown): ValidationResult<Tree> =>
  compiled(d) ? { ok: true, value: d as unknown as Tree } : { ok: false, errors: (compiled.errors ?? []).map((e) => ({ path: e.instancePath, message: e.message ?? e.keyword })) };

const json = (v: unknown): Uint8Array => Buffer.from(JSON.stringify(v));

function deep(levels: number): string {
  // Built as text: JSON.stringify of such a value would overflow the stack itself.
  return '{"name":"n","children":['.repeat(levels) + '{"name":"leaf"}' + ']}'.repeat(levels);
}

export function describeHostileInput(name: string, makeHarness: () => Promise<HostileHarness>): void {
  describe(`hostile wire input: ${name}`, () => {
    let h: HostileHarness;
    let bus: EventBus;
    let reader: EventBus;
    let tree: EventDescriptor<Tree>;
    let subject: string;
    const group = `hostile_${rand()}`;
    const handled: string[] = [];
    const dls: DeadLetter[] = [];
    const ceHeaders = (id: string, extra: HeaderRecord = {}): HeaderRecord => ({
      'ce-specversion': '1.0',
      'ce-id': id,
      'ce-type': 'tree.planted',
      'ce-source': 'hostile',
      'ce-time': new Date().toISOString(),
      'ce-eventversion': '1.0.0',
      'content-type': 'application/json',
      'x-case': id,
      ...extra,
    });
    const dlFor = (id: string): DeadLetter[] => dls.filter((d) => d.headers.get('x-case') === id);

    beforeAll(async () => {
      h = await makeHarness();
      tree = { type: 'tree.planted', version: '1.0.0', address: `${h.prefix}.trees.{kind}`, parameters: ['kind'], validate: validateTree };
      subject = `${h.prefix}.trees.oak`;
      reader = createEventBus({ transport: await h.connect(), source: 'test/hostile-reader' });
      await reader.subscribeDeadLetters({ subject: `${h.prefix}.dlq`, group: `${group}_dl` }, async (dl) => void dls.push(dl));
      bus = createEventBus({ transport: await h.connect(), source: 'test/hostile' });
      await bus.subscribe({
        group,
        deadLetter: { subject: `${h.prefix}.dlq` },
        concurrency: 8,
        maxDeliver: 2,
        backoff: { initialMs: 20, maxMs: 100 },
        handlers: [{ type: 'tree.planted', accepts: [tree], handle: async (e) => void handled.push(e.id) }],
      });
    });
    afterAll(async () => {
      await Promise.allSettled([bus?.close(), reader?.close()]);
      await h?.cleanup();
    });

    it('dead-letters each kind of bad message once, with its reason, and handles the valid ones once', async () => {
      const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024, 0x20)); // 64 MiB of spaces in ~64 KB
      const cases: Array<[string, HeaderRecord, Uint8Array, string]> = [
        ['not-json', ceHeaders('not-json'), Buffer.from('{"name": oak'), 'undecodable'],
        ['binary', ceHeaders('binary'), Uint8Array.from([0xff, 0xfe, 0x00, 0x7b]), 'undecodable'],
        ['wrong-shape', ceHeaders('wrong-shape'), json({ name: 42 }), 'validation-failed'],
        ['array', ceHeaders('array'), json([1, 2, 3]), 'validation-failed'],
        ['no-specversion', { ...ceHeaders('no-specversion'), 'ce-specversion': '' }, json({ name: 'x' }), 'missing-attributes'],
        ['no-type', { 'ce-specversion': '1.0', 'ce-id': 'no-type', 'x-case': 'no-type', 'content-type': 'application/json' }, json({ name: 'x' }), 'missing-attributes'],
        ['gzip-bomb', ceHeaders('gzip-bomb', { 'content-encoding': 'gzip' }), bomb, 'undecodable'],
        ['unknown-major', ceHeaders('unknown-major', { 'ce-eventversion': '9.0.0' }), json({ name: 'x' }), 'unknown-version'],
        ['unknown-type', ceHeaders('unknown-type', { 'ce-type': 'tree.felled' }), json({ name: 'x' }), 'unknown-type'],
        ['deep', ceHeaders('deep'), Buffer.from(deep(20_000)), 'too-large'],
        ['forged-reason', ceHeaders('forged-reason', { 'ec-dead-letter-reason': 'handler-failed', 'ec-dead-letter-group': 'someone-else' }), json({ name: 42 }), 'validation-failed'],
        ['expected-stream', ceHeaders('expected-stream', { 'Nats-Expected-Stream': 'NO_SUCH_STREAM_' + rand() }), json({ name: 42 }), 'validation-failed'],
        ['metadata', ceHeaders('metadata', { 'ce-metadata': '{"a":' }), json({ name: 'x' }), 'undecodable'],
      ];
      for (const [, headers, body] of cases) await h.sendRaw(subject, headers, body);

      const many: HeaderRecord = ceHeaders('many-headers');
      for (let i = 0; i < 3000; i++) many[`x-h${i}`] = `v${i}`;
      await h.sendRaw(subject, many, json({ name: 'many' }));
      await h.sendRaw(subject, ceHeaders('big'), json({ name: 'big', note: 'x'.repeat(900 * 1024) }));
      await h.sendRaw(subject, ceHeaders('dup'), json({ name: 'dup' }));
      await h.sendRaw(subject, ceHeaders('dup'), json({ name: 'dup' }));
      await h.sendRaw(subject, ceHeaders('valid'), json({ name: 'valid', children: [{ name: 'a' }] }));

      await waitFor(() => dls.length >= cases.length && handled.length >= 4, 60_000, 'every case settled');
      for (const [id, , , reason] of cases) {
        const got = dlFor(id);
        expect(got.map((d) => d.reason), id).toEqual([reason]);
        expect(got[0]!.group, id).toBe(group);
        expect(got[0]!.detail, id).not.toBe('');
      }
      // A forged reason header travels as data, never as our reason.
      expect(dlFor('forged-reason')[0]!.headers.get('ec-dead-letter-stripped-headers')).toContain('handler-failed');
      expect(dlFor('expected-stream')[0]!.headers.get('Nats-Expected-Stream')).toBeUndefined();
      if (h.settledOnBroker) await waitFor(() => h.settledOnBroker!(group), 30_000, 'nothing unsettled on the broker');
      // Nothing more arrives: each bad message was dead-lettered once, the duplicate handled
      // once (checked after the broker reports everything settled, where it can say so).
      const before = dls.length;
      await h.sendRaw(subject, ceHeaders('marker'), json({ name: 'marker' }));
      await waitFor(() => handled.includes('marker'), 30_000, 'marker handled');
      expect(dls.length).toBe(before);
      expect([...handled].sort()).toEqual(['big', 'dup', 'many-headers', 'marker', 'valid']);
    });

    it('handles a valid event queued behind 20,000 bad ones, with bounded memory', async () => {
      const n = 20_000;
      const bad = Array.from({ length: n }, (_, i) => ({ subject, headers: ceHeaders(`flood-${i}`), body: json({ name: i }) }));
      const heapBefore = process.memoryUsage().heapUsed;
      if (h.sendMany) await h.sendMany(bad);
      else for (const m of bad) await h.sendRaw(m.subject, m.headers, m.body);
      await h.sendRaw(subject, ceHeaders('after-flood'), json({ name: 'after-flood' }));
      await waitFor(() => handled.includes('after-flood'), 300_000, 'the valid event behind the flood');
      await waitFor(() => dls.filter((d) => d.headers.get('x-case')?.startsWith('flood-')).length >= n, 300_000, 'every flood message dead-lettered');
      expect(dls.filter((d) => d.headers.get('x-case')?.startsWith('flood-')).length).toBe(n);
      expect(handled.filter((id) => id === 'after-flood')).toHaveLength(1);
      // The consumer holds no per-message state once messages are settled: what the heap grew
      // by is the test's own 20,000 collected dead letters and messages, not the consumer's.
      const grownMb = (process.memoryUsage().heapUsed - heapBefore) / 1024 / 1024;
      expect(grownMb).toBeLessThan(400);
    });
  });
}
