/**
 * A real Prometheus (Debian's `prometheus`) for tests: its own config and data directory,
 * a free loopback port, started as a child process and stopped by its PID.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, sleep } from '../runtime/helpers.js';

export class PrometheusServer {
  private constructor(
    private readonly proc: ChildProcess,
    private readonly dir: string,
    readonly url: string,
    readonly log: string[],
  ) {}

  /** Scrapes each of `targets` (host:port) every second at /metrics. */
  static async start(targets: string[], extraConfig = ''): Promise<PrometheusServer> {
    const dir = mkdtempSync(join(tmpdir(), 'ec-prom-'));
    const port = await freePort();
    writeFileSync(
      join(dir, 'prometheus.yml'),
      `global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: service\n    metrics_path: /metrics\n    static_configs:\n      - targets: [${targets.map((t) => JSON.stringify(t)).join(', ')}]\n${extraConfig}`,
    );
    const proc = spawn(
      process.env['PROMETHEUS'] ?? 'prometheus',
      [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--web.enable-lifecycle'],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    const log: string[] = [];
    proc.stderr!.on('data', (c: Buffer) => void (log.length < 500 && log.push(c.toString())));
    const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
    const p = new PrometheusServer(proc, dir, `http://127.0.0.1:${port}`, log);
    for (let i = 0; i < 300; i++) {
      const code = await Promise.race([exited, sleep(100).then(() => 'running' as const)]);
      if (code !== 'running') throw new Error(`prometheus exited (${code}): ${log.join('').slice(-2000)}`);
      const ok = await fetch(`${p.url}/-/ready`).then((r) => r.ok, () => false);
      if (ok) return p;
    }
    await p.stop();
    throw new Error(`prometheus not ready after 30 s: ${log.join('').slice(-2000)}`);
  }

  /** An instant query; the vector's samples as { labels, value }. */
  async query(q: string): Promise<Array<{ metric: Record<string, string>; value: number }>> {
    const r = await fetch(`${this.url}/api/v1/query?query=${encodeURIComponent(q)}`);
    const body = (await r.json()) as { status: string; error?: string; data: { resultType: string; result: Array<{ metric: Record<string, string>; value: [number, string] }> } };
    if (body.status !== 'success') throw new Error(`query ${q}: ${body.error}`);
    return body.data.result.map((s) => ({ metric: s.metric, value: Number(s.value[1]) }));
  }

  /** Polls `q` (bounded) until `want` holds for its samples; returns them. */
  async until(q: string, want: (s: Array<{ metric: Record<string, string>; value: number }>) => boolean, timeoutMs = 20_000): Promise<Array<{ metric: Record<string, string>; value: number }>> {
    const end = Date.now() + timeoutMs;
    let last: Array<{ metric: Record<string, string>; value: number }> = [];
    while (Date.now() < end) {
      last = await this.query(q);
      if (want(last)) return last;
      await sleep(250);
    }
    throw new Error(`timed out waiting on ${q}; last: ${JSON.stringify(last)}`);
  }

  async stop(): Promise<void> {
    if (this.proc.exitCode === null && this.proc.pid !== undefined) {
      const exited = new Promise<void>((r) => this.proc.once('exit', () => r()));
      process.kill(this.proc.pid, 'SIGTERM');
      await Promise.race([exited, sleep(10_000)]);
      if (this.proc.exitCode === null) process.kill(this.proc.pid, 'SIGKILL');
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
