/**
 * `events.ts`: one runtime descriptor per event version (type, version, address,
 * validator), the objects every generated client and user handler passes to the bus.
 */
import type { Catalog, EventVersion } from '../catalog/model.js';
import { banner, docComment, type GeneratedFile } from './files.js';
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
  const lines: string[] = [banner('//'), `import type { EventDescriptor } from ${JSON.stringify(runtimeModule)};`];
  const typeNames = versions.map(payloadTypeName);
  if (typeNames.length > 0) lines.push(`import type { ${typeNames.join(', ')} } from './types.js';`);
  if (versions.length > 0) {
    lines.push(`import { ${versions.map((e) => validatorNames(e).payload).join(', ')} } from './${validatorNames(versions[0]!).module}.js';`);
  }
  lines.push('');
  for (const event of versions) {
    const address = primaryAddress(event);
    const summary = [event.summary ?? event.title, event.deprecated ? '' : undefined].filter(Boolean).join('\n');
    const deprecated = event.deprecated
      ? `\n@deprecated ${[event.deprecated.reason, event.deprecated.replacedBy ? `Use ${event.deprecated.replacedBy}.` : '']
          .filter(Boolean)
          .join(' ')}`
      : '';
    lines.push(
      docComment(`\`${event.key}\`${summary ? ': ' + summary : ''}${deprecated}`).trimEnd(),
      `export const ${descriptorName(event)}: EventDescriptor<${payloadTypeName(event)}> = {`,
      `  type: ${JSON.stringify(event.type)},`,
      `  version: ${JSON.stringify(event.version)},`,
      `  address: ${JSON.stringify(address)},`,
      `  parameters: ${JSON.stringify(addressParameters(address))},`,
      `  validate: ${validatorNames(event).payload},`,
      `  contentType: ${JSON.stringify(event.contentType)},`,
      `};`,
      '',
    );
  }
  lines.push(
    '/** Every event version of the catalog, oldest version first within a type. */',
    `export const allEvents: readonly EventDescriptor<unknown>[] = [${versions.map(descriptorName).join(', ')}] as readonly EventDescriptor<unknown>[];`,
    '',
  );
  return { path: 'events.ts', content: lines.join('\n').replace(/\n{3,}/g, '\n\n') };
}
