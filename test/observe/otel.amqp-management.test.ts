/**
 * RabbitMQ's unacknowledged count, which AMQP 0-9-1 does not report, read from the
 * management plugin's HTTP API. The shared broker runs without the plugin, so this test
 * starts a RabbitMQ node of its own with it, on free loopback ports, and stops it by PID.
 * The node takes 10-60 s to start on a busy machine.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEventBus, type EventBus } from '../../src/runtime/index.js';
import { AmqpTransport } from '../../src/runtime/amqp/index.js';
import { ATTR, createObservability, INSTRUMENTS, observeAmqp } from '../../src/runtime/otel/index.js';
import { freePort, rand, stopProcess, userCreated, waitFor } from '../runtime/helpers.js';
import { point, points, sdk } from './otel-helpers.js';

const RABBITMQ_SERVER = process.env['RABBITMQ_SERVER'] ?? '/usr/lib/rabbitmq/bin/rabbitmq-server';

/** A private RabbitMQ node with the management plugin (statistics every 200 ms). */
class OwnRabbitMq {
  private proc: ChildProcess | undefined;
  readonly dir = mkdtempSync(join(tmpdir(), 'ec-rmq-'));
  private constructor(
    readonly amqpPort: number,
    readonly httpPort: number,
  ) {}

  static async start(): Promise<OwnRabbitMq> {
    const r = new OwnRabbitMq(await freePort(), await freePort());
    const distPort = await freePort();
    writeFileSync(join(r.dir, 'enabled_plugins'), '[rabbitmq_management].\n');
    writeFileSync(
      join(r.dir, 'rabbitmq.conf'),
      [`listeners.tcp.default = 127.0.0.1:${r.amqpPort}`, `management.tcp.port = ${r.httpPort}`, 'management.tcp.ip = 127.0.0.1', 'collect_statistics_interval = 200', ''].join('\n'),
    );
    r.proc = spawn(RABBITMQ_SERVER, [], {
      stdio: 'ignore',
      env: {
        ...process.env,
        RABBITMQ_NODENAME: `ectest${rand()}@localhost`,
        RABBITMQ_BASE: r.dir,
        RABBITMQ_MNESIA_BASE: join(r.dir, 'mnesia'),
        RABBITMQ_LOG_BASE: join(r.dir, 'log'),
        RABBITMQ_CONFIG_FILE: join(r.dir, 'rabbitmq.conf'),
        RABBITMQ_ENABLED_PLUGINS_FILE: join(r.dir, 'enabled_plugins'),
        RABBITMQ_DIST_PORT: String(distPort),
        RABBITMQ_PID_FILE: join(r.dir, 'pid'),
      },
    });
    await waitFor(async () => {
      try {
        return (await fetch(`http://127.0.0.1:${r.httpPort}/api/overview`, { headers: { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}` } })).ok;
      } catch {
        return false;
      }
    }, 120_000, 'RabbitMQ management API');
    return r;
  }

  get amqpUrl(): string {
    return `amqp://guest:guest@127.0.0.1:${this.amqpPort}`;
  }
  managementUrl(password = 'guest'): string {
    return `http://guest:${password}@127.0.0.1:${this.httpPort}`;
  }

  async stop(): Promise<void> {
    await stopProcess(this.proc);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

describe('RabbitMQ queue depth through the management plugin', () => {
  let rmq: OwnRabbitMq | undefined;
  const buses: EventBus[] = [];
  beforeAll(async () => {
    rmq = await OwnRabbitMq.start();
  }, 150_000);
  afterAll(async () => {
    await Promise.allSettled(buses.map((b) => b.close()));
    await rmq?.stop();
  }, 30_000);

  it('reports ready and unacknowledged counts; with the API unreadable, the ready count over AMQP and one log line without the password', async () => {
    const { reader, meterProvider } = sdk();
    const prefix = `ecm${rand()}`;
    const ev = userCreated(`${prefix}.o`);
    const transport = await AmqpTransport.connect({ url: rmq!.amqpUrl, exchange: prefix, queuePrefix: `${prefix}.` });
    const obs = createObservability({ service: 'svc-m', system: 'rabbitmq', meterProvider, traces: false });
    const bus = createEventBus({ transport, source: 'svc-m', middleware: [obs.middleware] });
    buses.push(bus);
    const group = 'held';
    // Five handlers that wait: five deliveries stay unacknowledged, the rest ready.
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let started = 0;
    await bus.subscribe({ group, concurrency: 5, maxInFlight: 5, handlers: [{ type: ev.type, accepts: [ev], handle: async () => void (started++, await held) }] });
    for (let i = 0; i < 12; i++) await bus.publish(ev, { userId: `u${i}`, email: 'a@b.c' }, { params: { userId: `u${i}` } });
    await waitFor(() => started === 5, 10_000, 'five handlers running');

    const lines: Array<{ fields: Record<string, unknown>; msg: string }> = [];
    const logger = { error: (fields: Record<string, unknown>, msg: string) => void lines.push({ fields, msg }), warn: () => undefined, info: () => undefined };
    const observer = observeAmqp(obs, transport, [{ group }], logger, { url: rmq!.managementUrl() });
    const depth = async () => {
      const m = await points(reader);
      return [point(m, INSTRUMENTS.pending, { [ATTR.group]: group })?.value, point(m, INSTRUMENTS.ackPending, { [ATTR.group]: group })?.value];
    };
    await waitFor(async () => JSON.stringify(await depth()) === '[7,5]', 20_000, 'ready 7, unacknowledged 5');
    release();
    await waitFor(async () => JSON.stringify(await depth()) === '[0,0]', 20_000, 'ready 0, unacknowledged 0');
    observer.stop();
    expect(lines).toEqual([]);

    // A wrong password: 401 from the API. The ready count still comes, over AMQP; logged once.
    // (A provider of its own: the SDK goes on reporting a cumulative gauge's last value.)
    const other = sdk();
    const obs2 = createObservability({ service: 'svc-m', system: 'rabbitmq', meterProvider: other.meterProvider, traces: false });
    const wrong = observeAmqp(obs2, transport, [{ group }], logger, { url: rmq!.managementUrl('not-the-password') });
    for (let i = 0; i < 3; i++) {
      const m = await points(other.reader);
      expect(point(m, INSTRUMENTS.pending, { [ATTR.group]: group })?.value).toBe(0);
      expect(point(m, INSTRUMENTS.ackPending, { [ATTR.group]: group })).toBeUndefined();
    }
    wrong.stop();
    expect(lines).toHaveLength(1);
    expect(lines[0]!.msg).toContain('management API could not be read');
    expect(String(lines[0]!.fields['err'])).toContain('401');
    expect(JSON.stringify(lines)).not.toContain('not-the-password');
  }, 90_000);
});
