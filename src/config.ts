/**
 * Project settings, resolved once: every default is decided here and nothing downstream
 * reads raw options. Read from `event-contracts.config.json`, `.yaml`/`.yml` or `.mjs` in
 * the working directory.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { isoDurationMs } from './provision/nats-plan.js';
import type { AuditStreamSettings } from './security/audit-stream.js';

export type CompatLevelName =
  | 'BACKWARD' | 'BACKWARD_TRANSITIVE' | 'FORWARD' | 'FORWARD_TRANSITIVE' | 'FULL' | 'FULL_TRANSITIVE' | 'NONE';

export interface IgnoreRule {
  rule: string;
  /** Event type (`user.created`) or `type@version`; omitted = every event. */
  event?: string;
  /** JSON pointer prefix inside the schema. */
  path?: string;
  reason: string;
}

export interface Config {
  /** Where the config came from (undefined: defaults only). */
  file?: string;
  /** The workspace root: the absolute folder of the config file (undefined: no config file). */
  root?: string;
  /** Folders besides the root that `$ref`s may reach (absolute). */
  refRoots: string[];
  specs: string[];
  out: string;
  package: { name: string; version: string };
  compatibility: {
    level: CompatLevelName;
    policy: 'strict' | 'lenient';
    events: Record<string, { level?: CompatLevelName; policy?: 'strict' | 'lenient' }>;
    ignore: IgnoreRule[];
  };
  lockFile: string;
  /**
   * What an example that does not match its schema is in `generate` and `docs`: a
   * `"warning"` (default: a foreign document still generates) or an `"error"`. `validate`,
   * `check` and `release` always report it as an error.
   */
  invalidExamples: 'warning' | 'error';
  /**
   * `audit: { maxAge?, maxBytes?, replicas? }` (or `true`): the NATS provisioning plan holds
   * the stream AUDIT on `audit.>` that transport audit sinks write to. Undefined: no audit stream.
   */
  audit?: AuditStreamSettings;
}

export const CONFIG_FILES = ['event-contracts.config.json', 'event-contracts.config.yaml', 'event-contracts.config.yml', 'event-contracts.config.mjs'];

const LEVELS = new Set(['BACKWARD', 'BACKWARD_TRANSITIVE', 'FORWARD', 'FORWARD_TRANSITIVE', 'FULL', 'FULL_TRANSITIVE', 'NONE']);

export class ConfigError extends Error {}

export async function loadConfig(cwd = process.cwd()): Promise<Config> {
  for (const name of CONFIG_FILES) {
    const file = path.join(cwd, name);
    if (!existsSync(file)) continue;
    let raw: unknown;
    try {
      if (name.endsWith('.mjs')) raw = (await import(pathToFileURL(file).href)).default;
      else if (name.endsWith('.json')) raw = JSON.parse(readFileSync(file, 'utf8'));
      else raw = parseYaml(readFileSync(file, 'utf8'));
    } catch (error) {
      throw new ConfigError(`${name}: ${(error as Error).message}`);
    }
    return resolveConfig(raw, name, cwd);
  }
  return resolveConfig({}, undefined);
}

export function resolveConfig(raw: unknown, file: string | undefined, dir = process.cwd()): Config {
  const where = file ?? 'config';
  const obj = (v: unknown, what: string): Record<string, unknown> => {
    if (v === undefined) return {};
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ConfigError(`${where}: ${what} must be an object`);
    return v as Record<string, unknown>;
  };
  const level = (v: unknown, what: string): CompatLevelName | undefined => {
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || !LEVELS.has(v)) throw new ConfigError(`${where}: ${what} must be one of ${[...LEVELS].join(', ')}`);
    return v as CompatLevelName;
  };
  const policy = (v: unknown, what: string): 'strict' | 'lenient' | undefined => {
    if (v === undefined) return undefined;
    if (v !== 'strict' && v !== 'lenient') throw new ConfigError(`${where}: ${what} must be "strict" or "lenient"`);
    return v;
  };
  const severity = (v: unknown, what: string): 'warning' | 'error' | undefined => {
    if (v === undefined) return undefined;
    if (v !== 'warning' && v !== 'error') throw new ConfigError(`${where}: ${what} must be "warning" or "error"`);
    return v;
  };
  const root = obj(raw, 'the config');
  const pkg = obj(root.package, 'package');
  const compat = obj(root.compatibility, 'compatibility');
  const events: Config['compatibility']['events'] = {};
  for (const [type, settings] of Object.entries(obj(compat.events, 'compatibility.events'))) {
    const s = obj(settings, `compatibility.events["${type}"]`);
    const l = level(s.level, `compatibility.events["${type}"].level`);
    const p = policy(s.policy, `compatibility.events["${type}"].policy`);
    events[type] = { ...(l ? { level: l } : {}), ...(p ? { policy: p } : {}) };
  }
  const ignoreList = compat.ignore ?? [];
  if (!Array.isArray(ignoreList)) throw new ConfigError(`${where}: compatibility.ignore must be a list`);
  const ignore = ignoreList.map((entry, i): IgnoreRule => {
    const e = obj(entry, `compatibility.ignore[${i}]`);
    if (typeof e.rule !== 'string') throw new ConfigError(`${where}: compatibility.ignore[${i}].rule is required`);
    if (typeof e.reason !== 'string' || e.reason.trim() === '') {
      throw new ConfigError(`${where}: compatibility.ignore[${i}] needs a "reason": say why the finding is accepted`);
    }
    return {
      rule: e.rule,
      ...(typeof e.event === 'string' ? { event: e.event } : {}),
      ...(typeof e.path === 'string' ? { path: e.path } : {}),
      reason: e.reason,
    };
  });
  const specs = root.specs === undefined ? ['asyncapi'] : root.specs;
  if (!Array.isArray(specs) || !specs.every((s) => typeof s === 'string')) throw new ConfigError(`${where}: specs must be a list of paths`);
  const refRoots = root.refRoots ?? [];
  if (!Array.isArray(refRoots) || !refRoots.every((s) => typeof s === 'string')) throw new ConfigError(`${where}: refRoots must be a list of folders`);
  return {
    ...(file ? { file, root: path.resolve(dir) } : {}),
    refRoots: (refRoots as string[]).map((r) => path.resolve(dir, r)),
    specs: specs as string[],
    out: typeof root.out === 'string' ? root.out : 'generated',
    package: {
      name: typeof pkg.name === 'string' ? pkg.name : 'event-contracts-generated',
      version: typeof pkg.version === 'string' ? pkg.version : '0.0.0',
    },
    compatibility: {
      level: level(compat.level, 'compatibility.level') ?? 'FULL_TRANSITIVE',
      policy: policy(compat.policy, 'compatibility.policy') ?? 'lenient',
      events,
      ignore,
    },
    lockFile: typeof root.lockFile === 'string' ? root.lockFile : 'registry.lock.json',
    invalidExamples: severity(root.invalidExamples, 'invalidExamples') ?? 'warning',
    ...auditSettings(root.audit, where),
  };
}

function auditSettings(raw: unknown, where: string): { audit?: AuditStreamSettings } {
  if (raw === undefined || raw === false) return {};
  if (raw === true) return { audit: {} };
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ConfigError(`${where}: audit must be true or an object { maxAge, maxBytes, replicas }`);
  const a = raw as Record<string, unknown>;
  const unknown = Object.keys(a).filter((k) => !['maxAge', 'maxBytes', 'replicas'].includes(k));
  if (unknown.length > 0) throw new ConfigError(`${where}: audit.${unknown[0]} is not a setting (maxAge, maxBytes, replicas)`);
  const maxAgeMs = typeof a.maxAge === 'string' ? isoDurationMs(a.maxAge) : undefined;
  if (a.maxAge !== undefined && (maxAgeMs === undefined || maxAgeMs <= 0)) throw new ConfigError(`${where}: audit.maxAge must be an ISO-8601 duration like P90D`);
  const count = (v: unknown, what: string): number | undefined => {
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) throw new ConfigError(`${where}: audit.${what} must be a positive whole number`);
    return v;
  };
  const maxBytes = count(a.maxBytes, 'maxBytes');
  const replicas = count(a.replicas, 'replicas');
  return { audit: { ...(maxAgeMs !== undefined ? { maxAgeMs } : {}), ...(maxBytes !== undefined ? { maxBytes } : {}), ...(replicas !== undefined ? { replicas } : {}) } };
}
