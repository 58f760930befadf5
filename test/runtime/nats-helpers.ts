/**
 * NATS test helpers: a raw TCP client that sends header blocks nats.js would refuse to
 * write (as any other client or a hand-written producer can), and a private nats-server
 * started from a config file (permissions), stopped by its PID.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect as tcpConnect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { findNatsServer, freePort, stopProcess, waitFor } from './helpers.js';

/** A connection speaking the NATS protocol by hand: HPUB with any header block. */
export class RawNatsClient {
  private buffered = '';
  private waiters: Array<{ want: RegExp; resolve: (line: string) => void; reject: (e: Error) => void }> = [];

  private constructor(private readonly socket: Socket) {
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      this.buffered += chunk;
      this.check();
    });
    socket.on('error', (e) => this.fail(e));
    socket.on('close', () => this.fail(new Error('raw NATS connection closed')));
  }

  /** Connects to `host:port` and completes the handshake (headers on, no verbose acks). */
  static async open(url: string): Promise<RawNatsClient> {
    const [host, port] = url.replace(/^nats:\/\//, '').split(':');
    const socket = tcpConnect({ host: host!, port: Number(port ?? 4222) });
    const c = new RawNatsClient(socket);
    await c.until(/^INFO /m);
    socket.write('CONNECT {"verbose":false,"pedantic":false,"headers":true,"no_responders":true,"lang":"raw","version":"0"}\r\n');
    await c.ping();
    return c;
  }

  /** `HPUB subject [reply] <hdr> <total>` with `headerBlock` sent byte for byte. */
  hpub(subject: string, headerBlock: Uint8Array | string, body: Uint8Array | string, reply?: string): void {
    const h = typeof headerBlock === 'string' ? Buffer.from(headerBlock, 'utf8') : Buffer.from(headerBlock);
    const b = typeof body === 'string' ? Buffer.from(body, 'utf8') : Buffer.from(body);
    const to = reply ? `${subject} ${reply}` : subject;
    this.socket.write(Buffer.concat([Buffer.from(`HPUB ${to} ${h.length} ${h.length + b.length}\r\n`), h, b, Buffer.from('\r\n')]));
  }

  /** `SUB subject sid`: what arrives on it can be awaited with received(). */
  sub(subject: string, sid: number): void {
    this.socket.write(`SUB ${subject} ${sid}\r\n`);
  }

  /** Resolves with the first text received that matches `want` (the raw protocol, latin1). */
  received(want: RegExp): Promise<string> {
    return this.until(want);
  }

  /** Resolves once the server has processed everything sent before (fails on an -ERR). */
  async ping(): Promise<void> {
    this.socket.write('PING\r\n');
    const line = await this.until(/^(PONG|-ERR.*)$/m);
    if (line.startsWith('-ERR')) throw new Error(`server said ${line}`);
  }

  close(): void {
    this.socket.destroy();
  }

  private until(want: RegExp): Promise<string> {
    return new Promise((resolve, reject) => {
      this.waiters.push({ want, resolve, reject });
      this.check();
    });
  }

  private check(): void {
    for (const w of [...this.waiters]) {
      const m = w.want.exec(this.buffered);
      if (!m) continue;
      this.buffered = this.buffered.slice(m.index + m[0].length);
      this.waiters.splice(this.waiters.indexOf(w), 1);
      w.resolve(m[0].trim());
    }
  }

  private fail(e: Error): void {
    for (const w of this.waiters.splice(0)) w.reject(e);
  }
}

/** A private nats-server with JetStream, started from `config` (a function of port and store dir). */
export class ConfiguredNatsServer {
  private proc: ChildProcess | undefined;
  readonly dir = mkdtempSync(join(tmpdir(), 'ec-nats-conf-'));
  private constructor(readonly port: number) {}

  static async start(config: (port: number, storeDir: string) => string, probe: { user: string; pass: string }): Promise<ConfiguredNatsServer> {
    const s = new ConfiguredNatsServer(await freePort());
    const file = join(s.dir, 'nats.conf');
    writeFileSync(file, config(s.port, join(s.dir, 'js')));
    s.proc = spawn(findNatsServer(), ['-c', file], { stdio: 'ignore' });
    await waitFor(async () => {
      try {
        const nc = await connect({ servers: s.url, user: probe.user, pass: probe.pass, reconnect: false, timeout: 500 });
        await nc.close();
        return true;
      } catch {
        return false;
      }
    }, 10_000, 'nats-server to accept connections');
    return s;
  }

  get url(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Stops the server by its PID and removes its directory. */
  async destroy(): Promise<void> {
    await stopProcess(this.proc);
    this.proc = undefined;
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A header block as a producer's own client may write it: `NATS/1.0` plus these raw lines. */
export function headerBlock(lines: readonly string[]): string {
  return `NATS/1.0\r\n${lines.join('\r\n')}\r\n\r\n`;
}

/** CloudEvents binary-mode headers of a valid `user.created@1.0.0` (helpers.ts userCreated). */
export function ceLines(id: string, extra: readonly string[] = []): string[] {
  return [
    'ce-specversion: 1.0',
    `ce-id: ${id}`,
    'ce-type: user.created',
    'ce-source: raw',
    `ce-time: ${new Date().toISOString()}`,
    'ce-eventversion: 1.0.0',
    'content-type: application/json',
    ...extra,
  ];
}
