/**
 * The contract's message headers in the generated SDK: a typed argument of every publish and
 * request method (required when the contract requires headers the caller must set),
 * checked before sending, filled where the runtime owns them; the payload's `eventId` is
 * the envelope id. Checked by compiling code that uses the SDK (wrong uses must not
 * compile) and by running it over the in-memory broker.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { artifactDir, compile, generateInto, runNode, typecheck } from '../helpers/generate.js';

describe('typed contract headers in the generated SDK', () => {
  let out: string;
  let dist: string;
  beforeAll(async () => {
    out = artifactDir('typed-headers');
    const result = await generateInto(['asyncapi'], out);
    expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    dist = await compile(out);
  }, 120_000);

  it('publish methods take the headers the caller must set, and refuse wrong ones at compile time', async () => {
    writeFileSync(
      path.join(out, 'uses.ts'),
      `import type { EventBus } from 'event-contracts/runtime';
import { UsersServiceClient, NotificationsServiceClient } from './index.js';
import type { UserDeletedV1 } from './types.js';
declare const bus: EventBus;
declare const data: UserDeletedV1;
const users = new UsersServiceClient(bus);
// The runtime fills correlation, causation, trace and Nats-Msg-Id: only the tenant is the caller's.
void users.publishUserDeleted(data, { 'x-tenant': 'acme' });
void users.publishUserDeleted(data, { 'x-tenant': 'acme', 'x-correlation-id': '3f1c4a2e-8d7b-4c6a-9e5f-1a2b3c4d5e6f' });
// @ts-expect-error the tenant header is required by the contract
void users.publishUserDeleted(data, {});
// @ts-expect-error headers are a required argument
void users.publishUserDeleted(data);
// @ts-expect-error a header value of the wrong type
void users.publishUserDeleted(data, { 'x-tenant': 42 });
void new NotificationsServiceClient(bus).checkHealth({ requestId: 'r', requester: { service: 'n', instanceId: 'i' }, requestedAt: '' }, { 'x-tenant': 'acme' });
`,
    );
    await typecheck(out);
  });

  it('sends the headers, fills the runtime ones from the envelope, and refuses bad ones before sending', async () => {
    const script = `
      import { createEventBus, MemoryTransport, HeaderValidationError } from 'event-contracts/runtime';
      const { UsersServiceClient, PaymentsServiceClient } = await import(${JSON.stringify('file://' + dist + '/index.js')});
      const broker = new MemoryTransport();
      const sent = [];
      const transport = broker.connection();
      const publish = transport.publish.bind(transport);
      transport.publish = (m) => { sent.push(m); return publish(m); };
      const bus = createEventBus({ transport, source: 'users-service' });
      const handled = [];
      await new PaymentsServiceClient(bus).onUserDeleted(async (event) => { handled.push(event.id); });
      const data = { eventId: '6f1d2c3b-4a5e-4f60-8a7b-9c0d1e2f3a4b', userId: '1b2c3d4e-5f60-4718-8a9b-0c1d2e3f4a5b', reason: 'user_request', erasure: 'soft',
        requestedBy: { type: 'user', id: '1b2c3d4e-5f60-4718-8a9b-0c1d2e3f4a5b' }, deletedAt: '2026-03-14T09:26:53.589Z' };
      const users = new UsersServiceClient(bus);
      const receipt = await users.publishUserDeleted(data, { 'x-tenant': 'acme' });
      let refused = '';
      try { await users.publishUserDeleted(data, { 'x-tenant': 'Not A Slug' }); } catch (e) { refused = e instanceof HeaderValidationError ? e.message : 'wrong error: ' + e; }
      for (let i = 0; i < 100 && handled.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
      await bus.close();
      console.log(JSON.stringify({ receipt, headers: sent[0].headers, count: sent.length, refused, handled }));`;
    const r = JSON.parse(await runNode(script, out)) as { receipt: { id: string }; headers: Record<string, string>; count: number; refused: string; handled: string[] };
    expect(r.receipt.id).toBe('6f1d2c3b-4a5e-4f60-8a7b-9c0d1e2f3a4b');
    expect(r.headers['x-tenant']).toBe('acme');
    expect(r.headers['x-correlation-id']).toBe(r.receipt.id);
    expect(r.headers['traceparent']).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    expect(r.count).toBe(1);
    expect(r.refused).toMatch(/headers are invalid: \/x-tenant/);
    expect(r.handled).toEqual([r.receipt.id]);
  });
});
