/**
 * One naming pass over every name the generated package exports (its `index.ts`
 * re-exports every module, so two modules exporting one name break the package with
 * TS2308): descriptors (`<Code>Event`), validators (`validate<Code>`), clients
 * (`<Service>Client`, `CatalogClient`), provisioning and the runtime symbols the modules
 * import. Those are decided here first; the types step then names payload types around
 * them (`BatchV1Event` for an `event` property of `BatchV1` would meet the descriptor),
 * and a client whose name or file is taken gets a numeric suffix, with a warning.
 */
import type { Catalog, Service } from '../catalog/model.js';
import { pascalCase } from '../catalog/names.js';
import type { Diagnostic } from '../diagnostics.js';

/** Names exported by the fixed modules, and the runtime symbols generated modules import. */
export const FIXED_EXPORTS: readonly string[] = [
  'allEvents', 'AnyEventPayload', 'CatalogClient', 'natsProvisioning', 'amqpProvisioning', 'amqpBindings',
  'AmqpProvisionPlan', 'AmqpSubjectBinding', 'Envelope', 'EventBus', 'EventDescriptor', 'HandlerContext',
  'NatsProvisionPlan', 'PublishHeaders', 'PublishOptions', 'PublishReceipt', 'RequestOptions', 'RespondOptions',
  'SubscribeSpec', 'Subscription', 'ValidationResult', 'checkWith', 'createRequire', 'lazyValidator',
];

/** The file of the catalog-wide client: no service's client may take it. */
export const CATALOG_CLIENT_MODULE = 'clients/catalog';

export interface PackageNames {
  /** Class name of a service's client. */
  clientClass(service: Pick<Service, 'id'>): string;
  /** Module of a service's client, without extension (`clients/users`). */
  clientModule(service: Pick<Service, 'id'>): string;
  /** Every name the types step must leave alone. */
  reservedForTypes: ReadonlySet<string>;
  diagnostics: Diagnostic[];
}

export function packageNames(catalog: Catalog): PackageNames {
  const diagnostics: Diagnostic[] = [];
  const reserved = new Set<string>(FIXED_EXPORTS);
  for (const event of catalog.events.flatMap((t) => t.versions)) {
    reserved.add(`${event.codeName}Event`);
    reserved.add(`validate${event.codeName}`);
    if (event.headers !== undefined) reserved.add(`validate${event.codeName}Headers`);
  }
  // Clients: names and files unique (files ignoring case, as on a case-insensitive file system).
  const classes = new Map<string, string>();
  const modules = new Map<string, string>();
  const takenFiles = new Set([CATALOG_CLIENT_MODULE.toLowerCase()]);
  for (const service of [...catalog.services].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))) {
    const wantedClass = `${pascalCase(service.id)}Client`;
    let className = wantedClass;
    for (let n = 2; reserved.has(className); n++) className = `${pascalCase(service.id)}${n}Client`;
    let module = `clients/${service.id}`;
    for (let n = 2; takenFiles.has(module.toLowerCase()); n++) module = `clients/${service.id}-${n}`;
    if (className !== wantedClass || module !== `clients/${service.id}`) {
      diagnostics.push({
        code: 'NAME_CLASH',
        severity: 'warning',
        message: `the client of service "${service.id}" would be ${wantedClass} in clients/${service.id}.ts, which another export of the package already is; it is ${className} in ${module}.ts`,
        location: service.location,
      });
    }
    reserved.add(className);
    takenFiles.add(module.toLowerCase());
    classes.set(service.id, className);
    modules.set(service.id, module);
  }
  return {
    clientClass: (service) => classes.get(service.id) ?? `${pascalCase(service.id)}Client`,
    clientModule: (service) => modules.get(service.id) ?? `clients/${service.id}`,
    reservedForTypes: reserved,
    diagnostics,
  };
}
