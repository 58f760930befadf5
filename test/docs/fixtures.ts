/** Catalogs for the docs tests: the real workspace, and an "evil" one full of injection attempts. */
import type { Catalog, EventVersion, JsonSchema, Service } from '../../src/catalog/model.js';
import { openWorkspace } from '../../src/workspace.js';

let workspace: Promise<Catalog> | undefined;

export function workspaceCatalog(): Promise<Catalog> {
  workspace ??= openWorkspace(['asyncapi']).then((ws) => {
    if (!ws.ok) throw new Error(`workspace has errors: ${ws.diagnostics.map((d) => d.message).join('; ')}`);
    return ws.catalog;
  });
  return workspace;
}

/** Every payload sets `window.__pwned`; the browser test asserts it never is. */
export const SCRIPT = '<script>window.__pwned=1</script>';
export const ATTR = '"><img src=x onerror=window.__pwned=1>';
export const JS_LINK = 'javascript:window.__pwned=1';

/** Markdown/HTML that a hostile or careless spec could hold in any description. */
export const EVIL_MARKDOWN = [
  `Intro ${SCRIPT} and ${ATTR}`,
  `[click me](${JS_LINK}) and <a href="${JS_LINK}">raw link</a> and <a href="JaVaScRiPt:window.__pwned=1">mixed case</a>`,
  '<a href="jav&#x09;ascript:window.__pwned=1">entity-split scheme</a> <a href="  javascript:window.__pwned=1">spaced</a>',
  '<img src=x onerror=window.__pwned=1> <svg onload=window.__pwned=1><script>window.__pwned=1</script></svg>',
  '<iframe srcdoc="<script>parent.__pwned=1</script>"></iframe> <object data="javascript:window.__pwned=1"></object>',
  '<div onmouseover="window.__pwned=1" style="position:fixed;inset:0">hover</div> <b>unclosed <i>tags',
  '<scr<script>ipt>window.__pwned=1</scr</script>ipt> <<script>script>window.__pwned=1<</script>/script>',
  '<meta http-equiv="refresh" content="0;url=javascript:window.__pwned=1"> <base href="javascript:window.__pwned=1//">',
  '<style>body{background:url("javascript:window.__pwned=1")}</style> <form action="javascript:window.__pwned=1"><button>go</button></form>',
  '<math><mi xlink:href="javascript:window.__pwned=1">m</mi></math> <details open ontoggle=window.__pwned=1>d</details> --> <!-- ',
  '# A heading inside a description',
].join('\n\n');

const loc = (file: string, pointer = '') => ({ file, line: 1, column: 1, pointer });

export function evilCatalog(): Catalog {
  const file = `asyncapi/${ATTR}.yaml`;
  const serviceId = `evil${ATTR}`;
  const type = `evil.${SCRIPT}`;
  const type2 = `evil${ATTR}`;
  const v1 = `1.0.0${ATTR}`;
  const key1 = `${type}@${v1}` as const;
  const key2 = `${type}@2.0.0` as const;
  const key3 = `${type2}@1.0.0` as const;
  const channelId = `chan${ATTR}`;
  const payload = (extra: boolean): JsonSchema => ({
    type: 'object',
    title: SCRIPT,
    description: EVIL_MARKDOWN,
    required: [ATTR],
    properties: {
      [ATTR]: { type: 'string', description: `${SCRIPT} [x](${JS_LINK})`, enum: [SCRIPT, ATTR, JS_LINK], default: SCRIPT, pattern: ATTR, format: ATTR },
      [SCRIPT]: { type: 'object', properties: { [JS_LINK]: { type: 'integer', description: '<img src=x onerror=window.__pwned=1>' } } },
      list: { type: 'array', items: { type: 'object', properties: { [`${ATTR}.x`]: { $ref: '#' } } } },
      ...(extra ? { added: { type: 'string', examples: [SCRIPT] } } : {}),
    },
  });
  const version = (key: `${string}@${string}`, v: string, t: string, extra: boolean): EventVersion => ({
    key,
    type: t,
    version: v,
    versionSource: 'x-version',
    codeName: 'Evil',
    messageId: `msg${ATTR}`,
    title: SCRIPT,
    summary: `${SCRIPT}${ATTR}`,
    description: EVIL_MARKDOWN,
    contentType: `application/json${ATTR}`,
    schemaFormat: ATTR,
    dialect: 'draft-07',
    payload: payload(extra),
    headers: { type: 'object', properties: { [ATTR]: { type: 'string', description: EVIL_MARKDOWN } } },
    examples: [{ name: SCRIPT, summary: ATTR, payload: { [ATTR]: SCRIPT, link: JS_LINK }, headers: { [ATTR]: SCRIPT }, location: loc(file) }],
    ...(v === v1 ? { deprecated: { since: SCRIPT, reason: EVIL_MARKDOWN, replacedBy: key2 } } : {}),
    ownerServiceId: serviceId,
    channels: [{ serviceId, channelId, address: `evil.{${ATTR}}.${SCRIPT}` }],
    location: loc(file),
    payloadLocation: loc(file),
  });
  const service: Service = {
    id: serviceId,
    title: `Evil ${SCRIPT}`,
    version: ATTR,
    description: EVIL_MARKDOWN,
    asyncapiVersion: '3.0.0',
    file,
    location: loc(file),
    servers: [{ id: SCRIPT, host: `${ATTR}:4222`, protocol: SCRIPT, protocolVersion: ATTR, pathname: JS_LINK, description: EVIL_MARKDOWN, security: [SCRIPT], location: loc(file) }],
    channels: [
      {
        id: channelId,
        serviceId,
        address: `evil.{${ATTR}}.${SCRIPT}`,
        description: EVIL_MARKDOWN,
        parameters: [{ name: ATTR, description: EVIL_MARKDOWN, enum: [SCRIPT, JS_LINK], default: SCRIPT, examples: [ATTR], location: loc(file) }],
        messages: [key1, key2, key3],
        bindings: { [SCRIPT]: { exchange: { name: ATTR, note: SCRIPT } } },
        stream: { name: SCRIPT, maxAge: ATTR },
        location: loc(file),
      },
      { id: `reply${SCRIPT}`, serviceId, parameters: [], messages: [key3], bindings: {}, location: loc(file) },
    ],
    operations: [
      { id: `send${SCRIPT}`, serviceId, action: 'send', channelId, summary: SCRIPT, description: EVIL_MARKDOWN, messages: [key1, key2], bindings: { [ATTR]: SCRIPT }, security: [ATTR], location: loc(file) },
      {
        id: `answer${ATTR}`,
        serviceId,
        action: 'receive',
        channelId,
        messages: [key2],
        reply: { channelId: `reply${SCRIPT}`, messages: [key3] },
        consumerGroup: SCRIPT,
        bindings: {},
        security: [],
        location: loc(file),
      },
    ],
    security: [SCRIPT, JS_LINK],
  };
  return {
    services: [service],
    events: [
      { type, versions: [version(key1, v1, type, false), version(key2, '2.0.0', type, true)] },
      { type: type2, versions: [version(key3, '1.0.0', type2, false)] },
    ].sort((a, b) => (a.type < b.type ? -1 : 1)),
  };
}
