/**
 * `events.ts`: one runtime descriptor per event version (type, version, address,
 * validator), the objects every generated client and user handler passes to the bus.
 */
import type { Catalog, EventVersion } from '../catalog/model.js';
import { docComment, type GeneratedFile } from './files.js';
import { CodeFile } from './printer.js';
import { validatorNames } from './validators.js';

export const payloadTypeName = (event: EventVersion) => event.codeName;
export const headersTypeName = (event: EventVersion) => `${event.codeName}Headers`;
export const descriptorName = (event: EventVersion) => `${event.codeName}Event`;

/** The address an event is published on: its owner's channel first, then any other. */
export function primaryAddress(event: EventVersion): string {
  const own = event.channels.find((c) => c.serviceId === event.ownerServiceId && c.address !== undefined);
  return own?.address ?? event.channels.find((c) => c.address !== undefined)?.address ?? '';
}

export function addressParameters(address: string): string[] {
  return [...address.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!);
}

export function emitEvents(catalog: Catalog, runtimeModule: string): GeneratedFile {
  const versions = catalog.events.flatMap((t) => t.versions);
  const file = new CodeFile('events.ts');
  const descriptor = file.type('EventDescriptor', runtimeModule);
  for (const event of versions) {
    const address = primaryAddress(event);
    const deprecated = event.deprecated
      ? `\n@deprecated ${[event.deprecated.reason, event.deprecated.replacedBy ? `Use ${event.deprecated.replacedBy}.` : ''].filter(Boolean).join(' ')}`
      : '';
    const summary = event.summary ?? event.title;
    file.line();
    file.raw(docComment(`\`${event.key}\`${summary ? ': ' + summary : ''}${deprecated}`));
    file.line(`export const ${descriptorName(event)}: ${descriptor}<${file.type(payloadTypeName(event), './types.js')}> = {`);
    file.line(`  type: ${JSON.stringify(event.type)},`);
    file.line(`  version: ${JSON.stringify(event.version)},`);
    file.line(`  address: ${JSON.stringify(address)},`);
    file.line(`  parameters: ${JSON.stringify(addressParameters(address))},`);
    file.line(`  validate: ${file.use(validatorNames(event).payload, `./${validatorNames(event).module}.js`)},`);
    file.line(`  contentType: ${JSON.stringify(event.contentType)},`);
    file.line('};');
  }
  file.line();
  file.line('/** Every event version of the catalog, oldest version first within a type. */');
  file.line(`export const allEvents: readonly ${descriptor}<unknown>[] = [${versions.map(descriptorName).join(', ')}] as readonly ${descriptor}<unknown>[];`);
  return { path: file.path, content: file.render() };
}
