/** Gate findings for people (`human`), programs (`json`), code scanning (`sarif`) and GitHub workflow annotations (`github`). */
import { RULES } from '../compat/schema/index.js';
import { formatLocation, type SourceLocation } from '../diagnostics.js';
import type { Finding } from '../gate/index.js';

export type FindingsFormat = 'human' | 'json' | 'sarif' | 'github';

export function formatHuman(findings: readonly Finding[]): string {
  const lines: string[] = [];
  for (const f of findings) {
    const where = f.location ? `${formatLocation(f.location)}: ` : '';
    const severity = f.ignored ? 'ignored' : f.severity;
    lines.push(`${where}${severity} ${f.rule}: ${f.message}`);
    if (f.related) lines.push(`  previously: ${formatLocation(f.related)}`);
    if (f.ignored) lines.push(`  accepted in config: ${f.ignored}`);
    else if (f.hint) lines.push(`  hint: ${f.hint}`);
    if (f.witness) lines.push(`  witness: ${f.witness}`);
  }
  const failing = findings.filter((f) => f.severity === 'error' && !f.ignored).length;
  const ignored = findings.filter((f) => f.ignored).length;
  lines.push(failing === 0 ? `compatible${ignored ? ` (${ignored} finding${ignored === 1 ? '' : 's'} accepted in config)` : ''}` : `${failing} breaking change${failing === 1 ? '' : 's'} found`);
  return lines.join('\n');
}

export function formatJson(findings: readonly Finding[]): string {
  const compatible = !findings.some((f) => f.severity === 'error' && !f.ignored);
  return JSON.stringify(
    {
      compatible,
      findings: findings.map((f) => ({
        rule: f.rule,
        severity: f.ignored ? 'ignored' : f.severity,
        breaking: f.breaking,
        ...(f.event ? { event: f.event } : {}),
        ...(f.path !== undefined ? { path: f.path } : {}),
        message: f.message,
        ...(f.location ? { location: f.location } : {}),
        ...(f.related ? { previous: f.related } : {}),
        ...(f.hint ? { hint: f.hint } : {}),
        ...(f.ignored ? { ignoredBecause: f.ignored } : {}),
      })),
    },
    null,
    2,
  );
}

const sarifLocation = (loc: SourceLocation) => ({
  physicalLocation: { artifactLocation: { uri: loc.file }, region: { startLine: loc.line, startColumn: loc.column } },
});

export function formatSarif(findings: readonly Finding[], version: string): string {
  const ruleIds = [...new Set(findings.map((f) => f.rule))].sort();
  const describe = (id: string) => (RULES as Record<string, { description: string } | undefined>)[id]?.description ?? id;
  return JSON.stringify(
    {
      $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
      version: '2.1.0',
      runs: [
        {
          tool: { driver: { name: 'event-contracts', version, rules: ruleIds.map((id) => ({ id, shortDescription: { text: describe(id) } })) } },
          results: findings.map((f) => ({
            ruleId: f.rule,
            level: f.ignored ? 'note' : f.severity === 'error' ? 'error' : f.severity === 'warning' ? 'warning' : 'note',
            message: { text: f.hint ? `${f.message}\nHint: ${f.hint}` : f.message },
            ...(f.location ? { locations: [sarifLocation(f.location)] } : {}),
            ...(f.related ? { relatedLocations: [{ id: 1, ...sarifLocation(f.related), message: { text: 'previous version' } }] } : {}),
            ...(f.ignored ? { suppressions: [{ kind: 'external', justification: f.ignored }] } : {}),
          })),
        },
      ],
    },
    null,
    2,
  );
}

/** https://docs.github.com/actions/using-workflows/workflow-commands-for-github-actions */
const escapeData = (s: string) => s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
const escapeProperty = (s: string) => escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');

export function formatGithub(findings: readonly Finding[]): string {
  return findings
    .map((f) => {
      const command = f.ignored ? 'notice' : f.severity === 'error' ? 'error' : f.severity === 'warning' ? 'warning' : 'notice';
      const props = [
        ...(f.location ? [`file=${escapeProperty(f.location.file)}`, `line=${f.location.line}`, `col=${f.location.column}`] : []),
        `title=${escapeProperty(f.rule)}`,
      ];
      const text = [f.message, f.related ? `previously at ${formatLocation(f.related)}` : '', f.witness ? `witness: ${f.witness}` : '', f.hint ? `hint: ${f.hint}` : ''].filter(Boolean).join('\n');
      return `::${command} ${props.join(',')}::${escapeData(text)}`;
    })
    .join('\n');
}
