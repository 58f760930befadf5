/**
 * View models of the docs site. Every decision (what is shown, in which order, what links
 * where, which badge) is made here; templates in `templates/docs/` only print these
 * objects. Strings are escaped by the templates; the only pre-rendered markup is
 * sanitised Markdown ({@link Html}).
 */
import { alertDefaultsText, alertIndex, type AlertRow } from './alerts.js';
import type { Catalog, Channel, EventKey, EventType, EventVersion, Service } from '../catalog/model.js';
import { changelog } from './changelog.js';
import { layoutGraph, type GraphSide, type GraphView } from './graph.js';
import { text, type Html } from './html.js';
import { boundedName } from '../catalog/names.js';
import { encodeId, SlugAllocator, versionId } from './ids.js';
import type { MarkdownRenderer } from './markdown.js';
import { pointerToRowId, schemaTable, type SchemaTable } from './schema-table.js';
import { buildTraffic, type Flow, type TrafficIndex } from './traffic.js';

export interface Link {
  /** Relative to the page that shows the link; absent when the target is not in the catalog. */
  readonly href?: string;
  readonly label: string;
}

/** Where everything lives; one per site, built once from the catalog. */
export class SiteMap {
  readonly eventSlug = new Map<string, string>();
  readonly serviceSlug = new Map<string, string>();
  private readonly channelSlug = new Map<string, string>();
  readonly versions = new Map<EventKey, EventVersion>();
  readonly services = new Map<string, Service>();
  readonly channels = new Map<string, Channel>();

  constructor(readonly catalog: Catalog) {
    const events = new SlugAllocator();
    for (const type of catalog.events) {
      this.eventSlug.set(type.type, events.slug(type.type));
      for (const v of type.versions) this.versions.set(v.key, v);
    }
    const services = new SlugAllocator();
    const channels = new SlugAllocator();
    for (const s of catalog.services) {
      this.serviceSlug.set(s.id, services.slug(s.id));
      this.services.set(s.id, s);
      for (const c of s.channels) {
        this.channelSlug.set(chKey(s.id, c.id), channels.slug(`${s.id}--${c.id}`));
        this.channels.set(chKey(s.id, c.id), c);
      }
    }
  }

  eventPath(type: string): string | undefined {
    const slug = this.eventSlug.get(type);
    return slug === undefined ? undefined : `events/${slug}.html`;
  }
  servicePath(id: string): string | undefined {
    const slug = this.serviceSlug.get(id);
    return slug === undefined ? undefined : `services/${slug}.html`;
  }
  channelPath(serviceId: string, channelId: string): string | undefined {
    const slug = this.channelSlug.get(chKey(serviceId, channelId));
    return slug === undefined ? undefined : `channels/${slug}.html`;
  }
  channel(serviceId: string, channelId: string): Channel | undefined {
    return this.channels.get(chKey(serviceId, channelId));
  }
  schemaPath(v: EventVersion, part: 'payload' | 'headers'): string {
    return `schemas/${this.eventSlug.get(v.type) ?? '_'}/${boundedName(encodeId(v.version), 100, v.version, '-')}${part === 'headers' ? '.headers' : ''}.json`;
  }
}

const chKey = (serviceId: string, channelId: string) => `${serviceId}\u0000${channelId}`;

export function splitKey(key: EventKey): { type: string; version: string } {
  const at = key.lastIndexOf('@');
  return { type: key.slice(0, at), version: key.slice(at + 1) };
}

/** Everything the page builders share: the site map, Markdown renderer and traffic. */
export interface SiteContext {
  readonly title: string;
  readonly map: SiteMap;
  readonly md: MarkdownRenderer;
  readonly traffic: TrafficIndex;
  /** Alert thresholds per event type (x-slo of the operations that send or receive it). */
  readonly alerts: ReadonlyMap<string, readonly AlertRow[]>;
}

export function siteContext(catalog: Catalog, title: string, md: MarkdownRenderer): SiteContext {
  return { title, map: new SiteMap(catalog), md, traffic: buildTraffic(catalog), alerts: alertIndex(catalog) };
}

/** Link helpers, relative to the page at `root` (`''` or `'../'`). */
class Linker {
  constructor(
    private readonly ctx: SiteContext,
    readonly root: string,
  ) {}
  private to(path: string | undefined, label: string, fragment = ''): Link {
    return path === undefined ? { label } : { href: `${this.root}${path}${fragment}`, label };
  }
  event(type: string, label = type): Link {
    return this.to(this.ctx.map.eventPath(type), label);
  }
  version(key: EventKey, label: string = key.replace('@', ' ')): Link {
    const { type, version } = splitKey(key);
    if (!this.ctx.map.versions.has(key)) return { label };
    return this.to(this.ctx.map.eventPath(type), label, `#${versionId(version)}`);
  }
  service(id: string): Link {
    return this.to(this.ctx.map.servicePath(id), this.ctx.map.services.get(id)?.title ?? id);
  }
  channel(serviceId: string, channelId: string, label?: string): Link {
    const c = this.ctx.map.channel(serviceId, channelId);
    return this.to(this.ctx.map.channelPath(serviceId, channelId), label ?? c?.address ?? `${channelId} (dynamic address)`);
  }
}

// ── index ────────────────────────────────────────────────────────────────────────

export interface IndexEventRow {
  readonly type: string;
  readonly href: string;
  readonly latest: Link;
  /** How many older versions exist. */
  readonly older: number;
  readonly owner: Link;
  readonly channels: readonly string[];
  /** Summaries are meant as plain text, but specs use Markdown code spans in them: rendered inline. */
  readonly summary?: Html;
  readonly latestDeprecated: boolean;
  /** `1.2.0 deprecated since 2026-09-01`, one per deprecated version. */
  readonly deprecations: readonly string[];
}

export interface IndexServiceRow {
  readonly link: Link;
  readonly id: string;
  readonly version: string;
  readonly protocols: string;
  readonly sends: number;
  readonly receives: number;
  readonly summary?: Html;
}

export interface IndexView {
  readonly title: string;
  readonly stats: string;
  readonly events: readonly IndexEventRow[];
  readonly services: readonly IndexServiceRow[];
  /** The alert rules' default thresholds, in a sentence. */
  readonly alertDefaults: string;
}

const latestOf = (t: EventType): EventVersion => t.versions[t.versions.length - 1] as EventVersion;
const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
const uniqueSorted = (xs: Iterable<string>) => [...new Set(xs)].sort();

function deprecationText(v: EventVersion): string {
  return `${v.version} deprecated${v.deprecated?.since ? ` since ${v.deprecated.since}` : ''}`;
}

export function indexView(ctx: SiteContext): IndexView {
  const link = new Linker(ctx, '');
  const { catalog } = ctx.map;
  const versionCount = catalog.events.reduce((n, t) => n + t.versions.length, 0);
  return {
    title: ctx.title,
    stats: `${plural(catalog.events.length, 'event type')} in ${plural(versionCount, 'version')}, ${plural(catalog.services.length, 'service')}.`,
    events: catalog.events.map((t) => {
      const latest = latestOf(t);
      const summary = ctx.md.render(latest.summary, true);
      return {
        type: t.type,
        href: ctx.map.eventPath(t.type) ?? '',
        latest: link.version(latest.key, latest.version),
        older: t.versions.length - 1,
        owner: link.service(latest.ownerServiceId),
        channels: uniqueSorted(latest.channels.map((c) => c.address ?? '(reply inbox)')),
        ...(summary ? { summary } : {}),
        latestDeprecated: latest.deprecated !== undefined,
        deprecations: t.versions.filter((v) => v.deprecated).map(deprecationText),
      };
    }),
    services: catalog.services.map((s) => {
      const summary = ctx.md.render(firstParagraph(s.description));
      return {
        link: link.service(s.id),
        id: s.id,
        version: s.version,
        protocols: uniqueSorted(s.servers.map((x) => x.protocol)).join(', ') || 'none declared',
        sends: s.operations.filter((o) => o.action === 'send').length,
        receives: s.operations.filter((o) => o.action === 'receive').length,
        ...(summary ? { summary } : {}),
      };
    }),
    alertDefaults: alertDefaultsText(),
  };
}

function firstParagraph(text: string | undefined): string | undefined {
  return text?.trim().split(/\n\s*\n/)[0];
}

// ── service ──────────────────────────────────────────────────────────────────────

export interface OperationRow {
  readonly id: string;
  readonly events: readonly Link[];
  readonly channel: Link;
  readonly summary?: Html;
  readonly consumerGroup?: string;
  /** Request/reply: the reply messages and where they go. */
  readonly replies: readonly Link[];
  readonly replyChannel?: Link;
  readonly security: string;
}

export interface ServiceView {
  readonly title: string;
  readonly id: string;
  readonly version: string;
  readonly asyncapiVersion: string;
  readonly source: string;
  readonly description?: Html;
  readonly servers: readonly { id: string; host: string; protocol: string; pathname?: string; description?: Html; security: string }[];
  readonly security: readonly string[];
  readonly sends: readonly OperationRow[];
  readonly receives: readonly OperationRow[];
  /** Receive operations with a reply: this service answers requests. */
  readonly answers: readonly OperationRow[];
  /** Send operations with a reply: this service asks and awaits an answer. */
  readonly requests: readonly OperationRow[];
  readonly channels: readonly { link: Link; id: string; messages: readonly Link[] }[];
}

function operationRow(ctx: SiteContext, link: Linker, serviceId: string, op: Service['operations'][number]): OperationRow {
  return {
    id: op.id,
    events: op.messages.map((k) => link.version(k)),
    channel: link.channel(serviceId, op.channelId),
    ...(op.summary !== undefined && op.summary.trim() !== '' ? { summary: ctx.md.render(op.summary, true)! } : {}),
    ...(op.consumerGroup !== undefined ? { consumerGroup: op.consumerGroup } : {}),
    replies: op.reply?.messages.map((k) => link.version(k)) ?? [],
    ...(op.reply?.channelId !== undefined
      ? { replyChannel: link.channel(serviceId, op.reply.channelId) }
      : op.reply
        ? { replyChannel: { label: op.reply.address ?? 'the requester’s reply inbox' } }
        : {}),
    security: op.security.length > 0 ? op.security.join(', ') : '',
  };
}

export function serviceView(ctx: SiteContext, s: Service): ServiceView {
  const link = new Linker(ctx, '../');
  const rows = (pred: (o: Service['operations'][number]) => boolean) => s.operations.filter(pred).map((o) => operationRow(ctx, link, s.id, o));
  const description = ctx.md.render(s.description);
  return {
    title: s.title,
    id: s.id,
    version: s.version,
    asyncapiVersion: s.asyncapiVersion,
    source: `${s.location.file}:${s.location.line}`,
    ...(description ? { description } : {}),
    servers: s.servers.map((x) => {
      const d = ctx.md.render(x.description);
      return {
        id: x.id,
        host: x.host,
        protocol: x.protocolVersion ? `${x.protocol} ${x.protocolVersion}` : x.protocol,
        ...(x.pathname !== undefined ? { pathname: x.pathname } : {}),
        ...(d ? { description: d } : {}),
        security: x.security.length > 0 ? x.security.join(', ') : 'none declared',
      };
    }),
    security: s.security,
    sends: rows((o) => o.action === 'send' && !o.reply),
    receives: rows((o) => o.action === 'receive' && !o.reply),
    answers: rows((o) => o.action === 'receive' && o.reply !== undefined),
    requests: rows((o) => o.action === 'send' && o.reply !== undefined),
    channels: s.channels.map((c) => ({ link: link.channel(s.id, c.id), id: c.id, messages: c.messages.map((k) => link.version(k)) })),
  };
}

// ── channel ──────────────────────────────────────────────────────────────────────

export interface ChannelView {
  readonly title: string;
  readonly id: string;
  readonly service: Link;
  readonly address?: string;
  readonly description?: Html;
  readonly parameters: readonly { name: string; description?: Html; values: readonly string[]; default?: string; examples: readonly string[] }[];
  readonly bindings: readonly { protocol: string; json: Html }[];
  readonly stream: readonly { k: string; v: string }[];
  readonly streamName?: string;
  readonly messages: readonly Link[];
  readonly operations: readonly (OperationRow & { action: string; bindings?: Html })[];
  /** Channels of other services on the same address: the other end of the wire. */
  readonly sameAddress: readonly Link[];
}

export function channelView(ctx: SiteContext, s: Service, c: Channel): ChannelView {
  const link = new Linker(ctx, '../');
  const description = ctx.md.render(c.description);
  const stream = c.stream;
  const sameAddress: Link[] = [];
  if (c.address !== undefined) {
    for (const other of ctx.map.catalog.services) {
      for (const oc of other.channels) {
        if (oc.address === c.address && !(other.id === s.id && oc.id === c.id)) sameAddress.push(link.channel(other.id, oc.id, `${other.title}: ${oc.id}`));
      }
    }
  }
  return {
    title: c.address ?? c.id,
    id: c.id,
    service: link.service(s.id),
    ...(c.address !== undefined ? { address: c.address } : {}),
    ...(description ? { description } : {}),
    parameters: c.parameters.map((p) => {
      const d = ctx.md.render(p.description);
      return {
        name: p.name,
        ...(d ? { description: d } : {}),
        values: p.enum ?? [],
        ...(p.default !== undefined ? { default: p.default } : {}),
        examples: p.examples ?? [],
      };
    }),
    bindings: Object.keys(c.bindings).sort().map((protocol) => ({ protocol, json: text(JSON.stringify(c.bindings[protocol], null, 2)) })),
    ...(stream ? { streamName: stream.name } : {}),
    stream: stream
      ? [
          ...(stream.retention !== undefined ? [{ k: 'retention', v: stream.retention }] : []),
          ...(stream.replicas !== undefined ? [{ k: 'replicas', v: String(stream.replicas) }] : []),
          ...(stream.maxAge !== undefined ? [{ k: 'max age', v: stream.maxAge }] : []),
          ...(stream.maxMsgSize !== undefined ? [{ k: 'max message size', v: `${stream.maxMsgSize} bytes` }] : []),
        ]
      : [],
    messages: c.messages.map((k) => link.version(k)),
    operations: s.operations
      .filter((o) => o.channelId === c.id || o.reply?.channelId === c.id)
      .map((o) => ({
        ...operationRow(ctx, link, s.id, o),
        action: o.reply?.channelId === c.id && o.channelId !== c.id ? `${o.action === 'receive' ? 'sends' : 'receives'} replies` : o.action,
        ...(Object.keys(o.bindings).length > 0 ? { bindings: text(JSON.stringify(o.bindings, null, 2)) } : {}),
      })),
    sameAddress,
  };
}

// ── event ────────────────────────────────────────────────────────────────────────

/** One service's part in an event's traffic: every operation and channel it uses for it, all versions merged. */
export interface TalkRow {
  readonly service: Link;
  readonly direction: 'sends' | 'receives';
  readonly role: string;
  readonly versions: string;
  readonly operations: readonly string[];
  readonly channels: readonly Link[];
  readonly consumerGroups: readonly string[];
}

export interface FindingView {
  readonly rule: string;
  readonly kind: string;
  readonly breaking: boolean;
  /** `headers` for header findings; empty for the payload (the common case, not repeated). */
  readonly part: string;
  readonly message: string;
  readonly path: string;
  readonly href?: string;
}

export interface ChangelogView {
  readonly from: Link;
  readonly required: string;
  readonly declared: string;
  readonly underVersioned: boolean;
  readonly verdict: string;
  /** Findings grouped by weight: breaking, additive, documentation (empty groups left out). */
  readonly groups: readonly { kind: string; label: string; findings: readonly FindingView[] }[];
  readonly error?: string;
}

export interface ExampleView {
  readonly name: string;
  readonly summary?: string;
  readonly payload?: Html;
  readonly headers?: Html;
}

export interface VersionView {
  readonly id: string;
  readonly version: string;
  readonly latest: boolean;
  readonly deprecated?: { since?: string; reason?: Html; replacedBy?: Link };
  readonly title?: string;
  readonly summary?: Html;
  readonly description?: Html;
  readonly messageId: string;
  readonly contentType: string;
  readonly schemaFormat: string;
  readonly versionSource: string;
  readonly owner: Link;
  /** `x-aggregate`: `<domain>.<type>` and the payload field holding the entity id (plain text, escaped by the template). */
  readonly aggregate?: { name: string; idField: string };
  readonly channels: readonly Link[];
  readonly source: string;
  /** Request/reply partners: `Answered with` / `Reply to`. */
  readonly pairs: readonly { label: string; links: readonly Link[]; by: readonly Link[] }[];
  readonly schemaHref: string;
  readonly headersHref?: string;
  readonly payload: SchemaTable;
  readonly headers?: SchemaTable;
  readonly examples: readonly ExampleView[];
  readonly changes?: ChangelogView;
  readonly prev?: Link;
  readonly next?: Link;
}

export interface EventView {
  readonly type: string;
  readonly summary?: Html;
  /** The latest summary as plain text, for the search index. */
  readonly summaryText?: string;
  readonly versionLinks: readonly { id: string; version: string; latest: boolean; deprecated: boolean }[];
  readonly graph: GraphView;
  readonly talk: readonly TalkRow[];
  /** What the generated alert rules fire on, per operation sending or receiving the type that states an x-slo. */
  readonly alerts: readonly (Omit<AlertRow, 'serviceId'> & { service: Link })[];
  readonly versions: readonly VersionView[];
  /** Every property name of every version, for the search index. */
  readonly propertyNames: readonly string[];
}

const exampleJson = (value: unknown) => (value === undefined ? undefined : text(JSON.stringify(value, null, 2)));

export function eventView(ctx: SiteContext, t: EventType): EventView {
  const link = new Linker(ctx, '../');
  const latest = latestOf(t);
  const names = new Set<string>();
  const tables = t.versions.map((v) => {
    const payload = schemaTable(v.payload, v.version, 'payload', ctx.md);
    const headers = v.headers !== undefined ? schemaTable(v.headers, v.version, 'headers', ctx.md) : undefined;
    for (const n of payload.names) names.add(n);
    for (const n of headers?.names ?? []) names.add(n);
    return { payload, headers };
  });

  const versions = t.versions.map((v, i): VersionView => {
    const { payload, headers } = tables[i] as (typeof tables)[number];
    const prevVersion = i > 0 ? t.versions[i - 1] : undefined;
    const nextVersion = t.versions[i + 1];
    const description = ctx.md.render(v.description);
    const reason = ctx.md.render(v.deprecated?.reason);
    return {
      id: versionId(v.version),
      version: v.version,
      latest: v === latest,
      ...(v.deprecated
        ? {
            deprecated: {
              ...(v.deprecated.since !== undefined ? { since: v.deprecated.since } : {}),
              ...(reason ? { reason } : {}),
              ...(v.deprecated.replacedBy !== undefined ? { replacedBy: replacedByLink(link, v.deprecated.replacedBy) } : {}),
            },
          }
        : {}),
      ...(v.title !== undefined ? { title: v.title } : {}),
      ...(v.summary !== undefined && v.summary.trim() !== '' ? { summary: ctx.md.render(v.summary, true)! } : {}),
      ...(description ? { description } : {}),
      messageId: v.messageId,
      contentType: v.contentType,
      schemaFormat: v.schemaFormat,
      versionSource: v.versionSource === 'assumed' ? 'info.version (not semver: assumed)' : v.versionSource,
      owner: link.service(v.ownerServiceId),
      ...(v.aggregate ? { aggregate: { name: `${v.aggregate.domain}.${v.aggregate.type}`, idField: v.aggregate.idField } } : {}),
      channels: v.channels.map((c) => link.channel(c.serviceId, c.channelId, `${c.address ?? '(reply inbox)'} · ${ctx.map.services.get(c.serviceId)?.title ?? c.serviceId}`)),
      source: `${v.location.file}:${v.location.line}`,
      pairs: pairsOf(ctx, link, v.key),
      schemaHref: ctx.map.schemaPath(v, 'payload'),
      ...(v.headers !== undefined ? { headersHref: ctx.map.schemaPath(v, 'headers') } : {}),
      payload,
      ...(headers ? { headers } : {}),
      examples: v.examples.map((e, n) => {
        const p = exampleJson(e.payload);
        const h = exampleJson(e.headers);
        return {
          name: e.name ?? `Example ${n + 1}`,
          ...(e.summary !== undefined ? { summary: e.summary } : {}),
          ...(p !== undefined ? { payload: p } : {}),
          ...(h !== undefined ? { headers: h } : {}),
        };
      }),
      ...(prevVersion ? { changes: changelogView(prevVersion, v, tables[i - 1]!, tables[i]!) } : {}),
      ...(prevVersion ? { prev: { href: `#${versionId(prevVersion.version)}`, label: prevVersion.version } } : {}),
      ...(nextVersion ? { next: { href: `#${versionId(nextVersion.version)}`, label: nextVersion.version } } : {}),
    };
  });

  const { graph, talk } = talkView(ctx, link, t);
  return {
    type: t.type,
    ...(latest.summary !== undefined && latest.summary.trim() !== '' ? { summary: ctx.md.render(latest.summary, true)!, summaryText: latest.summary } : {}),
    versionLinks: t.versions.map((v) => ({ id: versionId(v.version), version: v.version, latest: v === latest, deprecated: v.deprecated !== undefined })),
    graph,
    talk,
    // Only operations that state an x-slo: the defaults are in the README, not repeated on
    // every page (event pages stay within their size budget).
    alerts: (ctx.alerts.get(t.type) ?? []).filter((r) => !r.defaults).map(({ serviceId, ...row }) => ({ ...row, service: link.service(serviceId) })),
    versions,
    propertyNames: [...names],
  };
}

function replacedByLink(link: Linker, replacedBy: string): Link {
  return replacedBy.includes('@') ? link.version(replacedBy as EventKey) : link.event(replacedBy);
}

function pairsOf(ctx: SiteContext, link: Linker, key: EventKey): VersionView['pairs'] {
  const out: { label: string; links: Link[]; by: Link[] }[] = [];
  for (const pair of ctx.traffic.pairs) {
    const by = [link.service(pair.serviceId)];
    if (pair.requests.includes(key)) out.push({ label: pair.responderId ? 'Answered with' : 'Request awaiting', links: pair.replies.map((k) => link.version(k)), by });
    if (pair.replies.includes(key)) out.push({ label: 'Reply to', links: pair.requests.map((k) => link.version(k)), by });
  }
  return out;
}

type Tables = { payload: SchemaTable; headers: SchemaTable | undefined };

function changelogView(prev: EventVersion, next: EventVersion, prevTables: Tables, nextTables: Tables): ChangelogView {
  const log = changelog(prev, next);
  const rowIds = (t: Tables) => new Set([t.payload.id, ...t.payload.rows.map((r) => r.id), ...(t.headers ? [t.headers.id, ...t.headers.rows.map((r) => r.id)] : [])]);
  const nextIds = rowIds(nextTables);
  const prevIds = rowIds(prevTables);
  const findings = log.findings
    .map(({ part, change }): FindingView => {
      // Link to the node in the new version, else (removed) to where it was in the old one.
      const candidates = [
        change.newPath !== undefined ? pointerToRowId(change.newPath, next.version, part) : undefined,
        change.oldPath !== undefined ? pointerToRowId(change.oldPath, prev.version, part) : undefined,
      ];
      const href = candidates.find((id) => id !== undefined && (nextIds.has(id) || prevIds.has(id)));
      return {
        rule: change.rule,
        kind: change.kind,
        breaking: change.breaking,
        part: part === 'headers' ? 'headers' : '',
        message: change.message,
        path: change.path === '' ? '(root)' : change.path,
        ...(href !== undefined ? { href: `#${href}` } : {}),
      };
    });
  const groups = GROUPS.map(([kind, label]) => ({ kind, label, findings: findings.filter((f) => f.kind === kind) })).filter((g) => g.findings.length > 0);
  const verdict = log.error
    ? 'The schemas could not be compared.'
    : log.declared === 'unknown'
      ? `The changes need a ${log.required} version; the version numbers are not semver.`
      : log.underVersioned
        ? `The changes need a ${log.required} version, but the version number shows a ${log.declared} change.`
        : log.required === 'none'
          ? 'No schema change.'
          : `The changes need a ${log.required} version; the version number shows a ${log.declared} change.`;
  return {
    from: { href: `#${versionId(prev.version)}`, label: prev.version },
    required: log.required,
    declared: log.declared,
    underVersioned: log.underVersioned,
    verdict,
    groups,
    ...(log.error !== undefined ? { error: log.error } : {}),
  };
}

/** Breaking first, then additive, then documentation; the engine's order within each. */
const GROUPS = [
  ['breaking', 'Breaking'],
  ['additive', 'Additive (minor)'],
  ['documentation', 'Documentation only (patch)'],
] as const;

const ROLE_TEXT: Record<Flow['role'], string> = {
  publishes: 'publishes',
  subscribes: 'subscribes',
  answers: 'answers requests with it',
  requests: 'sends it as a request',
  'awaits reply': 'receives it as a reply',
};

function talkView(ctx: SiteContext, link: Linker, t: EventType): { graph: GraphView; talk: TalkRow[] } {
  const sides = { sends: new Map<string, Set<string>>(), receives: new Map<string, Set<string>>() };
  // One row per service, direction and role; versions, operations and channels merged.
  const rows = new Map<string, { service: string; direction: 'sends' | 'receives'; role: Flow['role']; versions: string[]; operations: string[]; channels: string[]; groups: string[] }>();
  const add = <T,>(list: T[], item: T) => {
    if (!list.includes(item)) list.push(item);
  };
  for (const v of t.versions) {
    const traffic = ctx.traffic.byKey.get(v.key);
    for (const [direction, flows] of [['sends', traffic?.senders ?? []], ['receives', traffic?.receivers ?? []]] as const) {
      for (const f of flows) {
        const side = sides[direction];
        if (!side.has(f.serviceId)) side.set(f.serviceId, new Set());
        side.get(f.serviceId)!.add(v.version);
        const key = [direction, f.serviceId, f.role].join('\u0000');
        let row = rows.get(key);
        if (!row) rows.set(key, (row = { service: f.serviceId, direction, role: f.role, versions: [], operations: [], channels: [], groups: [] }));
        add(row.versions, v.version);
        add(row.operations, f.operationId);
        add(row.channels, f.channelId);
        if (f.consumerGroup !== undefined) add(row.groups, f.consumerGroup);
      }
    }
  }
  const talk = [...rows.values()].map(
    (r): TalkRow => ({
      service: link.service(r.service),
      direction: r.direction,
      role: ROLE_TEXT[r.role],
      versions: r.versions.join(', '),
      operations: r.operations,
      channels: r.channels.map((c) => link.channel(r.service, c)),
      consumerGroups: r.groups,
    }),
  );
  const side = (m: Map<string, Set<string>>): GraphSide[] =>
    [...m.entries()].map(([id, vs]) => ({ label: ctx.map.services.get(id)?.title ?? id, versions: [...vs] }));
  const graph = layoutGraph(t.type, t.versions.map((v) => v.version), side(sides.sends), side(sides.receives));
  return { graph, talk };
}
