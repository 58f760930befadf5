#!/usr/bin/env node
// Apache Kafka (KRaft, no ZooKeeper) for the tests and benches, from Maven Central.
//
//   node test/services/kafka.mjs fetch            resolve the broker's jars (cached in ~/.m2)
//   node test/services/kafka.mjs start [--nodes 3] start brokers on free loopback ports, print
//                                                  their bootstrap list and PIDs as JSON, and
//                                                  keep running until Ctrl-C (then stop them)
//
// From code: `startKafka({ nodes })` starts a one- or three-node cluster whose nodes a test
// can kill and restart by PID; `sharedKafka()` gives the single broker shared by every test
// file of one vitest run (started by the first file that asks, stopped by the run's global
// teardown, test/services/global-setup.ts). EC_KAFKA_BOOTSTRAP=host:port points both at a
// broker of your own instead (docker run -p 9092:9092 apache/kafka:4.1.1).
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync, openSync, closeSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const POM_DIR = path.join(HERE, 'kafka');
const LIB = path.join(POM_DIR, 'target', 'lib');
/** Generous bounds: a JVM starting on a busy two-core machine takes its time. */
const START_BOUND_MS = 180_000;

/** Resolves the broker's jars with Maven into target/lib (idempotent; ~/.m2 is the cache). */
export function fetchKafka({ quiet = true } = {}) {
  // The marker holds the pom's hash: a changed Kafka version fetches again.
  const marker = path.join(LIB, '.complete');
  const pom = createHash('sha256').update(readFileSync(path.join(POM_DIR, 'pom.xml'))).digest('hex');
  if (existsSync(marker) && readFileSync(marker, 'utf8') === pom) return LIB;
  rmSync(LIB, { recursive: true, force: true });
  const mvn = spawnSync('mvn', ['-B', ...(quiet ? ['-q'] : []), 'dependency:copy-dependencies', '-DoutputDirectory=target/lib', '-DincludeScope=runtime'], {
    cwd: POM_DIR,
    stdio: quiet ? ['ignore', 'pipe', 'pipe'] : 'inherit',
    encoding: 'utf8',
  });
  if (mvn.error) throw new Error(`Kafka: could not run mvn (${mvn.error.message}); install Maven and a JDK 17, or set EC_KAFKA_BOOTSTRAP`);
  if (mvn.status !== 0) throw new Error(`Kafka: mvn dependency:copy-dependencies failed (exit ${mvn.status}):\n${mvn.stdout ?? ''}${mvn.stderr ?? ''}`);
  writeFileSync(marker, pom);
  return LIB;
}

export async function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(a.port));
    });
    s.on('error', reject);
  });
}

/**
 * Kafka's cluster ids are 16 random bytes in URL-safe base64 without padding. One may start
 * with '-', so it is passed as `--cluster-id=…`, never as a separate argument.
 */
const clusterId = () => randomBytes(16).toString('base64url');

const LOG4J = `status = warn
appender.file.type = File
appender.file.name = file
appender.file.fileName = \${sys:kafka.logs.dir}/server.log
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = warn
rootLogger.appenderRef.file.ref = file
logger.started.name = kafka.server.KafkaRaftServer
logger.started.level = info
`;

function java() {
  const home = process.env.JAVA_HOME;
  return home ? path.join(home, 'bin', 'java') : 'java';
}

function jvmArgs(dir) {
  return [
    '-Xms256m',
    '-Xmx768m',
    '-XX:+UseG1GC',
    '-Djava.awt.headless=true',
    `-Dkafka.logs.dir=${dir}`,
    `-Dlog4j2.configurationFile=${path.join(dir, 'log4j2.properties')}`,
    '-cp',
    `${LIB}/*`,
  ];
}

/** One node of a KRaft cluster: broker and controller in one JVM (combined mode). */
class KafkaNode {
  constructor({ id, port, controllerPort, internalPort, saslPort, dir, voters, cluster, nodes, tls, sasl }) {
    Object.assign(this, { id, port, controllerPort, internalPort, saslPort, dir, voters, cluster, nodes, tls, sasl });
    this.proc = undefined;
  }

  get pid() {
    return this.proc?.pid;
  }

  get running() {
    return this.proc !== undefined && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  writeConfig() {
    mkdirSync(path.join(this.dir, 'data'), { recursive: true });
    const rf = Math.min(3, this.nodes);
    const props = {
      'process.roles': 'broker,controller',
      'node.id': this.id,
      'controller.quorum.voters': this.voters,
      listeners: `PLAINTEXT://127.0.0.1:${this.port},CONTROLLER://127.0.0.1:${this.controllerPort}`,
      'advertised.listeners': `PLAINTEXT://127.0.0.1:${this.port}`,
      'controller.listener.names': 'CONTROLLER',
      'inter.broker.listener.name': 'PLAINTEXT',
      'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
      // With `tls`, clients get mutual TLS on `port`; the node talks to itself in plain text
      // on a port of its own.
      ...(this.tls
        ? {
            listeners: `SSL://127.0.0.1:${this.port},INTERNAL://127.0.0.1:${this.internalPort},CONTROLLER://127.0.0.1:${this.controllerPort}`,
            'advertised.listeners': `SSL://127.0.0.1:${this.port},INTERNAL://127.0.0.1:${this.internalPort}`,
            'inter.broker.listener.name': 'INTERNAL',
            'listener.security.protocol.map': 'SSL:SSL,INTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT',
            'ssl.keystore.type': 'PEM',
            'ssl.keystore.location': this.tls.keystore,
            'ssl.truststore.type': 'PEM',
            'ssl.truststore.location': this.tls.truststore,
            'ssl.client.auth': 'required',
          }
        : {}),
      'log.dirs': path.join(this.dir, 'data'),
      'num.partitions': 1,
      'default.replication.factor': rf,
      'min.insync.replicas': Math.min(2, rf),
      'offsets.topic.replication.factor': rf,
      'offsets.topic.num.partitions': 3,
      'transaction.state.log.replication.factor': rf,
      'transaction.state.log.min.isr': Math.min(2, rf),
      'share.coordinator.state.topic.replication.factor': rf,
      'share.coordinator.state.topic.min.isr': Math.min(2, rf),
      // Tests create consumer groups by the hundred; a new group should not wait 3 s to rebalance.
      'group.initial.rebalance.delay.ms': 0,
      'auto.create.topics.enable': 'false',
      // A killed node must be noticed quickly by the others (defaults are tuned for WANs).
      'broker.session.timeout.ms': 6000,
      'broker.heartbeat.interval.ms': 1000,
      'controller.quorum.election.timeout.ms': 1000,
      'controller.quorum.fetch.timeout.ms': 2000,
      'replica.lag.time.max.ms': 5000,
      'log.flush.interval.messages': 9223372036854775807n.toString(),
      'num.network.threads': 2,
      'num.io.threads': 4,
    };
    // With `sasl`, a SASL_PLAINTEXT listener of its own beside the others (PLAIN and SCRAM);
    // with `sasl.authorize`, the broker enforces ACLs: nothing is allowed without one, except
    // to the unauthenticated listeners' principal (ANONYMOUS: the node itself, the test's admin).
    if (this.sasl) Object.assign(props, saslProps(props, this.saslPort, this.sasl));
    writeFileSync(path.join(this.dir, 'server.properties'), Object.entries(props).map(([k, v]) => `${k}=${v}`).join('\n') + '\n');
    writeFileSync(path.join(this.dir, 'log4j2.properties'), LOG4J);
  }

  format() {
    // SCRAM credentials live in the cluster metadata; KRaft takes the first ones at format time.
    const scram = Object.entries(this.sasl?.users ?? {}).flatMap(([name, password]) => SCRAM_MECHANISMS.flatMap((m) => ['--add-scram', `${m}=[name=${JSON.stringify(name)},password=${JSON.stringify(password)}]`]));
    const r = spawnSync(java(), [...jvmArgs(this.dir), 'kafka.tools.StorageTool', 'format', `--cluster-id=${this.cluster}`, `--config=${path.join(this.dir, 'server.properties')}`, '--ignore-formatted', ...scram], {
      encoding: 'utf8',
    });
    if (r.status !== 0) throw new Error(`Kafka node ${this.id}: storage format failed (exit ${r.status}): ${r.stderr || r.stdout}`);
  }

  /** Starts the JVM; resolves once this node logged that it started. */
  async start() {
    if (this.running) return;
    const log = path.join(this.dir, 'server.log');
    const before = existsSync(log) ? readFileSync(log, 'utf8').length : 0;
    const out = openSync(path.join(this.dir, 'stdout.log'), 'a');
    this.proc = spawn(java(), [...jvmArgs(this.dir), 'kafka.Kafka', path.join(this.dir, 'server.properties')], {
      stdio: ['ignore', out, out],
      detached: false,
    });
    closeSync(out);
    const proc = this.proc;
    const deadline = Date.now() + START_BOUND_MS;
    for (;;) {
      if (proc.exitCode !== null || proc.signalCode !== null) {
        throw new Error(`Kafka node ${this.id} exited while starting (${proc.exitCode ?? proc.signalCode}); see ${this.dir}/stdout.log and server.log`);
      }
      const text = existsSync(log) ? readFileSync(log, 'utf8').slice(before) : '';
      if (/Kafka Server started/.test(text) && (await canConnect(this.port))) return;
      if (Date.now() > deadline) throw new Error(`Kafka node ${this.id} did not start within ${START_BOUND_MS} ms; see ${this.dir}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** SIGKILL: a crash, not a shutdown (failover tests). */
  async kill() {
    await stop(this.proc, 'SIGKILL');
  }

  /** SIGTERM, then SIGKILL after 10 s. */
  async stop() {
    await stop(this.proc, 'SIGTERM');
  }
}

const SCRAM_MECHANISMS = ['SCRAM-SHA-256', 'SCRAM-SHA-512'];

/** The properties `sasl` adds to a node's: the SASL listener, its mechanisms and users, the authorizer. */
function saslProps(props, saslPort, sasl) {
  // A JAAS value is a quoted string without escapes.
  for (const [name, password] of Object.entries(sasl.users)) if (!/^[\w.-]+$/.test(name) || /["\\]/.test(password)) throw new Error(`startKafka: SASL user '${name}': names are word characters, passwords have no quote or backslash`);
  const listeners = `${props.listeners},SASL_PLAINTEXT://127.0.0.1:${saslPort}`;
  const advertised = `${props['advertised.listeners']},SASL_PLAINTEXT://127.0.0.1:${saslPort}`;
  const plainUsers = Object.entries(sasl.users).map(([name, password]) => `user_${name}=${JSON.stringify(password)}`).join(' ');
  return {
    listeners,
    'advertised.listeners': advertised,
    'listener.security.protocol.map': `${props['listener.security.protocol.map']},SASL_PLAINTEXT:SASL_PLAINTEXT`,
    'sasl.enabled.mechanisms': ['PLAIN', ...SCRAM_MECHANISMS].join(','),
    'listener.name.sasl_plaintext.plain.sasl.jaas.config': `org.apache.kafka.common.security.plain.PlainLoginModule required ${plainUsers};`,
    ...Object.fromEntries(SCRAM_MECHANISMS.map((m) => [`listener.name.sasl_plaintext.${m.toLowerCase()}.sasl.jaas.config`, 'org.apache.kafka.common.security.scram.ScramLoginModule required;'])),
    ...(sasl.authorize ? { 'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer', 'super.users': 'User:ANONYMOUS', 'allow.everyone.if.no.acl.found': 'false' } : {}),
  };
}

function canConnect(port) {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

async function stop(proc, signal) {
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((r) => proc.once('exit', r));
  proc.kill(signal);
  const t = setTimeout(() => proc.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(t);
}

/**
 * Formats and starts a KRaft cluster of `nodes` combined broker/controller nodes on free
 * loopback ports (replication factors and min.insync.replicas follow the size: 3 and 2 on
 * three nodes). Returns the bootstrap list, the nodes (kill/start/stop each by PID) and stop().
 */
/**
 * `tls`: `{ keystore, truststore }`, PEM files (the node's private key and certificate chain
 * in one; the CA its clients' certificates must be signed by): clients then need mutual TLS.
 * `sasl`: `{ users: { name: password }, authorize }`: a SASL_PLAINTEXT listener more
 * (`saslBootstrap`) taking PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512 for those users; with
 * `authorize` the broker enforces ACLs (its other listeners stay unauthenticated super users).
 * Both are for one node.
 */
export async function startKafka({ nodes = 1, dir, tls, sasl } = {}) {
  if ((tls || sasl) && nodes !== 1) throw new Error('startKafka: tls and sasl are for one node');
  fetchKafka();
  const root = dir ?? mkdtempSync(path.join(os.tmpdir(), 'ec-kafka-'));
  const ids = Array.from({ length: nodes }, (_, i) => i + 1);
  const ports = await Promise.all(ids.map(async () => ({ port: await freePort(), controllerPort: await freePort(), ...(tls ? { internalPort: await freePort() } : {}), ...(sasl ? { saslPort: await freePort() } : {}) })));
  const voters = ids.map((id, i) => `${id}@127.0.0.1:${ports[i].controllerPort}`).join(',');
  const cluster = clusterId();
  const list = ids.map((id, i) => new KafkaNode({ id, ...ports[i], dir: path.join(root, `node-${id}`), voters, cluster, nodes, tls, sasl }));
  for (const n of list) {
    n.writeConfig();
    n.format();
  }
  try {
    // A KRaft quorum of three elects a leader only once two are up: start them together.
    await Promise.all(list.map((n) => n.start()));
  } catch (error) {
    await Promise.allSettled(list.map((n) => n.kill()));
    throw error;
  }
  return {
    bootstrap: list.map((n) => `127.0.0.1:${n.port}`).join(','),
    ...(sasl ? { saslBootstrap: list.map((n) => `127.0.0.1:${n.saslPort}`).join(',') } : {}),
    nodes: list,
    dir: root,
    async stop() {
      await Promise.allSettled(list.map((n) => n.stop()));
      rmSync(root, { recursive: true, force: true });
    },
  };
}

// ---------------------------------------------------------------------------------------
// One broker per vitest run, shared by its test files (they run in separate processes).
// ---------------------------------------------------------------------------------------

let own; // the broker this process started when there is no run directory (benches, scripts)

/**
 * The shared single-node broker: `{ bootstrap }`. Under vitest the first file that asks
 * starts it (a lock directory in the run's directory decides who), the others wait for its
 * state file; the global teardown stops it by PID. Outside vitest it is this process's own.
 */
export async function sharedKafka() {
  if (process.env.EC_KAFKA_BOOTSTRAP) return { bootstrap: process.env.EC_KAFKA_BOOTSTRAP };
  const runDir = process.env.EC_KAFKA_RUN_DIR;
  if (!runDir) {
    own ??= startKafka({ nodes: 1 }).then((k) => {
      // The broker must not keep this process alive (a bench or a script ends when its work
      // does); when the process exits, the broker and its directory go with it.
      for (const n of k.nodes) n.proc?.unref();
      process.once('exit', () => {
        for (const n of k.nodes) n.proc?.kill('SIGKILL');
        rmSync(k.dir, { recursive: true, force: true });
      });
      return k;
    });
    return { bootstrap: (await own).bootstrap };
  }
  const state = path.join(runDir, 'kafka.json');
  const failed = path.join(runDir, 'kafka.error');
  let mine = false;
  try {
    mkdirSync(path.join(runDir, 'kafka.lock'));
    mine = true;
  } catch (error) {
    if (error.code !== 'EEXIST') throw error;
  }
  if (mine) {
    try {
      const k = await startKafka({ nodes: 1, dir: path.join(runDir, 'kafka') });
      // The node outlives this test file's process: detach it from our exit.
      k.nodes[0].proc.unref();
      const tmp = `${state}.tmp`;
      writeFileSync(tmp, JSON.stringify({ bootstrap: k.bootstrap, pids: k.nodes.map((n) => n.pid), dir: k.dir }));
      renameSync(tmp, state);
    } catch (error) {
      writeFileSync(failed, String(error?.message ?? error));
      throw error;
    }
  }
  const deadline = Date.now() + START_BOUND_MS + 60_000;
  for (;;) {
    if (existsSync(state)) return { bootstrap: JSON.parse(readFileSync(state, 'utf8')).bootstrap };
    if (existsSync(failed)) throw new Error(`the shared Kafka broker failed to start: ${readFileSync(failed, 'utf8')}`);
    if (Date.now() > deadline) throw new Error('the shared Kafka broker did not start');
    await new Promise((r) => setTimeout(r, 100));
  }
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Stops the shared broker of a run directory by PID and removes the directory. */
export async function stopShared(runDir) {
  const state = path.join(runDir, 'kafka.json');
  if (existsSync(state)) {
    const { pids } = JSON.parse(readFileSync(state, 'utf8'));
    for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGTERM');
    const deadline = Date.now() + 15_000;
    while (pids.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
  }
  rmSync(runDir, { recursive: true, force: true });
}

/** Run directories left by a vitest that was killed: stop their brokers. */
export async function sweepAbandoned() {
  for (const name of readdirSync(os.tmpdir())) {
    const m = /^ec-kafka-run-(\d+)-/.exec(name);
    if (m && !alive(Number(m[1]))) await stopShared(path.join(os.tmpdir(), name));
  }
}

export function newRunDir() {
  return mkdtempSync(path.join(os.tmpdir(), `ec-kafka-run-${process.pid}-`));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [command = 'start', ...rest] = process.argv.slice(2);
  if (command === 'fetch') {
    console.log(`Kafka jars in ${fetchKafka({ quiet: false })}`);
  } else if (command === 'start') {
    const i = rest.indexOf('--nodes');
    const nodes = i >= 0 ? Number(rest[i + 1]) : 1;
    if (![1, 3].includes(nodes)) throw new Error('--nodes is 1 or 3');
    const k = await startKafka({ nodes });
    console.log(JSON.stringify({ bootstrap: k.bootstrap, pids: k.nodes.map((n) => n.pid), dir: k.dir }));
    console.log('Kafka is running; Ctrl-C stops it.');
    const quit = async () => {
      await k.stop();
      process.exit(0);
    };
    process.on('SIGINT', quit);
    process.on('SIGTERM', quit);
  } else {
    console.error('usage: node test/services/kafka.mjs fetch | start [--nodes 1|3]');
    process.exit(2);
  }
}
