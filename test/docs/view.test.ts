import { describe, expect, it } from 'vitest';
import type { EventVersion, JsonSchema } from '../../src/catalog/model.js';
import { changelog, declaredBump } from '../../src/docs/changelog.js';
import { displayPath, encodeId, propertyId, SlugAllocator } from '../../src/docs/ids.js';
import { MarkdownRenderer } from '../../src/docs/markdown.js';
import { pointerToRowId, schemaTable, typeName } from '../../src/docs/schema-table.js';
import { buildTraffic } from '../../src/docs/traffic.js';
import { eventView, indexView, serviceView, siteContext } from '../../src/docs/view.js';
import { workspaceCatalog } from './fixtures.js';

/** A row reduced to what a reader sees, for given/want tables. */
const rowsOf = (schema: JsonSchema) =>
  schemaTable(schema, '1.0.0', 'payload', new MarkdownRenderer()).rows.map((r) => ({
    id: r.id,
    path: r.path,
    type: r.type,
    ...(r.format ? { format: r.format } : {}),
    required: r.required,
    ...(r.description ? { description: r.description.toString() } : {}),
    ...(r.values.length ? { values: r.values.map(String) } : {}),
    ...(r.facts.length ? { facts: r.facts.map((f) => (f.v === undefined ? f.k : `${f.k} ${String(f.v)}`)) } : {}),
    ...(r.recursion ? { recursion: r.recursion } : {}),
  }));

describe('properties table', () => {
  const cases: { name: string; given: JsonSchema; want: ReturnType<typeof rowsOf> }[] = [
    {
      name: 'scalars: type, format, required, description, constraints, enum, default',
      given: {
        type: 'object',
        required: ['id'],
        properties: {
          id: { type: 'string', format: 'uuid', description: 'The *id*.' },
          qty: { type: 'integer', minimum: 1, exclusiveMaximum: 100, default: 1 },
          kind: { type: 'string', enum: ['a', 'b'] },
          note: { type: ['string', 'null'], maxLength: 10, pattern: '^x' },
        },
      },
      want: [
        { id: 'v1.0.0-p-id', path: 'id', type: 'string', format: 'uuid', required: true, description: 'The <em>id</em>.' },
        { id: 'v1.0.0-p-qty', path: 'qty', type: 'integer', required: false, facts: ['≥ 1', '< 100', 'default 1'] },
        { id: 'v1.0.0-p-kind', path: 'kind', type: 'string', required: false, values: ['"a"', '"b"'] },
        { id: 'v1.0.0-p-note', path: 'note', type: 'string | null', required: false, facts: ['max length 10', 'pattern ^x'] },
      ],
    },
    {
      name: 'nested objects flatten into dotted paths with their own required lists',
      given: { type: 'object', properties: { address: { type: 'object', additionalProperties: false, required: ['city'], properties: { city: { type: 'string' } } } } },
      want: [
        { id: 'v1.0.0-p-address', path: 'address', type: 'object', required: false, facts: ['closed'] },
        { id: 'v1.0.0-p-address.city', path: 'address.city', type: 'string', required: true },
      ],
    },
    {
      name: 'arrays fold into their property; item objects become children',
      given: {
        type: 'object',
        properties: {
          roles: { type: 'array', uniqueItems: true, items: { type: 'string', enum: ['admin'] } },
          lines: { type: 'array', maxItems: 5, items: { type: 'object', required: ['sku'], properties: { sku: { type: 'string' } } } },
          matrix: { type: 'array', items: { type: 'array', items: { type: 'number' } } },
        },
      },
      want: [
        { id: 'v1.0.0-p-roles', path: 'roles', type: 'string[]', required: false, values: ['"admin"'], facts: ['unique items'] },
        { id: 'v1.0.0-p-lines', path: 'lines', type: 'object[]', required: false, facts: ['max items 5'] },
        { id: 'v1.0.0-p-lines._i.sku', path: 'lines[].sku', type: 'string', required: true },
        { id: 'v1.0.0-p-matrix', path: 'matrix', type: 'number[][]', required: false },
      ],
    },
    {
      name: 'recursion ($ref to an ancestor) links back to the ancestor row',
      given: { type: 'object', properties: { children: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' }, children: { $ref: '#/properties/children' } } } }, self: { $ref: '#' } } },
      want: [
        { id: 'v1.0.0-p-children', path: 'children', type: 'object[]', required: false },
        { id: 'v1.0.0-p-children._i.name', path: 'children[].name', type: 'string', required: false },
        { id: 'v1.0.0-p-children._i.children', path: 'children[].children', type: 'recursive', required: false, recursion: { href: '#v1.0.0-p-children', label: 'children' } },
        { id: 'v1.0.0-p-self', path: 'self', type: 'recursive', required: false, recursion: { href: '#v1.0.0-payload', label: 'payload root' } },
      ],
    },
    {
      name: 'allOf merges into the parent; oneOf with objects becomes variants; plain anyOf is a fact',
      given: {
        type: 'object',
        allOf: [{ required: ['a'], properties: { a: { type: 'string' } } }],
        properties: {
          ip: { type: 'string', anyOf: [{ format: 'ipv4' }, { format: 'ipv6' }] },
          pay: { oneOf: [{ type: 'object', properties: { card: { type: 'string' } } }, { type: 'object', properties: { iban: { type: 'string' } } }] },
        },
      },
      want: [
        { id: 'v1.0.0-p-ip', path: 'ip', type: 'string', required: false, facts: ['any of format ipv4 | format ipv6'] },
        { id: 'v1.0.0-p-pay', path: 'pay', type: 'object', required: false },
        { id: 'v1.0.0-p-pay.oneOf_20__23_1', path: 'pay.oneOf #1', type: 'object', required: false },
        { id: 'v1.0.0-p-pay.oneOf_20__23_1.card', path: 'pay.oneOf #1.card', type: 'string', required: false },
        { id: 'v1.0.0-p-pay.oneOf_20__23_2', path: 'pay.oneOf #2', type: 'object', required: false },
        { id: 'v1.0.0-p-pay.oneOf_20__23_2.iban', path: 'pay.oneOf #2.iban', type: 'string', required: false },
        { id: 'v1.0.0-p-a', path: 'a', type: 'string', required: true },
      ],
    },
    {
      // How documents written elsewhere often write variants (the AsyncAPI Gemini example): each branch an allOf.
      name: 'oneOf whose branches declare their properties through allOf becomes variants',
      given: {
        type: 'object',
        oneOf: [
          { allOf: [{ properties: { type: { const: 'heartbeat' } } }, { type: 'object', properties: { seq: { type: 'integer' } } }] },
          { allOf: [{ properties: { type: { const: 'update' } } }] },
        ],
      },
      want: [
        { id: 'v1.0.0-p-oneOf_20__23_1', path: 'oneOf #1', type: 'object', required: false },
        { id: 'v1.0.0-p-oneOf_20__23_1.type', path: 'oneOf #1.type', type: 'string', required: false, values: ['"heartbeat"'] },
        { id: 'v1.0.0-p-oneOf_20__23_1.seq', path: 'oneOf #1.seq', type: 'integer', required: false },
        { id: 'v1.0.0-p-oneOf_20__23_2', path: 'oneOf #2', type: 'object', required: false },
        { id: 'v1.0.0-p-oneOf_20__23_2.type', path: 'oneOf #2.type', type: 'string', required: false, values: ['"update"'] },
      ],
    },
  ];
  for (const { name, given, want } of cases) {
    it(name, () => {
      expect(rowsOf(given)).toEqual(want);
    });
  }

  it('root facts and type for non-object payloads and boolean schemas', () => {
    const t = schemaTable({ type: 'string', maxLength: 3 }, '1.0.0', 'headers', new MarkdownRenderer());
    expect(t).toMatchObject({ id: 'v1.0.0-headers', rootType: 'string', rows: [] });
    expect(t.rootFacts.map((f) => f.k)).toEqual(['max length']);
    expect([typeName(true), typeName(false), typeName({ const: 1 }), typeName({ type: 'integer', nullable: true })]).toEqual(['any', 'never', 'number', 'integer | null']);
  });

  it('maps compatibility pointers to row ids', () => {
    expect(pointerToRowId('/properties/address/properties/city', '2.0.0', 'payload')).toBe('v2.0.0-p-address.city');
    expect(pointerToRowId('/properties/lines/items/properties/sku', '2.0.0', 'payload')).toBe('v2.0.0-p-lines._i.sku');
    expect(pointerToRowId('/properties/roles/items', '2.0.0', 'payload')).toBe('v2.0.0-p-roles');
    expect(pointerToRowId('/additionalProperties', '2.0.0', 'headers')).toBe('v2.0.0-headers');
  });
});

describe('ids and slugs', () => {
  it('encodes any name injectively onto safe characters', () => {
    const names = ['user.created', 'a b', 'a_20_b', '<script>', 'A', 'ä', '_', ''];
    const ids = names.map(encodeId);
    expect(new Set(ids).size).toBe(names.length);
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9._-]+$/);
    expect(encodeId('user.created')).toBe('user.created');
  });

  it('slugs are unique ignoring case, stable per name', () => {
    const s = new SlugAllocator();
    expect([s.slug('User'), s.slug('user'), s.slug('User')]).toEqual(['User', 'user-2', 'User']);
  });

  it('property ids and shown paths', () => {
    const path = [{ name: 'lines' }, { items: true as const }, { name: 'a.b' }];
    expect(propertyId('1.0.0', 'payload', path)).toBe('v1.0.0-p-lines._i.a_2e_b');
    expect(displayPath(path)).toBe('lines[].a.b');
  });
});

describe('changelog between consecutive versions', () => {
  const version = (v: string, payload: JsonSchema): EventVersion => ({ version: v, payload }) as unknown as EventVersion;

  it('reads the declared bump from the version numbers', () => {
    expect([declaredBump('1.2.0', '2.0.0'), declaredBump('1.0.0', '1.1.0'), declaredBump('1.0.0', '1.0.1'), declaredBump('x', '1.0.0')]).toEqual(['major', 'minor', 'patch', 'unknown']);
  });

  it('flags a breaking change shipped as a minor version', () => {
    const log = changelog(version('1.0.0', { type: 'object', properties: { a: { type: 'string' } } }), version('1.1.0', { type: 'object', required: ['a'], properties: { a: { type: 'string' } } }));
    expect(log).toMatchObject({ required: 'major', declared: 'minor', underVersioned: true });
    expect(log.findings.map((f) => f.change.rule)).toContain('REQUIRED_PROPERTY_ADDED');
  });

  it('a documentation-only change needs a patch', () => {
    const log = changelog(version('1.0.0', { type: 'string' }), version('1.0.1', { type: 'string', description: 'x' }));
    expect(log).toMatchObject({ required: 'patch', declared: 'patch', underVersioned: false });
  });
});

describe('view models of the workspace', () => {
  it('request/reply: the responder sends the reply, the requester (AsyncAPI 2.6) receives it', async () => {
    const traffic = buildTraffic(await workspaceCatalog());
    const status = traffic.byKey.get('system.health.status@1.0.0');
    expect(status?.senders.map((f) => [f.serviceId, f.role])).toEqual([['platform-service', 'answers']]);
    expect(status?.receivers.map((f) => [f.serviceId, f.role])).toEqual([['notifications-service', 'awaits reply']]);
    expect(traffic.pairs.map((p) => [p.requests, p.replies, p.responderId])).toEqual([[['system.health.check@1.0.0'], ['system.health.status@1.0.0'], 'platform-service']]);
  });

  it('event page of user.created: both versions, deprecation, changelog, traffic', async () => {
    const catalog = await workspaceCatalog();
    const ctx = siteContext(catalog, 'T', new MarkdownRenderer());
    const view = eventView(ctx, catalog.events.find((t) => t.type === 'user.created')!);
    expect(view.versionLinks).toEqual([
      { id: 'v1.2.0', version: '1.2.0', latest: false, deprecated: true },
      { id: 'v2.0.0', version: '2.0.0', latest: true, deprecated: false },
    ]);
    const [v1, v2] = view.versions;
    expect(v1?.deprecated?.replacedBy).toEqual({ href: '../events/user.created.html#v2.0.0', label: 'user.created 2.0.0' });
    expect(v1?.changes).toBeUndefined();
    expect(v2?.changes).toMatchObject({ required: 'major', declared: 'major', underVersioned: false, from: { href: '#v1.2.0' } });
    expect(v2?.changes?.groups.map((g) => g.kind)).toEqual(['breaking', 'documentation']);
    expect(v2?.payload.rows.map((r) => r.path)).toContain('address.city');
    expect(v2?.schemaHref).toBe('schemas/user.created/2.0.0.json');
    expect(view.talk.map((r) => [r.service.label, r.role, r.versions])).toEqual([
      ['Users Service', 'publishes', '1.2.0, 2.0.0'],
      ['Notifications Service', 'subscribes', '2.0.0'],
    ]);
    expect(view.graph.desc).toBe('Sent by: Users Service (1.2.0, 2.0.0). Received by: Notifications Service (2.0.0).');
    expect(view.propertyNames).toEqual(expect.arrayContaining(['givenName', 'city', 'traceparent']));
  });

  it('request and reply are shown as a pair on both event pages and on the service page', async () => {
    const catalog = await workspaceCatalog();
    const ctx = siteContext(catalog, 'T', new MarkdownRenderer());
    const check = eventView(ctx, catalog.events.find((t) => t.type === 'system.health.check')!);
    const status = eventView(ctx, catalog.events.find((t) => t.type === 'system.health.status')!);
    expect(check.versions[0]?.pairs.map((p) => [p.label, p.links.map((l) => l.label)])).toEqual([['Answered with', ['system.health.status 1.0.0']]]);
    expect(status.versions[0]?.pairs.map((p) => [p.label, p.links.map((l) => l.label)])).toEqual([['Reply to', ['system.health.check 1.0.0']]]);
    const platform = serviceView(ctx, catalog.services.find((s) => s.id === 'platform-service')!);
    expect(platform.answers.map((o) => [o.id, o.events.map((e) => e.label), o.replies.map((e) => e.label), o.consumerGroup])).toEqual([
      ['onHealthCheck', ['system.health.check 1.0.0'], ['system.health.status 1.0.0'], 'platform-health'],
    ]);
    expect(platform.receives).toEqual([]);
  });

  it('index lists every event type with latest version, owner, channels and deprecations', async () => {
    const catalog = await workspaceCatalog();
    const index = indexView(siteContext(catalog, 'Our events', new MarkdownRenderer()));
    expect(index.events).toHaveLength(12);
    expect(index.events.find((e) => e.type === 'user.created')).toMatchObject({
      href: 'events/user.created.html',
      latest: { href: 'events/user.created.html#v2.0.0', label: '2.0.0' },
      older: 1,
      owner: { href: 'services/users-service.html', label: 'Users Service' },
      channels: ['user.created.v2'],
      latestDeprecated: false,
      deprecations: ['1.2.0 deprecated since 2026-09-01'],
    });
    expect(index.events.find((e) => e.type === 'system.health.status')?.channels).toEqual(['(reply inbox)']);
  });
});
