// `npm run bench`: every bench in one run, figures printed side by side. Benchmarks are
// never assertions: they print, and the README records what they printed on this machine.
// Pick sections with arguments: `npm run bench -- generate nats`.
import { existsSync } from 'node:fs';

const sections = ['generate', 'corpus', 'check', 'compat-schema', 'docs', 'headers', 'nats', 'amqp', 'kafka', 'cluster', 'observe', 'security', 'event-store', 'outbox'];
const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));

const format = (value, unit) => {
  if (unit === 'ms') return `${value.toFixed(0)} ms`;
  if (unit === 'x') return `${value.toFixed(2)}×`;
  if (unit === '%') return `${value.toFixed(1)} %`;
  if (unit === 'ops/s' || unit === 'msgs/s' || unit === 'calls/s') return `${Math.round(value).toLocaleString('en-US')} ${unit}`;
  if (unit === 'bytes' || unit === 'B') return `${Math.round(value).toLocaleString('en-US')} B`;
  return `${typeof value === 'number' ? Math.round(value * 100) / 100 : value} ${unit ?? ''}`;
};

for (const section of sections) {
  if (wanted.length > 0 && !wanted.includes(section)) continue;
  const file = new URL(`./${section}.mjs`, import.meta.url);
  if (!existsSync(file)) continue;
  console.log(`\n## ${section}`);
  try {
    const rows = await (await import(file.href)).run();
    const width = Math.max(...rows.map((r) => r.name.length));
    for (const row of rows) console.log(`  ${row.name.padEnd(width)}  ${format(row.value, row.unit)}`);
  } catch (error) {
    console.log(`  failed: ${error instanceof Error ? error.message : error}`);
    process.exitCode = 1;
  }
}
