/**
 * `event-contracts monitor`: taps the bus, checks every event against the contract and
 * reports per event type and version every interval, until stopped (or, with
 * failOnViolation, until the first violation).
 */
import type { Catalog } from '../../catalog/model.js';
import { monitorContract } from './contract.js';
import { ContractMonitor, type MonitorReport, type Violation } from './monitor.js';
import { reportLine, reportTable, violationText } from './render.js';
import { tapAmqp, tapNats, type Tap } from './taps.js';

export { ContractMonitor } from './monitor.js';
export type { MonitorReport, TypeStats, Violation, ViolationKind } from './monitor.js';
export { monitorContract, ValidatorsMissingError } from './contract.js';
export type { MonitorContract } from './contract.js';
export { tapNats, tapAmqp } from './taps.js';
export type { Tap } from './taps.js';

export interface MonitorOptions {
  catalog: Catalog;
  /** The generated package's validators/ajv folder. */
  validatorsDir: string;
  broker: 'nats' | 'amqp';
  server: string;
  /** NATS subjects to tap (default everything). */
  subjects?: readonly string[];
  /** RabbitMQ: the exchange to tap. */
  exchange?: string;
  intervalMs: number;
  format: 'table' | 'json';
  failOnViolation: boolean;
  /** Stop after this long (default: until the signal aborts). */
  durationMs?: number;
  signal?: AbortSignal;
  out: (text: string) => void;
  err: (text: string) => void;
  /** Redraw the table in place (a terminal). */
  redraw: boolean;
  /** Called when the tap is listening (tests wait for it). */
  onReady?: (tap: Tap) => void;
  onReport?: (r: MonitorReport) => void;
}

/** Resolves with the exit code: 1 for a violation under failOnViolation, else 0. */
export async function runMonitor(o: MonitorOptions): Promise<number> {
  const monitor = new ContractMonitor(monitorContract(o.catalog, o.validatorsDir));
  let failed: Violation | undefined;
  let stop!: () => void;
  const stopped = new Promise<void>((r) => (stop = r));
  if (o.failOnViolation) {
    monitor.onViolation = (v) => {
      failed ??= v;
      stop();
    };
  }
  const tap = o.broker === 'nats' ? await tapNats(monitor, { servers: o.server, ...(o.subjects ? { subjects: o.subjects } : {}) }) : await tapAmqp(monitor, { url: o.server, exchange: o.exchange ?? 'events' });
  const print = (): void => {
    const r = monitor.report();
    o.onReport?.(r);
    if (o.format === 'json') o.out(reportLine(r));
    else o.out(`${o.redraw ? '\u001b[H\u001b[2J' : ''}${reportTable(r, tap.describe)}`);
  };
  const timer = setInterval(print, o.intervalMs);
  const onAbort = (): void => stop();
  o.signal?.addEventListener('abort', onAbort, { once: true });
  const limit = o.durationMs !== undefined ? setTimeout(stop, o.durationMs) : undefined;
  o.onReady?.(tap);
  try {
    await stopped;
  } finally {
    clearInterval(timer);
    if (limit) clearTimeout(limit);
    o.signal?.removeEventListener('abort', onAbort);
    await tap.stop();
  }
  print();
  if (failed) {
    o.err(`contract violation: ${violationText(failed)}`);
    o.err(JSON.stringify(failed, null, 2));
    return 1;
  }
  return 0;
}
