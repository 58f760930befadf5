// What observability costs the SDK on NATS, side by side in one run: JetStream publish
// (1,000 in flight) and JetStream consume with the OpenTelemetry middleware off, on with no
// SDK registered (the API's no-ops), and on with the OpenTelemetry SDK (BatchSpanProcessor
// into an in-memory span exporter, a MeterProvider with an in-memory periodic reader, the
// AsyncLocalStorage context manager). The event is bench/event.mjs's 300-byte
// user.created@2.0.0 with its generated validator.
//
// The SDK variants take the histograms through the middleware's HistogramProducer (as
// serveMetrics() wires them); 'SDK histograms' records them as SDK histograms instead. To
// say where the cost goes: metrics only, traces only, and 'off' with only the
// AsyncLocalStorage context manager enabled (its promise hooks slow every promise in the
// process). Each variant also reports this process's CPU time per event (user + system;
// the server is another process), steadier than throughput on a loaded machine.
//
// With no SDK the middleware adds no layers at all (createObservability sees nothing records),
// so 'on, no SDK' runs the same code as 'off': their ratio shows the run's noise.
//
// Fairness: each round runs the variants back to back on the same server and streams,
// the order rotating between rounds; the best round of each is kept. Consumers each read the
// same 20,000 stored events with a new durable consumer.
//
// Needs `npm run build` and NATS at NATS_URL or 127.0.0.1:4222.
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, BatchSpanProcessor, InMemorySpanExporter, ParentBasedSampler, TraceIdRatioBasedSampler } from '@opentelemetry/sdk-trace-base';
import { createEventBus } from '../dist/runtime/index.js';
import { NatsTransport, provisionNats } from '../dist/runtime/nats/index.js';
import { createObservability, HistogramProducer } from '../dist/runtime/otel/index.js';
import { connect } from '@nats-io/transport-node';
import { openWorkspace } from '../dist/workspace.js';
import { ContractMonitor, monitorContract, tapNats } from '../dist/observe/monitor/index.js';
import { data, validate } from './event.mjs';

const SERVER = process.env.NATS_URL ?? '127.0.0.1:4222';
const N = Number(process.env.BENCH_OBSERVE_N ?? 20_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const WINDOW = 1000;

async function windowed(n, window, op) {
  let next = 0;
  const worker = async () => {
    while (next < n) await op(next++);
  };
  await Promise.all(Array.from({ length: Math.min(window, n) }, worker));
}
const rate = (n, ms) => Math.round((n / ms) * 1000);

export async function run() {
  const id = Math.random().toString(36).slice(2, 8);
  const prefix = `obs${id}`;
  const stream = `OBS_${id}`;
  const transport = await NatsTransport.connect({ connect: { servers: SERVER }, maxAckPending: 50_000 });
  await provisionNats(transport, { streams: [{ name: stream, subjects: [`${prefix}.>`], storage: 'file' }] });

  const spans = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(spans)] });
  // What production often runs: 10 % of traces sampled (a child follows its parent's decision).
  const sampledSpans = new InMemorySpanExporter();
  const sampledProvider = new BasicTracerProvider({ sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(0.1) }), spanProcessors: [new BatchSpanProcessor(sampledSpans)] });
  const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const histograms = new HistogramProducer();
  const meterProvider = new MeterProvider({ readers: [new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: 1000, metricProducers: [histograms] })] });
  // The same without the producer: the middleware records SDK histograms.
  const sdkHistogramExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const sdkHistogramProvider = new MeterProvider({ readers: [new PeriodicExportingMetricReader({ exporter: sdkHistogramExporter, exportIntervalMillis: 1000 })] });
  const contextManager = new AsyncLocalStorageContextManager();
  // An exporter ships spans and forgets them; the in-memory one keeps them: emptied every
  // 100 ms so a round does not measure the garbage collector walking 20,000 kept spans.
  let emptying;
  const sdkOn = () => {
    context.setGlobalContextManager(contextManager.enable());
    emptying = setInterval(() => (spans.reset(), sampledSpans.reset()), 100);
  };
  const sdkOff = () => {
    clearInterval(emptying);
    context.disable();
    spans.reset();
    sampledSpans.reset();
    metricExporter.reset();
    sdkHistogramExporter.reset();
  };

  const variants = [
    { name: 'off', middleware: () => [], setup: () => undefined, teardown: () => undefined },
    // No SDK registered: the global providers are the API's no-ops.
    { name: 'on, no SDK', middleware: () => [createObservability({ service: 'bench', tracerProvider: trace.getTracerProvider() }).middleware], setup: () => undefined, teardown: () => undefined },
    { name: 'on, SDK in memory', middleware: () => [createObservability({ service: 'bench', tracerProvider, meterProvider, histograms }).middleware], setup: sdkOn, teardown: sdkOff },
    { name: 'on, SDK in memory, SDK histograms', middleware: () => [createObservability({ service: 'bench', tracerProvider, meterProvider: sdkHistogramProvider }).middleware], setup: sdkOn, teardown: sdkOff },
    { name: 'on, SDK in memory, 10 % of traces sampled', middleware: () => [createObservability({ service: 'bench', tracerProvider: sampledProvider, meterProvider, histograms }).middleware], setup: sdkOn, teardown: sdkOff },
    { name: 'on, SDK, metrics only', middleware: () => [createObservability({ service: 'bench', meterProvider, histograms, traces: false }).middleware], setup: () => undefined, teardown: sdkOff },
    { name: 'on, SDK, traces only', middleware: () => [createObservability({ service: 'bench', tracerProvider, metrics: false }).middleware], setup: sdkOn, teardown: sdkOff },
    { name: 'off, context manager enabled', middleware: () => [], setup: sdkOn, teardown: sdkOff },
  ];
  // BENCH_OBSERVE_VARIANTS=0,2 runs only those (by index above), e.g. under a profiler.
  if (process.env.BENCH_OBSERVE_VARIANTS) {
    const keepOnly = new Set(process.env.BENCH_OBSERVE_VARIANTS.split(',').map(Number));
    for (let k = variants.length - 1; k >= 0; k--) if (!keepOnly.has(k)) variants.splice(k, 1);
  }
  const buses = variants.map((v) => createEventBus({ transport, source: 'bench/observe', middleware: v.middleware() }));
  const ev = { type: 'user.created', version: '2.0.0', address: `${prefix}.pub.users.{userId}`, parameters: ['userId'], validate };
  const consumeEv = { ...ev, address: `${prefix}.con.users.{userId}` };
  const params = { userId: 'u1' };
  const best = {};
  const keep = (name, value) => (best[name] = Math.max(best[name] ?? 0, value));
  const cpu = {};
  const keepCpu = (name, c) => (cpu[name] = Math.min(cpu[name] ?? Infinity, Math.round(((c.user + c.system) / N) * 10) / 10));
  try {
    // The events every consumer reads, published without observability (as 'off'; not
    // closed: closing a bus closes the transport the others share).
    const seed = createEventBus({ transport, source: 'bench/observe' });
    await windowed(N, WINDOW, () => seed.publish(consumeEv, data, { params }));
    let durable = 0;
    for (let r = 0; r < ROUNDS; r++) {
      for (let k = 0; k < variants.length; k++) {
        const i = (k + r) % variants.length;
        const v = variants[i];
        v.setup();
        let t0 = performance.now();
        let c0 = process.cpuUsage();
        await windowed(N, WINDOW, () => buses[i].publish(ev, data, { params }));
        keep(`publish, observability ${v.name}`, rate(N, performance.now() - t0));
        keepCpu(`publish, observability ${v.name}`, process.cpuUsage(c0));

        let handled = 0;
        let done;
        const finished = new Promise((res) => (done = res));
        t0 = performance.now();
        c0 = process.cpuUsage();
        const sub = await buses[i].subscribe({
          group: `obs${id}${durable++}`,
          subjects: [`${prefix}.con.users.*`],
          concurrency: 64,
          maxInFlight: 1000,
          handlers: [{ type: ev.type, accepts: [consumeEv], handle: async () => void (++handled === N && done()) }],
        });
        await finished;
        keep(`consume, observability ${v.name}`, rate(N, performance.now() - t0));
        keepCpu(`consume, observability ${v.name}`, process.cpuUsage(c0));
        await sub.close();
        v.teardown();
      }
    }
  } finally {
    await Promise.allSettled(buses.slice(1).map((b) => b.close()));
    const jsm = await transport.jsm();
    await jsm.streams.delete(stream).catch(() => undefined);
    await buses[0].close();
    await tracerProvider.shutdown();
    await sampledProvider.shutdown();
    await meterProvider.shutdown();
    await sdkHistogramProvider.shutdown();
  }
  const rows = Object.entries(best).map(([name, value]) => ({ name, value, unit: 'msgs/s' }));
  for (const [name, value] of Object.entries(cpu)) rows.push({ name: `${name}: CPU per event, best round`, value, unit: 'µs' });
  if (Number(process.env.BENCH_MONITOR_N ?? 1) > 0) rows.push(...(await monitorRows()));
  const ratio = (a, b) => Math.round((best[a] / best[b]) * 1000) / 1000;
  for (const op of variants.length === 8 ? ['publish', 'consume'] : []) {
    rows.push({ name: `ratio ${op} on, no SDK / off (target >= 0.97)`, value: ratio(`${op}, observability on, no SDK`, `${op}, observability off`), unit: 'ratio' });
    rows.push({ name: `ratio ${op} on, SDK in memory / off (target >= 0.85)`, value: ratio(`${op}, observability on, SDK in memory`, `${op}, observability off`), unit: 'ratio' });
    rows.push({ name: `ratio ${op} on, SDK in memory, 10 % sampled / off`, value: ratio(`${op}, observability on, SDK in memory, 10 % of traces sampled`, `${op}, observability off`), unit: 'ratio' });
    for (const v of ['SDK in memory, SDK histograms', 'SDK, metrics only', 'SDK, traces only']) rows.push({ name: `ratio ${op} on, ${v} / off`, value: ratio(`${op}, observability on, ${v}`, `${op}, observability off`), unit: 'ratio' });
    rows.push({ name: `ratio ${op} off with the context manager enabled / off`, value: ratio(`${op}, observability off, context manager enabled`, `${op}, observability off`), unit: 'ratio' });
  }
  return rows;
}

// The contract monitor on core NATS: a producer sends valid user.created@2.0.0 events (the
// bytes and headers the SDK writes, pre-encoded) as fast as it can; the monitor's tap, in
// this process, decodes and checks each. Reported: events/s the monitor handled (time from
// the first to the last observed) and, measured in-process on the same messages, its cost
// per event split into decode and validate + bookkeeping.
async function monitorRows() {
  const M = Number(process.env.BENCH_MONITOR_N ?? 100_000);
  const ws = await openWorkspace(['asyncapi'], { examples: false });
  const prefix = `obsmon${Math.random().toString(36).slice(2, 8)}`;
  const catalog = JSON.parse(JSON.stringify(ws.catalog));
  for (const t of catalog.events) for (const v of t.versions) for (const ch of v.channels) if (ch.address) ch.address = `${prefix}.${ch.address}`;
  const contract = monitorContract(catalog, new URL('../generated/validators/ajv', import.meta.url).pathname);
  const d = [...contract.types.get('user.created').versions.values()].find((v) => v.descriptor.version === '2.0.0').descriptor;
  const example = ws.catalog.events.find((t) => t.type === 'user.created').versions.find((v) => v.version === '2.0.0').examples[0].payload;
  // The exact message a producer sends.
  const { MemoryTransport } = await import('../dist/runtime/index.js');
  const mt = new MemoryTransport();
  const mb = createEventBus({ transport: mt, source: 'users-service' });
  await mb.publish(d, example, { headers: { 'x-tenant': 'acme' } });
  const [m] = mt.messages('>');
  await mb.close();
  const rows = [];
  let best = 0;
  for (let r = 0; r < ROUNDS; r++) {
    const monitor = new ContractMonitor(contract);
    let first = 0;
    let last = 0;
    const orig = monitor.observe.bind(monitor);
    monitor.observe = (msg) => {
      if (first === 0) first = performance.now();
      orig(msg);
      last = performance.now();
    };
    const tap = await tapNats(monitor, { servers: SERVER, subjects: [`${prefix}.>`] });
    const nc = await connect({ servers: SERVER, noAsyncTraces: true });
    const { headers: natsHeaders } = await import('@nats-io/transport-node');
    const h = natsHeaders();
    for (const k of m.headers.keys()) h.set(k, m.headers.get(k));
    const subject = `${prefix}.user.created.v2`;
    for (let i = 0; i < M; i++) {
      nc.publish(subject, m.body, { headers: h });
      if (i % 5000 === 4999) await nc.flush();
    }
    await nc.flush();
    const until = Date.now() + 60_000;
    while (monitor.seen < M && Date.now() < until) await new Promise((res) => setTimeout(res, 20));
    const seen = monitor.seen;
    const rep = monitor.report();
    await tap.stop();
    await nc.close();
    if (seen < M) rows.push({ name: `monitor round ${r}: events lost (slow consumer?)`, value: M - seen, unit: '' });
    if (rep.violations !== 0) throw new Error(`monitor bench: ${rep.violations} violations on valid events`);
    best = Math.max(best, Math.round((seen / (last - first)) * 1000));
  }
  rows.push({ name: 'monitor, core NATS, events/s handled (target >= 20,000)', value: best, unit: 'msgs/s' });
  // Where the time goes: the same message observed in-process, M times.
  const { decodeMessageSync } = await import('../dist/runtime/codec.js');
  const inbound = { subject: `${prefix}.user.created.v2`, headers: m.headers, body: m.body };
  const monitor = new ContractMonitor(contract);
  let t0 = performance.now();
  for (let i = 0; i < M; i++) decodeMessageSync(inbound, 1 << 24);
  const decodeUs = ((performance.now() - t0) * 1000) / M;
  t0 = performance.now();
  for (let i = 0; i < M; i++) monitor.observe(inbound);
  const allUs = ((performance.now() - t0) * 1000) / M;
  rows.push({ name: 'monitor, per event in-process: decode (µs)', value: Math.round(decodeUs * 100) / 100, unit: 'µs' });
  rows.push({ name: 'monitor, per event in-process: checks + bookkeeping (µs)', value: Math.round((allUs - decodeUs) * 100) / 100, unit: 'µs' });
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const rows = await run();
  const width = Math.max(...rows.map((r) => r.name.length));
  for (const r of rows) console.log(`${r.name.padEnd(width)} ${String(r.value).padStart(10)} ${r.unit}`);
}
