/**
 * `event-contracts acl <nats|amqp|kafka>`: the broker permissions the contract implies, printed or
 * written to `--out`. Located errors (a wildcard in an address, a consumer group claimed by
 * two services, a service granted nothing) and nothing written.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../config.js';
import { hasErrors } from '../diagnostics.js';
import { EXIT, reportDiagnostics, type Io, type OutputFormat } from './report.js';

export interface AclArgs {
  specs: string[];
  broker: 'nats' | 'amqp' | 'kafka';
  out?: string;
  /** Kafka: the topic names as `provision kafka` makes them. */
  topicPrefix?: string;
  internalTopicPrefix?: string;
  format: OutputFormat;
  config?: Config;
}

export async function aclCommand(args: AclArgs, io: Io): Promise<number> {
  const { openWorkspace } = await import('../workspace.js');
  const workspace = await openWorkspace(args.specs, args.config ? { config: args.config } : {});
  if (!workspace.ok) {
    reportDiagnostics(io, args.format, workspace.diagnostics);
    return EXIT.problems;
  }
  const { GENERATED_BANNER } = await import('../emit/files.js');
  const header = `${GENERATED_BANNER} Source: ${args.specs.join(', ')}`;
  let text: string;
  let plan: unknown;
  let diagnostics;
  if (args.broker === 'nats') {
    const { natsAclPlan, renderNatsAcl } = await import('../security/nats-acl.js');
    ({ plan, diagnostics } = natsAclPlan(workspace.catalog));
    text = renderNatsAcl(plan as Parameters<typeof renderNatsAcl>[0], header);
  } else if (args.broker === 'amqp') {
    const { amqpAclPlan, renderAmqpAclScript } = await import('../security/amqp-acl.js');
    ({ plan, diagnostics } = amqpAclPlan(workspace.catalog));
    text = renderAmqpAclScript(plan as Parameters<typeof renderAmqpAclScript>[0], header);
  } else {
    const { kafkaAclPlan, renderKafkaAclScript } = await import('../security/kafka-acl.js');
    ({ plan, diagnostics } = kafkaAclPlan(workspace.catalog, {
      ...(args.topicPrefix !== undefined ? { topicPrefix: args.topicPrefix } : {}),
      ...(args.internalTopicPrefix !== undefined ? { internalTopicPrefix: args.internalTopicPrefix } : {}),
    }));
    text = renderKafkaAclScript(plan as Parameters<typeof renderKafkaAclScript>[0], header);
  }
  if (hasErrors(diagnostics)) {
    reportDiagnostics(io, args.format, diagnostics);
    if (args.format === 'human') io.err(`acl ${args.broker}: nothing written`);
    return EXIT.problems;
  }
  if (args.format === 'json') {
    io.out(JSON.stringify({ ok: true, broker: args.broker, plan, diagnostics }, null, 2));
    return EXIT.ok;
  }
  reportDiagnostics(io, 'human', diagnostics);
  if (!args.out) {
    io.out(text);
    return EXIT.ok;
  }
  mkdirSync(path.dirname(path.resolve(args.out)), { recursive: true });
  writeFileSync(args.out, text, args.broker === 'nats' ? {} : { mode: 0o755 });
  io.err(`wrote ${args.out}`);
  return EXIT.ok;
}
