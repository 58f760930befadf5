// The event both transport benches send: a 300-byte `user.created@2.0.0` payload, validated
// by the validator `npm run generate` wrote for it (the ajv module the generated SDK loads),
// wrapped as the generated `validateUserCreatedV2` wraps it.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const compiled = require('../generated/validators/ajv/UserCreatedV2.payload.cjs');

export const data = {
  eventId: 'c5a1f6d2-3b8e-4d7a-9f10-2e6b7c8d9e0f',
  userId: '8d3e1f2a-6b7c-4d5e-9f01-23456789abcd',
  email: 'ada.lovelace@example.com',
  emailVerified: true,
  givenName: 'Ada',
  familyName: 'Lovelace',
  locale: 'en-GB',
  roles: ['customer'],
  signUpChannel: 'web',
  createdAt: '2025-01-27T10:00:00.000Z',
};

export function validate(d) {
  return compiled(d) ? { ok: true, value: d } : { ok: false, errors: (compiled.errors ?? []).map((e) => ({ path: e.instancePath || '/', message: e.message ?? e.keyword })) };
}

if (!validate(data).ok) throw new Error('bench event does not match user.created@2.0.0: update bench/event.mjs');
