/**
 * A private nats-server started from a configuration the test writes (the generated ACL
 * fragment, TLS certificates), with secrets passed in its environment as the generated
 * configuration expects ($VARIABLE references), stopped by its PID.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findNatsServer, freePort, stopProcess, waitFor } from '../runtime/helpers.js';

/** Resolves once something on `port` sends a NATS INFO line. */
function infoLine(port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const s = tcpConnect({ host: '127.0.0.1', port });
    let text = '';
    const done = (v: string | undefined) => {
      s.destroy();
      resolve(v);
    };
    s.setTimeout(1000, () => done(undefined));
    s.on('data', (d) => {
      text += d.toString('latin1');
      if (text.includes('\r\n')) done(text.split('\r\n')[0]);
    });
    s.on('error', () => done(undefined));
  });
}

export class SecureNatsServer {
  private proc: ChildProcess | undefined;
  readonly dir = mkdtempSync(join(tmpdir(), 'ec-nats-sec-'));
  private constructor(readonly port: number) {}

  /** `config` gets the port and a store directory; `env` holds the secrets the config references. */
  static async start(config: (port: number, storeDir: string) => string, env: Record<string, string> = {}): Promise<SecureNatsServer> {
    const s = new SecureNatsServer(await freePort());
    const file = join(s.dir, 'nats.conf');
    writeFileSync(file, config(s.port, join(s.dir, 'js')));
    s.proc = spawn(findNatsServer(), ['-c', file], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } });
    let stderr = '';
    s.proc.stderr?.on('data', (d: Buffer) => void (stderr = (stderr + d.toString()).slice(-4000)));
    await waitFor(async () => {
      if (s.proc?.exitCode !== null) throw new Error(`nats-server exited: ${stderr}`);
      return (await infoLine(s.port)) !== undefined;
    }, 10_000, 'nats-server to listen');
    return s;
  }

  get url(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** The INFO line the server sends first (tls_required, auth_required). */
  info(): Promise<string | undefined> {
    return infoLine(this.port);
  }

  async destroy(): Promise<void> {
    await stopProcess(this.proc);
    this.proc = undefined;
    rmSync(this.dir, { recursive: true, force: true });
  }
}
