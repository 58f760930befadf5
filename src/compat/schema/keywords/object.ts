/**
 * Objects and their content models, after Confluent Schema Registry:
 * - open: no `additionalProperties` (or `true`) and no `patternProperties`;
 * - closed: `additionalProperties: false` (and no matching pattern);
 * - partially open: an `additionalProperties` schema or matching `patternProperties`.
 *
 * A property declared on one side only is compared with what the other side's content
 * model says about that name. Under the lenient policy the writer's undeclared territory
 * (its open or partially open content) is assumed unused: writers write what they declare.
 *
 * Also: `required`, `minProperties`/`maxProperties`, `dependentRequired` (and draft-07
 * array `dependencies`), `dependentSchemas` (and schema `dependencies`), `propertyNames`.
 */
import type { Engine, RawFinding } from '../engine.js';
import { effectiveProperty, mergeAllOf } from '../merge.js';
import { childPtr, isObject, isTrivial, schemaEqual, schemaMap, show, strArray, type Loc } from '../node.js';
import { patternCovers, patternsDisjoint } from '../pattern.js';
import { RULES, type RuleDefinition, type RuleId } from '../rules.js';
import { dependencyArrays } from '../validate.js';
import { compareCount } from './numeric.js';
import { kwPtr } from './values.js';

type Model = 'open' | 'closed' | 'partial';

function modelFor(eff: Loc | undefined): Model {
  if (!eff || isTrivial(eff.node)) return 'open';
  return eff.node === false ? 'closed' : 'partial';
}

const own = (m: object, k: string): boolean => Object.prototype.hasOwnProperty.call(m, k);
const breaks = (found: readonly RawFinding[]) => found.some((f) => f.breaking);

export function compareObjects(e: Engine, o: Loc, n: Loc): void {
  const oProps = schemaMap(o, 'properties') ?? {};
  const nProps = schemaMap(n, 'properties') ?? {};
  const names = new Set([...Object.keys(oProps), ...Object.keys(nProps)]);
  const has = (m: object, k: string) => Object.prototype.hasOwnProperty.call(m, k);
  for (const name of names) {
    const inOld = has(oProps, name);
    const inNew = has(nProps, name);
    const oEff = effectiveProperty(e.regs.old, o, name);
    const nEff = effectiveProperty(e.regs.new, n, name);
    if (inOld && inNew) {
      e.pair(oEff ?? e.trueAt(o, 'properties', name), nEff ?? e.trueAt(n, 'properties', name));
      continue;
    }
    const declared = (inNew ? nEff : oEff) as Loc; // declared on that side, so defined unless `true`
    const declaredLoc = declared ?? (inNew ? e.trueAt(n, 'properties', name) : e.trueAt(o, 'properties', name));
    const otherEff = inNew ? oEff : nEff;
    // A property that may never appear (`false`, or a conjunction that means `false`) changes nothing.
    if (declaredLoc.node === false || mergeAllOf(e.regOf(declaredLoc), declaredLoc)?.node === false) continue;
    const model = modelFor(otherEff);
    const other = otherEff ?? (inNew ? e.trueAt(o) : e.trueAt(n));
    const [a, b] = inNew ? [other, declaredLoc] : [declaredLoc, other];
    const found = e.trial(() => e.pair(a, b));
    // Lenient: the undeclared side never writes this name, so only a declaring writer counts.
    const writerUndeclared = e.isWriter(inNew ? 'old' : 'new');
    const breaking = breaks(found) && !(e.policy === 'lenient' && writerUndeclared);
    const paths = inNew ? { o: o.ptr, n: childPtr(n.ptr, 'properties', name) } : { o: childPtr(o.ptr, 'properties', name), n: undefined };
    const params = { name };
    let rule: RuleId;
    if (model === 'open') {
      const anything = isTrivial(declaredLoc.node);
      rule = inNew
        ? anything ? 'PROPERTY_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL' : 'PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL'
        : anything ? 'PROPERTY_WITH_EMPTY_SCHEMA_REMOVED_FROM_OPEN_CONTENT_MODEL' : 'PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL';
      e.emit(rule, paths, params);
    } else if (model === 'closed') {
      e.emit(inNew ? 'PROPERTY_ADDED_TO_CLOSED_CONTENT_MODEL' : 'PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL', paths, params);
    } else {
      const covered = !breaks(found);
      rule = inNew
        ? covered ? 'PROPERTY_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL' : 'PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL'
        : covered ? 'PROPERTY_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL' : 'PROPERTY_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL';
      if (covered) e.emit(rule, paths, params);
      else e.emit(rule, paths, params, breaking);
      if (breaking) e.keep(found);
    }
  }
  compareRequired(e, o, n, oProps, nProps);
  compareRest(e, o, n);
  compareCount(e, o, n, 'minProperties', 'MIN_PROPERTIES', 0);
  compareCount(e, o, n, 'maxProperties', 'MAX_PROPERTIES');
  compareDependencies(e, o, n);
  const on = e.child(o, 'propertyNames');
  const nn = e.child(n, 'propertyNames');
  const pp = { o: kwPtr(o, 'propertyNames'), n: kwPtr(n, 'propertyNames') };
  if (on && nn) e.pair(on, nn);
  else if (nn && !isTrivial(nn.node)) e.emit('PROPERTY_NAMES_ADDED', pp);
  else if (on && !isTrivial(on.node)) e.emit('PROPERTY_NAMES_REMOVED', pp);
}

function compareRequired(e: Engine, o: Loc, n: Loc, oProps: Record<string, unknown>, nProps: Record<string, unknown>): void {
  const oReq = new Set(strArray(o, 'required') ?? []);
  const nReq = new Set(strArray(n, 'required') ?? []);
  for (const name of nReq) {
    if (oReq.has(name)) continue;
    const schema = own(nProps, name) ? nProps[name] : undefined;
    const path = { o: own(oProps, name) ? childPtr(o.ptr, 'properties', name) : o.ptr, n: own(nProps, name) ? childPtr(n.ptr, 'properties', name) : kwPtr(n, 'required') };
    if (isObject(schema) && schema.default !== undefined) {
      const breaking = e.dir === 'backward' && !e.opts.readersApplyDefaults;
      e.emit('REQUIRED_PROPERTY_WITH_DEFAULT_ADDED', path, { name, default: show(schema.default) }, breaking);
    } else {
      e.emit('REQUIRED_PROPERTY_ADDED', path, { name });
    }
  }
  for (const name of oReq) {
    if (nReq.has(name)) continue;
    const path = { o: own(oProps, name) ? childPtr(o.ptr, 'properties', name) : kwPtr(o, 'required'), n: own(nProps, name) ? childPtr(n.ptr, 'properties', name) : n.ptr };
    e.emit('REQUIRED_PROPERTY_REMOVED', path, { name });
  }
}

/** Undeclared names: `patternProperties` paired by pattern text, then `additionalProperties`. */
function compareRest(e: Engine, o: Loc, n: Loc): void {
  const lenient = e.policy === 'lenient';
  const oAp = e.sub(o, 'additionalProperties');
  const nAp = e.sub(n, 'additionalProperties');
  const oPat = schemaMap(o, 'patternProperties') ?? {};
  const nPat = schemaMap(n, 'patternProperties') ?? {};
  // A name matching a pattern on one side only is governed on the other side by that
  // side's additionalProperties, or by any of its patterns that may match the same names.
  const overlapping = (side: Loc, pats: Record<string, unknown>, pat: string): Loc[] =>
    Object.keys(pats).filter((q) => q !== pat && !patternsDisjoint(q, pat)).map((q) => e.child(side, 'patternProperties', q) as Loc);
  for (const pat of new Set([...Object.keys(oPat), ...Object.keys(nPat)])) {
    const op = Object.prototype.hasOwnProperty.call(oPat, pat) ? e.child(o, 'patternProperties', pat) : undefined;
    const np = Object.prototype.hasOwnProperty.call(nPat, pat) ? e.child(n, 'patternProperties', pat) : undefined;
    if (op && np) {
      if (!lenient) e.pair(op, np);
      continue;
    }
    const [side, pats, ap] = op ? [n, nPat, nAp] : [o, oPat, oAp];
    // additionalProperties never sees these names when another pattern there covers them all
    const covered = Object.keys(pats).some((q) => patternCovers(q, pat));
    const others = [...(covered ? [] : [ap]), ...overlapping(side, pats, pat)];
    const found = e.trial(() => {
      for (const other of others) e.pair(op ?? other, np ?? other);
    });
    // Names matching a pattern are never declared: under the lenient policy writers do not use them.
    const breaking = !lenient && breaks(found);
    e.emit(np ? 'PATTERN_PROPERTY_ADDED' : 'PATTERN_PROPERTY_REMOVED', { o: op?.ptr ?? o.ptr, n: np?.ptr }, { pattern: pat }, breaking);
    if (breaking) e.keep(found);
  }
  if (schemaEqual(oAp.node, nAp.node) || (isTrivial(oAp.node) && isTrivial(nAp.node))) {
    if (!lenient) e.pair(oAp, nAp);
    return;
  }
  const found = e.trial(() => e.pair(oAp, nAp));
  const semantic =
    found.some((f) => !isDoc(f.rule)) || (oAp.node === false) !== (nAp.node === false) || isTrivial(oAp.node) !== isTrivial(nAp.node);
  if (!semantic) {
    e.keep(found); // only annotations differ
    return;
  }
  const strictBreaking = breaks(found);
  const narrowed = (e.dir === 'backward') === strictBreaking;
  const paths = { o: kwPtr(o, 'additionalProperties'), n: kwPtr(n, 'additionalProperties') };
  e.emit(narrowed ? 'ADDITIONAL_PROPERTIES_NARROWED' : 'ADDITIONAL_PROPERTIES_EXTENDED', paths, { from: show(oAp.node), to: show(nAp.node) });
  if (!lenient) e.keep(found);
}

function isDoc(rule: RuleId): boolean {
  const def: RuleDefinition = RULES[rule];
  return def.documentation === true || rule === 'DEFAULT_CHANGED';
}

/**
 * A dependent schema applies to the whole object, beside the rest of its schema: it is
 * compared in that context (without the dependencies themselves, which only widens the
 * writer and only matters through the dependent schema on the reader).
 */
function withContext(e: Engine, parent: Loc, dep: Loc): Loc {
  const reg = e.regOf(parent);
  const node = parent.node;
  if (!isObject(node)) return dep;
  reg.rememberChildren(parent);
  const base = reg.synth(`nodeps:${reg.id(node)}`, () => {
    const copy: Record<string, unknown> = { ...node };
    delete copy.dependentSchemas;
    delete copy.dependencies;
    return copy;
  }, parent);
  return reg.allOf([base, dep], dep);
}

function compareDependencies(e: Engine, o: Loc, n: Loc): void {
  const od = Object.assign(Object.create(null) as Record<string, string[]>, dependencyArrays(o, 'dependencies'), dependencyArrays(o, 'dependentRequired'));
  const nd = Object.assign(Object.create(null) as Record<string, string[]>, dependencyArrays(n, 'dependencies'), dependencyArrays(n, 'dependentRequired'));
  for (const name of new Set([...Object.keys(od), ...Object.keys(nd)])) {
    const a = od[name];
    const b = nd[name];
    const paths = { o: kwPtr(o, 'dependentRequired', 'dependencies'), n: kwPtr(n, 'dependentRequired', 'dependencies') };
    if (!a && b) e.emit('DEPENDENT_REQUIRED_ADDED', paths, { name, to: show(b) });
    else if (a && !b) e.emit('DEPENDENT_REQUIRED_REMOVED', paths, { name, from: show(a) });
    else if (a && b) {
      const added = b.filter((x) => !a.includes(x));
      const removed = a.filter((x) => !b.includes(x));
      if (added.length > 0) e.emit('DEPENDENT_REQUIRED_EXTENDED', paths, { name, added: show(added) });
      if (removed.length > 0) e.emit('DEPENDENT_REQUIRED_NARROWED', paths, { name, removed: show(removed) });
    }
  }
  const schemasOf = (loc: Loc): Map<string, Loc> => {
    const out = new Map<string, Loc>();
    for (const kw of ['dependencies', 'dependentSchemas']) {
      const m = isObject(loc.node) ? loc.node[kw] : undefined;
      if (!isObject(m)) continue;
      for (const [k, v] of Object.entries(m)) {
        if (Array.isArray(v)) continue;
        const c = e.child(loc, kw, k);
        if (c) out.set(k, c);
      }
    }
    return out;
  };
  const os = schemasOf(o);
  const ns = schemasOf(n);
  for (const name of new Set([...os.keys(), ...ns.keys()])) {
    const a = os.get(name);
    const b = ns.get(name);
    // With the trigger present, a writer value meets its dependent schema; if that is within
    // the reader's, the reader's is met too.
    if (a && b) e.pair(withContext(e, o, a), withContext(e, n, b), true);
    else if (b && !isTrivial(b.node)) e.emit('DEPENDENT_SCHEMA_ADDED', { o: o.ptr, n: b.ptr }, { name });
    else if (a && !isTrivial(a.node)) e.emit('DEPENDENT_SCHEMA_REMOVED', { o: a.ptr, n: n.ptr }, { name });
  }
}
