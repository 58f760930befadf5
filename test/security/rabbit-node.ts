/**
 * A private RabbitMQ node for tests that must configure the broker (TLS listener, EXTERNAL
 * authentication): its own node name, ports, data, logs and Erlang cookie in a temporary
 * folder, started from the installed RabbitMQ (as root, not through the service's wrapper,
 * which would switch to the shared node's user and cookie) and stopped by its PID. The
 * shared local broker is never touched.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../runtime/helpers.js';

const BIN = '/usr/lib/rabbitmq/bin';

export class PrivateRabbit {
  private proc: ChildProcess | undefined;
  readonly dir = mkdtempSync(join(tmpdir(), 'ec-rabbit-'));
  readonly node = `ecsec${process.pid}x${Math.random().toString(36).slice(2, 8)}@localhost`;
  private constructor(readonly port: number) {}

  static available(): boolean {
    return existsSync(join(BIN, 'rabbitmq-server')) && process.getuid?.() === 0;
  }

  /** `conf` gets the TLS listener port; `plugins` are enabled on this node only. */
  static async start(conf: (port: number) => string, plugins: readonly string[] = []): Promise<PrivateRabbit> {
    const r = new PrivateRabbit(await freePort());
    const dist = await freePort();
    writeFileSync(join(r.dir, 'rabbitmq.conf'), conf(r.port));
    writeFileSync(join(r.dir, 'enabled_plugins'), `[${plugins.join(',')}].\n`);
    r.proc = spawn(join(BIN, 'rabbitmq-server'), [], { stdio: 'ignore', env: r.env({ RABBITMQ_DIST_PORT: String(dist) }) });
    const log = join(r.dir, 'log', `${r.node}.log`);
    const until = Date.now() + 90_000;
    for (;;) {
      if (existsSync(log) && readFileSync(log, 'utf8').includes('Server startup complete')) break;
      if (r.proc.exitCode !== null || Date.now() > until) {
        const text = existsSync(log) ? readFileSync(log, 'utf8').slice(-2000) : '(no log)';
        await r.destroy();
        throw new Error(`private RabbitMQ node did not start: ${text}`);
      }
      await new Promise((res) => setTimeout(res, 100));
    }
    return r;
  }

  private env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    return {
      ...process.env,
      HOME: this.dir,
      RABBITMQ_NODENAME: this.node,
      RABBITMQ_CONFIG_FILE: join(this.dir, 'rabbitmq.conf'),
      RABBITMQ_ENABLED_PLUGINS_FILE: join(this.dir, 'enabled_plugins'),
      RABBITMQ_MNESIA_BASE: join(this.dir, 'mnesia'),
      RABBITMQ_LOG_BASE: join(this.dir, 'log'),
      RABBITMQ_PID_FILE: join(this.dir, 'pid'),
      ...extra,
    };
  }

  /** rabbitmqctl against this node only. */
  ctl(...args: string[]): void {
    execFileSync(join(BIN, 'rabbitmqctl'), ['-n', this.node, '-q', ...args], { stdio: 'pipe', timeout: 60_000, env: this.env() });
  }

  /** Stops the node by the PID of its Erlang VM (SIGTERM: a clean shutdown), then removes its folder. */
  async destroy(): Promise<void> {
    const pidFile = join(this.dir, 'pid');
    const beam = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').trim()) : undefined;
    const p = this.proc;
    if (p && p.exitCode === null) {
      const exited = new Promise<void>((res) => p.once('exit', () => res()));
      if (beam) process.kill(beam, 'SIGTERM');
      else p.kill('SIGTERM');
      const t = setTimeout(() => {
        if (beam) {
          try {
            process.kill(beam, 'SIGKILL');
          } catch {
            // already gone
          }
        }
        p.kill('SIGKILL');
      }, 15_000);
      await exited;
      clearTimeout(t);
    }
    this.proc = undefined;
    rmSync(this.dir, { recursive: true, force: true });
  }
}
