/**
 * Shared vocabulary of the JSON Schema compatibility engine: levels, policies, the
 * finding shape and the typed error for malformed input.
 */

/** A JSON Schema as it arrives: a boolean schema or a plain object (possibly with cycles). */
export type JsonSchema = boolean | { readonly [keyword: string]: unknown };

/**
 * Confluent Schema Registry's seven compatibility levels. Every level reduces to the
 * primitive "can reader R read data written with writer W" in one or both directions,
 * against the latest previous version or (for `_TRANSITIVE`) against all of them.
 */
export type CompatLevel =
  | 'BACKWARD'
  | 'BACKWARD_TRANSITIVE'
  | 'FORWARD'
  | 'FORWARD_TRANSITIVE'
  | 'FULL'
  | 'FULL_TRANSITIVE'
  | 'NONE';

export const COMPAT_LEVELS: readonly CompatLevel[] = [
  'BACKWARD',
  'BACKWARD_TRANSITIVE',
  'FORWARD',
  'FORWARD_TRANSITIVE',
  'FULL',
  'FULL_TRANSITIVE',
  'NONE',
];

/**
 * How undeclared properties of a writer's open (or partially open) content model are
 * treated.
 *
 * - `strict` (Confluent's default): a writer with an open content model may have written
 *   any property under any name with any value, so a reader that later declares that
 *   name with a type is not guaranteed to read old data.
 * - `lenient` (Confluent's `COMPATIBLE_CHANGES_LENIENT`): writers are assumed to write
 *   only the properties they declare; openness is tolerance for future fields, not a
 *   licence to write arbitrary ones. Adding an optional property, or narrowing
 *   `additionalProperties`, is then compatible.
 */
export type OpenContentPolicy = 'strict' | 'lenient';

/**
 * The direction a check looks in, named after the level that asks it:
 * `backward` = the new schema reads data written with the old one;
 * `forward` = the old schema reads data written with the new one.
 */
export type Direction = 'backward' | 'forward';

/** The semver weight of a change: breaking => major, additive => minor, documentation => patch. */
export type ChangeKind = 'breaking' | 'additive' | 'documentation';

/** A finding, in the spirit of buf's breaking-change findings. */
export interface SchemaChange<R extends string = string> {
  /** Stable rule id, see {@link RULES}. */
  rule: R;
  /** JSON pointer of the changed node: in the new schema where it exists, else in the old one. */
  path: string;
  /** Pointer of the node in the old (previous) schema, when it exists there. */
  oldPath?: string;
  /** Pointer of the node in the new (next) schema, when it exists there. */
  newPath?: string;
  /** True when this change breaks a reader in the direction(s) that were checked. */
  breaking: boolean;
  /** `breaking` when `breaking` is true; otherwise what the change weighs for semver. */
  kind: ChangeKind;
  /** One line, saying what changed and, when breaking, whom it breaks. */
  message: string;
  /**
   * For results of {@link checkCompatibility}: index (oldest first) of the previous
   * version this finding was found against.
   */
  against?: number;
}

/** A malformed schema: not an object or boolean, a keyword of the wrong shape, a bad `$ref`. */
export class SchemaError extends Error {
  override readonly name = 'SchemaError';
  constructor(
    message: string,
    /** JSON pointer of the offending node. */
    readonly pointer: string,
    /** Which schema it was found in, when the engine compared two. */
    readonly side?: 'old' | 'new' | 'reader' | 'writer',
    /** The document it came from, for cross-file references. */
    readonly document?: string,
  ) {
    super(`${side ? `${side} schema ` : ''}${document ? `${document}` : ''}#${pointer}: ${message}`);
  }
}

/** The document a schema node belongs to: its root (for local `$ref`s) and base URI/path. */
export interface SchemaDocument {
  root: JsonSchema;
  /** Base used to resolve relative `$ref`s and to label pointers outside the main document. */
  base?: string;
}

/**
 * Resolves the non-fragment part of a `$ref` (e.g. `./common.json`) against the base of
 * the document holding it. Returns the referenced document, or undefined when unknown.
 */
export type RefResolver = (ref: string, base: string | undefined) => SchemaDocument | undefined;

/** Options shared by every entry point. */
export interface CompatOptions {
  /** Open content model policy; default `strict` (Confluent's default). */
  policy?: OpenContentPolicy;
  /** Loader for cross-document `$ref`s; local `#/...` refs never need it. */
  resolveRef?: RefResolver;
  /**
   * Readers fill in `default` values for missing properties before validating (as ajv's
   * `useDefaults` does). Only then is adding a required property with a default safe:
   * Confluent assumes this; we do not by default, because a plain validator rejects an
   * old event that lacks the property.
   */
  readersApplyDefaults?: boolean;
}
