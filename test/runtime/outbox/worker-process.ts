/** Starts test/runtime/outbox/relay-worker.ts as a child process and reads its JSON lines. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { stopProcess, waitFor } from '../helpers.js';

const WORKER = fileURLToPath(new URL('./relay-worker.ts', import.meta.url));

export interface WorkerLine {
  kind: string;
  count?: number;
  duplicates?: number;
  [k: string]: unknown;
}

export class RelayWorker {
  readonly lines: WorkerLine[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private constructor(readonly proc: ChildProcess) {
    createInterface({ input: proc.stdout! }).on('line', (l) => {
      try {
        this.lines.push(JSON.parse(l) as WorkerLine);
      } catch {
        // not ours
      }
    });
    this.exited = new Promise((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
  }

  static async start(env: Record<string, string>): Promise<RelayWorker> {
    const proc = spawn(process.execPath, ['--import', 'tsx', WORKER], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
    const w = new RelayWorker(proc);
    await waitFor(() => w.lines.some((l) => l.kind === 'ready') || proc.exitCode !== null || proc.signalCode !== null, 30_000, 'the relay worker to start');
    return w;
  }

  get pid(): number {
    return this.proc.pid!;
  }

  /** Rows this worker marked published. */
  get published(): number {
    return this.lines.reduce((n, l) => n + (l.kind === 'published' ? (l.count ?? 0) : 0), 0);
  }

  get duplicates(): number {
    return this.lines.reduce((n, l) => n + (l.kind === 'published' ? (l.duplicates ?? 0) : 0), 0);
  }

  /** SIGKILL by PID: no clean-up of any kind in the worker. */
  async kill(): Promise<void> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) process.kill(this.pid, 'SIGKILL');
    await this.exited;
  }

  /** SIGTERM (the worker stops its relay), SIGKILL after 5 s. */
  stop(): Promise<void> {
    return stopProcess(this.proc);
  }
}
