/**
 * The OpenTelemetry SDK reports a failing exporter (a collector that is down, a span
 * exporter that throws) through its global error handler, which writes to the API's
 * diagnostic logger, once per failed export: many times a second. This routes those
 * errors to the service's logger once per distinct message, and never throws into the SDK.
 */
import { diag, DiagLogLevel, type DiagLogger } from '@opentelemetry/api';
import { OnceLog, type ObservabilityLog } from './log.js';

/** Sets the global diag logger (replacing any other): SDK errors and warnings go to `logger`, each distinct one once. */
export function logSdkErrorsOnce(logger: ObservabilityLog): void {
  const once = new OnceLog(logger);
  const text = (message: string, args: unknown[]): string => [message, ...args.map((a) => (a instanceof Error ? `${a.name}: ${a.message}` : typeof a === 'string' ? a : safeJson(a)))].join(' ').slice(0, 1000);
  const forward = (message: string, ...args: unknown[]): void => {
    const t = text(message, args);
    once.error(t, { component: 'opentelemetry-sdk' }, `OpenTelemetry SDK: ${t}`);
  };
  const ignore = (): void => undefined;
  const diagLogger: DiagLogger = { error: forward, warn: forward, info: ignore, debug: ignore, verbose: ignore };
  diag.setLogger(diagLogger, { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });
}

function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}
