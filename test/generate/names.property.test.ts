/**
 * Names never collide across generated files (issue 12): fast-check draws workspaces whose
 * message names, payload property names, schema titles and service ids are picked from
 * small pools of names that collide once generated (`batch` and `Batch`, an `event`
 * property of `BatchV1` next to the `BatchV1Event` descriptor, a schema titled
 * `CatalogClient`, a service called `catalog`, `users-service` and `users_service`).
 * Every case generates, no two files share a path, and all outputs type-check under
 * strict in one compiler run. `NAMES_SEED=<n>` replays a run, `NAMES_CASES=<n>` runs more.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { formatDiagnostic } from '../../src/diagnostics.js';
import { artifactDir, generateInto, typecheck } from '../helpers/generate.js';

const seed = Number(process.env.NAMES_SEED ?? Date.now() % 1_000_000);
const cases = Number(process.env.NAMES_CASES ?? 6);

const MESSAGE_NAMES = ['batch', 'Batch', 'batch.v1', 'batch-v1', 'batch_event', 'event', 'any.event.payload', 'catalog.client', 'users.service'];
const PROPERTY_NAMES = ['event', 'headers', 'client', 'payload', 'Event', 'v1', 'descriptor'];
const TITLES = ['EventDescriptor', 'CatalogClient', 'BatchV1Event', 'BatchV1', 'AnyEventPayload', 'EventBus', 'BatchV1Headers', 'UsersServiceClient', 'ValidationResult', 'Envelope'];
const SERVICE_IDS = ['catalog', 'users-service', 'users_service', 'batch-v1', 'any-event', 'Event-Bus'];

const property = fc.record({
  name: fc.constantFrom(...PROPERTY_NAMES),
  title: fc.option(fc.constantFrom(...TITLES), { nil: undefined }),
  object: fc.boolean(),
});
const message = fc.record({
  name: fc.constantFrom(...MESSAGE_NAMES),
  version: fc.constantFrom('1.0.0', '1.1.0', '2.0.0'),
  title: fc.option(fc.constantFrom(...TITLES), { nil: undefined }),
  properties: fc.uniqueArray(property, { minLength: 1, maxLength: 4, selector: (p) => p.name }),
  headers: fc.boolean(),
});
const workspace = fc.record({
  services: fc.uniqueArray(fc.constantFrom(...SERVICE_IDS), { minLength: 1, maxLength: 3, selector: (s) => s.toLowerCase() }),
  messages: fc.array(message, { minLength: 1, maxLength: 6 }),
});
type Workspace = typeof workspace extends fc.Arbitrary<infer T> ? T : never;

/** The first service writes every message down; the others only have a channel of their own. */
function documents(ws: Workspace): Record<string, string> {
  const files: Record<string, string> = {};
  ws.services.forEach((id, s) => {
    const messages = s === 0 ? ws.messages : [];
    const doc = {
      asyncapi: '3.0.0',
      info: { title: id, version: '1.0.0', 'x-service-id': id },
      channels: Object.fromEntries(
        (messages.length ? messages : [undefined]).map((m, i) => [
          `c${i}`,
          {
            address: `s${s}.c${i}`,
            messages: m
              ? {
                  [`m${i}`]: {
                    name: m.name,
                    'x-version': m.version,
                    payload: {
                      type: 'object',
                      ...(m.title ? { title: m.title } : {}),
                      properties: Object.fromEntries(
                        m.properties.map((p) => [
                          p.name,
                          p.object ? { type: 'object', ...(p.title ? { title: p.title } : {}), properties: { [`${p.name}Id`]: { type: 'string' } } } : { type: 'string' },
                        ]),
                      ),
                    },
                    ...(m.headers ? { headers: { type: 'object', properties: { 'x-tenant': { type: 'string' } } } } : {}),
                  },
                }
              : {},
          },
        ]),
      ),
      operations: Object.fromEntries(
        messages.map((_, i) => [`send${i}`, { action: s === 0 ? 'send' : 'receive', channel: { $ref: `#/channels/c${i}` } }]),
      ),
    };
    files[`${id}.yaml`] = stringify(doc);
  });
  return files;
}

describe('generated names never collide', () => {
  it(`colliding names still give a package that type-checks (seed ${seed}, ${cases} cases)`, async () => {
    const root = artifactDir('names-property');
    const drawn = fc.sample(workspace, { numRuns: cases, seed });
    const outputs: string[] = [];
    for (const [i, ws] of drawn.entries()) {
      const specs = path.join(root, `case${i}`, 'specs');
      mkdirSync(specs, { recursive: true });
      for (const [name, text] of Object.entries(documents(ws))) writeFileSync(path.join(specs, name), text);
      const out = path.join(root, `case${i}`, 'out');
      const result = await generateInto([specs], out, specs);
      const errors = result.diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic);
      expect(errors, `case ${i} (NAMES_SEED=${seed}): ${JSON.stringify(ws)}`).toEqual([]);
      outputs.push(`case${i}/out`);
    }
    writeFileSync(
      path.join(root, 'tsconfig.json'),
      JSON.stringify({ extends: `./${outputs[0]}/tsconfig.json`, compilerOptions: { noEmit: true, rootDir: '.' }, include: outputs.map((o) => `${o}/**/*.ts`) }),
    );
    await expect(typecheck(root), `NAMES_SEED=${seed}`).resolves.toBeTypeOf('string');
  }, 240_000);
});
