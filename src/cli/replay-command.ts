/**
 * `event-contracts replay --projection NAME`: rebuilds one of the project's projections
 * from the first event into a new read-model generation, then switches readers to it
 * (ProjectionRunner.rebuild). The old generation serves until the switch.
 *
 * The CLI cannot build a projection itself (the handler is the user's code, and so are
 * the store and database settings), so the config names a module per projection:
 *
 *     "projections": { "balances": "./dist/projections/balances.js" }
 *
 * The module's default export (or `createProjectionRunner`'s result exported as `runner`)
 * is a factory: `() => ProjectionRunner | { runner, close? }`, sync or async. The CLI
 * calls it, runs `migrate()` and `rebuild()`, prints progress on stderr and the result on
 * stdout, then calls `close()`. Exit 0 rebuilt (dead letters are counted, not fatal),
 * 2 unknown projection, a module that does not load or export a factory, or a store or
 * database that cannot be reached.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parse as parseYaml } from 'yaml';
import type { Config } from '../config.js';
import type { ProjectionRunner, RebuildProgress } from '../runtime/event-store/projection.js';
import { printable, safeJson } from './history-command.js';
import { EXIT, type Io } from './report.js';

export interface ReplayArgs {
  projection: string;
  format: 'human' | 'json';
  config: Config;
}

/** What a projection module's factory may return. */
export type ProjectionFactoryResult = ProjectionRunner | { runner: ProjectionRunner; close?: () => void | Promise<void> };

class ReplayError extends Error {}

/**
 * `projections` from the config file, as module paths resolved against the config's folder.
 * Read here rather than in config.ts for now: see the report of this change.
 */
export async function projectionModules(config: Config): Promise<Record<string, string>> {
  if (!config.file || !config.root) return {};
  const file = path.join(config.root, config.file);
  let raw: unknown;
  if (file.endsWith('.mjs')) raw = ((await import(pathToFileURL(file).href)) as { default?: unknown }).default;
  else if (file.endsWith('.json')) raw = JSON.parse(readFileSync(file, 'utf8'));
  else raw = parseYaml(readFileSync(file, 'utf8'));
  const setting = (raw as { projections?: unknown } | undefined)?.projections;
  if (setting === undefined) return {};
  if (typeof setting !== 'object' || setting === null || Array.isArray(setting)) throw new ReplayError(`${config.file}: projections must be an object of name to module path`);
  const modules: Record<string, string> = {};
  for (const [name, modulePath] of Object.entries(setting)) {
    if (typeof modulePath !== 'string' || modulePath === '') throw new ReplayError(`${config.file}: projections["${printable(name)}"] must be a module path`);
    modules[name] = path.resolve(config.root, modulePath);
  }
  return modules;
}

const isRunner = (v: unknown): v is ProjectionRunner =>
  typeof v === 'object' && v !== null && typeof (v as ProjectionRunner).rebuild === 'function' && typeof (v as ProjectionRunner).migrate === 'function';

async function loadRunner(name: string, modulePath: string): Promise<{ runner: ProjectionRunner; close: () => Promise<void> }> {
  if (!existsSync(modulePath)) throw new ReplayError(`projection ${printable(name)}: ${printable(modulePath)} does not exist (build it first?)`);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(modulePath).href)) as Record<string, unknown>;
  } catch (error) {
    throw new ReplayError(`projection ${printable(name)}: ${printable(modulePath)} does not load: ${printable((error as Error).message ?? String(error))}`);
  }
  const factory = mod['default'] ?? mod['createRunner'];
  if (typeof factory !== 'function') throw new ReplayError(`projection ${printable(name)}: ${printable(modulePath)} must export a factory (default export or createRunner) that returns a ProjectionRunner`);
  const made = (await (factory as () => unknown)()) as unknown;
  const runner = isRunner(made) ? made : isRunner((made as { runner?: unknown } | undefined)?.runner) ? (made as { runner: ProjectionRunner }).runner : undefined;
  if (!runner) throw new ReplayError(`projection ${printable(name)}: the factory in ${printable(modulePath)} returned no ProjectionRunner (from createProjectionRunner)`);
  const close = isRunner(made) ? undefined : (made as { close?: unknown }).close;
  return {
    runner,
    close: async () => {
      if (typeof close === 'function') await (close as () => unknown).call(made);
    },
  };
}

function describeProgress(name: string, p: RebuildProgress): string {
  const total = p.total !== undefined && p.total > 0 ? `/${p.total} (${Math.min(100, Math.floor((p.done / p.total) * 100))}%)` : '';
  return p.phase === 'switched' ? `${name}: generation ${p.generation} is active (${p.done} events)` : `${name}: generation ${p.generation}: ${p.done}${total} events`;
}

/** Progress at most this often on stderr (plus the last report): a rebuild can report thousands of batches. */
const PROGRESS_EVERY_MS = 1_000;

export async function replayCommand(args: ReplayArgs, io: Io): Promise<number> {
  const name = args.projection;
  let loaded: { runner: ProjectionRunner; close: () => Promise<void> } | undefined;
  try {
    const modules = await projectionModules(args.config);
    const modulePath = modules[name];
    if (modulePath === undefined) {
      const known = Object.keys(modules);
      io.err(
        `event-contracts: replay: unknown projection '${printable(name)}'; ` +
          (known.length > 0 ? `the config names ${known.map(printable).join(', ')}` : `add it to ${args.config.file ?? 'event-contracts.config.json'}: "projections": { "${printable(name)}": "./path/to/module.js" }`),
      );
      return EXIT.usage;
    }
    loaded = await loadRunner(name, modulePath);
    const { runner } = loaded;
    await runner.migrate();
    let last = 0;
    const result = await runner.rebuild({
      onProgress: (p) => {
        const now = Date.now();
        if (p.phase !== 'switched' && now - last < PROGRESS_EVERY_MS) return;
        last = now;
        io.err(describeProgress(printable(name), p));
      },
    });
    if (args.format === 'json') io.out(safeJson({ projection: name, ...result }, 2));
    else io.out(`rebuilt projection ${printable(name)}: generation ${result.generation}, ${result.events} events, ${result.deadLetters} dead letters`);
    if (result.deadLetters > 0) io.err(`${printable(name)}: ${result.deadLetters} events went to the dead-letter table with their reasons`);
    return EXIT.ok;
  } catch (error) {
    if (error instanceof ReplayError) io.err(`event-contracts: replay: ${error.message}`);
    else io.err(`event-contracts: replay ${printable(name)}: ${describeFailure(error)}`);
    return EXIT.usage;
  } finally {
    await loaded?.close().catch(() => undefined);
  }
}

/** Unreachable databases and stores say so; anything else gives its own message. */
function describeFailure(error: unknown): string {
  const message = printable(error instanceof Error ? error.message : String(error));
  const code = (error as { code?: unknown } | undefined)?.code;
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'ETIMEDOUT' || /timeout exceeded when trying to connect|ECONNREFUSED/i.test(message)) {
    return `the database or event store cannot be reached: ${message}`;
  }
  return message;
}
