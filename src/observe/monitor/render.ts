/** The monitor's report as a terminal table or one JSON line. Rendering only: monitor.ts decides. */
import type { MonitorReport, Violation } from './monitor.js';

const fmt = (n: number | undefined): string => (n === undefined ? '-' : n < 10 ? n.toFixed(1) : String(Math.round(n)));

export function reportLine(r: MonitorReport): string {
  return JSON.stringify(r);
}

export function reportTable(r: MonitorReport, tap: string): string {
  const head = ['EVENT', 'SEEN', 'RATE/s', 'LAG p50/p95/p99 ms', 'VIOLATIONS'];
  const rows = r.types.map((t) => [
    t.key,
    String(t.count),
    fmt(t.ratePerSecond),
    t.lagMs ? `${fmt(t.lagMs.p50)}/${fmt(t.lagMs.p95)}/${fmt(t.lagMs.p99)}` : '-',
    Object.entries(t.violations)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ') || '-',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 1 || i === 2 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  const out = [
    `event-contracts monitor: ${tap}; ${r.at}, ${r.total} events, ${r.violations} violations`,
    '',
    line(head),
    ...rows.map(line),
  ];
  const last = r.types.filter((t) => t.lastViolation);
  if (last.length > 0) {
    out.push('', 'last violation per event:');
    for (const t of last) out.push(`  ${t.key}: ${violationText(t.lastViolation!)}`);
  }
  return out.join('\n');
}

export function violationText(v: Violation): string {
  const id = v.id ? ` ${v.id}` : '';
  return `${v.kind} on ${v.subject}${id}: ${v.detail}`;
}
