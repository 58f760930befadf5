/**
 * The compatibility gate: the workspace against the released registry, and — with a
 * baseline ref — the whole contract against the base branch. Findings are values; the
 * CLI prints them and decides the exit code.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Catalog } from '../catalog/model.js';
import type { Config, IgnoreRule } from '../config.js';
import type { Diagnostic, SourceLocation } from '../diagnostics.js';
import { parseLock, readLock, type LoadedLock } from '../registry/lock.js';
import { trace } from '../trace.js';
import { openWorkspace } from '../workspace.js';
import { readBaseline } from './baseline.js';
import { checkContracts, checkLockAppendOnly } from './contract.js';
import { checkEvents } from './events.js';
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
  const workspace = await openWorkspace(options.specs, { examples: false, config: options.config });
  const lockPath = path.resolve(options.config.lockFile);
  const lock = readLock(lockPath);
  const loadErrors = [...workspace.diagnostics, ...lock.diagnostics].filter((d) => d.severity === 'error');
  if (loadErrors.length > 0) return { loadDiagnostics: loadErrors, findings: [] };

  let findings: Finding[];
  if (options.against === undefined) {
    findings = checkEvents({ catalog: workspace.catalog, released: lock, config: options.config, locateBelow: workspace.locateBelow });
  } else {
    const baseline = readBaseline(options.against, options.specs, options.config.lockFile);
    trace('baseline extracted from git');
    try {
      const released = baseline.lockText !== undefined ? parseLock(path.join(baseline.root, 'registry.lock.json'), baseline.lockText, `${baseline.ref}:${options.config.lockFile}`) : readLock(path.join(baseline.root, '.none'));
      const existing = baseline.specs.filter((s) => existsSync(s));
      const before = existing.length > 0 ? await openWorkspace(existing, { examples: false }) : undefined;
      trace('baseline loaded');
      findings = [
        ...checkEvents({ catalog: workspace.catalog, released, config: options.config, locateBelow: workspace.locateBelow }),
        ...(before ? checkContracts(before.catalog, workspace.catalog, baseline.ref) : []),
        ...checkLockAppendOnly(released, lock, baseline.ref),
      ].map((f) => relocate(f, baseline.display));
    } finally {
      baseline.dispose();
    }
  }
  trace(`gate: ${findings.length} findings`);
  return { loadDiagnostics: [], findings: applyIgnores(findings, options.config.compatibility.ignore), catalog: workspace.catalog, lock };
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
