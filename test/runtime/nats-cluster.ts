/**
 * A private nats-server cluster with JetStream for tests (and the cluster bench): N nodes on
 * free loopback ports, each with its own config file (JetStream clustering needs a server
 * name per node, which is simplest in a config), store directory and route port, every node
 * routing to the others. Nodes are killed and restarted by PID, on the same ports and store,
 * as an operator restarting a crashed server would.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { findNatsServer, freePort, stopProcess, waitFor } from './helpers.js';

export interface ClusterNode {
  /** server_name, e.g. 'n1': what JetStream reports as a stream's leader and replicas. */
  readonly name: string;
  readonly port: number;
  readonly routePort: number;
  readonly storeDir: string;
  readonly configFile: string;
  /** The running process, undefined while the node is down. */
  proc: ChildProcess | undefined;
}

export class NatsCluster {
  private constructor(
    readonly dir: string,
    readonly nodes: readonly ClusterNode[],
  ) {}

  /** Starts `size` nodes and waits until JetStream's meta leader is elected (bounded). */
  static async start(size = 3, clusterName = 'ec-test'): Promise<NatsCluster> {
    const dir = mkdtempSync(join(tmpdir(), 'ec-nats-cluster-'));
    const nodes: ClusterNode[] = [];
    for (let i = 1; i <= size; i++) {
      const name = `n${i}`;
      const storeDir = join(dir, name);
      mkdirSync(storeDir);
      nodes.push({ name, port: await freePort(), routePort: await freePort(), storeDir, configFile: join(dir, `${name}.conf`), proc: undefined });
    }
    for (const n of nodes) {
      const routes = nodes.filter((o) => o !== n).map((o) => `nats-route://127.0.0.1:${o.routePort}`);
      writeFileSync(
        n.configFile,
        [
          `server_name: ${n.name}`,
          `listen: 127.0.0.1:${n.port}`,
          `jetstream { store_dir: ${JSON.stringify(n.storeDir)} }`,
          `cluster { name: ${clusterName}, listen: 127.0.0.1:${n.routePort}, routes: [${routes.join(', ')}] }`,
          '',
        ].join('\n'),
      );
    }
    const c = new NatsCluster(dir, nodes);
    try {
      await Promise.all(nodes.map((n) => c.spawn(n)));
      await c.waitForJetStream();
    } catch (err) {
      await c.destroy();
      throw err;
    }
    return c;
  }

  /** `127.0.0.1:port` of every node, in order. */
  get urls(): string[] {
    return this.nodes.map((n) => `127.0.0.1:${n.port}`);
  }

  node(name: string): ClusterNode {
    const n = this.nodes.find((x) => x.name === name);
    if (!n) throw new Error(`no node named '${name}' (have ${this.nodes.map((x) => x.name).join(', ')})`);
    return n;
  }

  /** The node whose client port `server` (`host:port`, as nats.js reports it) is. */
  nodeAt(server: string): ClusterNode | undefined {
    const port = Number(server.replace(/^\w+:\/\//, '').split(':').pop());
    return this.nodes.find((n) => n.port === port);
  }

  private async spawn(n: ClusterNode): Promise<void> {
    n.proc = spawn(findNatsServer(), ['-c', n.configFile], { stdio: 'ignore' });
    const url = `127.0.0.1:${n.port}`;
    await waitFor(async () => {
      if (n.proc?.exitCode !== null) throw new Error(`nats-server ${n.name} exited with ${n.proc?.exitCode}`);
      try {
        const nc = await connect({ servers: url, reconnect: false, timeout: 500 });
        await nc.close();
        return true;
      } catch {
        return false;
      }
    }, 15_000, `nats-server ${n.name} to accept connections`);
  }

  /**
   * Resolves once JetStream answers account info through some node: only then is there a
   * meta leader (before, the API replies 503 or not at all).
   */
  async waitForJetStream(timeoutMs = 30_000): Promise<void> {
    const nc = await connect({ servers: this.urls, timeout: 1000 });
    try {
      const jsm = await jetstreamManager(nc, { timeout: 1000, checkAPI: false });
      await waitFor(async () => {
        try {
          await jsm.getAccountInfo();
          return true;
        } catch {
          return false;
        }
      }, timeoutMs, 'the JetStream meta leader to be elected');
    } finally {
      await nc.close();
    }
  }

  /** A connection to the running nodes (for the JetStream manager, say); the caller closes it. */
  connect(): Promise<NatsConnection> {
    return connect({ servers: this.urls.filter((_, i) => this.nodes[i]!.proc), timeout: 2000, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
  }

  /**
   * Stops a node by its PID: SIGKILL for a crash (nothing flushed, no leadership handed
   * over), SIGTERM for an orderly shutdown (SIGKILL after 5 s, see stopProcess).
   */
  async kill(name: string, signal: 'SIGKILL' | 'SIGTERM' = 'SIGKILL'): Promise<void> {
    const n = this.node(name);
    const p = n.proc;
    n.proc = undefined;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    if (signal === 'SIGTERM') return stopProcess(p);
    const exited = new Promise<void>((r) => p.once('exit', () => r()));
    p.kill('SIGKILL');
    await exited;
  }

  /** Starts a stopped node again on its ports and store; resolves once it accepts clients. */
  async restart(name: string): Promise<void> {
    const n = this.node(name);
    if (n.proc) throw new Error(`node ${name} is running`);
    await this.spawn(n);
  }

  /** Stops every node by PID and removes the directories. */
  async destroy(): Promise<void> {
    await Promise.allSettled(this.nodes.map((n) => this.kill(n.name, 'SIGTERM')));
    rmSync(this.dir, { recursive: true, force: true });
  }
}
