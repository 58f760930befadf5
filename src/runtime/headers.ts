/**
 * The contract's message headers (AsyncAPI `message.headers`): checked before a publish
 * sends anything and again on receipt. Some headers a contract may declare are the
 * runtime's to fill (RUNTIME_HEADERS): the caller leaves them out and the runtime writes
 * them from the envelope, so they can never disagree with it.
 */
import { randomFillSync } from 'node:crypto';
import type { HeaderContract, HeaderReader, HeaderRecord, RuntimeHeaderName, ValidationIssue } from './types.js';

export type { RuntimeHeaderName };

/**
 * Headers the runtime fills when the contract declares them and the caller did not pass
 * them: `Nats-Msg-Id` is the event id (JetStream dedupe), `x-correlation-id` and
 * `x-causation-id` the envelope's correlation and causation ids, `traceparent` a W3C trace
 * context continuing the trace of the event being handled (a new trace otherwise).
 */
export const RUNTIME_HEADERS: readonly RuntimeHeaderName[] = ['Nats-Msg-Id', 'traceparent', 'x-correlation-id', 'x-causation-id'];

/**
 * Names a caller may not set: the envelope's own headers, the transports' bookkeeping, and
 * headers a broker acts on (JetStream's `Nats-*`; RabbitMQ's `CC`/`BCC` routing and
 * `x-death` / `x-first-death-*` / `x-last-death-*` dead-letter trail).
 */
function isReserved(name: string): boolean {
  const n = name.toLowerCase();
  return (
    n.startsWith('ce-') ||
    n.startsWith('ec-') ||
    n.startsWith('x-ec-') ||
    n.startsWith('content-') ||
    (n.startsWith('nats-') && name !== 'Nats-Msg-Id') ||
    n === 'cc' ||
    n === 'bcc' ||
    n === 'x-death' ||
    n.startsWith('x-first-death-') ||
    n.startsWith('x-last-death-')
  );
}

/** Header names already checked not to be reserved. */
const allowedNames = new Set<string>();

export interface RuntimeHeaderValues {
  id: string;
  correlationId: string | undefined;
  causationId: string | undefined;
  /** traceparent of the event being handled, if any. */
  parentTrace: string | undefined;
}

export type PreparedHeaders = { ok: true; wire: HeaderRecord } | { ok: false; issues: ValidationIssue[] };

/**
 * Validates the caller's headers plus the runtime's against the contract and returns what
 * goes on the wire (values that are not strings as JSON text; `Nats-Msg-Id` is left to the
 * transport, which sets it from the event id).
 */
export function prepareHeaders(hc: HeaderContract | undefined, given: Readonly<Record<string, unknown>> | undefined, rt: RuntimeHeaderValues): PreparedHeaders {
  const value: Record<string, unknown> = {};
  if (given) {
    for (const k in given) {
      if (!Object.prototype.hasOwnProperty.call(given, k)) continue;
      if (!allowedNames.has(k)) {
        if (isReserved(k)) return { ok: false, issues: [{ path: `/${escapePointer(k)}`, message: 'is set by the runtime, not by the caller' }] };
        // A service sends the same few names every time: remember them (bounded).
        if (allowedNames.size < 1000) allowedNames.add(k);
      }
      if (k === 'Nats-Msg-Id' && given[k] !== rt.id) return { ok: false, issues: [{ path: '/Nats-Msg-Id', message: 'is the event id: pass options.id (or the payload field the contract names as event id) instead' }] };
      const v = given[k];
      if (v !== undefined) value[k] = v;
    }
  }
  if (hc) {
    let filled: string[] | undefined;
    for (const name of hc.names) {
      if (value[name] !== undefined) continue;
      const v = runtimeValue(name, rt);
      if (v !== undefined) {
        value[name] = v;
        (filled ??= []).push(name);
      }
    }
    let r = hc.validate(value);
    if (!r.ok && filled) {
      // A value the runtime filled in (an id inherited from the handled event, say) that the
      // contract refuses is left out rather than sent; if the contract requires it, the
      // error says where the value came from, so the caller can pass one.
      const refused = filled.filter((n) => r.ok === false && r.errors.some((e) => e.path === `/${escapePointer(n)}` || e.path.startsWith(`/${escapePointer(n)}/`)));
      if (refused.length > 0) {
        const was = Object.fromEntries(refused.map((n) => [n, value[n]]));
        for (const n of refused) delete value[n];
        r = hc.validate(value);
        if (!r.ok) {
          return {
            ok: false,
            issues: r.errors.map((e) => {
              const n = refused.find((x) => e.path === `/${escapePointer(x)}`);
              return n === undefined ? e : { ...e, message: `${e.message} (the runtime's value ${JSON.stringify(was[n])}, from the event being handled, does not fit the contract: pass one in headers)` };
            }),
          };
        }
      }
    }
    if (!r.ok) return { ok: false, issues: r.errors };
  }
  // `value` is our own object: its values become wire text in place.
  delete value['Nats-Msg-Id'];
  for (const k in value) {
    const v = value[k];
    if (typeof v !== 'string') value[k] = JSON.stringify(v);
  }
  return { ok: true, wire: value as HeaderRecord };
}

function runtimeValue(name: string, rt: RuntimeHeaderValues): string | undefined {
  switch (name) {
    case 'Nats-Msg-Id':
      return rt.id;
    case 'x-correlation-id':
      // An event that starts a conversation is its own correlation id.
      return rt.correlationId ?? rt.id;
    case 'x-causation-id':
      return rt.causationId;
    case 'traceparent':
      return childTraceparent(rt.parentTrace);
    default:
      return undefined;
  }
}

const TRACEPARENT = /^00-([0-9a-f]{32})-[0-9a-f]{16}-([0-9a-f]{2})$/;

/**
 * Random ids for trace contexts, drawn from a pool refilled 6 KiB at a time: randomBytes()
 * per id cost about 2 µs each, most of a publish's own time.
 */
const pool = Buffer.alloc(6144);
let poolAt = pool.length;
const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

function randomHex(bytes: number): string {
  if (poolAt + bytes > pool.length) {
    randomFillSync(pool);
    poolAt = 0;
  }
  let s = '';
  for (let i = 0; i < bytes; i++) s += HEX[pool[poolAt++]!];
  return s;
}

/** A traceparent in the parent's trace with a new span id, or a new sampled trace. */
export function childTraceparent(parent: string | undefined): string {
  const m = parent !== undefined ? TRACEPARENT.exec(parent) : null;
  let span = randomHex(8);
  // An all-zero id is invalid in W3C Trace Context (odds 2^-64, but cheap to rule out).
  while (span === '0000000000000000') span = randomHex(8);
  if (m && m[1] !== '00000000000000000000000000000000') return `00-${m[1]}-${span}-${m[2]}`;
  let trace = randomHex(16);
  while (trace === '00000000000000000000000000000000') trace = randomHex(16);
  return `00-${trace}-${span}-01`;
}

/**
 * Reads the declared headers of an inbound message and validates them; undefined when they
 * satisfy the contract, else the problems as one line. Undeclared headers are not read:
 * brokers add their own, so a headers schema cannot be closed on the wire.
 */
export function readContractHeaders(hc: HeaderContract, h: HeaderReader, eventId: string): string | undefined {
  const value: Record<string, unknown> = {};
  for (const name of hc.names) {
    // The broker's dedupe id is the event id by definition, whether or not this transport
    // carries it as a header (RabbitMQ and the in-memory broker do not).
    const v = name === 'Nats-Msg-Id' ? eventId : h.get(name);
    if (v === undefined) continue;
    if (hc.json !== undefined && hc.json.includes(name)) {
      try {
        value[name] = JSON.parse(v);
      } catch {
        value[name] = v;
      }
    } else value[name] = v;
  }
  const r = hc.validate(value);
  if (r.ok) return undefined;
  return r.errors.map((i) => `${i.path || '/'} ${i.message}`).join('; ');
}

function escapePointer(s: string): string {
  return s.replace(/~/g, '~0').replace(/\//g, '~1');
}
