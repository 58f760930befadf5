/**
 * The README's "Add an event" walkthrough, done on a copy of asyncapi/: the owner's
 * message, channel and send operation, the consumer's channel and receive operation,
 * then validate, generate (the client methods it names exist) and check (a new version
 * passes; after release it is in the lock).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { runCli } from './helpers/cli.js';
import { useScratchWorkspace } from './helpers/scratch.js';

let dir: string;
useScratchWorkspace('walkthrough', (d) => (dir = d), { copyRepo: true });

function edit(file: string, change: (doc: ReturnType<typeof parseDocument>) => void): void {
  const doc = parseDocument(readFileSync(file, 'utf8'));
  change(doc);
  writeFileSync(file, doc.toString());
}

describe('README: Add an event', () => {
  it('works as written', async () => {
    edit('asyncapi/users.yaml', (doc) => {
      doc.setIn(['components', 'messages', 'UserSuspendedV1'], doc.createNode({
        name: 'user.suspended',
        'x-version': '1.0.0',
        summary: 'A user account was suspended.',
        payload: { $ref: '#/components/schemas/UserSuspendedV1Payload' },
        examples: [{ name: 'typical', payload: { eventId: '6a1f0d1e-3b0c-4c55-9c7f-0c1f3f8a2b11', userId: '0f8fe7a4-2f0e-4a6b-9a57-9e5d1f7f6c11', reason: 'abuse' } }],
      }));
      doc.setIn(['components', 'schemas', 'UserSuspendedV1Payload'], doc.createNode({
        type: 'object',
        required: ['eventId', 'userId', 'reason'],
        properties: {
          eventId: { $ref: './common/schemas.yaml#/components/schemas/EventId' },
          userId: { $ref: './common/schemas.yaml#/components/schemas/UserId' },
          reason: { type: 'string', enum: ['abuse', 'payment', 'request'] },
        },
      }));
      doc.setIn(['channels', 'userSuspendedV1'], doc.createNode({ address: 'user.suspended.v1', messages: { UserSuspendedV1: { $ref: '#/components/messages/UserSuspendedV1' } } }));
      doc.setIn(['operations', 'publishUserSuspended'], doc.createNode({ action: 'send', channel: { $ref: '#/channels/userSuspendedV1' } }));
    });
    edit('asyncapi/payments.yaml', (doc) => {
      doc.setIn(['channels', 'userSuspendedV1'], doc.createNode({ address: 'user.suspended.v1', messages: { UserSuspendedV1: { $ref: './users.yaml#/components/messages/UserSuspendedV1' } } }));
      doc.setIn(['operations', 'onUserSuspended'], doc.createNode({ action: 'receive', channel: { $ref: '#/channels/userSuspendedV1' }, 'x-consumer-group': 'payments-suspensions' }));
    });

    const validated = await runCli(['validate']);
    expect(validated.stderr).toMatch(/0 errors/);
    expect(validated.code).toBe(0);

    const generated = await runCli(['generate', '--out', 'generated', '--force']);
    expect(generated.code, generated.stderr).toBe(0);
    expect(readFileSync('generated/clients/users-service.ts', 'utf8')).toMatch(/\bpublishUserSuspended\(/);
    expect(readFileSync('generated/clients/payments-service.ts', 'utf8')).toMatch(/\bonUserSuspended\(/);
    expect(readFileSync('generated/docs/events/user.suspended.html', 'utf8')).toContain('A user account was suspended.');

    expect((await runCli(['check'])).code).toBe(0);
    const released = await runCli(['release']);
    expect(released.stderr).toContain('released user.suspended@1.0.0');
    expect(JSON.parse(readFileSync('registry.lock.json', 'utf8')).events['user.suspended'].versions['1.0.0'].operations).toEqual([
      'payments-service receive onUserSuspended',
      'users-service send publishUserSuspended',
    ]);
  }, 120_000);
});
