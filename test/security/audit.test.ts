/**
 * The audit middleware: who, what, when and the outcome of every publish and handling
 * (published, handled, failed, dead-lettered, denied), to JSON lines and to a broker
 * subject; a sink that fails or hangs never blocks the bus unless `required: true`.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  auditMiddleware,
  AuditUnavailableError,
  createEventBus,
  jsonLinesAuditSink,
  MemoryTransport,
  PermissionDeniedError,
  transportAuditSink,
  type AuditRecord,
  type AuditSink,
  type EventBus,
  type OutboundMessage,
  type TransportReceipt,
} from '../../src/runtime/index.js';
import { rand, userCreated } from '../runtime/helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'ec-audit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const memorySink = () => {
  const records: AuditRecord[] = [];
  const sink: AuditSink & { records: AuditRecord[] } = { name: 'memory', records, write: async (r) => void records.push(...r) };
  return sink;
};
const failingSink: AuditSink = { name: 'down', write: () => Promise.reject(new Error('audit store down')) };
const hangingSink: AuditSink = { name: 'hangs', write: () => new Promise(() => undefined) };

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`never: ${what}`);
}

describe('audit middleware', () => {
  const buses: EventBus[] = [];
  afterAll(async () => void (await Promise.allSettled(buses.map((b) => b.close()))));
  const make = (mw: ReturnType<typeof auditMiddleware>, transport = new MemoryTransport()) => {
    const b = createEventBus({ transport, source: 'users-service', middleware: [mw] });
    buses.push(b);
    return b;
  };
  const ev = userCreated(`a${rand()}`);

  it('records published, handled, failed and dead-lettered with who, what and when; JSON lines on a file', async () => {
    const file = join(dir, 'audit.jsonl');
    const mem = memorySink();
    const audit = auditMiddleware({ account: 'users-service', instance: 'test-1', sinks: [mem, jsonLinesAuditSink(file)] });
    const bus = make(audit);
    await bus.subscribe({
      group: 'g',
      maxDeliver: 2,
      backoff: { initialMs: 1, maxMs: 2 },
      handlers: [
        {
          type: 'user.created',
          accepts: [ev],
          handle: async (e) => {
            if (e.data.note === 'bad') throw new Error('refused');
          },
        },
      ],
    });
    const ok = await bus.publish(ev, { userId: 'u1', email: 'good@x', note: 'good' }, { params: { userId: 'u1' } });
    await bus.publish(ev, { userId: 'u2', email: 'bad@x', note: 'bad' }, { params: { userId: 'u2' } });
    await until(() => mem.records.some((r) => r.outcome === 'dead-lettered') && mem.records.some((r) => r.outcome === 'handled'), 'all outcomes');
    await audit.flush();
    const published = mem.records.find((r) => r.outcome === 'published' && r.id === ok.id)!;
    expect(published).toMatchObject({ account: 'users-service', instance: 'test-1', type: 'user.created', version: '1.0.0', subject: ok.subject });
    expect(Date.parse(published.at)).not.toBeNaN();
    expect(mem.records.find((r) => r.outcome === 'handled')).toMatchObject({ id: ok.id, group: 'g', deliveryCount: 1 });
    expect(mem.records.filter((r) => r.outcome === 'failed').map((r) => r.detail)).toEqual(['Error: refused', 'Error: refused']);
    expect(mem.records.find((r) => r.outcome === 'dead-lettered')).toMatchObject({ group: 'g', type: 'user.created', detail: expect.stringContaining('handler-failed') });
    const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as AuditRecord);
    expect(lines.map((l) => l.outcome).sort()).toEqual(mem.records.map((r) => r.outcome).sort());
    // No payload in an audit record.
    expect(readFileSync(file, 'utf8')).not.toContain('good');
  });

  it('a publish the broker refuses is recorded as denied', async () => {
    const mem = memorySink();
    const refusing = new MemoryTransport();
    refusing.publish = (m: OutboundMessage): Promise<TransportReceipt> => Promise.reject(new PermissionDeniedError('publish', m.subject, 'memory', 'test'));
    const bus = make(auditMiddleware({ account: 'users-service', sinks: [mem] }), refusing);
    await expect(bus.publish(ev, { userId: 'u3', email: 'x@x' }, { params: { userId: 'u3' } })).rejects.toBeInstanceOf(PermissionDeniedError);
    await until(() => mem.records.length > 0, 'denied record');
    expect(mem.records[0]).toMatchObject({ outcome: 'denied', detail: expect.stringContaining('PermissionDeniedError') });
  });

  it('a failing or hanging sink does not block the bus; what it lost is counted and reported once', async () => {
    const errors: string[] = [];
    const audit = auditMiddleware({ account: 'users-service', sinks: [failingSink], onError: (s) => errors.push(s) });
    const bus = make(audit);
    for (let i = 0; i < 5; i++) await bus.publish(ev, { userId: `u${i}`, email: 'x@x' }, { params: { userId: `u${i}` } });
    await audit.flush();
    expect(audit.stats.lost).toBe(5);
    expect(errors).toEqual(['down']);
    const stuck = auditMiddleware({ account: 'users-service', sinks: [hangingSink], maxQueued: 3 });
    const bus2 = make(stuck);
    for (let i = 0; i < 6; i++) await bus2.publish(ev, { userId: `h${i}`, email: 'x@x' }, { params: { userId: `h${i}` } });
    expect(stuck.stats.lost).toBeGreaterThanOrEqual(2);
  });

  it('required: a record that cannot be written fails the publish, and a handling is retried', async () => {
    let down = true;
    const mem = memorySink();
    const flaky: AuditSink = { name: 'flaky', write: (r) => (down ? Promise.reject(new Error('down')) : mem.write(r)) };
    const bus = make(auditMiddleware({ account: 'users-service', sinks: [flaky], required: true }));
    await expect(bus.publish(ev, { userId: 'r1', email: 'x@x' }, { params: { userId: 'r1' } })).rejects.toBeInstanceOf(AuditUnavailableError);
    let handled = 0;
    await bus.subscribe({
      group: 'req',
      backoff: { initialMs: 1, maxMs: 2 },
      handlers: [{ type: 'user.created', accepts: [ev], handle: async () => void handled++ }],
    });
    down = false;
    await bus.publish(ev, { userId: 'r2', email: 'x@x' }, { params: { userId: 'r2' } });
    await until(() => mem.records.some((r) => r.outcome === 'handled'), 'handled record');
    expect(handled).toBeGreaterThanOrEqual(1);
  });

  it('records to a broker subject through the transport', async () => {
    const t = new MemoryTransport();
    const got: AuditRecord[] = [];
    await t.consume({ group: 'auditors', subjects: ['audit.>'], maxInFlight: 10 }, (d) => {
      got.push(JSON.parse(new TextDecoder().decode(d.body)) as AuditRecord);
      void d.ack();
    });
    const audit = auditMiddleware({ account: 'users-service', sinks: [transportAuditSink(t, 'audit.users-service')] });
    const bus = make(audit, t);
    const r = await bus.publish(ev, { userId: 'b1', email: 'x@x' }, { params: { userId: 'b1' } });
    await audit.flush();
    await until(() => got.length > 0, 'audit record on the broker');
    expect(got[0]).toMatchObject({ outcome: 'published', id: r.id, account: 'users-service' });
  });
});
