/** `provisioning.ts`: the JetStream streams and consumers the contract implies, for services to apply at start-up. */
import type { Catalog } from '../catalog/model.js';
import type { Diagnostic } from '../diagnostics.js';
import { natsPlan } from '../provision/nats-plan.js';
import type { GeneratedFile } from './files.js';
import { CodeFile } from './printer.js';

export function emitProvisioning(catalog: Catalog, runtime: string): { file: GeneratedFile; diagnostics: Diagnostic[] } {
  const { plan, diagnostics } = natsPlan(catalog);
  const file = new CodeFile('provisioning.ts');
  const type = file.type('NatsProvisionPlan', runtime);
  file.line('/**');
  file.line(' * Streams (from `x-stream`) and durable consumers (from receive operations) of the contract.');
  file.line(' * Apply at start-up with `provisionNats(transport, natsProvisioning)`; it is idempotent.');
  file.line(' */');
  file.line(`export const natsProvisioning: ${type} = ${JSON.stringify(plan, null, 2)};`);
  return { file: { path: file.path, content: file.render() }, diagnostics };
}
