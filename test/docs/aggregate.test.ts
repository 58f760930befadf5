/**
 * An event page names the aggregate of an event-sourced version (x-aggregate) and its
 * stream, as escaped text: a forged hostile binding (the catalog refuses one) stays text.
 */
import { describe, expect, it } from 'vitest';
import type { Catalog } from '../../src/catalog/model.js';
import { emitDocs } from '../../src/docs/index.js';
import { workspaceCatalog } from './fixtures.js';
import { tags } from './site.js';

const eventPage = (catalog: Catalog, type: string) => {
  const page = emitDocs(catalog).find((f) => f.path === `events/${type}.html`);
  if (!page) throw new Error(`no page for ${type}`);
  return page.content;
};

describe('the aggregate on event pages', () => {
  it("transaction.created's page shows payments.account and its stream; user.created's none", async () => {
    const catalog = await workspaceCatalog();
    const created = eventPage(catalog, 'transaction.created');
    expect(created).toContain('<dt>Aggregate</dt><dd><code>payments.account</code> <span class="muted">event-sourced: stream <code>payments.account.&lt;accountId&gt;</code></span></dd>');
    expect(eventPage(catalog, 'user.created')).not.toContain('<dt>Aggregate</dt>');
  });

  it('a forged hostile binding is escaped text, never markup', async () => {
    const catalog = await workspaceCatalog();
    const hostile = '<script>window.__aggregate=1</script>';
    const forged: Catalog = {
      ...catalog,
      events: catalog.events.map((t) =>
        t.type !== 'transaction.created' ? t : { ...t, versions: t.versions.map((v) => ({ ...v, aggregate: { ...v.aggregate!, type: hostile, idField: '"><img src=x onerror=window.__aggregate=1>' } })) },
      ),
    };
    const page = eventPage(forged, 'transaction.created');
    expect(page).not.toContain('window.__aggregate=1</script>');
    expect(page).toContain('<code>payments.&lt;script&gt;window.__aggregate&#x3D;1&lt;/script&gt;</code>');
    expect(tags(page).filter((t) => t.raw.includes('__aggregate'))).toEqual([]);
  });
});
