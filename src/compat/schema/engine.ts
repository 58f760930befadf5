/**
 * The comparison walker. One run compares an old and a new schema in one direction
 * (`backward`: is every old value accepted by the new schema; `forward`: the reverse) and
 * collects findings: every detected change, each marked breaking or not for that
 * direction. Keyword families live in `keywords/`, one handler per family, each comparing
 * the previous and the current node.
 *
 * Termination: every (old node, new node, direction) pair is memoised; meeting a pair that
 * is still being compared assumes it compatible (coinduction), which is what makes
 * recursive `$ref`s and circular object graphs (as the AsyncAPI parser hands them over)
 * finish. Synthetic nodes are cached by source identity, so they recur as the same objects.
 */
import { breaksIn, RULES, type MessageParams, type RuleDefinition, type RuleId } from './rules.js';
import {
  admits, childPtr, declaredTypes, deref, enumValues, isObject, isTrivial, num, schemaEqual, strArray, subschema, valueType,
  IN_PLACE_APPLICATORS, UNSUPPORTED_KEYWORDS, isAnnotationKeyword,
  type Loc, type Registry, type TypeSet,
} from './node.js';
import { conjunctsOf, effectiveProperty, lowerBound, mergeAllOf, unionBranches, upperBound, type Bound } from './merge.js';
import { evaluate } from './validate.js';
import { compareAnnotations } from './keywords/annotations.js';
import { compareValues } from './keywords/values.js';
import { compareNumbers } from './keywords/numeric.js';
import { compareFormats, compareStrings } from './keywords/string.js';
import { compareArrays } from './keywords/array.js';
import { compareObjects } from './keywords/object.js';
import type { Direction, OpenContentPolicy } from './types.js';

/** A finding before its message and kind are settled. */
export interface RawFinding {
  rule: RuleId;
  oldPath: string | undefined;
  newPath: string | undefined;
  breaking: boolean;
  params: MessageParams;
}

export interface EngineOptions {
  policy: OpenContentPolicy;
  readersApplyDefaults: boolean;
  /** Report annotation changes (one run of a two-direction check does). */
  annotations: boolean;
}

export class Engine {
  private findings: RawFinding[] = [];
  private readonly memo = new Map<string, RawFinding[] | { active: number }>();
  /** Structural steps (into a property, item, ...) on the current path. */
  private descents = 0;

  constructor(
    readonly dir: Direction,
    readonly regs: { old: Registry; new: Registry },
    readonly opts: EngineOptions,
  ) {}

  get policy(): OpenContentPolicy {
    return this.opts.policy;
  }

  /** Runs a full comparison and returns its findings. */
  run(o: Loc, n: Loc): RawFinding[] {
    this.findings = [];
    this.pair(o, n);
    return this.findings;
  }

  /**
   * Records a finding. For rules with a declared direction the engine decides whether it
   * breaks; handlers decide only for `depends` rules.
   */
  emit(rule: RuleId, paths: { o?: string | undefined; n?: string | undefined }, params: MessageParams = {}, breaking?: boolean): void {
    const declared = breaksIn(rule, this.dir, this.policy);
    const def: RuleDefinition = RULES[rule];
    const b = declared ?? breaking ?? false;
    if (declared === undefined && breaking === undefined) throw new Error(`rule ${rule} (${def.breaks}) needs an explicit verdict`);
    this.findings.push({ rule, oldPath: paths.o, newPath: paths.n, breaking: b, params });
  }

  /** Runs `fn` collecting its findings separately; the caller decides whether to keep them. */
  trial(fn: () => void): RawFinding[] {
    const saved = this.findings;
    this.findings = [];
    try {
      fn();
      return this.findings;
    } finally {
      this.findings = saved;
    }
  }

  keep(found: readonly RawFinding[]): void {
    for (const f of found) this.findings.push(f);
  }

  /** The side whose values must be accepted in this run. */
  writer(o: Loc, n: Loc): Loc {
    return this.dir === 'backward' ? o : n;
  }

  reader(o: Loc, n: Loc): Loc {
    return this.dir === 'backward' ? n : o;
  }

  /** True when `loc` is the writer side in this run. */
  isWriter(side: 'old' | 'new'): boolean {
    return (this.dir === 'backward') === (side === 'old');
  }

  regOf(loc: Loc): Registry {
    return loc.side === 'old' ? this.regs.old : this.regs.new;
  }

  /** Accepts-everything location standing in for an absent subschema. */
  trueAt(parent: Loc, ...tokens: Array<string | number>): Loc {
    return { node: true, doc: parent.doc, ptr: childPtr(parent.ptr, ...tokens), side: parent.side };
  }

  /** A child location of `parent` (resolving where children of synthetic nodes live). */
  child(parent: Loc, keyword: string, ...rest: Array<string | number>): Loc | undefined {
    const n = parent.node;
    if (!isObject(n)) return undefined;
    let v: unknown = n[keyword];
    // Names are data: `constructor` or `__proto__` must never find Object.prototype.
    for (const t of rest) v = (isObject(v) || Array.isArray(v)) && Object.prototype.hasOwnProperty.call(v, t) ? (v as Record<string, unknown>)[t as string] : undefined;
    if (v === undefined) return undefined;
    return this.regOf(parent).child(parent, v as boolean, keyword, ...rest);
  }

  /** Types a node admits, narrowed by its enumerated values. */
  typesOf(loc: Loc): TypeSet {
    const declared = declaredTypes(loc);
    const values = enumValues(loc);
    if (!values) return declared;
    const out = new Set<(typeof declared extends ReadonlySet<infer T> ? T : never)>();
    for (const v of values) {
      const t = valueType(v);
      if (admits(declared, t)) out.add(t);
    }
    return out;
  }

  /** True only when `loc` certainly accepts `value`. */
  accepts(loc: Loc, value: unknown): boolean {
    return evaluate(this.regOf(loc), loc, value) === true;
  }

  /** True only when `loc` certainly rejects `value`. */
  rejects(loc: Loc, value: unknown): boolean {
    return evaluate(this.regOf(loc), loc, value) === false;
  }

  /**
   * Compares an old and a new node; the heart of the engine. `sameValue` marks a step that
   * stays on the same instance (a union branch, a conjunct, a condition's branch) rather
   * than descending into a property or an item.
   */
  pair(oIn: Loc, nIn: Loc, sameValue = false): void {
    const o = deref(this.regs.old, oIn);
    const n = deref(this.regs.new, nIn);
    const key = `${this.dir}|${this.regs.old.id(o.node)}|${this.regs.new.id(n.node)}`;
    const seen = this.memo.get(key);
    if (seen && 'active' in seen) {
      // Coinduction: a pair met again below itself is assumed compatible, which is sound
      // only when the cycle went through a property or item (each turn reads a smaller part
      // of the instance). A cycle on the same instance (`A: {anyOf: [{$ref: A}, ...]}`) is not.
      if (this.descents + (sameValue ? 0 : 1) <= seen.active) this.emit('RECURSION_NOT_PROVEN', { o: o.ptr, n: n.ptr }, {}, true);
      return;
    }
    if (seen) {
      // The same pair reached again (a shared definition): replay what it found.
      this.keep(seen);
      return;
    }
    if (!sameValue) this.descents++;
    this.memo.set(key, { active: this.descents });
    const start = this.findings.length;
    try {
      this.compare(o, n);
    } catch (e) {
      this.memo.delete(key);
      throw e;
    } finally {
      if (!sameValue) this.descents--;
    }
    this.memo.set(key, this.findings.slice(start));
  }

  private compare(oIn: Loc, nIn: Loc): void {
    compareAnnotations(this, oIn, nIn);
    const w0 = this.writer(oIn, nIn);
    const r0 = this.reader(oIn, nIn);
    if (w0.node === false || isTrivial(r0.node)) return;
    const [o, n] = this.opaque(oIn, nIn);

    const om = mergeAllOf(this.regs.old, o);
    const nm = mergeAllOf(this.regs.new, n);
    if (!om || !nm) {
      this.compareConjunctions(om ?? o, nm ?? n, !om, !nm);
      return;
    }
    // `anyOf` and `oneOf` side by side are a conjunction of the two.
    const ob = bothUnions(this.regs.old, om);
    const nb = bothUnions(this.regs.new, nm);
    if (ob !== om || nb !== nm) {
      this.compareConjunctions(ob, nb, ob !== om, nb !== nm);
      return;
    }
    // A writer that provably accepts nothing writes nothing any reader could reject.
    const wm = this.dir === 'backward' ? om : nm;
    if (this.empty(wm)) return;
    // An enumerated writer is decided value by value (exactly, `oneOf` counting included).
    if (!hasUnion(wm) && enumValues(wm) !== undefined) {
      this.compareNot(om, nm);
      this.compareConditional(om, nm);
      this.compareBase(om, nm);
      return;
    }
    if (hasUnion(om) || hasUnion(nm)) {
      this.compareUnions(om, nm);
      return;
    }
    this.compareNot(om, nm);
    this.compareConditional(om, nm);
    this.compareBase(om, nm);
  }

  /**
   * Keywords the engine cannot analyse in place (`unevaluated*` beside other in-place
   * applicators, `$dynamicRef`, `$recursiveRef`): first rewritten exactly where possible
   * (`unevaluatedProperties` with no other applicator is `additionalProperties`; with only
   * an `allOf` it is the merged schema's `additionalProperties`); then the writer's are
   * dropped (they only narrow the writer) and the reader's are reported as not proven and
   * dropped, so that the rest of the comparison still explains what else changed.
   */
  private opaque(o: Loc, n: Loc): [Loc, Loc] {
    const out: Loc[] = [];
    for (const loc of [o, n]) {
      const reg = this.regOf(loc);
      let cur = normaliseUnevaluated(reg, deref(reg, loc));
      const node = cur.node;
      if (isObject(node)) {
        const kws = [...UNSUPPORTED_KEYWORDS].filter((k) => node[k] !== undefined);
        if (kws.length > 0) {
          const other = loc === o ? n : o;
          if (!this.isWriter(loc.side) && !schemaEqual(deref(this.regOf(other), other).node, node)) {
            this.emit('UNSUPPORTED_KEYWORD_CHANGED', { o: o.ptr, n: n.ptr }, { keyword: kws.join('", "'), side: loc.side }, true);
          }
          reg.rememberChildren(cur);
          const base = cur;
          cur = reg.synth(`opaque:${reg.id(node)}`, () => {
            const copy: Record<string, unknown> = { ...node };
            for (const k of kws) delete copy[k];
            return copy;
          }, base);
        }
      }
      out.push(cur);
    }
    return [out[0] as Loc, out[1] as Loc];
  }

  /**
   * `if`/`then`/`else`: a writer's only narrows the writer and is ignored. A reader's is
   * met when the writer's values are within both `then` and `else`; or within the branch
   * the writer provably takes (disjoint from `if`, or within it); or, with the same `if` on
   * both sides, when each writer branch is within the reader's.
   */
  private compareConditional(o: Loc, n: Loc): void {
    const w = this.writer(o, n);
    const r = this.reader(o, n);
    if (!isObject(r.node) || (r.node.if === undefined)) return;
    const rIf = this.sub(r, 'if');
    const rThen = this.sub(r, 'then');
    const rElse = this.sub(r, 'else');
    const clean = (a: Loc, b: Loc) => !this.trial(() => this.pairWR(a, b)).some((f) => f.breaking);
    const wBare = this.withoutConditional(w);
    const proved = (() => {
      if (isObject(w.node) && w.node.if !== undefined && schemaEqual(w.node.if, r.node.if)) {
        const okThen = clean(this.sub(w, 'then'), rThen) || clean(wBare, rThen);
        const okElse = clean(this.sub(w, 'else'), rElse) || clean(wBare, rElse);
        if (okThen && okElse) return true;
      }
      const inThen = clean(wBare, rThen);
      const inElse = clean(wBare, rElse);
      if (inThen && inElse) return true;
      if (inElse && this.disjoint(wBare, rIf)) return true;
      if (inThen && clean(wBare, rIf)) return true;
      return false;
    })();
    const paths = { o: childPtr(o.ptr, 'if'), n: childPtr(n.ptr, 'if') };
    if (!proved) this.emit('CONDITIONAL_NOT_PROVEN', this.dir === 'backward' ? { o: o.ptr, n: paths.n } : { o: paths.o, n: n.ptr }, { side: r.side }, true);
  }

  /** Compares writer-side `a` with reader-side `b` in this run's direction. */
  pairWR(a: Loc, b: Loc): void {
    if (this.dir === 'backward') this.pair(a, b, true);
    else this.pair(b, a, true);
  }

  /** The node without `if`/`then`/`else` (the writer's own condition only narrows it). */
  private withoutConditional(loc: Loc): Loc {
    const node = loc.node;
    if (!isObject(node) || (node.if === undefined && node.then === undefined && node.else === undefined)) return loc;
    const reg = this.regOf(loc);
    reg.rememberChildren(loc);
    return reg.synth(`nocond:${reg.id(node)}`, () => {
      const copy: Record<string, unknown> = { ...node };
      delete copy.if;
      delete copy.then;
      delete copy.else;
      return copy;
    }, loc);
  }

  /**
   * `allOf` that could not be merged exactly. A value meets the reader's conjunction iff
   * it meets every conjunct, so each reader conjunct is compared with the whole writer;
   * a writer conjunction is at least as narrow as any of its conjuncts, so one conjunct
   * that the reader accepts is enough (sound, not complete).
   */
  private compareConjunctions(o: Loc, n: Loc, oSplit: boolean, nSplit: boolean): void {
    const wSide = this.dir === 'backward' ? 'old' : 'new';
    const readerSplit = wSide === 'old' ? nSplit : oSplit;
    if (readerSplit) {
      const r = this.reader(o, n);
      for (const c of conjunctsOf(this.regOf(r), r)) {
        if (wSide === 'old') this.pair(o, c, true);
        else this.pair(c, n, true);
      }
      return;
    }
    const w = this.writer(o, n);
    const trials = conjunctsOf(this.regOf(w), w).map((c) => this.trial(() => (wSide === 'old' ? this.pair(c, n, true) : this.pair(o, c, true))));
    this.keep(pickBest(trials));
  }

  /**
   * Unions are paired by meaning: each writer branch must be accepted by some reader
   * branch. A writer branch no reader branch fully accepts is explained by its closest
   * candidate (fewest breaking findings among branches of overlapping type), or reported
   * as a lost branch when no reader branch overlaps it at all. `oneOf` is treated like
   * `anyOf`: exclusivity between reader branches is not checked (as in Confluent).
   */
  private compareUnions(o: Loc, n: Loc): void {
    const ou = unionBranches(this.regs.old, o);
    const nu = unionBranches(this.regs.new, n);
    const backward = this.dir === 'backward';
    let [wu, ru] = backward ? [ou, nu] : [nu, ou];
    if (!wu.keyword && ru.keyword) wu = this.splitByType(wu.branches[0] as Loc);
    else if (wu.keyword && !ru.keyword) ru = this.splitByType(ru.branches[0] as Loc);
    // Same number of branches: a branch was modified in place, and its closest counterpart
    // explains what changed. Otherwise unmatched branches were added or removed.
    // A writer `oneOf` branch repeated (annotations aside) matches its copy too: neither is written.
    if (wu.keyword === 'oneOf') {
      const bare = wu.branches.map((b) => withoutAnnotations(deref(this.regOf(b), b).node));
      const kept = wu.branches.filter((_, i) => !bare.some((x, j) => j !== i && schemaEqual(x, bare[i])));
      if (kept.length < wu.branches.length) {
        if (kept.length === 0) return;
        wu = { keyword: wu.keyword, branches: kept };
      }
    }
    const inPlace = wu.branches.length === ru.branches.length;
    const used = new Set<number>();
    const matched: Array<[number, number]> = [];
    wu.branches.forEach((wb, i) => {
      const trials = ru.branches.map((rb) => this.trial(() => (backward ? this.pair(wb, rb, true) : this.pair(rb, wb, true))));
      const clean = trials.map((t, j) => (t.some((f) => f.breaking) ? -1 : j)).filter((j) => j >= 0);
      const j = clean.includes(i) ? i : clean[0];
      if (j !== undefined) {
        used.add(j);
        matched.push([i, j]);
        this.keep(trials[j] ?? []);
        return;
      }
      const wt = this.typesOf(deref(this.regOf(wb), wb));
      let best: number | undefined;
      let bestScore = Infinity;
      ru.branches.forEach((rb, k) => {
        if (!inPlace) return;
        const rt = this.typesOf(deref(this.regOf(rb), rb));
        if (![...wt].some((t) => admits(rt, t))) return;
        if (this.disjoint(wb, rb)) return; // another discriminator value: not its counterpart
        const score = (trials[k] ?? []).filter((f) => f.breaking).length * 2 + (k === i ? 0 : 1);
        if (score < bestScore) {
          bestScore = score;
          best = k;
        }
      });
      if (best !== undefined) {
        used.add(best);
        this.keep(trials[best] ?? []);
        return;
      }
      const label = '#' + (wu.keyword ? wb.ptr : (backward ? o : n).ptr);
      if (backward) this.emit('COMBINED_BRANCH_REMOVED', { o: wb.ptr }, { branch: label }, true);
      else this.emit('COMBINED_BRANCH_ADDED', { o: o.ptr, n: wb.ptr }, { branch: label }, true);
    });
    if (ru.keyword === 'oneOf') this.checkExclusive(wu, ru, matched, backward ? o : n, backward ? n : o);
    if (!ru.keyword) return;
    ru.branches.forEach((rb, j) => {
      if (used.has(j)) return;
      if (backward) this.emit('COMBINED_BRANCH_ADDED', { o: o.ptr, n: rb.ptr }, { branch: '#' + rb.ptr }, false);
      else this.emit('COMBINED_BRANCH_REMOVED', { o: rb.ptr }, { branch: '#' + rb.ptr }, false);
    });
  }

  /**
   * A reader's `oneOf` rejects a value that two of its branches accept. For each writer
   * branch matched by reader branch j, every other reader branch k must be proven to reject
   * its values: disjoint from it (types, enumerated values, bounds, a discriminator), or —
   * when the writer is a `oneOf` too — within another writer branch, which the writer's own
   * exclusivity keeps apart from this one. Otherwise the verdict is "not proven".
   */
  private checkExclusive(
    wu: { keyword: 'anyOf' | 'oneOf' | undefined; branches: Loc[] },
    ru: { keyword: 'anyOf' | 'oneOf' | undefined; branches: Loc[] },
    matched: ReadonlyArray<[number, number]>,
    w: Loc,
    r: Loc,
  ): void {
    for (const [i, j] of matched) {
      const wb = wu.branches[i] as Loc;
      for (let k = 0; k < ru.branches.length; k++) {
        if (k === j) continue;
        const rk = ru.branches[k] as Loc;
        if (this.disjoint(wb, rk)) continue;
        if (wu.keyword === 'oneOf' && wu.branches.some((other, i2) => i2 !== i && this.within(rk, other))) continue;
        const paths = this.dir === 'backward' ? { o: wb.ptr, n: rk.ptr } : { o: rk.ptr, n: wb.ptr };
        this.emit('ONE_OF_OVERLAP_NOT_DISPROVED', paths, { branch: '#' + (wu.keyword ? wb.ptr : w.ptr), first: '#' + (ru.branches[j] as Loc).ptr, second: '#' + rk.ptr, reader: r.side }, true);
        break;
      }
    }
  }

  /** Is every value of reader-side `r` valid under writer-side `w`? (A proof, strict policy.) */
  within(r: Loc, w: Loc): boolean {
    const flipped = new Engine(this.dir === 'backward' ? 'forward' : 'backward', this.regs, { ...this.opts, policy: 'strict', annotations: false });
    const [o, n] = this.dir === 'backward' ? [w, r] : [r, w];
    return !flipped.run(o, n).some((f) => f.breaking);
  }

  /**
   * A writer of several types read by a union: each type is a branch of its own, so that
   * `type: [string, integer]` is read by `anyOf: [{type: string}, {type: integer}]`.
   */
  private splitByType(w: Loc): { keyword: 'anyOf' | 'oneOf' | undefined; branches: Loc[] } {
    const types = declaredTypes(w);
    const n = w.node;
    if (!isObject(n) || n.type === undefined || types.size < 2) return { keyword: undefined, branches: [w] };
    const reg = this.regOf(w);
    reg.rememberChildren(w);
    const branches = [...types].map((t) =>
      reg.synth(`type:${reg.id(n)}:${t}`, () => {
        const copy: Record<string, unknown> = { ...n, type: t };
        delete copy.nullable;
        return copy;
      }, w),
    );
    return { keyword: undefined, branches };
  }

  /**
   * `not`: with both sides negated, `not A ⊆ not B` iff `B ⊆ A`, so the inner schemas are
   * compared in the opposite direction. An added (removed) `not` only matters to the
   * reader when it can exclude a writer value: provably disjoint types or enumerated
   * values make it harmless.
   */
  private compareNot(o: Loc, n: Loc): void {
    const on = this.child(o, 'not');
    const nn = this.child(n, 'not');
    if (!on && !nn) return;
    if (on && nn) {
      const flipped = new Engine(this.dir === 'backward' ? 'forward' : 'backward', this.regs, this.opts);
      this.keep(flipped.run(on, nn));
      return;
    }
    if (nn) {
      // A `not` in the new schema excludes values: harmful when the writer is old.
      const breaking = this.dir === 'backward' && !this.disjoint(o, nn);
      this.emit('NOT_ADDED', { o: o.ptr, n: nn.ptr }, {}, breaking);
    } else if (on) {
      const breaking = this.dir === 'forward' && !this.disjoint(n, on);
      this.emit('NOT_REMOVED', { o: on.ptr, n: n.ptr }, {}, breaking);
    }
  }

  /**
   * Can no value be valid under both `a` and `x`? True only with a proof: disjoint types,
   * enumerated values the other side certainly rejects, disjoint numeric or length bounds,
   * a property one side requires whose schemas on the two sides are disjoint (a
   * discriminator), a conjunct or every branch of a union disjoint.
   */
  disjoint(a: Loc, x: Loc, depth = 0): boolean {
    if (depth > 6) return false;
    const ad = deref(this.regOf(a), a);
    const xd = deref(this.regOf(x), x);
    if (ad.node === false || xd.node === false) return true;
    if (ad.node === true || xd.node === true) return false;
    for (const [p, q] of [[ad, xd], [xd, ad]] as const) {
      const pr = this.regOf(p);
      if (isObject(p.node) && p.node.allOf !== undefined) {
        const m = mergeAllOf(pr, p);
        if (m) return this.disjoint(m, q, depth + 1);
        return conjunctsOf(pr, p).some((c) => this.disjoint(c, q, depth + 1));
      }
      const u = unionBranches(pr, p);
      if (u.keyword) return u.branches.every((b) => this.disjoint(b, q, depth + 1));
    }
    const at = this.typesOf(ad);
    const xt = this.typesOf(xd);
    const common = [...at].filter((t) => admits(xt, t)).concat([...xt].filter((t) => admits(at, t)));
    if (common.length === 0) return true;
    const xv = enumValues(xd);
    if (xv && xv.every((v) => this.rejects(ad, v))) return true;
    const av = enumValues(ad);
    if (av && av.every((v) => this.rejects(xd, v))) return true;
    const only = (...ts: string[]) => common.every((t) => ts.includes(t));
    if (only('integer', 'number') && intervalsDisjoint(lowerBound(ad), upperBound(ad), lowerBound(xd), upperBound(xd))) return true;
    if (only('string')) {
      const [amin, amax, xmin, xmax] = [num(ad, 'minLength') ?? 0, num(ad, 'maxLength') ?? Infinity, num(xd, 'minLength') ?? 0, num(xd, 'maxLength') ?? Infinity];
      if (amax < xmin || xmax < amin) return true;
    }
    if (only('object')) {
      for (const [p, q] of [[ad, xd], [xd, ad]] as const) {
        for (const name of strArray(p, 'required') ?? []) {
          const ps = effectiveProperty(this.regOf(p), p, name);
          const qs = effectiveProperty(this.regOf(q), q, name);
          if (qs && qs.node === false) return true;
          if (ps && qs && this.disjoint(ps, qs, depth + 1)) return true;
        }
      }
    }
    return false;
  }

  /**
   * Does `loc` provably accept nothing? `false`; no type left (after `enum`); every
   * enumerated value rejected by its own keywords; contradictory bounds or lengths; a
   * required property its content model forbids or whose declaration and a matching pattern
   * are disjoint; a union whose branches all accept nothing.
   */
  empty(loc: Loc, depth = 0): boolean {
    if (depth > 4) return false;
    const reg = this.regOf(loc);
    const at = deref(reg, loc);
    const n = at.node;
    if (n === false) return true;
    if (!isObject(n)) return false;
    const m = mergeAllOf(reg, at);
    if (!m) return conjunctsOf(reg, at).some((c) => this.empty(c, depth + 1));
    if (m.node === false) return true;
    if (!isObject(m.node)) return false;
    const u = unionBranches(reg, m);
    if (u.keyword) return u.branches.every((b) => this.empty(b, depth + 1));
    const ts = this.typesOf(m);
    if (ts.size === 0) return true;
    const values = enumValues(m);
    if (values && values.every((v) => this.rejects(m, v))) return true;
    const only = (...fam: string[]) => [...ts].every((t) => fam.includes(t));
    if (only('integer', 'number')) {
      const lo = lowerBound(m);
      const hi = upperBound(m);
      if (lo && hi && (lo.value > hi.value || (lo.value === hi.value && (lo.exclusive || hi.exclusive)))) return true;
    }
    if (only('string') && (num(m, 'minLength') ?? 0) > (num(m, 'maxLength') ?? Infinity)) return true;
    if (only('array') && (num(m, 'minItems') ?? 0) > (num(m, 'maxItems') ?? Infinity)) return true;
    if (only('object')) {
      for (const name of strArray(m, 'required') ?? []) {
        const eff = effectiveProperty(reg, m, name);
        if (!eff) continue;
        if (eff.node === false || mergeAllOf(reg, eff)?.node === false) return true;
        const parts = isObject(eff.node) && Array.isArray(eff.node.allOf) && reg.isSynthetic(eff.node) ? conjunctsOf(reg, eff) : [eff];
        for (let i = 0; i < parts.length; i++) for (let j = i + 1; j < parts.length; j++) if (this.disjoint(parts[i] as Loc, parts[j] as Loc)) return true;
        if (parts.some((p) => this.empty(p, depth + 1))) return true;
      }
    }
    return false;
  }

  /** Everything but combinators: enumerations, types, then each type family present on both sides. */
  private compareBase(o: Loc, n: Loc): void {
    if (!compareValues(this, o, n)) return;
    compareFormats(this, o, n);
    const to = declaredTypes(o);
    const tn = declaredTypes(n);
    const numeric = (ts: TypeSet) => ts.has('integer') || ts.has('number');
    if (numeric(to) && numeric(tn)) compareNumbers(this, o, n);
    if (to.has('string') && tn.has('string')) compareStrings(this, o, n);
    if (to.has('array') && tn.has('array')) compareArrays(this, o, n);
    if (to.has('object') && tn.has('object')) compareObjects(this, o, n);
  }

  /** `subschema` of a location as a location, or `true` when absent. */
  sub(loc: Loc, keyword: string): Loc {
    return subschema(loc, keyword) === undefined ? this.trueAt(loc, keyword) : (this.child(loc, keyword) as Loc);
  }
}

function intervalsDisjoint(alo: Bound | undefined, ahi: Bound | undefined, blo: Bound | undefined, bhi: Bound | undefined): boolean {
  const below = (hi: Bound | undefined, lo: Bound | undefined) =>
    hi !== undefined && lo !== undefined && (hi.value < lo.value || (hi.value === lo.value && (hi.exclusive || lo.exclusive)));
  return below(ahi, blo) || below(bhi, alo);
}

/** A node with both `anyOf` and `oneOf` as `allOf: [node without oneOf, {oneOf}]`; else the node. */
function bothUnions(reg: Registry, loc: Loc): Loc {
  const n = loc.node;
  if (!isObject(n) || n.anyOf === undefined || n.oneOf === undefined) return loc;
  reg.rememberChildren(loc);
  const rest = reg.synth(`anyof-part:${reg.id(n)}`, () => {
    const copy: Record<string, unknown> = { ...n };
    delete copy.oneOf;
    return copy;
  }, loc);
  const one = reg.synth(`oneof-part:${reg.id(n)}`, () => ({ oneOf: n.oneOf }), loc);
  return reg.synth(`both:${reg.id(n)}`, () => ({ allOf: [rest.node, one.node] }), loc);
}

/**
 * `unevaluatedProperties`/`unevaluatedItems` rewritten exactly where nothing else feeds them:
 * with no in-place applicator, `unevaluatedProperties` is `additionalProperties` (or nothing,
 * beside one) and `unevaluatedItems` is the rest-items schema (unless `contains` evaluates
 * items too); with only an `allOf` of such conjuncts, `unevaluatedProperties` is the
 * merged schema's `additionalProperties`. Otherwise the node is returned unchanged.
 */
export function normaliseUnevaluated(reg: Registry, loc: Loc): Loc {
  const n = loc.node;
  if (!isObject(n) || (n.unevaluatedProperties === undefined && n.unevaluatedItems === undefined)) return loc;
  const applicators = IN_PLACE_APPLICATORS.filter((k) => n[k] !== undefined);
  const cached = reg.synthLookup(`uneval:${reg.id(n)}`);
  if (cached) return cached;
  let base: Record<string, unknown> | undefined;
  if (applicators.length === 0) {
    base = { ...n };
  } else if (applicators.length === 1 && applicators[0] === 'allOf' && n.unevaluatedItems === undefined) {
    reg.rememberChildren(loc);
    const inner = reg.synth(`uneval-inner:${reg.id(n)}`, () => {
      const copy: Record<string, unknown> = { ...n };
      delete copy.unevaluatedProperties;
      return copy;
    }, loc);
    const parts = conjunctsOf(reg, inner);
    const simple = parts.every((p) => isObject(p.node) && IN_PLACE_APPLICATORS.every((k) => (p.node as Record<string, unknown>)[k] === undefined) && (p.node as Record<string, unknown>).unevaluatedProperties === undefined && (p.node as Record<string, unknown>).unevaluatedItems === undefined);
    const merged = simple ? mergeAllOf(reg, inner) : undefined;
    if (!merged || !isObject(merged.node)) return loc;
    // Any conjunct's additionalProperties evaluates every property: nothing is left unevaluated.
    const anyAp = parts.some((p) => isObject(p.node) && p.node.additionalProperties !== undefined);
    base = { ...merged.node, ...(anyAp ? {} : { unevaluatedProperties: n.unevaluatedProperties }) };
  } else {
    return loc;
  }
  const b = base;
  if (b.unevaluatedProperties !== undefined) {
    if (b.additionalProperties === undefined) b.additionalProperties = b.unevaluatedProperties;
    delete b.unevaluatedProperties;
  }
  if (b.unevaluatedItems !== undefined) {
    if (b.contains !== undefined) return loc;
    const restKw = Array.isArray(b.items) ? 'additionalItems' : 'items';
    if (b[restKw] === undefined) b[restKw] = b.unevaluatedItems;
    delete b.unevaluatedItems;
  }
  reg.rememberChildren(loc);
  return reg.synth(`uneval:${reg.id(n)}`, () => b, loc);
}

function withoutAnnotations(n: unknown): unknown {
  if (!isObject(n)) return n;
  return Object.fromEntries(Object.entries(n).filter(([k]) => !isAnnotationKeyword(k) || k === 'nullable'));
}

function hasUnion(loc: Loc): boolean {
  return isObject(loc.node) && (loc.node.anyOf !== undefined || loc.node.oneOf !== undefined);
}

/** The trial with no breaking findings, else the one with fewest. */
export function pickBest(trials: RawFinding[][]): RawFinding[] {
  let best: RawFinding[] = [];
  let score = Infinity;
  for (const t of trials) {
    const s = t.filter((f) => f.breaking).length;
    if (s < score) {
      score = s;
      best = t;
    }
  }
  return best;
}
