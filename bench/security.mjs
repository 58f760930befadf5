// Security costs, as ratios in one run: the SDK's JetStream publish (1,000 in flight) and
// pull consume over mutual TLS against the same over plain TCP (two private nats-servers,
// same settings but TLS, started here and stopped by PID; certificates made by openssl);
// signed events (ed25519 sign on publish, verify on consume, signedTransport) against
// unsigned ones on the plain server and over the memory transport (no broker cost: the
// worst case), plus the µs one signature and one verification cost. The targets:
// TLS ≥ 0.85 of plain, signing ≥ 0.7 of unsigned.
//
// Beside the rates, the CPU time each event cost, in this process (the SDK) and in the
// nats-server (from /proc/<pid>/stat), best round of each: on a busy machine the rates swing
// by 2× from round to round, CPU time per event much less, and the ratio of CPU costs is
// the rate ratio an otherwise idle machine would show (both sides are CPU-bound here).
//
// `run()` returns rows { name, value, unit }. Needs `npm run build` and nats-server on PATH.
import { execFileSync, spawn } from 'node:child_process';
import { generateKeyPairSync, sign, verify } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFileSync } from 'node:fs';
import { createServer, connect as tcp } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEventBus, MemoryTransport, signedTransport, signedBytes } from '../dist/runtime/index.js';
import { NatsTransport, provisionNats } from '../dist/runtime/nats/index.js';
import { data, validate } from './event.mjs';

const N = Number(process.env.BENCH_SEC_N ?? 10_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const rate = (n, ms) => Math.round((n / ms) * 1000);

const freePort = () =>
  new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

function pki(dir) {
  const ssl = (...a) => execFileSync('openssl', a, { cwd: dir, stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  ssl('req', '-x509', ...ec, '-days', '1', '-subj', '/CN=bench-ca', '-keyout', 'ca.key', '-out', 'ca.pem');
  for (const [name, ext] of [['server', 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n'], ['client', 'extendedKeyUsage=clientAuth\n']]) {
    writeFileSync(join(dir, `${name}.ext`), ext);
    ssl('req', ...ec, '-subj', `/CN=${name}`, '-keyout', `${name}.key`, '-out', `${name}.csr`);
    ssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '1', '-extfile', `${name}.ext`, '-out', `${name}.pem`);
  }
}

async function startServer(dir, name, tls) {
  const port = await freePort();
  const conf = join(dir, `${name}.conf`);
  writeFileSync(
    conf,
    `listen: "127.0.0.1:${port}"\njetstream { store_dir: "${join(dir, name)}" }\n` +
      (tls ? `tls { cert_file: "${join(dir, 'server.pem')}", key_file: "${join(dir, 'server.key')}", ca_file: "${join(dir, 'ca.pem')}", verify: true }\n` : ''),
  );
  const proc = spawn('nats-server', ['-c', conf], { stdio: 'ignore' });
  for (let i = 0; i < 200; i++) {
    const up = await new Promise((r) => {
      const s = tcp({ host: '127.0.0.1', port }, () => (s.destroy(), r(true)));
      s.on('error', () => r(false));
    });
    if (up) break;
    await new Promise((r) => setTimeout(r, 25));
  }
  return { url: `127.0.0.1:${port}`, pid: proc.pid, stop: () => new Promise((r) => (proc.once('exit', r), proc.kill('SIGTERM'))) };
}

/** CPU µs so far of this process and of the server `pid` (utime + stime; Linux clock ticks are 10 ms). */
function cpuNow(pid) {
  const own = process.cpuUsage();
  let server = 0;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    server = (Number(fields[11]) + Number(fields[12])) * 10_000;
  } catch {
    // no /proc: the server's share is left out
  }
  return { client: own.user + own.system, server };
}
const perEvent = (a, b) => ({ client: (b.client - a.client) / N, server: (b.server - a.server) / N });

async function natsRound(url, security, round, signing, pid) {
  const prefix = `bsec${round}${signing ? 's' : ''}`;
  const nats = await NatsTransport.connect({ connect: { servers: url }, maxAckPending: 50_000, ...(security ? { security } : {}) });
  await provisionNats(nats, { streams: [{ name: `BSEC${round}${signing ? 'S' : ''}`, subjects: [`${prefix}.>`], storage: 'file' }] });
  const transport = signing ? signedTransport(nats, signing) : nats;
  const bus = createEventBus({ transport, source: 'bench/security' });
  const ev = { type: 'user.created', version: '2.0.0', address: `${prefix}.users.{userId}`, parameters: ['userId'], validate };
  let next = 0;
  const c0 = cpuNow(pid);
  const t0 = performance.now();
  await Promise.all(Array.from({ length: 1000 }, async () => {
    while (next++ < N) await bus.publish(ev, data, { params: { userId: 'u1' } });
  }));
  const publish = rate(N, performance.now() - t0);
  const c1 = cpuNow(pid);
  let handled = 0;
  let done;
  const finished = new Promise((r) => (done = r));
  const t1 = performance.now();
  const sub = await bus.subscribe({ group: `c${round}`, concurrency: 64, maxInFlight: 1000, handlers: [{ type: ev.type, accepts: [ev], handle: async () => void (++handled === N && done()) }] });
  await finished;
  const consume = rate(N, performance.now() - t1);
  const c2 = cpuNow(pid);
  await sub.close();
  await bus.close();
  return { publish, consume, cpuPublish: perEvent(c0, c1), cpuConsume: perEvent(c1, c2) };
}

async function memoryRound(signing) {
  const shared = new MemoryTransport();
  const wrap = (t) => (signing ? signedTransport(t, signing) : t);
  const producer = createEventBus({ transport: wrap(new MemoryTransport({ sharedWith: shared })), source: 'users-service' });
  const consumer = createEventBus({ transport: wrap(new MemoryTransport({ sharedWith: shared })), source: 'payments-service' });
  const ev = { type: 'user.created', version: '2.0.0', address: 'sig.users.{userId}', parameters: ['userId'], validate };
  let handled = 0;
  let done;
  const finished = new Promise((r) => (done = r));
  await consumer.subscribe({ group: 'g', concurrency: 64, maxInFlight: 1000, dedupe: null, handlers: [{ type: ev.type, accepts: [ev], handle: async () => void (++handled === N && done()) }] });
  const t0 = performance.now();
  for (let i = 0; i < N; i += 100) await Promise.all(Array.from({ length: 100 }, () => producer.publish(ev, data, { params: { userId: 'u1' } })));
  await finished;
  const value = rate(N, performance.now() - t0);
  await producer.close();
  await consumer.close();
  await shared.close();
  return value;
}

export async function run() {
  const dir = mkdtempSync(join(tmpdir(), 'ec-bench-sec-'));
  const rows = [];
  try {
    pki(dir);
    const plain = await startServer(dir, 'plain', false);
    const tls = await startServer(dir, 'tls', true);
    const security = { tls: { ca: { file: join(dir, 'ca.pem') }, cert: { file: join(dir, 'client.pem') }, key: { file: join(dir, 'client.key') } } };
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const keyFile = join(dir, 'users.pem');
    writeFileSync(keyFile, privateKey.export({ format: 'pem', type: 'pkcs8' }));
    const pub = Buffer.from(publicKey.export({ format: 'jwk' }).x, 'base64url').toString('base64');
    const signing = { sign: { service: 'users-service', privateKey: { file: keyFile } }, verify: { keys: { 'users-service': [pub] } } };
    const best = { plain: { publish: 0, consume: 0 }, tls: { publish: 0, consume: 0 }, signed: { publish: 0, consume: 0 } };
    const inf = () => ({ client: Infinity, server: Infinity });
    const cpu = { plain: { publish: inf(), consume: inf() }, tls: { publish: inf(), consume: inf() }, signed: { publish: inf(), consume: inf() } };
    const least = (a, b) => (a.client + a.server <= b.client + b.server ? a : b);
    try {
      for (let r = 0; r < ROUNDS; r++) {
        // Rotating order, best round of each kept.
        const kinds = ['plain', 'tls', 'signed'];
        const order = [...kinds.slice(r % 3), ...kinds.slice(0, r % 3)];
        for (const which of order) {
          const server = which === 'tls' ? tls : plain;
          const x = await natsRound(server.url, which === 'tls' ? security : undefined, r, which === 'signed' ? signing : undefined, server.pid);
          cpu[which].publish = least(cpu[which].publish, x.cpuPublish);
          cpu[which].consume = least(cpu[which].consume, x.cpuConsume);
          best[which].publish = Math.max(best[which].publish, x.publish);
          best[which].consume = Math.max(best[which].consume, x.consume);
        }
      }
    } finally {
      await plain.stop();
      await tls.stop();
    }
    rows.push({ name: 'jetstream publish, plain TCP', value: best.plain.publish, unit: 'msgs/s' });
    rows.push({ name: 'jetstream publish, mutual TLS', value: best.tls.publish, unit: 'msgs/s' });
    rows.push({ name: 'TLS / plain, publish (target ≥ 0.85)', value: best.tls.publish / best.plain.publish, unit: 'x' });
    rows.push({ name: 'jetstream consume, plain TCP', value: best.plain.consume, unit: 'msgs/s' });
    rows.push({ name: 'jetstream consume, mutual TLS', value: best.tls.consume, unit: 'msgs/s' });
    rows.push({ name: 'TLS / plain, consume (target ≥ 0.85)', value: best.tls.consume / best.plain.consume, unit: 'x' });
    rows.push({ name: 'jetstream publish, signed', value: best.signed.publish, unit: 'msgs/s' });
    rows.push({ name: 'signed / unsigned, publish (target ≥ 0.7)', value: best.signed.publish / best.plain.publish, unit: 'x' });
    rows.push({ name: 'jetstream consume, verified', value: best.signed.consume, unit: 'msgs/s' });
    rows.push({ name: 'verified / unverified, consume (target ≥ 0.7)', value: best.signed.consume / best.plain.consume, unit: 'x' });
    const total = (c) => c.client + c.server;
    for (const phase of ['publish', 'consume']) {
      for (const which of ['plain', 'tls', 'signed']) {
        rows.push({ name: `CPU per event, ${phase}, ${which}: SDK`, value: cpu[which][phase].client, unit: 'µs' });
        rows.push({ name: `CPU per event, ${phase}, ${which}: nats-server`, value: cpu[which][phase].server, unit: 'µs' });
      }
      rows.push({ name: `CPU: plain / TLS, ${phase} (the rate ratio on an idle machine; target ≥ 0.85)`, value: total(cpu.plain[phase]) / total(cpu.tls[phase]), unit: 'x' });
      rows.push({ name: `CPU: unsigned / signed, ${phase} (target ≥ 0.7)`, value: total(cpu.plain[phase]) / total(cpu.signed[phase]), unit: 'x' });
      rows.push({ name: `signing cost per event, ${phase === 'publish' ? 'sign (hash, Merkle tree, proof)' : 'verify (hash, proof, cached roots)'}`, value: cpu.signed[phase].client - cpu.plain[phase].client, unit: 'µs' });
    }
    let unsigned = 0;
    let signedRate = 0;
    for (let r = 0; r < ROUNDS; r++) {
      unsigned = Math.max(unsigned, await memoryRound(undefined));
      signedRate = Math.max(signedRate, await memoryRound(signing));
    }
    rows.push({ name: 'memory publish+consume, unsigned', value: unsigned, unit: 'msgs/s' });
    rows.push({ name: 'memory publish+consume, signed and verified', value: signedRate, unit: 'msgs/s' });
    rows.push({ name: 'memory: signed / unsigned (no broker cost to hide it)', value: signedRate / unsigned, unit: 'x' });
    const bytes = signedBytes('sig.users.u1', Object.entries({ 'ce-id': 'x', 'ce-type': 'user.created', 'ce-source': 's', 'content-type': 'application/json' }), new TextEncoder().encode(JSON.stringify(data)));
    const M = 5000;
    let t0 = performance.now();
    let sig;
    for (let i = 0; i < M; i++) sig = sign(null, bytes, privateKey);
    rows.push({ name: 'ed25519 sign, per event', value: ((performance.now() - t0) * 1000) / M, unit: 'µs' });
    t0 = performance.now();
    for (let i = 0; i < M; i++) verify(null, bytes, publicKey, sig);
    rows.push({ name: 'ed25519 verify, per event', value: ((performance.now() - t0) * 1000) / M, unit: 'µs' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) for (const r of await run()) console.log(r.name, r.value, r.unit);
