/**
 * The compatibility gate: the workspace against the released registry, and — with a
 * baseline ref — the whole contract against the base branch. Findings are values; the
 * CLI prints them and decides the exit code.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Catalog } from '../catalog/model.js';
import type { CompatLevelName, Config, IgnoreRule } from '../config.js';
import type { Diagnostic, SourceLocation } from '../diagnostics.js';
import { parseLock, readLock, type LoadedLock } from '../registry/lock.js';
import { trace } from '../trace.js';
import { openWorkspace } from '../workspace.js';
import { readBaseline, type Baseline } from './baseline.js';
import { checkContracts } from './contract.js';
import { checkAccessGrantable, checkAccessWidened } from './access-rules.js';
import { checkLockAppendOnly, checkLockChecksum } from './lock-rules.js';
import { parseSourceText } from '../load/source-file.js';
import { checkEvents, settingsFor } from './events.js';
import { withEventSourcedRemovals } from './event-sourced.js';
import type { Finding } from './finding.js';

export type { Finding } from './finding.js';

export interface GateResult {
  /** Problems loading the specs (or the lock): the gate could not run. */
  loadDiagnostics: Diagnostic[];
  findings: Finding[];
  catalog?: Catalog;
  lock?: LoadedLock;
}

export async function runGate(options: { specs: readonly string[]; config: Config; against?: string }): Promise<GateResult> {
  // Examples are part of the contract: an invalid one fails check and release (generate only warns).
  const workspace = await openWorkspace(options.specs, { examples: true, config: options.config });
  const lockPath = path.resolve(options.config.lockFile);
  const lock = readLock(lockPath);
  const loadErrors = [...workspace.diagnostics, ...lock.diagnostics].filter((d) => d.severity === 'error');
  if (loadErrors.length > 0) return { loadDiagnostics: loadErrors, findings: [] };

  let findings: Finding[];
  if (options.against === undefined) {
    findings = withEventSourcedRemovals(
      [
        ...checkLockChecksum(lock),
        ...checkEvents({ catalog: workspace.catalog, released: lock, config: options.config, locateBelow: workspace.locateBelow }),
        ...checkAccessGrantable(workspace.catalog),
      ],
      { catalog: workspace.catalog, released: lock, config: options.config },
    );
  } else {
    // The base's config says where its specs and lock are: a branch cannot point the gate elsewhere.
    const baseline = await readBaseline(options.against);
    trace('baseline extracted from git');
    try {
      const released =
        baseline.lockText !== undefined
          ? parseLock(baseline.lockPath, baseline.lockText, `${baseline.ref}:${baseline.config.lockFile}`)
          : readLock(path.join(baseline.root, '.none'));
      const existing = baseline.specs.filter((s) => existsSync(s));
      const before = existing.length > 0 ? await openWorkspace(existing, { examples: false, config: baseline.config }) : undefined;
      trace('baseline loaded');
      findings = withEventSourcedRemovals([
        ...baselineLoadFailures(before, baseline.ref),
        ...checkPathChanges(baseline, options),
        ...checkSettingsWeakened(baseline, options.config, workspace.catalog),
        ...checkEvents({ catalog: workspace.catalog, released, config: options.config, locateBelow: workspace.locateBelow }),
        ...(before ? checkContracts(before.catalog, workspace.catalog, baseline.ref) : []),
        ...checkAccessGrantable(workspace.catalog),
        ...(before?.ok ? checkAccessWidened(before.catalog, workspace.catalog, baseline.ref) : []),
        ...checkLockAppendOnly({
          baseline: released,
          current: lock,
          ref: baseline.ref,
          catalog: workspace.catalog,
          ...(before?.ok ? { baseCatalog: before.catalog } : {}),
        }),
      ], { catalog: workspace.catalog, released, config: options.config, ...(before?.ok ? { baseCatalog: before.catalog } : {}) }).map((f) => relocate(f, baseline.display));
    } finally {
      baseline.dispose();
    }
  }
  trace(`gate: ${findings.length} findings`);
  return { loadDiagnostics: [], findings: applyIgnores(findings, options.config.compatibility.ignore), catalog: workspace.catalog, lock };
}

/**
 * A base whose documents do not load would compare nothing and pass everything: that is a
 * finding of its own, with the first problem, located in the base.
 */
function baselineLoadFailures(before: Awaited<ReturnType<typeof openWorkspace>> | undefined, ref: string): Finding[] {
  const errors = before?.diagnostics.filter((d) => d.severity === 'error') ?? [];
  if (errors.length === 0) return [];
  const first = errors[0]!;
  return [
    {
      rule: 'BASELINE_NOT_LOADED',
      code: 'BASELINE_NOT_LOADED',
      severity: 'error',
      breaking: true,
      message: `the specs of ${ref} do not load (${errors.length} problem${errors.length === 1 ? '' : 's'}, first: ${first.code}: ${first.message}): channels, operations and replies cannot be compared`,
      ...(first.location ? { location: first.location } : {}),
      hint: `fix ${ref}, or compare against a ref whose specs load`,
    },
  ];
}

/** What a level checks: which directions, against how many previous versions. */
function strength(level: CompatLevelName): { backward: boolean; forward: boolean; transitive: boolean } {
  return {
    backward: level.startsWith('BACKWARD') || level.startsWith('FULL'),
    forward: level.startsWith('FORWARD') || level.startsWith('FULL'),
    transitive: level.endsWith('_TRANSITIVE'),
  };
}

/**
 * The branch's compatibility settings apply (so a pull request can accept a finding with
 * a reason), but settings that check less than the base's are a finding of their own: a
 * branch cannot set `level: NONE` and pass unnoticed.
 */
function checkSettingsWeakened(baseline: Baseline, config: Config, catalog: Catalog): Finding[] {
  const types = new Set(['*', ...Object.keys(baseline.config.compatibility.events), ...Object.keys(config.compatibility.events), ...catalog.events.map((t) => t.type)]);
  const weakened: string[] = [];
  for (const type of [...types].sort()) {
    const before = type === '*' ? { level: baseline.config.compatibility.level, policy: baseline.config.compatibility.policy } : settingsFor(baseline.config, type);
    const after = type === '*' ? { level: config.compatibility.level, policy: config.compatibility.policy } : settingsFor(config, type);
    const b = strength(before.level);
    const a = strength(after.level);
    const lost = (b.backward && !a.backward) || (b.forward && !a.forward) || (b.transitive && !a.transitive);
    const lenient = before.policy === 'strict' && after.policy === 'lenient';
    if (lost || lenient) weakened.push(`${type === '*' ? 'default' : type}: ${before.level}/${before.policy} → ${after.level}/${after.policy}`);
  }
  if (weakened.length === 0) return [];
  const configFile = config.file ? parseSourceText(path.resolve(config.file), readFileSync(config.file, 'utf8')) : undefined;
  return [
    {
      rule: 'COMPATIBILITY_WEAKENED',
      code: 'COMPATIBILITY_WEAKENED',
      severity: 'error',
      breaking: true,
      message: `the compatibility settings check less than ${baseline.ref}'s (${weakened.slice(0, 5).join('; ')}${weakened.length > 5 ? `; and ${weakened.length - 5} more` : ''})`,
      ...(configFile ? { location: configFile.locate('/compatibility') } : {}),
      hint: 'weaken them in a change of their own, or accept this finding in compatibility.ignore with a reason',
    },
  ];
}

/** Where the branch reads its specs and lock, against where the base did: a move is reported, never followed silently. */
function checkPathChanges(baseline: Baseline, options: { specs: readonly string[]; config: Config }): Finding[] {
  const norm = (p: string, from: string) => path.relative(from, path.resolve(from, p)).split(path.sep).join('/') || '.';
  const baseSpecs = [...new Set(baseline.config.specs.map((s) => norm(s, baseline.workspace)))].sort();
  const ourSpecs = [...new Set(options.specs.map((s) => norm(s, process.cwd())))].sort();
  const baseLock = norm(baseline.config.lockFile, baseline.workspace);
  const ourLock = norm(options.config.lockFile, process.cwd());
  const configFile = options.config.file ? parseSourceText(path.resolve(options.config.file), readFileSync(options.config.file, 'utf8')) : undefined;
  const at = (pointer: string) => (configFile ? { location: configFile.locate(pointer) } : {});
  const findings: Finding[] = [];
  if (baseSpecs.join('\0') !== ourSpecs.join('\0')) {
    findings.push({
      rule: 'CONFIG_PATHS_CHANGED',
      code: 'CONFIG_PATHS_CHANGED',
      severity: 'error',
      breaking: true,
      message: `the specs are read from ${ourSpecs.join(', ')}, but ${baseline.ref} read them from ${baseSpecs.join(', ')}: the gate compares against ${baseline.ref}'s own folders`,
      ...at('/specs'),
      hint: 'a moved spec folder is reviewed on its own: accept it in compatibility.ignore with a reason once the move is intended',
    });
  }
  if (baseLock !== ourLock) {
    findings.push({
      rule: 'CONFIG_PATHS_CHANGED',
      code: 'CONFIG_PATHS_CHANGED',
      severity: 'error',
      breaking: true,
      message: `the lock is read from ${ourLock}, but ${baseline.ref} keeps it at ${baseLock}: what ${baseline.ref} released is read from there`,
      ...at('/lockFile'),
      hint: 'keep the lock where the base branch has it, or accept the move in compatibility.ignore with a reason',
    });
  }
  return findings;
}

function relocate(finding: Finding, display: (file: string) => string): Finding {
  const move = (loc: SourceLocation | undefined) => (loc ? { ...loc, file: display(loc.file) } : undefined);
  const location = move(finding.location);
  const related = move(finding.related);
  return { ...finding, ...(location ? { location } : {}), ...(related ? { related } : {}) };
}

/** Findings accepted in the config stay visible (marked, with the reason) but do not fail the gate. */
export function applyIgnores(findings: Finding[], rules: readonly IgnoreRule[]): Finding[] {
  return findings.map((finding) => {
    const rule = rules.find(
      (r) =>
        r.rule === finding.rule &&
        (r.event === undefined || finding.event === r.event || finding.event?.startsWith(`${r.event}@`)) &&
        (r.path === undefined || (finding.path ?? '').startsWith(r.path)),
    );
    return rule ? { ...finding, ignored: rule.reason, severity: 'info' as const } : finding;
  });
}

export function gateFails(findings: readonly Finding[]): boolean {
  return findings.some((f) => f.severity === 'error' && !f.ignored);
}
