/**
 * Render step of the type emitter: `TypeNode`s → TypeScript declarations. Nothing from a
 * spec is pasted raw: keys and literals go through `JSON.stringify`, comments through
 * `docComment`, names were made safe identifiers by the build step.
 *
 * JSON Schema → TypeScript (draft-07 / 2020-12 plus OpenAPI `nullable`):
 * - `{}` / `true` → `unknown`, `false` → `never`, `type: 'null'` → `null`;
 * - `string` (every `format`, `date-time` included) → `string`; `integer`/`number` → `number`;
 * - `const` → literal type; `enum` → union of literals; `nullable: true` or a type list
 *   with `'null'` → `| null`;
 * - objects: required keys plain, others `?`; keys exactly as on the wire; an
 *   `additionalProperties`/`patternProperties` schema → index signature (widened by the
 *   named properties' types so it type-checks) or `Record<string, T>` when there are no
 *   named properties. Open objects (no `additionalProperties: false`) with named properties
 *   stay closed interfaces: extra keys are allowed on the wire but carry no type we know;
 *   an object with no properties at all is `{ [key: string]: unknown }`;
 * - arrays → `T[]`; tuples (`items: [...]`, `prefixItems`) → `[A, B?, ...R[]]`: elements past
 *   `minItems` are optional, the rest is `additionalItems` (`unknown` when open, nothing
 *   when closed or `maxItems` allows no more);
 * - `oneOf`/`anyOf` → unions; `allOf` of plain objects → one merged object, otherwise an
 *   intersection; sibling keywords beside a combinator are intersected with it.
 */
import type { TypeNode, TypeRequest } from './build.js';
import { isObject, schemaTypes } from './build.js';

/** A type expression and how tightly it binds: 0 union, 1 intersection / prefix, 2 atom. */
interface Expr {
  readonly code: string;
  readonly prec: 0 | 1 | 2;
  /** The flattened members of a union, so that nested unions de-duplicate. */
  readonly members?: readonly Expr[];
}

const atom = (code: string): Expr => ({ code, prec: 2 });
const UNKNOWN = atom('unknown');
const NEVER = atom('never');
const NULL = atom('null');

function union(parts: readonly Expr[]): Expr {
  const seen = new Map<string, Expr>();
  for (const p of parts.flatMap((x) => x.members ?? [x])) if (!seen.has(p.code)) seen.set(p.code, p);
  if (seen.has('unknown')) return UNKNOWN;
  if (seen.size > 1) seen.delete('never');
  const list = [...seen.values()];
  if (list.length === 0) return NEVER;
  if (list.length === 1) return list[0]!;
  return { code: list.map((p) => p.code).join(' | '), prec: 0, members: list };
}

function intersect(parts: readonly Expr[]): Expr {
  const seen = new Map<string, Expr>();
  for (const p of parts) if (p.code !== 'unknown' && !seen.has(p.code)) seen.set(p.code, p);
  if (seen.has('never')) return NEVER;
  const list = [...seen.values()];
  if (list.length === 0) return UNKNOWN;
  if (list.length === 1) return list[0]!;
  return { code: list.map((p) => (p.prec === 0 ? `(${p.code})` : p.code)).join(' & '), prec: 1 };
}

function arrayOf(element: Expr): Expr {
  return atom(element.prec < 2 ? `(${element.code})[]` : `${element.code}[]`);
}

/** A string literal that is valid TypeScript whatever it holds. */
export function stringLiteral(value: string): string {
  // JSON.stringify escapes quotes, backslashes and control characters; U+2028/2029 are
  // legal in literals since ES2019, escaped anyway so that no tool sees a line break.
  return JSON.stringify(value).replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/**
 * A property key exactly as on the wire: bare when it is an ASCII identifier, otherwise a
 * string literal. (`names.ts`' `propertyKey` accepts any `\p{N}`, e.g. `a½`, which is not
 * an identifier character, hence this stricter local rule.)
 */
export function propertyKey(name: string): string {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(name) ? name : stringLiteral(name);
}

/** The literal type of a JSON value (`const`, `enum`). */
export function literalType(value: unknown, indent = ''): Expr {
  if (value === null) return NULL;
  switch (typeof value) {
    case 'string':
      return atom(stringLiteral(value));
    case 'boolean':
      return atom(String(value));
    case 'number':
      if (!Number.isFinite(value)) return atom('number');
      return value < 0 || Object.is(value, -0) ? { code: String(value), prec: 1 } : atom(String(value));
    case 'object': {
      if (Array.isArray(value)) return atom(`[${value.map((v) => literalType(v, indent).code).join(', ')}]`);
      const obj = value as Record<string, unknown>;
      const keys = Object.keys(obj);
      if (keys.length === 0) return atom('{}');
      const inner = `${indent}  `;
      const lines = keys.map((k) => `${inner}${propertyKey(k)}: ${literalType(obj[k], inner).code};`);
      return atom(`{\n${lines.join('\n')}\n${indent}}`);
    }
    default:
      return UNKNOWN;
  }
}

/** A JSDoc block, or '' when there is nothing to say. `*\/`, line breaks and line-leading `@` cannot escape it. */
export function docComment(description: string | undefined, deprecated: boolean, indent: string): string {
  const lines: string[] = [];
  if (description !== undefined && description.trim() !== '') {
    const text = description
      .replace(/\r\n?|\u2028|\u2029/g, '\n')
      .replace(/\*\//g, '*\\/')
      // A line starting with `@` would become a JSDoc tag (`@deprecated` in a description).
      .replace(/^(\s*)@/gm, '$1\\@')
      .replace(/^\n+|\s+$/g, '');
    for (const line of text.split('\n')) lines.push(line.replace(/\s+$/, ''));
  }
  if (deprecated) lines.push('@deprecated');
  if (lines.length === 0) return '';
  if (lines.length === 1) return `${indent}/** ${lines[0]} */\n`;
  return `${indent}/**\n${lines.map((l) => (l === '' ? `${indent} *` : `${indent} * ${l}`)).join('\n')}\n${indent} */\n`;
}

function schemaOf(node: TypeNode): { readonly [key: string]: unknown } | undefined {
  return isObject(node.schema) ? node.schema : undefined;
}

function descriptionOf(node: TypeNode): string | undefined {
  const d = schemaOf(node)?.['description'];
  return typeof d === 'string' ? d : undefined;
}

function isDeprecated(node: TypeNode): boolean {
  return schemaOf(node)?.['deprecated'] === true;
}

function isNullable(node: TypeNode): boolean {
  const s = schemaOf(node);
  return s !== undefined && (s['nullable'] === true || schemaTypes(s).includes('null'));
}

function hasCombinators(node: TypeNode): boolean {
  return node.oneOf.length > 0 || node.anyOf.length > 0 || node.allOf.length > 0;
}

function hasObjectStructure(node: TypeNode): boolean {
  return node.properties.length > 0 || node.patterns.length > 0 || node.additional !== undefined;
}

/** A plain object schema: rendered as an interface when declared, mergeable inside `allOf`. */
function isPlainObject(node: TypeNode): boolean {
  const s = schemaOf(node);
  if (!s || node.ref || hasCombinators(node) || isNullable(node)) return false;
  if (s['const'] !== undefined || Array.isArray(s['enum'])) return false;
  const types = schemaTypes(s);
  if (types.length > 0) return types.every((t) => t === 'object');
  return hasObjectStructure(node);
}

interface Member {
  key: string;
  required: boolean;
  nodes: TypeNode[];
}

export class Printer {
  private readonly expanding = new Set<TypeNode>();

  /** @param declared the stamps that get a declaration of their own (everything else is inlined). */
  constructor(private readonly declared: ReadonlySet<string>) {}

  isDeclared(node: TypeNode): boolean {
    return node.claimed && this.declared.has(node.stamp);
  }

  /** The declaration of a declared node, JSDoc included. */
  declaration(node: TypeNode, request?: TypeRequest): string {
    // A root that is a `$ref` (`#/definitions/X`) takes the shape of what it points to.
    let shape = node;
    while (shape.ref && !shape.backEdge && !this.isDeclared(shape.ref)) shape = shape.ref;
    const description = request?.description ?? descriptionOf(node) ?? (shape === node ? undefined : descriptionOf(shape));
    const doc = docComment(description, isDeprecated(node) || isDeprecated(shape), '');
    this.expanding.add(node);
    this.expanding.add(shape);
    try {
      if (shape.brokenRef !== undefined) return `${doc}export type ${node.stamp} = unknown;\n`;
      if (shape.ref) return `${doc}export type ${node.stamp} = ${this.expr(shape.ref, '').code};\n`;
      if (isPlainObject(shape) || (!isNullable(shape) && this.mergeableAllOf(shape))) {
        const body = this.objectBody(shape, this.collectMembers(shape), '').code;
        // A pure dictionary prints as `Record<string, T>`: an alias, not an interface body.
        return body.startsWith('{')
          ? `${doc}export interface ${node.stamp} ${body}\n`
          : `${doc}export type ${node.stamp} = ${body};\n`;
      }
      return `${doc}export type ${node.stamp} = ${this.body(shape, '').code};\n`;
    } finally {
      this.expanding.delete(node);
      this.expanding.delete(shape);
    }
  }

  /** The type of `node` where it is used. */
  expr(node: TypeNode, indent: string): Expr {
    if (node.brokenRef !== undefined) return UNKNOWN;
    if (node.ref) return this.expr(node.ref, indent);
    if (this.isDeclared(node)) return atom(node.stamp);
    if (this.expanding.has(node)) {
      // Cannot happen: every cycle target is declared (build step); guard against a hang anyway.
      return UNKNOWN;
    }
    this.expanding.add(node);
    try {
      return this.body(node, indent);
    } finally {
      this.expanding.delete(node);
    }
  }

  private body(node: TypeNode, indent: string): Expr {
    const s = node.schema;
    if (s === true) return UNKNOWN;
    if (s === false) return NEVER;
    if (s['const'] !== undefined) return literalType(s['const'], indent);
    const nullable = isNullable(node);
    const withNull = (e: Expr): Expr => (nullable ? union([e, NULL]) : e);
    const enumValues = s['enum'];
    if (Array.isArray(enumValues)) return withNull(union(enumValues.map((v) => literalType(v, indent))));

    const parts: Expr[] = [];
    const types = schemaTypes(s).filter((t) => t !== 'null');
    const combinators = hasCombinators(node);
    const merged = node.allOf.length > 0 && this.mergeableAllOf(node);
    if (merged) {
      parts.push(this.objectBody(node, this.collectMembers(node), indent));
    } else {
      const own = this.ownShape(node, types, combinators, indent);
      if (own) parts.push(own);
      for (const member of node.allOf) parts.push(this.expr(member, indent));
    }
    if (node.oneOf.length > 0) parts.push(union(node.oneOf.map((m) => this.expr(m, indent))));
    if (node.anyOf.length > 0) parts.push(union(node.anyOf.map((m) => this.expr(m, indent))));
    if (parts.length === 0) {
      // Only `null` in the type list, or nothing that constrains the value.
      return schemaTypes(s).includes('null') ? NULL : withNull(UNKNOWN);
    }
    return withNull(intersect(parts));
  }

  /** The node's own `type`/structure, ignoring combinators. Undefined when it says nothing. */
  private ownShape(node: TypeNode, types: readonly string[], combinators: boolean, indent: string): Expr | undefined {
    const objectish = hasObjectStructure(node);
    const arrayish = node.items !== undefined || node.tuple !== undefined;
    if (types.length === 0) {
      if (objectish) return this.objectBody(node, this.collectMembers(node), indent);
      if (arrayish) return this.arrayShape(node, indent);
      return undefined;
    }
    // `type: object` beside a combinator with nothing else to say adds nothing but noise.
    if (combinators && !objectish && types.every((t) => t === 'object')) return undefined;
    return union(
      types.map((t) => {
        switch (t) {
          case 'string':
            return atom('string');
          case 'number':
          case 'integer':
            return atom('number');
          case 'boolean':
            return atom('boolean');
          case 'array':
            return this.arrayShape(node, indent);
          case 'object':
            return this.objectBody(node, this.collectMembers(node), indent);
          default:
            return UNKNOWN;
        }
      }),
    );
  }

  private arrayShape(node: TypeNode, indent: string): Expr {
    const s = schemaOf(node) ?? {};
    if (node.tuple) {
      const min = typeof s['minItems'] === 'number' ? s['minItems'] : 0;
      const max = typeof s['maxItems'] === 'number' ? s['maxItems'] : Infinity;
      const elements = node.tuple.map((item, i) => {
        const e = this.expr(item, indent);
        if (i < min) return e.code;
        return `${e.prec < 2 ? `(${e.code})` : e.code}?`;
      });
      const rest = node.rest;
      if (rest !== false && max > node.tuple.length) {
        const r = rest === undefined || rest === true ? UNKNOWN : this.expr(rest, indent);
        elements.push(`...${arrayOf(r).code}`);
      }
      return atom(`[${elements.join(', ')}]`);
    }
    return arrayOf(node.items ? this.expr(node.items, indent) : UNKNOWN);
  }

  /** Whether every `allOf` member (and the node itself) is a plain object, so one object can stand for all. */
  private mergeableAllOf(node: TypeNode): boolean {
    const s = schemaOf(node);
    if (!s || node.ref || node.allOf.length === 0 || node.oneOf.length > 0 || node.anyOf.length > 0) return false;
    const types = schemaTypes(s).filter((t) => t !== 'null');
    if (types.some((t) => t !== 'object') || s['const'] !== undefined || Array.isArray(s['enum'])) return false;
    return node.allOf.every((m) => {
      const target = m.ref && !m.backEdge ? m.ref : m;
      return !target.ref && !this.isDeclared(target) && isPlainObject(target);
    });
  }

  /** Properties of the node, plus those of merged `allOf` members; a key seen twice is intersected. */
  private collectMembers(node: TypeNode): Member[] {
    const byKey = new Map<string, Member>();
    const add = (from: TypeNode): void => {
      for (const p of from.properties) {
        const m = byKey.get(p.key);
        if (m) {
          m.nodes.push(p.node);
          m.required ||= p.required;
        } else byKey.set(p.key, { key: p.key, required: p.required, nodes: [p.node] });
      }
      // `required` may name keys whose schema lives in another allOf member.
      const s = schemaOf(from);
      const required = s && Array.isArray(s['required']) ? s['required'] : [];
      for (const r of required) {
        const m = typeof r === 'string' ? byKey.get(r) : undefined;
        if (m) m.required = true;
      }
    };
    add(node);
    if (node.allOf.length > 0 && this.mergeableAllOf(node)) {
      for (const m of node.allOf) add(m.ref && !m.backEdge ? m.ref : m);
      add(node);
    }
    return [...byKey.values()];
  }

  private objectBody(node: TypeNode, members: readonly Member[], indent: string): Expr {
    const inner = `${indent}  `;
    const lines: string[] = [];
    const valueTypes: Expr[] = [];
    let anyOptional = false;
    for (const m of members) {
      const e = intersect(m.nodes.map((n) => this.expr(n, inner)));
      valueTypes.push(e);
      anyOptional ||= !m.required;
      const first = m.nodes[0]!;
      // A declared type carries its own description; a property repeats only its own.
      const own = first.ref ? first : this.isDeclared(first) ? undefined : first;
      const doc = docComment(own ? descriptionOf(own) : undefined, isDeprecated(first), inner);
      lines.push(`${doc}${inner}${propertyKey(m.key)}${m.required ? '' : '?'}: ${e.code};`);
    }
    const indexTypes: Expr[] = [];
    if (node.additional !== undefined && node.additional !== true && node.additional !== false) {
      indexTypes.push(this.expr(node.additional, inner));
    }
    for (const p of node.patterns) indexTypes.push(this.expr(p, inner));
    if (indexTypes.length > 0 && members.length === 0 && node.patterns.length === 0) {
      return atom(`Record<string, ${union(indexTypes).code}>`);
    }
    if (indexTypes.length > 0) {
      // An index signature must admit every named property's type too.
      const all = union([...indexTypes, ...valueTypes, ...(anyOptional ? [atom('undefined')] : [])]);
      lines.push(`${inner}[key: string]: ${all.code};`);
    } else if (members.length === 0) {
      lines.push(`${inner}[key: string]: ${node.additional === false ? 'never' : 'unknown'};`);
    }
    return atom(`{\n${lines.join('\n')}\n${indent}}`);
  }
}
