/** Shared by the runtime tests: descriptors with plain validators, waiting, nats-server. */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, delimiter } from 'node:path';
import { connect } from '@nats-io/transport-node';
import type { EventDescriptor, ValidationResult } from '../../src/runtime/index.js';

export const rand = (): string => Math.random().toString(36).slice(2, 10);

export interface UserCreated {
  userId: string;
  email: string;
  seq?: number;
  note?: string;
}

/** A hand-written validator in the shape generated code provides. */
export function userValidator(data: unknown): ValidationResult<UserCreated> {
  const errors = [];
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return { ok: false, errors: [{ path: '', message: 'must be object' }] };
  const o = data as Record<string, unknown>;
  if (typeof o['userId'] !== 'string') errors.push({ path: '/userId', message: 'must be string' });
  if (typeof o['email'] !== 'string' || !o['email'].includes('@')) errors.push({ path: '/email', message: 'must be an email' });
  if (o['seq'] !== undefined && typeof o['seq'] !== 'number') errors.push({ path: '/seq', message: 'must be number' });
  return errors.length ? { ok: false, errors } : { ok: true, value: o as unknown as UserCreated };
}

export function userCreated(prefix: string, version = '1.0.0', validate = userValidator): EventDescriptor<UserCreated> {
  return { type: 'user.created', version, address: `${prefix}.users.{userId}.created`, parameters: ['userId'], validate };
}

export interface Ping {
  n: number;
}
export const pingValidator = (d: unknown): ValidationResult<Ping> =>
  typeof d === 'object' && d !== null && typeof (d as Ping).n === 'number' ? { ok: true, value: d as Ping } : { ok: false, errors: [{ path: '/n', message: 'must be number' }] };

export function descriptor<T>(type: string, version: string, address: string, validate: (d: unknown) => ValidationResult<T>): EventDescriptor<T> {
  const parameters = [...address.matchAll(/\{([^}]+)\}/g)].map((m) => m[1] as string);
  return { type, version, address, parameters, validate };
}

/** Polls until `cond` holds; bounded, so a broken runtime fails the test instead of hanging. */
export async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await cond()) return;
    await sleep(20);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export const NATS_URL = process.env['NATS_URL'] ?? '127.0.0.1:4222';

export function findNatsServer(): string {
  const env = process.env['NATS_SERVER'];
  if (env && existsSync(env)) return env;
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    const p = join(dir, 'nats-server');
    if (dir && existsSync(p)) return p;
  }
  if (existsSync('/usr/sbin/nats-server')) return '/usr/sbin/nats-server';
  throw new Error('nats-server not found (set NATS_SERVER)');
}

/** Stops a server process we started, by its PID: SIGTERM, then SIGKILL if it has not exited within 5 s. */
export async function stopProcess(p: ChildProcess | undefined): Promise<void> {
  if (!p || p.exitCode !== null || p.signalCode !== null) return;
  const exited = new Promise<void>((r) => p.once('exit', () => r()));
  p.kill('SIGTERM');
  const t = setTimeout(() => p.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(t);
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

/** A private nats-server with JetStream on a free loopback port, for tests that kill it. */
export class OwnNatsServer {
  private proc: ChildProcess | undefined;
  readonly dir = mkdtempSync(join(tmpdir(), 'ec-nats-'));
  private constructor(readonly port: number) {}

  static async start(): Promise<OwnNatsServer> {
    const s = new OwnNatsServer(await freePort());
    await s.spawn();
    return s;
  }

  get url(): string {
    return `127.0.0.1:${this.port}`;
  }

  async spawn(): Promise<void> {
    const p = spawn(findNatsServer(), ['-js', '-a', '127.0.0.1', '-p', String(this.port), '-sd', this.dir], { stdio: 'ignore' });
    this.proc = p;
    await waitFor(async () => {
      try {
        const nc = await connect({ servers: this.url, reconnect: false, timeout: 500 });
        await nc.close();
        return true;
      } catch {
        return false;
      }
    }, 10_000, 'nats-server to accept connections');
  }

  async stop(): Promise<void> {
    await stopProcess(this.proc);
    this.proc = undefined;
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.spawn();
  }

  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
