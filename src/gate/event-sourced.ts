/**
 * EVENT_SOURCED_VERSION_REMOVED: a released version of an event type bound to an aggregate
 * (`x-aggregate`) may not leave the contract, deprecated or not. An event store keeps
 * every event forever at the version it was written with; reading it back means validating
 * it with that version's schema and upcasting it to the next major, and the upcaster is
 * written against that schema. Deprecation, which lets the gate drop a version whose
 * consumers have moved, does not move stored events.
 *
 * A version replaced by a newer minor or patch of its major may still go where the type's
 * compatibility level checks BACKWARD (every level but FORWARD* and NONE): the newer schema
 * is then proven to read the old events, and the runtime reads them with it.
 */
import semver from 'semver';
import type { AggregateBinding, Catalog } from '../catalog/model.js';
import type { Config } from '../config.js';
import type { LoadedLock } from '../registry/lock.js';
import { settingsFor } from './events.js';
import type { Finding } from './finding.js';

export interface EventSourcedInput {
  catalog: Catalog;
  /** The released registry: the base branch's lock under `--against`, else the work tree's. */
  released: LoadedLock;
  config: Config;
  /** The base branch's catalog, when known: a type removed whole was bound there. */
  baseCatalog?: Catalog;
}

const bindingOf = (catalog: Catalog | undefined, type: string): AggregateBinding | undefined =>
  catalog?.events.find((t) => t.type === type)?.versions.find((v) => v.aggregate !== undefined)?.aggregate;

export function checkEventSourcedRemovals(input: EventSourcedInput): Finding[] {
  const findings: Finding[] = [];
  for (const [type, { versions }] of Object.entries(input.released.lock.events).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const current = bindingOf(input.catalog, type);
    const binding = current ?? bindingOf(input.baseCatalog, type);
    if (!binding) continue;
    const inSpecs = (input.catalog.events.find((t) => t.type === type)?.versions ?? []).map((v) => v.version);
    const { level } = settingsFor(input.config, type);
    const provenReadable = level.startsWith('BACKWARD') || level.startsWith('FULL');
    for (const [version, entry] of Object.entries(versions).sort(([a], [b]) => semver.compare(a, b))) {
      if (inSpecs.includes(version)) continue;
      const successor = inSpecs.find((v) => semver.major(v) === semver.major(version) && semver.gt(v, version));
      if (successor && provenReadable) continue;
      const key = `${type}@${version}`;
      const lockEntry = input.released.locate(type, version);
      // Where the type is bound (the x-aggregate a reviewer sees); for a type removed whole, its owner's document.
      const where = current?.location ?? input.catalog.services.find((s) => s.id === entry.owner)?.location ?? lockEntry;
      findings.push({
        rule: 'EVENT_SOURCED_VERSION_REMOVED',
        code: 'EVENT_SOURCED_VERSION_REMOVED',
        severity: 'error',
        breaking: true,
        event: key,
        message:
          `released version ${key} of event-sourced type "${type}" (aggregate ${binding.domain}.${binding.type}) left the contract` +
          `${entry.deprecated ? ', though deprecated' : ''}${successor ? ` (${type}@${successor} replaces it, but ${level} does not prove it reads the old events)` : ''}: ` +
          `event stores keep old versions forever, and reading them back, or upcasting them to the next major, needs this version's schema`,
        ...(where ? { location: where } : {}),
        ...(lockEntry && lockEntry !== where ? { related: lockEntry } : {}),
        hint: `keep ${key} in the contract (deprecated if no one should publish it) for as long as stores may hold its events`,
      });
    }
  }
  return findings;
}

/**
 * The gate's findings with the event-sourced removals: for a version this rule refuses, the
 * general RELEASED_VERSION_REMOVED (whose hint is to deprecate, then remove) is dropped.
 */
export function withEventSourcedRemovals(findings: readonly Finding[], input: EventSourcedInput): Finding[] {
  const own = checkEventSourcedRemovals(input);
  const refused = new Set(own.map((f) => f.event));
  return [...findings.filter((f) => !(f.rule === 'RELEASED_VERSION_REMOVED' && refused.has(f.event))), ...own];
}
