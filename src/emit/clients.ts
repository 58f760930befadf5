/**
 * Typed clients, one per service: its `send` operations become publish methods, its
 * `receive` operations handler registrations, operations with a reply typed request and
 * respond methods. A catalog-wide client serves tools that handle every event type.
 * All decisions are made here; the emitted methods are one-line calls into the runtime.
 */
import type { Catalog, EventKey, EventVersion, Operation, Service } from '../catalog/model.js';
import { camelCase } from '../catalog/names.js';
import { addressParameters, descriptorName, headerContract, headersTypeName, payloadTypeName, primaryAddress } from './events.js';
import { docComment, type GeneratedFile } from './files.js';
import { CATALOG_CLIENT_MODULE, packageNames, type PackageNames } from './names.js';
import { CodeFile } from './printer.js';
import { defaultGroup } from '../provision/nats-plan.js';

interface Context {
  catalog: Catalog;
  runtime: string;
  events: Map<EventKey, EventVersion>;
  names: PackageNames;
}

/** `names`: the package's naming pass (`packageNames`), which decides client names and files. */
export function emitClients(catalog: Catalog, runtime: string, names: PackageNames = packageNames(catalog)): GeneratedFile[] {
  const events = new Map(catalog.events.flatMap((t) => t.versions).map((v) => [v.key, v] as const));
  const ctx: Context = { catalog, runtime, events, names };
  const files = catalog.services.map((service) => serviceClient(ctx, service));
  files.push(catalogClient(ctx));
  return files;
}

/** A `send` without a reply in its own document is still a request when some service answers that message. */
function replyFor(ctx: Context, operation: Operation): readonly EventKey[] | undefined {
  if (operation.reply) return operation.reply.messages;
  if (operation.action !== 'send') return undefined;
  for (const service of ctx.catalog.services) {
    for (const other of service.operations) {
      if (other.action === 'receive' && other.reply && other.messages.some((m) => operation.messages.includes(m))) {
        return other.reply.messages;
      }
    }
  }
  return undefined;
}

function paramsType(event: EventVersion): string | undefined {
  const names = addressParameters(primaryAddress(event));
  if (names.length === 0) return undefined;
  return `{ ${names.map((n) => `${JSON.stringify(n)}: string`).join('; ')} }`;
}

/** `options`, or the options with these arguments merged in. */
function mergeOptions(args: readonly string[]): string {
  return args.length > 0 ? `{ ...options, ${args.join(', ')} }` : 'options';
}

function serviceClient(ctx: Context, service: Service): GeneratedFile {
  const file = new CodeFile(`${ctx.names.clientModule(service)}.ts`);
  const rt = (name: string) => file.type(name, ctx.runtime);
  const ev = (event: EventVersion) => file.use(descriptorName(event), '../events.js');
  const ty = (event: EventVersion) => file.type(payloadTypeName(event), '../types.js');
  const className = ctx.names.clientClass(service);
  const used = new Set<string>();
  const methodName = (wanted: string) => {
    let name = camelCase(wanted);
    if (name === 'bus' || name === 'constructor') name += 'Operation';
    let n = 2;
    const base = name;
    while (used.has(name)) name = `${base}${n++}`;
    used.add(name);
    return name;
  };

  file.raw(docComment(`${service.title} ${service.version}: typed client generated from ${service.file}.${service.description ? '\n\n' + service.description : ''}`));
  file.line(`export class ${className} {`);
  file.line(`  constructor(readonly bus: ${rt('EventBus')}) {}`);
  /**
   * The contract's headers as an argument of their own, required when the caller must set
   * some of them; the ones the runtime fills are optional in the type.
   */
  const headerArgument = (event: EventVersion): { arg: string; merged: string[] } => {
    const hc = headerContract(event);
    if (!hc) return { arg: '', merged: [] };
    return { arg: `headers${hc.callerRequired.length > 0 ? '' : '?'}: ${rt('PublishHeaders')}<${file.type(headersTypeName(event), '../types.js')}>, `, merged: ['headers'] };
  };
  for (const operation of service.operations) {
    const messages = operation.messages.map((k) => ctx.events.get(k)).filter((e): e is EventVersion => e !== undefined);
    if (messages.length === 0) continue;
    const doc = (extra: string) =>
      docComment(`${operation.summary ?? operation.id}${operation.description ? '\n\n' + operation.description : ''}\n\n${extra}`, '  ');
    const replies = (replyFor(ctx, operation) ?? []).map((k) => ctx.events.get(k)).filter((e): e is EventVersion => e !== undefined);
    if (operation.action === 'send') {
      for (const event of messages) {
        const name = methodName(messages.length === 1 ? operation.id : `${operation.id} ${event.codeName}`);
        const params = paramsType(event);
        const reply = replies[0];
        file.line();
        if (reply) {
          const options = rt('RequestOptions');
          const { arg, merged } = headerArgument(event);
          file.raw(doc(`Sends \`${event.key}\` and awaits the \`${reply.key}\` reply.`));
          file.line(
            `  ${name}(${params ? `params: ${params}, ` : ''}data: ${ty(event)}, ${arg}options?: ${options}): Promise<${rt('Envelope')}<${ty(reply)}>> {`,
          );
          file.line(`    return this.bus.request(${ev(event)}, data, ${ev(reply)}, ${mergeOptions(params ? ['params', ...merged] : merged)});`);
        } else {
          const options = rt('PublishOptions');
          const { arg, merged } = headerArgument(event);
          file.raw(doc(`Publishes \`${event.key}\` on \`${primaryAddress(event)}\`.${merged.length > 0 ? ` Headers are checked against the contract before anything is sent.` : ''}${event.deprecated ? `\n@deprecated ${event.deprecated.reason ?? ''} ${event.deprecated.replacedBy ? 'Use ' + event.deprecated.replacedBy + '.' : ''}`.trimEnd() : ''}`));
          file.line(
            `  ${name}(${params ? `params: ${params}, ` : ''}data: ${ty(event)}, ${arg}options?: ${options}): Promise<${rt('PublishReceipt')}> {`,
          );
          file.line(`    return this.bus.publish(${ev(event)}, data, ${mergeOptions(params ? ['params', ...merged] : merged)});`);
        }
        file.line('  }');
      }
    } else if (replies.length > 0) {
      const request = messages[0]!;
      const reply = replies[0]!;
      const name = methodName(operation.id);
      file.line();
      file.raw(doc(`Answers \`${request.key}\` with \`${reply.key}\`. Responders sharing a group split the requests.`));
      file.line(
        `  ${name}(handler: (event: ${rt('Envelope')}<${ty(request)}>, ctx: ${rt('HandlerContext')}) => Promise<${ty(reply)}>, options?: ${rt('RespondOptions')}): Promise<${rt('Subscription')}> {`,
      );
      file.line(
        `    return this.bus.respond(${ev(request)}, ${ev(reply)}, handler, { group: ${JSON.stringify(operation.consumerGroup ?? defaultGroup(service.id, operation.id))}, ...options });`,
      );
      file.line('  }');
    } else {
      const name = methodName(operation.id);
      const group = operation.consumerGroup ?? defaultGroup(service.id, operation.id);
      const union = [...new Set(messages.map((e) => `${rt('Envelope')}<${ty(e)}>`))].join(' | ');
      const byType = new Map<string, EventVersion[]>();
      for (const e of messages) byType.set(e.type, [...(byType.get(e.type) ?? []), e]);
      file.line();
      file.raw(
        doc(
          `Handles ${messages.map((e) => `\`${e.key}\``).join(', ')} in the durable group \`${group}\` (newer minor versions of these majors are accepted; other majors go to the dead letter).`,
        ),
      );
      file.line(
        `  ${name}(handler: (event: ${union}, ctx: ${rt('HandlerContext')}) => Promise<void>, options?: Partial<Omit<${rt('SubscribeSpec')}, 'handlers'>>): Promise<${rt('Subscription')}> {`,
      );
      file.line(`    return this.bus.subscribe({`);
      file.line(`      group: ${JSON.stringify(group)},`);
      file.line(`      ...options,`);
      file.line(`      handlers: [`);
      for (const [type, versions] of [...byType].sort(([a], [b]) => (a < b ? -1 : 1))) {
        const handler = versions.length === messages.length ? 'handler' : `handler as (event: ${rt('Envelope')}<unknown>, ctx: ${rt('HandlerContext')}) => Promise<void>`;
        file.line(`        { type: ${JSON.stringify(type)}, accepts: [${versions.map(ev).join(', ')}], handle: ${handler} },`);
      }
      file.line(`      ],`);
      file.line(`    });`);
      file.line('  }');
    }
  }
  file.line('}');
  return { path: file.path, content: file.render() };
}

function catalogClient(ctx: Context): GeneratedFile {
  const file = new CodeFile(`${CATALOG_CLIENT_MODULE}.ts`);
  const rt = (name: string) => file.type(name, ctx.runtime);
  const versions = [...ctx.events.values()];
  const union = versions.map((e) => file.type(payloadTypeName(e), '../types.js'));
  file.line('/** The payload of any event version in the catalog. */');
  file.line(`export type AnyEventPayload = ${union.length ? union.join(' | ') : 'never'};`);
  file.line();
  file.raw(docComment('For tools that handle every event type (audit, archiving, search): publishes any catalog event and subscribes to all of them.'));
  file.line('export class CatalogClient {');
  file.line(`  constructor(readonly bus: ${rt('EventBus')}) {}`);
  file.line();
  file.line(`  publish<T>(event: ${rt('EventDescriptor')}<T>, data: T, options?: ${rt('PublishOptions')}): Promise<${rt('PublishReceipt')}> {`);
  file.line('    return this.bus.publish(event, data, options);');
  file.line('  }');
  file.line();
  file.line('  /** Every version of every event type, validated, in one durable group. */');
  file.line(
    `  subscribeAll(group: string, handler: (event: ${rt('Envelope')}<AnyEventPayload>, ctx: ${rt('HandlerContext')}) => Promise<void>, options?: Partial<Omit<${rt('SubscribeSpec')}, 'group' | 'handlers'>>): Promise<${rt('Subscription')}> {`,
  );
  file.line('    return this.bus.subscribe({');
  file.line('      group,');
  file.line('      ...options,');
  file.line('      handlers: [');
  for (const type of ctx.catalog.events) {
    file.line(`        { type: ${JSON.stringify(type.type)}, accepts: [${type.versions.map((e) => file.use(descriptorName(e), '../events.js')).join(', ')}], handle: handler },`);
  }
  file.line('      ],');
  file.line('    });');
  file.line('  }');
  file.line('}');
  return { path: file.path, content: file.render() };
}
