// Docs bench: emitDocs on a synthetic 500-event workspace (25 services, nested objects,
// arrays, enums, several versions, request/reply), timed, with the sizes issue 6 budgets:
// shared assets (CSS, search script, search index) < 200 KB, event pages < 20 KB average,
// built in < 5 s. Imports the compiled package: run `npm run build` first.

const loc = (file, pointer = '') => ({ file, line: 1, column: 1, pointer });

/** Deterministic pseudo-random numbers, so that every run measures the same catalog. */
function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const NOUNS = ['order', 'invoice', 'shipment', 'payment', 'refund', 'account', 'user', 'session', 'cart', 'product', 'review', 'coupon', 'ticket', 'device', 'report', 'booking', 'message', 'subscription', 'plan', 'warehouse'];
const VERBS = ['created', 'updated', 'deleted', 'approved', 'rejected', 'shipped', 'cancelled', 'expired', 'renewed', 'archived', 'restored', 'flagged', 'settled', 'opened', 'closed'];
const FIELDS = ['amount', 'currency', 'status', 'reason', 'quantity', 'sku', 'note', 'channel', 'priority', 'region', 'score', 'label', 'url', 'count', 'tags', 'owner', 'source', 'target', 'ratio', 'code'];

const money = {
  type: 'object',
  title: 'Money',
  description: 'An amount of money in one currency.',
  additionalProperties: false,
  required: ['amount', 'currency'],
  properties: {
    amount: { type: 'string', pattern: '^-?[0-9]+(\\.[0-9]{1,4})?$', description: 'Decimal amount as a string.' },
    currency: { type: 'string', enum: ['EUR', 'USD', 'GBP', 'CHF', 'JPY'], description: 'ISO 4217 currency code.' },
  },
};

const headers = {
  type: 'object',
  title: 'StandardHeaders',
  description: 'Headers every producer sets.',
  required: ['x-correlation-id'],
  properties: {
    'x-correlation-id': { type: 'string', format: 'uuid', description: 'Correlation id of the business flow.' },
    traceparent: { type: 'string', pattern: '^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$', description: 'W3C trace context.' },
  },
};

function payloadFor(type, major, minor, n) {
  // Fields depend on the event type only, so that versions evolve instead of churning.
  const rand = rng(1000 + n);
  const properties = {
    eventId: { type: 'string', format: 'uuid', title: 'EventId', description: 'Unique id of this event occurrence; consumers de-duplicate on it.' },
    occurredAt: { type: 'string', format: 'date-time', description: 'When the change was committed, RFC 3339.' },
    status: { type: 'string', enum: ['pending', 'active', 'done', 'failed'], description: `State of the ${type.split('.')[0]} after the change.` },
    total: money,
    items: {
      type: 'array',
      maxItems: 100,
      description: 'Lines affected by the change.',
      items: {
        type: 'object',
        required: ['sku', 'quantity'],
        properties: {
          sku: { type: 'string', minLength: 1, maxLength: 64, description: 'Stock keeping unit.' },
          quantity: { type: 'integer', minimum: 1, maximum: 10000, description: 'Number of units.' },
          price: money,
        },
      },
    },
  };
  const extra = 3 + Math.floor(rand() * 5);
  for (let i = 0; i < extra; i++) {
    const name = `${FIELDS[Math.floor(rand() * FIELDS.length)]}${i}`;
    properties[name] = i % 3 === 0 ? { type: 'integer', minimum: 0, description: `The ${name} of the ${type}.` } : { type: 'string', maxLength: 200, description: `The **${name}** of the ${type}.` };
  }
  for (let m = 0; m < minor; m++) properties[`addedIn1${m}`] = { type: 'boolean', default: false, description: `Added in minor ${m + 1}.` };
  const required = ['eventId', 'occurredAt', 'status'];
  if (major > 1) required.push('total');
  return { type: 'object', title: `${type} payload`, description: `Payload of \`${type}\` ${major}.x.`, additionalProperties: major > 1 ? false : true, required, properties };
}

/** A Catalog (see src/catalog/model.ts) with `events` event types spread over `services` services. */
export function syntheticCatalog(events = 500, services = 25) {
  const svc = Array.from({ length: services }, (_, i) => ({
    id: `service-${String(i).padStart(2, '0')}`,
    title: `Service ${i}`,
    version: '1.0.0',
    description: `Owns a slice of the domain (${NOUNS[i % NOUNS.length]}s). Publishes *after commit*, at least once.`,
    asyncapiVersion: '3.0.0',
    file: `asyncapi/service-${i}.yaml`,
    location: loc(`asyncapi/service-${i}.yaml`),
    servers: [{ id: 'production', host: 'nats.internal:4222', protocol: 'nats', description: 'Production cluster.', security: [], location: loc(`asyncapi/service-${i}.yaml`, '/servers/production') }],
    channels: [],
    operations: [],
    security: [],
  }));
  const types = [];
  for (let n = 0; n < events; n++) {
    const type = `${NOUNS[n % NOUNS.length]}.${VERBS[Math.floor(n / NOUNS.length) % VERBS.length]}${n >= NOUNS.length * VERBS.length ? `.x${n}` : ''}`;
    const owner = svc[n % services];
    const consumers = [svc[(n + 1) % services], svc[(n + 7) % services]].slice(0, 1 + (n % 2));
    const count = 1 + (n % 3);
    const versions = [];
    for (let v = 0; v < count; v++) {
      const major = v === 2 ? 2 : 1;
      const minor = v === 1 ? 1 : 0;
      const version = `${major}.${minor}.0`;
      const key = `${type}@${version}`;
      const channelId = `${type}.v${major}.${minor}`;
      const file = owner.file;
      owner.channels.push({ id: channelId, serviceId: owner.id, address: `${type}.v${major}`, description: `Events of \`${type}\` ${version}.`, parameters: [], messages: [key], bindings: {}, stream: { name: 'EVENTS', retention: 'limits', replicas: 3, maxAge: 'P30D' }, location: loc(file) });
      owner.operations.push({ id: `publish.${channelId}`, serviceId: owner.id, action: 'send', channelId, summary: `Publish ${type} ${version}.`, messages: [key], bindings: {}, security: [], location: loc(file) });
      for (const c of consumers) {
        c.channels.push({ id: channelId, serviceId: c.id, address: `${type}.v${major}`, parameters: [], messages: [key], bindings: {}, location: loc(c.file) });
        c.operations.push({ id: `on.${channelId}`, serviceId: c.id, action: 'receive', channelId, messages: [key], consumerGroup: `${c.id}-${type}`, bindings: {}, security: [], location: loc(c.file) });
      }
      const payload = payloadFor(type, major, minor, n);
      versions.push({
        key,
        type,
        version,
        versionSource: 'x-version',
        codeName: `T${n}V${v}`,
        messageId: `Msg${n}V${v}`,
        title: `${type} ${version}`,
        summary: `A ${type.split('.')[0]} was ${type.split('.')[1]}.`,
        description: `Published once per change of a ${type.split('.')[0]}. See [the runbook](https://wiki.example.com/${n}).`,
        contentType: 'application/json',
        schemaFormat: 'application/vnd.aai.asyncapi;version=3.0.0',
        dialect: 'draft-07',
        payload,
        headers,
        examples: [{ name: 'basic', summary: 'A typical event.', payload: { eventId: '6f1d2c3b-4a5e-4f60-8a7b-9c0d1e2f3a4b', occurredAt: '2026-03-14T09:26:53Z', status: 'active', total: { amount: '12.50', currency: 'EUR' } }, headers: { 'x-correlation-id': '0b0f6a8e-5e37-4c4e-9b1e-6f3f0c6a2d11' }, location: loc(file) }],
        ...(count === 3 && v === 0 ? { deprecated: { since: '2026-09-01', reason: 'Use 2.0.0.', replacedBy: `${type}@2.0.0` } } : {}),
        ownerServiceId: owner.id,
        channels: [{ serviceId: owner.id, channelId, address: `${type}.v${major}` }, ...consumers.map((c) => ({ serviceId: c.id, channelId, address: `${type}.v${major}` }))],
        location: loc(file),
        payloadLocation: loc(file),
        headersLocation: loc(file),
      });
    }
    types.push({ type, versions });
  }
  types.sort((a, b) => (a.type < b.type ? -1 : a.type > b.type ? 1 : 0));
  return { services: svc, events: types };
}

/** Byte sizes of a docs emit: total, shared assets, event pages. */
export function docsSizes(files) {
  const bytes = (f) => Buffer.byteLength(f.content, 'utf8');
  const assets = files.filter((f) => f.path.startsWith('assets/'));
  const pages = files.filter((f) => f.path.startsWith('events/'));
  return {
    total: files.reduce((n, f) => n + bytes(f), 0),
    assets: assets.reduce((n, f) => n + bytes(f), 0),
    eventPages: pages.length,
    averageEventPage: pages.reduce((n, f) => n + bytes(f), 0) / Math.max(1, pages.length),
    largestEventPage: Math.max(0, ...pages.map(bytes)),
  };
}

export async function run() {
  // Imported here, not at the top, so that tests can use syntheticCatalog() without a build.
  const { emitDocs } = await import('../dist/docs/index.js');
  const catalog = syntheticCatalog(500, 25);
  emitDocs(catalog); // warm-up: template compilation and JIT are not what we measure
  const t0 = performance.now();
  const files = emitDocs(catalog);
  const ms = performance.now() - t0;
  const s = docsSizes(files);
  const versions = catalog.events.reduce((n, t) => n + t.versions.length, 0);
  return [
    { name: `docs: emit ${catalog.events.length} event types / ${versions} versions / ${catalog.services.length} services`, value: Math.round(ms), unit: 'ms' },
    { name: 'docs: files', value: files.length, unit: 'files' },
    { name: 'docs: total bytes', value: s.total, unit: 'B' },
    { name: 'docs: shared assets (css + search script + index)', value: s.assets, unit: 'B' },
    { name: 'docs: average event page', value: Math.round(s.averageEventPage), unit: 'B' },
    { name: 'docs: largest event page', value: s.largestEventPage, unit: 'B' },
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const row of await run()) console.log(`${row.name}: ${row.value} ${row.unit}`);
}
