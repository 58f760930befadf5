/**
 * `event-contracts monitor <nats|amqp>`: the live contract monitor (src/observe/monitor).
 * Exit 0 when stopped (Ctrl-C or --duration), 1 on the first violation under
 * --fail-on-violation (its details on stderr), 2 when the bus or the validators cannot be
 * reached.
 */
import path from 'node:path';
import type { Config } from '../config.js';
import { EXIT, reportDiagnostics, type Io } from './report.js';

export interface MonitorArgs {
  specs: string[];
  broker: 'nats' | 'amqp';
  server?: string;
  subject?: string[];
  exchange?: string;
  interval: number;
  format: 'table' | 'json';
  failOnViolation: boolean;
  duration?: number;
  validators?: string;
  config: Config;
}

export async function monitorCommand(args: MonitorArgs, io: Io): Promise<number> {
  const { openWorkspace } = await import('../workspace.js');
  const workspace = await openWorkspace(args.specs, { config: args.config });
  if (!workspace.ok) {
    reportDiagnostics(io, 'human', workspace.diagnostics);
    return EXIT.problems;
  }
  const { runMonitor } = await import('../observe/monitor/index.js');
  const controller = new AbortController();
  const onSignal = (): void => controller.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    return await runMonitor({
      catalog: workspace.catalog,
      validatorsDir: path.resolve(args.validators ?? path.join(args.config.out, 'validators', 'ajv')),
      broker: args.broker,
      server: args.server ?? (args.broker === 'nats' ? '127.0.0.1:4222' : 'amqp://guest:guest@127.0.0.1:5672'),
      ...(args.subject && args.subject.length > 0 ? { subjects: args.subject } : {}),
      ...(args.exchange !== undefined ? { exchange: args.exchange } : {}),
      intervalMs: Math.max(100, args.interval * 1000),
      format: args.format,
      failOnViolation: args.failOnViolation,
      ...(args.duration !== undefined ? { durationMs: args.duration * 1000 } : {}),
      signal: controller.signal,
      out: io.out,
      err: io.err,
      redraw: args.format === 'table' && process.stdout.isTTY === true,
      onReady: (tap) => io.err(`monitoring ${tap.describe}`),
    });
  } catch (error) {
    io.err(`event-contracts: monitor: ${(error as Error).message}`);
    return EXIT.usage;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
