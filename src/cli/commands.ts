/**
 * Command bodies: each returns an exit code and prints through `io`. The heavy pipeline
 * modules are imported inside the command that needs them, so `--help` and an
 * up-to-date `generate` stay fast.
 */
import { watch as watchFiles } from 'node:fs';
import path from 'node:path';
import type { Catalog } from '../catalog/model.js';
import type { Config } from '../config.js';
import { hasErrors } from '../diagnostics.js';
import { OutputDirError } from '../generate/output.js';
import { EXIT, reportDiagnostics, summary, type Io, type OutputFormat } from './report.js';
import { amqpSecurityFromArgs, kafkaSecurityFromArgs, natsSecurityFromArgs, type BrokerSecurityArgs } from './broker-security.js';

const openWorkspace = async (specs: string[], config: Config | undefined, examples: boolean | 'warning' = true) =>
  (await import('../workspace.js')).openWorkspace(specs, { examples, ...(config ? { config } : {}) });

export async function validateCommand(specs: string[], format: OutputFormat, io: Io, config?: Config): Promise<number> {
  const workspace = await openWorkspace(specs, config);
  const events = workspace.catalog.events.reduce((n, t) => n + t.versions.length, 0);
  reportDiagnostics(io, format, workspace.diagnostics, { services: workspace.catalog.services.length, eventVersions: events });
  if (format === 'human') {
    const n = workspace.catalog.services.length;
    io.err(`${n} document${n === 1 ? '' : 's'}, ${events} event version${events === 1 ? '' : 's'}: ${summary(workspace.diagnostics)}`);
  }
  return workspace.ok ? EXIT.ok : EXIT.problems;
}

export async function catalogCommand(specs: string[], format: OutputFormat, io: Io, config?: Config): Promise<number> {
  const workspace = await openWorkspace(specs, config);
  if (format === 'json') {
    io.out(JSON.stringify(workspace.catalog, null, 2));
    reportDiagnostics(io, 'human', workspace.diagnostics);
  } else {
    reportDiagnostics(io, 'human', workspace.diagnostics);
    for (const service of workspace.catalog.services) {
      io.out(`${service.id} (${service.title} ${service.version}, AsyncAPI ${service.asyncapiVersion}) ${service.file}`);
      for (const op of service.operations) {
        const reply = op.reply ? ` → reply ${op.reply.messages.join(', ')}` : '';
        io.out(`  ${op.action.padEnd(7)} ${op.id}: ${op.messages.join(', ')}${reply}`);
      }
    }
    for (const type of workspace.catalog.events) {
      io.out(`${type.type}: ${type.versions.map((v) => v.version + (v.deprecated ? ' (deprecated)' : '')).join(', ')}`);
    }
  }
  return workspace.ok ? EXIT.ok : EXIT.problems;
}

export interface GenerateArgs {
  specs: string[];
  out: string;
  check: boolean;
  watch: boolean;
  force: boolean;
  format: OutputFormat;
  config: Config;
}

export async function generateCommand(args: GenerateArgs, io: Io): Promise<number> {
  const once = async (force: boolean): Promise<number> => {
    const started = performance.now();
    const { generate } = await import('../generate/index.js');
    let result;
    try {
      const { readLock, isReleasedIn } = await import('../registry/lock.js');
      result = await generate({
        isReleased: isReleasedIn(readLock(path.resolve(args.config.lockFile)).lock),
        extraInputs: [path.resolve(args.config.lockFile)],
        specs: args.specs,
        out: args.out,
        check: args.check,
        force,
        packageName: args.config.package.name,
        packageVersion: args.config.package.version,
        config: args.config,
      });
    } catch (error) {
      if (error instanceof OutputDirError) {
        io.err(`event-contracts: ${error.message}`);
        return EXIT.usage;
      }
      throw error;
    }
    const ms = Math.round(performance.now() - started);
    const { diff } = result;
    if (args.format === 'json') {
      reportDiagnostics(io, 'json', result.diagnostics, { out: args.out, check: args.check, upToDate: result.upToDate, diff: diff ?? null, ms });
    } else {
      reportDiagnostics(io, 'human', result.diagnostics);
      if (!diff) io.err(`generate: ${summary(result.diagnostics)}; nothing written`);
      else if (args.check) {
        const stale = [...diff.added.map((f) => `missing  ${f}`), ...diff.changed.map((f) => `differs  ${f}`), ...diff.removed.map((f) => `extra    ${f}`)];
        if (stale.length === 0) io.err(`${args.out} is up to date (${ms} ms)`);
        else io.err(`${args.out} is stale; run \`npm run generate\`:\n${stale.map((s) => '  ' + s).join('\n')}`);
      } else {
        const changes = diff.added.length + diff.changed.length + diff.removed.length;
        io.err(changes === 0 ? `${args.out} is up to date (${ms} ms)` : `wrote ${args.out}: ${diff.added.length} added, ${diff.changed.length} changed, ${diff.removed.length} removed (${ms} ms)`);
      }
    }
    if (!diff || hasErrors(result.diagnostics)) return EXIT.problems;
    if (args.check && diff.added.length + diff.changed.length + diff.removed.length > 0) return EXIT.problems;
    return EXIT.ok;
  };
  const first = await once(args.force);
  if (!args.watch) return first;
  return watchLoop(args.specs, io, () => once(false));
}

/** Regenerates on change until interrupted; rapid bursts of edits coalesce into one run. */
async function watchLoop(specs: string[], io: Io, run: () => Promise<number>): Promise<number> {
  io.err(`watching ${specs.join(', ')} (Ctrl-C to stop)`);
  let timer: NodeJS.Timeout | undefined;
  let running = Promise.resolve(0);
  const watchers = specs.map((spec) =>
    watchFiles(path.resolve(spec), { recursive: true }, () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        running = running.then(run, run);
      }, 100);
    }),
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  for (const w of watchers) w.close();
  await running;
  return EXIT.ok;
}

export interface CheckArgs {
  specs: string[];
  against?: string;
  format: 'human' | 'json' | 'sarif' | 'github';
  config: Config;
  version: string;
}

export async function checkCommand(args: CheckArgs, io: Io): Promise<number> {
  const { runGate, gateFails } = await import('../gate/index.js');
  const formats = await import('./findings-format.js');
  const result = await runGate({ specs: args.specs, config: args.config, ...(args.against !== undefined ? { against: args.against } : {}) });
  if (result.loadDiagnostics.length > 0) {
    reportDiagnostics(io, args.format === 'json' ? 'json' : 'human', result.loadDiagnostics);
    io.err('check: the specs do not load; fix these first (event-contracts validate)');
    return EXIT.problems;
  }
  const findings = result.findings;
  if (args.format === 'json') io.out(formats.formatJson(findings));
  else if (args.format === 'sarif') io.out(formats.formatSarif(findings, args.version));
  else if (args.format === 'github') {
    if (findings.length > 0) io.out(formats.formatGithub(findings));
  } else io.err(formats.formatHuman(findings));
  return gateFails(findings) ? EXIT.problems : EXIT.ok;
}

export async function releaseCommand(args: { specs: string[]; config: Config; format: OutputFormat }, io: Io): Promise<number> {
  const { runGate, gateFails } = await import('../gate/index.js');
  const { formatHuman } = await import('./findings-format.js');
  const { planRelease, writeLock } = await import('../registry/lock.js');
  const result = await runGate({ specs: args.specs, config: args.config });
  if (result.loadDiagnostics.length > 0) {
    reportDiagnostics(io, 'human', result.loadDiagnostics);
    return EXIT.problems;
  }
  // Release rewrites the checksum; an edited entry is still caught by check --against.
  const findings = result.findings.filter((f) => f.rule !== 'LOCK_CHECKSUM_MISMATCH' && f.rule !== 'LOCK_CHECKSUM_MISSING');
  if (gateFails(findings)) {
    io.err(formatHuman(findings));
    io.err('release: nothing released; fix the breaking changes first');
    return EXIT.problems;
  }
  const plan = planRelease(result.lock!.lock, result.catalog!);
  if (plan.changed) writeLock(path.resolve(args.config.lockFile), plan.lock);
  if (args.format === 'json') io.out(JSON.stringify({ released: plan.added, deprecated: plan.deprecated, upgraded: plan.upgraded }, null, 2));
  else {
    for (const key of plan.added) io.err(`released ${key}`);
    for (const key of plan.deprecated) io.err(`recorded deprecation of ${key}`);
    if (plan.upgraded.length > 0) io.err(`upgraded ${plan.upgraded.length} entries to lock format 2 (fingerprints per part, operations)`);
    io.err(plan.changed ? `updated ${args.config.lockFile}` : `${args.config.lockFile} already holds every version`);
  }
  return EXIT.ok;
}

export async function schemaDiffCommand(
  args: { old: string; new: string; level: string; policy: 'strict' | 'lenient'; format: OutputFormat; explain?: boolean },
  io: Io,
): Promise<number> {
  const { schemaDiff, formatSchemaDiffHuman, formatSchemaDiffJson, SchemaDiffInputError } = await import('../compat/schema/schema-diff.js');
  try {
    const result = await schemaDiff(args.old, args.new, { level: args.level as never, policy: args.policy, explain: args.explain === true });
    if (args.format === 'json') io.out(formatSchemaDiffJson(result));
    else io.out(formatSchemaDiffHuman(result));
    return result.compatible ? EXIT.ok : EXIT.problems;
  } catch (error) {
    if (error instanceof SchemaDiffInputError) {
      // Invalid input, like a spec that does not load: 1, as for every command.
      io.err(`event-contracts: ${error.message}`);
      return EXIT.problems;
    }
    throw error;
  }
}

export async function docsCommand(args: { specs: string[]; out: string; title?: string; format: OutputFormat; config?: Config }, io: Io): Promise<number> {
  // Like generate: an invalid example is a warning unless the config says otherwise.
  const workspace = await openWorkspace(args.specs, args.config, args.config?.invalidExamples === 'error' ? true : 'warning');
  if (!workspace.ok) {
    reportDiagnostics(io, args.format, workspace.diagnostics);
    return EXIT.problems;
  }
  const { emitDocs } = await import('../docs/index.js');
  const { assertOwnedOutput, assertSafePaths, diffOutput, writeOutput } = await import('../generate/output.js');
  const files = emitDocs(workspace.catalog, args.title ? { title: args.title } : {});
  try {
    assertSafePaths(args.out, files);
    assertOwnedOutput(args.out, 'index.html');
    writeOutput(args.out, files, diffOutput(args.out, files));
  } catch (error) {
    if (error instanceof OutputDirError) {
      io.err(`event-contracts: ${error.message}`);
      return EXIT.usage;
    }
    throw error;
  }
  if (args.format === 'json') io.out(JSON.stringify({ out: args.out, files: files.length }, null, 2));
  else io.err(`wrote ${files.length} files to ${args.out} (open ${path.join(args.out, 'index.html')})`);
  return EXIT.ok;
}

export async function provisionCommand(
  args: { specs: string[]; broker: string; server?: string; maxReplicas?: number; apiPrefix?: string; dryRun: boolean; format: OutputFormat; config?: Config; security?: BrokerSecurityArgs; kafka?: KafkaProvisionArgs },
  io: Io,
): Promise<number> {
  const workspace = await openWorkspace(args.specs, args.config);
  if (!workspace.ok) {
    reportDiagnostics(io, args.format, workspace.diagnostics);
    return EXIT.problems;
  }
  if (args.broker === 'amqp') return provisionAmqpCommand(workspace.catalog, args, io);
  if (args.broker === 'kafka') return provisionKafkaCommand(workspace.catalog, args, io);
  const { natsPlan } = await import('../provision/nats-plan.js');
  const { plan, diagnostics } = natsPlan(workspace.catalog, {
    ...(args.maxReplicas !== undefined ? { maxReplicas: args.maxReplicas } : {}),
    ...(args.config?.audit ? { audit: args.config.audit } : {}),
  });
  if (diagnostics.some((d) => d.severity === 'error')) {
    reportDiagnostics(io, args.format, diagnostics);
    return EXIT.problems;
  }
  if (args.dryRun) {
    io.out(JSON.stringify(plan, null, 2));
    return EXIT.ok;
  }
  const server = args.server ?? 'nats://127.0.0.1:4222';
  const { provisionNats, NatsTransport } = await import('../runtime/nats/index.js');
  const security = natsSecurityFromArgs(args.security ?? {});
  let result;
  try {
    const options = args.apiPrefix !== undefined ? { apiPrefix: args.apiPrefix } : {};
    if (!security) result = await provisionNats({ servers: server }, plan, options);
    else {
      const t = await NatsTransport.connect({ connect: { servers: server, reconnect: false }, security });
      try {
        result = await provisionNats(t, plan, options);
      } finally {
        await t.close();
      }
    }
  } catch (error) {
    io.err(`event-contracts: provisioning ${server} failed: ${(error as Error).message}`);
    return EXIT.problems;
  }
  if (args.format === 'json') io.out(JSON.stringify(result, null, 2));
  else {
    for (const s of result.streams) io.err(`stream ${s.name}: ${s.action}`);
    for (const c of result.consumers) io.err(`consumer ${c.stream}/${c.name}: ${c.action}`);
  }
  return EXIT.ok;
}

async function provisionAmqpCommand(catalog: Catalog, args: { server?: string; dryRun: boolean; format: OutputFormat; security?: BrokerSecurityArgs }, io: Io): Promise<number> {
  const { amqpPlan, planForVhost } = await import('../provision/amqp-plan.js');
  const { plan: whole, diagnostics } = amqpPlan(catalog);
  if (diagnostics.some((d) => d.severity === 'error')) {
    reportDiagnostics(io, args.format, diagnostics);
    return EXIT.problems;
  }
  const server = args.server ?? 'amqp://guest:guest@127.0.0.1:5672';
  const vhost = decodeURIComponent(new URL(server).pathname.slice(1)) || '/';
  const { plan, skipped } = planForVhost(whole, vhost);
  for (const s of skipped) io.err(`skipped ${s}: provision it with --server pointing at its vhost`);
  if (args.dryRun) {
    io.out(JSON.stringify(plan, null, 2));
    return EXIT.ok;
  }
  const { provisionAmqp, AmqpTransport } = await import('../runtime/amqp/index.js');
  const security = amqpSecurityFromArgs(args.security ?? {});
  let result;
  try {
    if (!security) result = await provisionAmqp(server, plan);
    else {
      const t = await AmqpTransport.connect({ url: server, security });
      try {
        result = await provisionAmqp(t, plan);
      } finally {
        await t.close();
      }
    }
  } catch (error) {
    io.err(`event-contracts: provisioning ${new URL(server).host} failed: ${(error as Error).message}`);
    return EXIT.problems;
  }
  if (args.format === 'json') io.out(JSON.stringify(result, null, 2));
  else {
    for (const e of result.exchanges) io.err(`exchange ${e.name}: ${e.action}`);
    for (const q of result.queues) io.err(`queue ${q.name}: ${q.action}`);
    for (const b of result.bindings) io.err(`binding ${b.exchange} → ${b.queue} (${b.key}): ${b.action}`);
  }
  return EXIT.ok;
}

/** The Kafka-only options of `provision kafka`: defaults for topics the contract leaves unsized, and a name prefix. */
export interface KafkaProvisionArgs {
  partitions?: number;
  replicationFactor?: number;
  topicPrefix?: string;
  internalTopicPrefix?: string;
}

async function provisionKafkaCommand(
  catalog: Catalog,
  args: { server?: string; dryRun: boolean; format: OutputFormat; security?: BrokerSecurityArgs; kafka?: KafkaProvisionArgs },
  io: Io,
): Promise<number> {
  const security = kafkaSecurityFromArgs(args.security ?? {});
  if (typeof security === 'string') {
    io.err(`event-contracts: provision kafka: ${security}`);
    return EXIT.usage;
  }
  const { kafkaPlan } = await import('../provision/kafka-plan.js');
  const k = args.kafka ?? {};
  const { plan, diagnostics } = kafkaPlan(catalog, {
    ...(k.partitions !== undefined ? { partitions: k.partitions } : {}),
    ...(k.replicationFactor !== undefined ? { replicationFactor: k.replicationFactor } : {}),
    ...(k.topicPrefix !== undefined ? { topicPrefix: k.topicPrefix } : {}),
    ...(k.internalTopicPrefix !== undefined ? { internalTopicPrefix: k.internalTopicPrefix } : {}),
  });
  if (hasErrors(diagnostics)) {
    reportDiagnostics(io, args.format, diagnostics);
    return EXIT.problems;
  }
  // Warnings go to standard error, so standard output stays the plan or the result.
  reportDiagnostics(io, 'human', diagnostics.filter((d) => d.severity === 'warning'));
  if (args.dryRun) {
    if (args.format === 'json') io.out(JSON.stringify(plan, null, 2));
    else
      for (const t of [...plan.topics, ...(plan.internalTopics ?? [])]) {
        const config = Object.entries(t.config ?? {}).map(([name, value]) => `${name}=${value}`);
        const carries = t.subjects.length > 0 ? `subjects ${t.subjects.join(', ')}` : 'retries of a consumer group';
        io.out(`topic ${t.name}: ${t.partitions} partition${t.partitions === 1 ? '' : 's'}, replication factor ${t.replicationFactor}${config.length ? `, ${config.join(', ')}` : ''}; ${carries}`);
      }
    return EXIT.ok;
  }
  const server = args.server ?? '127.0.0.1:9092';
  const { provisionKafka, kafkaErrorText } = await import('../runtime/kafka/provision.js');
  const { classifyKafkaConnectError, kafkaConnectionOptions, probeKafkaLogin, probeKafkaTls } = await import('../runtime/kafka/security.js');
  let result;
  try {
    // As the transport does: a TLS problem is named at once, not after the client's retries.
    const { bootstrapList } = await import('../runtime/kafka/names.js');
    const refused = await probeKafkaTls(bootstrapList(server)[0]!, security?.tls);
    if (refused) {
      const { tlsAdvice } = await import('../runtime/security/secrets.js');
      io.err(`event-contracts: provisioning ${server} failed: TLS handshake failed (${refused}): ${tlsAdvice(refused)}`);
      return EXIT.problems;
    }
    if (security?.sasl) await probeKafkaLogin(bootstrapList(server), security);
    result = await provisionKafka({ bootstrap: server, ...kafkaConnectionOptions(security) }, plan);
  } catch (error) {
    // A refused password or one that cannot be read says so; the rest as the broker said it.
    const classified = classifyKafkaConnectError(error, server, security);
    io.err(`event-contracts: provisioning ${server} failed: ${classified !== error && classified instanceof Error ? classified.message : kafkaErrorText(error)}`);
    return EXIT.problems;
  }
  if (args.format === 'json') io.out(JSON.stringify(result, null, 2));
  else for (const t of result.topics) io.err(`topic ${t.name}: ${t.action}${t.detail ? ` (${t.detail})` : ''}`);
  return EXIT.ok;
}
