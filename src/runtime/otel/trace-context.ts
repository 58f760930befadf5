/**
 * W3C trace context in an event's headers (the CloudEvents distributed-tracing extension's
 * `traceparent` and `tracestate`), read and written here without a registered propagator:
 * the runtime's own `childTraceparent` (headers.ts) writes the same format, so a trace
 * goes on whether the OpenTelemetry middleware or the runtime filled the header.
 */
import { createTraceState, isSpanContextValid, type SpanContext } from '@opentelemetry/api';
import type { HeaderReader, HeaderRecord } from '../types.js';

export const TRACEPARENT = 'traceparent';
export const TRACESTATE = 'tracestate';

const DASH = 0x2d;

/** Value of a lower-case hex digit, or -1 (the W3C format allows no upper case). */
function hex(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/** True when s[from, to) is lower-case hex and not all zeros. */
function nonZeroHex(s: string, from: number, to: number): boolean {
  let any = 0;
  for (let i = from; i < to; i++) {
    const v = hex(s.charCodeAt(i));
    if (v < 0) return false;
    any |= v;
  }
  return any !== 0;
}

/**
 * The remote span context a `traceparent` (and `tracestate`) header names, if valid:
 * `vv-<32 hex trace id>-<16 hex span id>-ff`, neither id all zeros, version ff forbidden,
 * version 00 exactly these four fields, a later version possibly more after a dash.
 * Read by character rather than with a regular expression: it runs for every handled event.
 */
export function readTraceContext(h: HeaderReader): SpanContext | undefined {
  const raw = h.get(TRACEPARENT);
  if (raw === undefined) return undefined;
  const tp = raw.trim();
  if (tp.length < 55 || tp.charCodeAt(2) !== DASH || tp.charCodeAt(35) !== DASH || tp.charCodeAt(52) !== DASH) return undefined;
  const v1 = hex(tp.charCodeAt(0));
  const v0 = hex(tp.charCodeAt(1));
  const f1 = hex(tp.charCodeAt(53));
  const f0 = hex(tp.charCodeAt(54));
  if (v1 < 0 || v0 < 0 || f1 < 0 || f0 < 0) return undefined;
  const version = v1 * 16 + v0;
  if (version === 0xff) return undefined;
  if (tp.length > 55) {
    // Version 00 has exactly four fields; a later one may carry more, after a dash, on one line.
    if (version === 0 || tp.charCodeAt(55) !== DASH || /[\n\r\u2028\u2029]/.test(tp)) return undefined;
  }
  if (!nonZeroHex(tp, 3, 35) || !nonZeroHex(tp, 36, 52)) return undefined;
  const sc: SpanContext = { traceId: tp.slice(3, 35), spanId: tp.slice(36, 52), traceFlags: f0 & 1, isRemote: true };
  const ts = h.get(TRACESTATE);
  if (ts !== undefined && ts !== '') {
    try {
      sc.traceState = createTraceState(ts);
    } catch {
      // An unreadable tracestate is dropped, as the W3C spec says.
    }
  }
  return sc;
}

/** Writes `sc` as `traceparent` (and `tracestate`) into outbound headers. */
export function writeTraceContext(sc: SpanContext, headers: HeaderRecord): void {
  if (!isSpanContextValid(sc)) return;
  headers[TRACEPARENT] = `00-${sc.traceId}-${sc.spanId}-0${sc.traceFlags & 1}`;
  const ts = sc.traceState?.serialize();
  if (ts) headers[TRACESTATE] = ts;
  else delete headers[TRACESTATE];
}
