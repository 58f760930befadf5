/**
 * The command line. Parses arguments with yargs, runs one command, prints, and returns
 * the exit code, the same scheme for every command: 0 ok; 1 findings or invalid input (a
 * spec, schema or lock that does not load or is missing, a breaking change, stale
 * output); 2 usage (unknown command or option, bad config, unknown git ref, an --out
 * folder we did not write) or an internal error. Never a stack trace.
 */
import { createRequire } from 'node:module';
import type { Argv } from 'yargs';
import { ConfigError, loadConfig, type Config } from '../config.js';
import { EXIT, processIo, type Io } from './report.js';
import { aclCommand } from './acl-command.js';
import { brokerSecurityOptions, type BrokerSecurityArgs } from './broker-security.js';
import { keygenCommand } from './keygen-command.js';
import { monitorCommand } from './monitor-command.js';
import { historyCommand } from './history-command.js';
import { replayCommand } from './replay-command.js';
import { bridgeCommand } from './bridge-command.js';
import { catalogCommand, checkCommand, docsCommand, generateCommand, provisionCommand, releaseCommand, schemaDiffCommand, validateCommand } from './commands.js';

const require = createRequire(import.meta.url);
const { version } = require('../../package.json') as { version: string };
// yargs' CommonJS build: its help layout wraps at word boundaries (wrap-ansi); the ESM
// build's cliui cuts words in the middle ("compati\nbility") at 80 columns.
const yargs = require('yargs') as typeof import('yargs').default;

/** Errors we expect from users' input: printed as one line, exit 2. */
export class UsageError extends Error {}

export interface CommonArgs {
  spec?: string[];
  paths?: string[];
}

/** `--spec` (repeatable) and positional paths both name specs; the config (default `asyncapi/`) fills in. */
export function specPaths(args: CommonArgs, config: Config): string[] {
  const given = [...(args.spec ?? []), ...(args.paths ?? [])].map(String);
  return given.length > 0 ? given : config.specs;
}

/** `--spec`, positional paths and `--format` (with the formats the command has: declared once, so help lists each once). */
const specOptions = <T, F extends string = 'human' | 'json'>(y: Argv<T>, formats: readonly F[] = ['human', 'json'] as unknown as readonly F[]) =>
  y
    .positional('paths', { type: 'string', array: true, describe: 'spec files or folders (shorthand for --spec)' })
    .option('spec', { type: 'string', array: true, describe: 'an AsyncAPI file or a folder of them (repeatable); default from config, else asyncapi/' })
    .option('format', { choices: formats, default: formats[0]!, describe: 'output format' });

/** The commands, for the message that answers an unknown or missing one. */
export const COMMANDS = ['validate', 'catalog', 'generate', 'docs', 'check', 'release', 'provision', 'schema-diff', 'acl', 'monitor', 'history', 'replay', 'bridge'] as const;

export async function main(argv: string[], io: Io = processIo): Promise<number> {
  let code: number = EXIT.ok;
  const run = (fn: (config: Config) => Promise<number>) => async () => {
    const config = await loadConfig();
    code = await fn(config);
  };
  const parser = yargs(argv)
    .scriptName('event-contracts')
    .usage('$0 <command> [options]\n\nAsyncAPI contracts in; typed SDKs, validators, docs and compatibility gates out.')
    .version(version)
    .help()
    .alias('h', 'help')
    .strict()
    .demandCommand(1, 'Name a command: see --help.')
    .wrap(Math.min(100, process.stdout.columns || 80))
    .exitProcess(false)
    .fail((message, error) => {
      throw error ?? new UsageError(message);
    })
    .command(
      'validate [paths..]',
      'Load the specs and report every problem (file:line:col), examples included',
      (y) => specOptions(y),
      (args) => run((config) => validateCommand(specPaths(args, config), args.format, io, config))(),
    )
    .command(
      'catalog [paths..]',
      'Print the event catalog built from the specs',
      (y) => specOptions(y),
      (args) => run((config) => catalogCommand(specPaths(args, config), args.format, io, config))(),
    )
    .command(
      'generate [paths..]',
      'Generate types, validators, clients, registry and docs',
      (y) =>
        specOptions(y)
          .option('out', { type: 'string', describe: 'output folder (default from config, else generated/)' })
          .option('check', { type: 'boolean', default: false, describe: 'write nothing; exit 1 listing files that differ' })
          .option('watch', { type: 'boolean', default: false, describe: 'regenerate whenever a spec changes' })
          .option('force', { type: 'boolean', default: false, describe: 'ignore the up-to-date record and regenerate' }),
      (args) =>
        run((config) =>
          generateCommand(
            {
              specs: specPaths(args, config),
              out: args.out ?? config.out,
              check: args.check,
              watch: args.watch,
              force: args.force,
              format: args.format,
              config,
            },
            io,
          ),
        )(),
    )
    .command(
      'docs [paths..]',
      'Write only the HTML contract docs (also part of generate, in <out>/docs)',
      (y) =>
        specOptions(y)
          .option('out', { type: 'string', describe: 'output folder (default <generate out>/docs)' })
          .option('title', { type: 'string', describe: 'site title' }),
      (args) =>
        run((config) =>
          docsCommand({ specs: specPaths(args, config), out: args.out ?? `${config.out}/docs`, ...(args.title ? { title: args.title } : {}), format: args.format, config }, io),
        )(),
    )
    .command(
      'check [paths..]',
      'Fail on breaking changes: specs against the released registry (and, with --against, the base branch)',
      (y) =>
        specOptions(y, ['human', 'json', 'sarif', 'github'] as const).option('against', {
          type: 'string',
          describe: 'git ref of the baseline (e.g. origin/main): also compare channels, operations, replies and the lock',
        }),
      (args) =>
        run((config) =>
          checkCommand({ specs: specPaths(args, config), ...(args.against ? { against: args.against } : {}), format: args.format, config, version }, io),
        )(),
    )
    .command(
      'release [paths..]',
      'Check, then record every new version (and deprecation) in registry.lock.json',
      (y) => specOptions(y),
      (args) => run((config) => releaseCommand({ specs: specPaths(args, config), config, format: args.format }, io))(),
    )
    .command(
      'provision <broker>',
      'Create or update the streams and durable consumers, queues or topics the contract implies (idempotent)',
      (y) =>
        brokerSecurityOptions(
          specOptions(y)
            .positional('broker', { choices: ['nats', 'amqp', 'kafka'] as const, demandOption: true })
            .option('server', { type: 'string', describe: 'broker URL (default nats://127.0.0.1:4222, amqp://guest:guest@127.0.0.1:5672); for kafka the bootstrap list host:port,host:port (default 127.0.0.1:9092)' })
            .option('max-replicas', { type: 'number', describe: 'cap stream replicas (a single local server holds 1)' })
            .option('partitions', { type: 'number', describe: 'kafka: partitions of a topic the contract does not size (default 1)' })
            .option('replication-factor', { type: 'number', describe: 'kafka: replication factor of a topic the contract does not give one (default 1)' })
            .option('topic-prefix', { type: 'string', describe: 'kafka: prepended to every topic name' })
            .option('internal-topic-prefix', { type: 'string', describe: "kafka: the transports' internalTopicPrefix, for the retry topics (default _ec.)" })
            .option('api-prefix', { type: 'string', describe: "nats: where this user reaches JetStream's API; the generated admin account: EVENTS.JS.API" })
            .option('dry-run', { type: 'boolean', default: false, describe: 'print the plan, touch nothing' }),
        ),
      (args) =>
        run((config) =>
          provisionCommand(
            {
              specs: specPaths(args, config),
              broker: args.broker!,
              ...(args.server !== undefined ? { server: args.server } : {}),
              ...(args.maxReplicas !== undefined ? { maxReplicas: args.maxReplicas } : {}),
              ...(args.apiPrefix !== undefined ? { apiPrefix: args.apiPrefix } : {}),
              kafka: {
                ...(args.partitions !== undefined ? { partitions: args.partitions } : {}),
                ...(args.replicationFactor !== undefined ? { replicationFactor: args.replicationFactor } : {}),
                ...(args.topicPrefix !== undefined ? { topicPrefix: args.topicPrefix } : {}),
                ...(args.internalTopicPrefix !== undefined ? { internalTopicPrefix: args.internalTopicPrefix } : {}),
              },
              dryRun: args.dryRun,
              format: args.format,
              config,
              security: args as BrokerSecurityArgs,
            },
            io,
          ),
        )(),
    )
    .command(
      'acl <broker> [paths..]',
      'Write the broker permissions the contract implies: a nats-server accounts fragment, a rabbitmqctl script, or a kafka-acls.sh script',
      (y) =>
        specOptions(y)
          .positional('broker', { choices: ['nats', 'amqp', 'kafka'] as const, demandOption: true })
          .option('out', { type: 'string', describe: 'write to this file instead of standard output' })
          .option('topic-prefix', { type: 'string', describe: 'kafka: as given to provision kafka --topic-prefix' })
          .option('internal-topic-prefix', { type: 'string', describe: 'kafka: as given to provision kafka --internal-topic-prefix (default _ec.)' }),
      (args) =>
        run((config) =>
          aclCommand(
            {
              specs: specPaths(args, config),
              broker: args.broker!,
              ...(args.out !== undefined ? { out: args.out } : {}),
              ...(args.topicPrefix !== undefined ? { topicPrefix: args.topicPrefix } : {}),
              ...(args.internalTopicPrefix !== undefined ? { internalTopicPrefix: args.internalTopicPrefix } : {}),
              format: args.format,
              config,
            },
            io,
          ),
        )(),
    )
    .command(
      'monitor <broker> [paths..]',
      'Tap the bus and check every event against the contract: rate, lag and violations per event type and version',
      (y) =>
        y
          .positional('broker', { choices: ['nats', 'amqp'] as const, demandOption: true })
          .positional('paths', { type: 'string', array: true, describe: 'spec files or folders (shorthand for --spec)' })
          .option('spec', { type: 'string', array: true, describe: 'an AsyncAPI file or a folder of them (repeatable); default from config, else asyncapi/' })
          .option('server', { type: 'string', describe: 'NATS servers (default 127.0.0.1:4222) or an AMQP URL (default amqp://guest:guest@127.0.0.1:5672)' })
          .option('subject', { type: 'string', array: true, describe: 'NATS subjects to tap (repeatable; default >)' })
          .option('exchange', { type: 'string', describe: 'RabbitMQ exchange to tap (default events)' })
          .option('interval', { type: 'number', default: 2, describe: 'seconds between reports' })
          .option('format', { choices: ['table', 'json'] as const, default: 'table' as const, describe: 'a refreshing table, or one JSON line per interval' })
          .option('fail-on-violation', { type: 'boolean', default: false, describe: 'exit 1 on the first violation, with its details' })
          .option('duration', { type: 'number', describe: 'stop after this many seconds' })
          .option('validators', { type: 'string', describe: 'the generated validators/ajv folder (default <out>/validators/ajv)' }),
      (args) =>
        run((config) =>
          monitorCommand(
            {
              specs: specPaths(args, config),
              broker: args.broker!,
              ...(args.server !== undefined ? { server: args.server } : {}),
              ...(args.subject !== undefined ? { subject: args.subject.map(String) } : {}),
              ...(args.exchange !== undefined ? { exchange: args.exchange } : {}),
              interval: args.interval,
              format: args.format,
              failOnViolation: args.failOnViolation,
              ...(args.duration !== undefined ? { duration: args.duration } : {}),
              ...(args.validators !== undefined ? { validators: args.validators } : {}),
              config,
            },
            io,
          ),
        )(),
    )
    .command(
      'keygen <service>',
      "Make a service's ed25519 signing key: the private key to --private-key, the public key into security/signing-keys.json",
      (y) =>
        y
          .positional('service', { type: 'string', demandOption: true, describe: 'the x-service-id that signs' })
          .option('private-key', { type: 'string', demandOption: true, describe: 'file to write the private key to (never overwritten)' })
          .option('add', { type: 'boolean', default: false, describe: "keep the service's current keys (rotation)" }),
      (args) => run((config) => keygenCommand({ service: args.service!, privateKey: args.privateKey, add: args.add, config }, io))(),
    )
    .command(
      'history <streamId>',
      "An entity's events from the event store, oldest first, with what each one changed",
      (y) =>
        y
          .positional('streamId', { type: 'string', demandOption: true, describe: '<domain>.<aggregate type>.<entity id>' })
          .option('store', { choices: ['pg', 'nats'] as const, default: 'pg' as const, describe: 'the event store backend' })
          .option('database', { type: 'string', describe: 'PostgreSQL URL (default $DATABASE_URL, else postgres://postgres@127.0.0.1:5432/postgres)' })
          .option('schema', { type: 'string', describe: 'schema of the PostgreSQL event store (default event_store)' })
          .option('server', { type: 'string', describe: 'NATS servers, comma-separated (default 127.0.0.1:4222)' })
          .option('format', { choices: ['human', 'json'] as const, default: 'human' as const }),
      async (args) => {
        code = await historyCommand(
          {
            streamId: args.streamId!,
            store: args.store,
            ...(args.database !== undefined ? { database: args.database } : {}),
            ...(args.schema !== undefined ? { schema: args.schema } : {}),
            ...(args.server !== undefined ? { server: args.server } : {}),
            format: args.format,
          },
          io,
        );
      },
    )
    .command(
      'replay',
      'Rebuild a projection from the first event into a new read-model generation, then switch readers to it',
      (y) =>
        y
          .option('projection', { type: 'string', demandOption: true, describe: 'a name from "projections" in the config' })
          .option('format', { choices: ['human', 'json'] as const, default: 'human' as const }),
      (args) => run((config) => replayCommand({ projection: args.projection, format: args.format, config }, io))(),
    )
    .command(
      'bridge',
      'Forward chosen event types from one broker to another (same ids and envelope), until Ctrl-C: move services between brokers one at a time',
      (y) =>
        specOptions(y)
          .option('from', { choices: ['nats', 'amqp', 'kafka'] as const, demandOption: true, describe: 'the broker events are read from (a durable consumer group)' })
          .option('to', { choices: ['nats', 'amqp', 'kafka'] as const, demandOption: true, describe: 'the broker they are published to' })
          .option('events', { type: 'string', array: true, demandOption: true, describe: "event types or patterns ('user.*'; '*' matches any run of characters)" })
          .option('from-server', { type: 'string', describe: 'source broker URL (NATS servers, AMQP URL, or Kafka bootstrap host:port,…)' })
          .option('to-server', { type: 'string', describe: 'target broker URL' })
          .option('name', { type: 'string', describe: "the bridge's consumer group and its mark on forwarded messages (default bridge-<from>-<to>)" })
          .option('topic-prefix', { type: 'string', describe: 'kafka: as given to provision kafka --topic-prefix' })
          .option('progress', { type: 'number', default: 10, describe: 'seconds between progress lines (0: only at the end)' }),
      (args) =>
        run(async (config) => {
          let quit = (): void => undefined;
          const stop = new Promise<void>((resolve) => (quit = resolve));
          process.once('SIGINT', quit);
          process.once('SIGTERM', quit);
          try {
            return await bridgeCommand(
              {
                specs: specPaths(args, config),
                from: args.from,
                to: args.to,
                events: args.events.map(String),
                ...(args.fromServer !== undefined ? { fromServer: args.fromServer } : {}),
                ...(args.toServer !== undefined ? { toServer: args.toServer } : {}),
                ...(args.name !== undefined ? { name: args.name } : {}),
                ...(args.topicPrefix !== undefined ? { topicPrefix: args.topicPrefix } : {}),
                progressSeconds: args.progress,
                format: args.format,
                config,
              },
              io,
              stop,
            );
          } finally {
            process.off('SIGINT', quit);
            process.off('SIGTERM', quit);
          }
        })(),
    )
    .command(
      'schema-diff <old> <new>',
      'Compare two JSON Schema files (JSON or YAML): can <new> read data written with <old>?',
      (y) =>
        y
          .positional('old', { type: 'string', demandOption: true, describe: 'the schema data was written with' })
          .positional('new', { type: 'string', demandOption: true, describe: 'the schema that must read it' })
          .option('level', {
            choices: ['BACKWARD', 'BACKWARD_TRANSITIVE', 'FORWARD', 'FORWARD_TRANSITIVE', 'FULL', 'FULL_TRANSITIVE', 'NONE'] as const,
            default: 'BACKWARD' as const,
          })
          .option('policy', { choices: ['strict', 'lenient'] as const, default: 'lenient' as const, describe: 'open content models: may a writer add undeclared properties?' })
          .option('format', { choices: ['human', 'json'] as const, default: 'human' as const })
          .option('explain', { type: 'boolean', default: false, describe: 'show an instance that breaks: valid under one schema, rejected by the other' }),
      async (args) => {
        code = await schemaDiffCommand({ old: args.old!, new: args.new!, level: args.level, policy: args.policy, format: args.format, explain: args.explain }, io);
      },
    );
  try {
    // With a parse callback yargs hands help and version text back instead of printing it,
    // so everything goes through `io` (and tests can read it).
    let printed = '';
    await parser.parseAsync(argv, {}, (_error, _argv, output) => {
      printed = output;
    });
    if (printed) io.out(printed);
    return code;
  } catch (error) {
    if (error instanceof UsageError || error instanceof ConfigError || isYargsError(error)) {
      const message = (error as Error).message;
      // An unknown or missing command: say which ones there are.
      const commandProblem = /^Unknown argument|^Name a command|^Unknown command/.test(message) && !COMMANDS.includes(argv[0] as never);
      io.err(`event-contracts: ${message}${commandProblem ? `\ncommands: ${COMMANDS.join(', ')} (event-contracts <command> --help)` : ''}`);
      return EXIT.usage;
    }
    if (error instanceof Error && (error as { userFacing?: boolean }).userFacing) {
      io.err(`event-contracts: ${error.message}`);
      return EXIT.usage;
    }
    // No stack trace for users; EVENT_CONTRACTS_TRACE=1 shows it.
    const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
    io.err(`event-contracts: internal error: ${message}. This is a bug in event-contracts: please report it with the command and documents that caused it`);
    if (process.env.EVENT_CONTRACTS_TRACE && error instanceof Error && error.stack) io.err(error.stack);
    return EXIT.usage;
  }
}

function isYargsError(error: unknown): boolean {
  return error instanceof Error && error.name === 'YError';
}
