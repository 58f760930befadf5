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

const FORMAT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(?:-.*)?$/;

/** The remote span context a `traceparent` (and `tracestate`) header names, if valid. */
export function readTraceContext(h: HeaderReader): SpanContext | undefined {
  const tp = h.get(TRACEPARENT);
  if (tp === undefined) return undefined;
  const m = FORMAT.exec(tp.trim());
  // Version ff is forbidden; version 00 has exactly four fields.
  if (!m || m[1] === 'ff' || (m[1] === '00' && tp.trim().length !== 55)) return undefined;
  const sc: SpanContext = { traceId: m[2]!, spanId: m[3]!, traceFlags: parseInt(m[4]!, 16) & 1, isRemote: true };
  const ts = h.get(TRACESTATE);
  if (ts !== undefined && ts !== '') {
    try {
      sc.traceState = createTraceState(ts);
    } catch {
      // An unreadable tracestate is dropped, as the W3C spec says.
    }
  }
  return isSpanContextValid(sc) ? sc : undefined;
}

/** Writes `sc` as `traceparent` (and `tracestate`) into outbound headers. */
export function writeTraceContext(sc: SpanContext, headers: HeaderRecord): void {
  if (!isSpanContextValid(sc)) return;
  headers[TRACEPARENT] = `00-${sc.traceId}-${sc.spanId}-0${sc.traceFlags & 1}`;
  const ts = sc.traceState?.serialize();
  if (ts) headers[TRACESTATE] = ts;
  else delete headers[TRACESTATE];
}
