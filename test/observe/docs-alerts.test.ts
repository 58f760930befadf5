/** The HTML docs show each event's alert thresholds: the x-slo of the operations that send or receive it (the defaults are in the README). */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { alertIndex } from '../../src/docs/alerts.js';
import { openWorkspace } from '../../src/workspace.js';

describe('alert thresholds in the docs', () => {
  it('user.created: the welcome consumer with its x-slo, the other receivers and the producer with defaults', async () => {
    const ws = await openWorkspace(['asyncapi'], { examples: false });
    const rows = alertIndex(ws.catalog).get('user.created')!;
    const welcome = rows.find((r) => r.group === 'notifications-welcome')!;
    expect(welcome).toEqual({ serviceId: 'notifications-service', operation: 'onUserCreated', group: 'notifications-welcome', p95: '250 ms', errorRate: '1 %', maxPending: '10000 (10m)', defaults: false });
    const producers = rows.filter((r) => r.serviceId === 'users-service');
    expect(producers.map((r) => r.operation).sort()).toEqual(['publishUserCreatedV1', 'publishUserCreatedV2']);
    expect(producers.every((r) => r.defaults && r.silentAfter === '15m')).toBe(true);

    const page = readFileSync('generated/docs/events/user.created.html', 'utf8');
    const section = page.slice(page.indexOf('<h2 id="alerts">'), page.indexOf('</section>', page.indexOf('<h2 id="alerts">')));
    expect(section).toContain('Alert thresholds');
    expect(section).toContain('<code>onUserCreated</code> <code>notifications-welcome</code></td><td>250 ms</td><td>1 %</td><td>10000 (10m)</td><td></td>');
    // Operations without an x-slo (the defaults) are not listed on the page.
    expect(section).not.toContain('publishUserCreatedV2');
    expect(readFileSync('generated/docs/events/user.deleted.html', 'utf8')).not.toContain('id="alerts"');
    // The defaults, once, on the index.
    expect(readFileSync('generated/docs/index.html', 'utf8')).toContain("Unless an operation&#x27;s x-slo says otherwise, the generated alerts fire when processing p95 is above 1 s, more than 5 % of handlings fail");
  }, 60_000);
});
