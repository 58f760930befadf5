// What typed contract headers cost the SDK, side by side in one run: publishing and
// consuming `user.created@2.0.0` with its headers contract (checked before sending, the
// runtime's headers filled, checked again on receipt) against the same descriptor without
// one. A transport that does nothing isolates the SDK's own work from the broker's.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createEventBus, checkWith, recordHeaders } from '../dist/runtime/index.js';
import { data, validate } from './event.mjs';

const require = createRequire(import.meta.url);
const index = readFileSync(new URL('../generated/validators/index.ts', import.meta.url), 'utf8');
const module = /validateUserCreatedV2HeadersCompiled = lazyValidator\(load, "([^"]+)"\)/.exec(index)?.[1];
if (!module) throw new Error('generated/validators/index.ts has no headers validator for UserCreatedV2');
const compiledHeaders = require(new URL(`../generated/validators/${module.slice(2)}`, import.meta.url).pathname);
const events = readFileSync(new URL('../generated/events.ts', import.meta.url), 'utf8');
const names = JSON.parse(/UserCreatedV2Event[\s\S]*?names: (\[[^\]]*\])/.exec(events)?.[1] ?? 'null');

const plain = { type: 'user.created', version: '2.0.0', address: 'user.created.v2', parameters: [], validate };
const typed = { ...plain, headers: { validate: (h) => checkWith(compiledHeaders, h), names }, eventIdField: 'eventId' };
const given = { headers: { 'x-tenant': 'acme' } };

/** A transport that stores nothing: publish resolves at once; consume hands out what it is given. */
function nullTransport(sent) {
  return {
    name: 'null',
    maxMessageBytes: () => undefined,
    publish: async (m) => (sent?.push(m), { duplicate: false }),
    publishTransient: async () => undefined,
    consume: async (_spec, on) => ((nullTransport.deliver = on), { stop: async () => undefined }),
    request: async () => { throw new Error('no'); },
    serve: async () => ({ stop: async () => undefined }),
    close: async () => undefined,
  };
}

async function publishRate(descriptor, options, n) {
  const bus = createEventBus({ transport: nullTransport(), source: 'bench' });
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await bus.publish(descriptor, data, options);
  const s = Number(process.hrtime.bigint() - start) / 1e9;
  await bus.close();
  return n / s;
}

async function consumeRate(descriptor, message, n) {
  const bus = createEventBus({ transport: nullTransport(), source: 'bench' });
  let handled = 0;
  let done;
  const finished = new Promise((r) => (done = r));
  await bus.subscribe({ group: 'bench', dedupe: null, concurrency: 64, maxInFlight: 1024, handlers: [{ type: 'user.created', accepts: [descriptor], handle: async () => void (++handled === n && done()) }] });
  const deliver = nullTransport.deliver;
  const headers = recordHeaders(message.headers);
  // As a broker does: at most `window` unsettled; each settlement lets the next one in.
  const window = 1024;
  let sent = 0;
  const next = () => {
    if (sent < n) {
      sent++;
      deliver({ subject: message.subject, headers, body: message.body, deliveryCount: 1, ack, retry: ack, deadLetter: ack });
    }
  };
  const ack = () => (queueMicrotask(next), Promise.resolve());
  const start = process.hrtime.bigint();
  for (let i = 0; i < window; i++) next();
  await finished;
  const s = Number(process.hrtime.bigint() - start) / 1e9;
  await bus.close();
  return n / s;
}

export async function run() {
  const sent = [];
  const b = createEventBus({ transport: nullTransport(sent), source: 'bench' });
  await b.publish(typed, data, given);
  await b.close();
  const message = sent[0];
  const n = 100_000;
  const best = { pubPlain: 0, pubTyped: 0, conPlain: 0, conTyped: 0 };
  // Alternating rounds, best of each: one noisy round moves a ratio less.
  for (let round = 0; round < 5; round++) {
    best.pubPlain = Math.max(best.pubPlain, await publishRate(plain, undefined, n));
    best.pubTyped = Math.max(best.pubTyped, await publishRate(typed, given, n));
    best.conPlain = Math.max(best.conPlain, await consumeRate(plain, message, n));
    best.conTyped = Math.max(best.conTyped, await consumeRate(typed, message, n));
  }
  return [
    { name: 'SDK publish, no headers contract (null transport)', value: best.pubPlain, unit: 'msgs/s' },
    { name: 'SDK publish, typed headers checked and filled', value: best.pubTyped, unit: 'msgs/s' },
    { name: 'publish: with headers / without', value: best.pubTyped / best.pubPlain, unit: 'x' },
    { name: 'SDK consume, no headers contract (null transport)', value: best.conPlain, unit: 'msgs/s' },
    { name: 'SDK consume, headers validated on receipt', value: best.conTyped, unit: 'msgs/s' },
    { name: 'consume: with headers / without', value: best.conTyped / best.conPlain, unit: 'x' },
  ];
}
