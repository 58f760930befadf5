/**
 * The rule reference: one declarative definition per kind of change. Handlers (in
 * `keywords/`) detect changes and name them with these ids; the definitions say what the
 * change means, which reader it breaks, and how it reads in a finding.
 *
 * `breaks` is stated from the old schema to the new one:
 * - `backward`: a reader on the new schema may reject data written with the old one;
 * - `forward`: a reader on the old schema may reject data written with the new one;
 * - `both`, `none`;
 * - `depends`: the handler decides by comparing the subschemas involved (content models,
 *   combinators, enumerated values). Inside `not`, directions invert.
 * `lenient` overrides `breaks` under the lenient open content model policy.
 */
import type { Direction, OpenContentPolicy } from './types.js';

export type Breaks = 'backward' | 'forward' | 'both' | 'none' | 'depends';

/** Params a handler passes to a rule's message template. */
export type MessageParams = Readonly<Record<string, string | number | undefined>>;

export interface RuleDefinition {
  /** What the change is, for the README and docs. */
  description: string;
  breaks: Breaks;
  /** Override of `breaks` under the lenient policy. */
  lenient?: Breaks;
  /** `documentation` changes never affect validation (semver patch). */
  documentation?: boolean;
  /** A one-line example, old => new. */
  example?: string;
  /** The finding's text, without the consequence clause the engine appends. */
  message: (p: MessageParams) => string;
}

const q = (v: unknown): string => JSON.stringify(v);

function bound(keyword: string, what: string) {
  const title = keyword;
  return {
    ADDED: (p: MessageParams) => `${what} limit "${title}" of ${p.to} was added`,
    REMOVED: (p: MessageParams) => `${what} limit "${title}" of ${p.from} was removed`,
    INCREASED: (p: MessageParams) => `"${title}" was increased from ${p.from} to ${p.to}`,
    DECREASED: (p: MessageParams) => `"${title}" was decreased from ${p.from} to ${p.to}`,
  };
}

const minLength = bound('minLength', 'Lower length');
const maxLength = bound('maxLength', 'Upper length');
const minItems = bound('minItems', 'Lower item count');
const maxItems = bound('maxItems', 'Upper item count');
const minProps = bound('minProperties', 'Lower property count');
const maxProps = bound('maxProperties', 'Upper property count');

export const RULES = {
  // ── types ────────────────────────────────────────────────────────────────
  TYPE_NARROWED: {
    description: 'The schema accepts fewer JSON types (a type was removed from `type`, `number` became `integer`, `nullable` was dropped, or the schema became `false`).',
    breaks: 'backward',
    example: '{"type":["string","null"]} => {"type":"string"}',
    message: (p) => `Type narrowed from ${p.from} to ${p.to}`,
  },
  TYPE_WIDENED: {
    description: 'The schema accepts more JSON types (a type was added, `integer` became `number`, `nullable: true` was added).',
    breaks: 'forward',
    example: '{"type":"integer"} => {"type":"number"}',
    message: (p) => `Type widened from ${p.from} to ${p.to}`,
  },
  TYPE_CHANGED: {
    description: 'The old and new schema accept disjoint JSON types.',
    breaks: 'both',
    example: '{"type":"string"} => {"type":"integer"}',
    message: (p) => `Type changed from ${p.from} to ${p.to}`,
  },
  // ── enum / const ─────────────────────────────────────────────────────────
  ENUM_VALUE_ADDED: {
    description: 'A value was added to `enum` (or `const` changed to admit it).',
    breaks: 'forward',
    example: '{"enum":["a"]} => {"enum":["a","b"]}',
    message: (p) => `Value ${p.value} was added to the allowed values`,
  },
  ENUM_VALUE_REMOVED: {
    description: 'A previously allowed `enum`/`const` value is no longer allowed.',
    breaks: 'backward',
    example: '{"enum":["a","b"]} => {"enum":["a"]}',
    message: (p) => `Previously allowed value ${p.value} was removed from the allowed values`,
  },
  ENUM_VALUE_REJECTED: {
    description: 'An enumerated value of the writer is rejected by another constraint of the reader (e.g. a new `maxLength`).',
    breaks: 'depends',
    example: '{"enum":["abc"]} => {"enum":["abc"],"maxLength":2}',
    message: (p) => `Value ${p.value}, allowed by the ${p.writer} schema, is rejected by the ${p.reader} schema`,
  },
  ENUM_ADDED: {
    description: 'An `enum` or `const` restriction was added to a schema that had none.',
    breaks: 'backward',
    example: '{"type":"string"} => {"type":"string","enum":["a"]}',
    message: (p) => `The allowed values were restricted to ${p.values}`,
  },
  ENUM_REMOVED: {
    description: 'The `enum` or `const` restriction was removed.',
    breaks: 'forward',
    example: '{"enum":["a"]} => {"type":"string"}',
    message: (p) => `The restriction to the values ${p.values} was removed`,
  },
  // ── numbers ──────────────────────────────────────────────────────────────
  MINIMUM_ADDED: {
    description: 'A lower bound (`minimum`, or `exclusiveMinimum` in draft-04 boolean or draft-06+ numeric form) was added.',
    breaks: 'backward',
    message: (p) => `A lower bound (${p.to}) was added`,
  },
  MINIMUM_REMOVED: {
    description: 'The lower bound was removed.',
    breaks: 'forward',
    message: (p) => `The lower bound (${p.from}) was removed`,
  },
  MINIMUM_INCREASED: {
    description: 'The lower bound was raised, or made exclusive at the same value.',
    breaks: 'backward',
    example: '{"minimum":0} => {"exclusiveMinimum":0}',
    message: (p) => `The lower bound was raised from ${p.from} to ${p.to}`,
  },
  MINIMUM_DECREASED: {
    description: 'The lower bound was lowered, or made inclusive at the same value.',
    breaks: 'forward',
    message: (p) => `The lower bound was lowered from ${p.from} to ${p.to}`,
  },
  MAXIMUM_ADDED: {
    description: 'An upper bound (`maximum` or `exclusiveMaximum`, either draft style) was added.',
    breaks: 'backward',
    message: (p) => `An upper bound (${p.to}) was added`,
  },
  MAXIMUM_REMOVED: {
    description: 'The upper bound was removed.',
    breaks: 'forward',
    message: (p) => `The upper bound (${p.from}) was removed`,
  },
  MAXIMUM_INCREASED: {
    description: 'The upper bound was raised, or made inclusive at the same value.',
    breaks: 'forward',
    message: (p) => `The upper bound was raised from ${p.from} to ${p.to}`,
  },
  MAXIMUM_DECREASED: {
    description: 'The upper bound was lowered, or made exclusive at the same value.',
    breaks: 'backward',
    example: '{"maximum":10} => {"maximum":5}',
    message: (p) => `The upper bound was lowered from ${p.from} to ${p.to}`,
  },
  MULTIPLE_OF_ADDED: {
    description: '`multipleOf` was added.',
    breaks: 'backward',
    message: (p) => `"multipleOf" ${p.to} was added`,
  },
  MULTIPLE_OF_REMOVED: {
    description: '`multipleOf` was removed.',
    breaks: 'forward',
    message: (p) => `"multipleOf" ${p.from} was removed`,
  },
  MULTIPLE_OF_EXPANDED: {
    description: '`multipleOf` became a multiple of its old value (fewer numbers qualify).',
    breaks: 'backward',
    example: '{"multipleOf":2} => {"multipleOf":4}',
    message: (p) => `"multipleOf" was changed from ${p.from} to its multiple ${p.to}`,
  },
  MULTIPLE_OF_REDUCED: {
    description: '`multipleOf` became a divisor of its old value (more numbers qualify).',
    breaks: 'forward',
    example: '{"multipleOf":4} => {"multipleOf":2}',
    message: (p) => `"multipleOf" was changed from ${p.from} to its divisor ${p.to}`,
  },
  MULTIPLE_OF_CHANGED: {
    description: '`multipleOf` changed and the engine could not prove the writer\'s numbers pass the reader\'s `multipleOf` as ajv computes it: neither value divides the other, or they do only in decimal arithmetic (`0.3` => `0.1`: 0.3 / 0.1 is 2.9999999999999996 in IEEE doubles), or the writer\'s bounds do not keep quotients below 1e21 (ajv rejects larger ones).',
    breaks: 'both',
    example: '{"multipleOf":2} => {"multipleOf":3}',
    message: (p) => `"multipleOf" was changed from ${p.from} to ${p.to}`,
  },
  // ── strings ──────────────────────────────────────────────────────────────
  MIN_LENGTH_ADDED: { description: '`minLength` was added.', breaks: 'backward', message: minLength.ADDED },
  MIN_LENGTH_REMOVED: { description: '`minLength` was removed.', breaks: 'forward', message: minLength.REMOVED },
  MIN_LENGTH_INCREASED: { description: '`minLength` was raised.', breaks: 'backward', message: minLength.INCREASED },
  MIN_LENGTH_DECREASED: { description: '`minLength` was lowered.', breaks: 'forward', message: minLength.DECREASED },
  MAX_LENGTH_ADDED: { description: '`maxLength` was added.', breaks: 'backward', message: maxLength.ADDED },
  MAX_LENGTH_REMOVED: { description: '`maxLength` was removed.', breaks: 'forward', message: maxLength.REMOVED },
  MAX_LENGTH_INCREASED: { description: '`maxLength` was raised.', breaks: 'forward', message: maxLength.INCREASED },
  MAX_LENGTH_DECREASED: {
    description: '`maxLength` was lowered.',
    breaks: 'backward',
    example: '{"maxLength":10} => {"maxLength":5}',
    message: maxLength.DECREASED,
  },
  PATTERN_ADDED: {
    description: 'A `pattern` was added.',
    breaks: 'backward',
    message: (p) => `Pattern ${p.to} was added`,
  },
  PATTERN_REMOVED: {
    description: 'The `pattern` was removed.',
    breaks: 'forward',
    message: (p) => `Pattern ${p.from} was removed`,
  },
  PATTERN_WIDENED: {
    description: 'The `pattern` changed and every string the old one matches is proven to match the new one (anchored character-class patterns, e.g. `^[a-z]+$` => `^[a-zA-Z]+$`).',
    breaks: 'forward',
    example: '{"pattern":"^[a-z]+$"} => {"pattern":"^[a-zA-Z]+$"}',
    message: (p) => `Pattern widened from ${p.from} to ${p.to}`,
  },
  PATTERN_NARROWED: {
    description: 'The `pattern` changed and every string the new one matches is proven to match the old one.',
    breaks: 'backward',
    message: (p) => `Pattern narrowed from ${p.from} to ${p.to}`,
  },
  PATTERN_CHANGED: {
    description: 'The `pattern` changed and the engine could not prove either pattern within the other (it proves inclusion for equal text and for anchored character-class patterns such as `^[a-z]{2,8}$`), so the change is reported as breaking both ways. Acknowledge it in config when you know one includes the other.',
    breaks: 'both',
    message: (p) => `Pattern changed from ${p.from} to ${p.to}, and neither could be proven to include the other`,
  },
  FORMAT_ADDED: {
    description: 'A `format` was added (formats are treated as assertions, as ajv with ajv-formats does: string formats on strings, `int32`/`int64`/`float`/`double` on numbers; formats ajv-formats does not know check nothing).',
    breaks: 'backward',
    message: (p) => `Format ${p.to} was added`,
  },
  FORMAT_REMOVED: {
    description: 'The `format` was removed.',
    breaks: 'forward',
    message: (p) => `Format ${p.from} was removed`,
  },
  FORMAT_CHANGED: {
    description: 'The `format` changed.',
    breaks: 'both',
    message: (p) => `Format changed from ${p.from} to ${p.to}`,
  },
  // ── arrays ───────────────────────────────────────────────────────────────
  MIN_ITEMS_ADDED: { description: '`minItems` was added.', breaks: 'backward', message: minItems.ADDED },
  MIN_ITEMS_REMOVED: { description: '`minItems` was removed.', breaks: 'forward', message: minItems.REMOVED },
  MIN_ITEMS_INCREASED: { description: '`minItems` was raised.', breaks: 'backward', message: minItems.INCREASED },
  MIN_ITEMS_DECREASED: { description: '`minItems` was lowered.', breaks: 'forward', message: minItems.DECREASED },
  MAX_ITEMS_ADDED: { description: '`maxItems` was added.', breaks: 'backward', message: maxItems.ADDED },
  MAX_ITEMS_REMOVED: { description: '`maxItems` was removed.', breaks: 'forward', message: maxItems.REMOVED },
  MAX_ITEMS_INCREASED: { description: '`maxItems` was raised.', breaks: 'forward', message: maxItems.INCREASED },
  MAX_ITEMS_DECREASED: { description: '`maxItems` was lowered.', breaks: 'backward', message: maxItems.DECREASED },
  UNIQUE_ITEMS_ADDED: {
    description: '`uniqueItems: true` was added.',
    breaks: 'backward',
    message: () => 'Items must now be unique',
  },
  UNIQUE_ITEMS_REMOVED: {
    description: '`uniqueItems: true` was removed.',
    breaks: 'forward',
    message: () => 'Items no longer have to be unique',
  },
  CONTAINS_ADDED: {
    description: 'A `contains` constraint was added.',
    breaks: 'backward',
    message: () => 'Arrays must now contain an item matching "contains"',
  },
  CONTAINS_REMOVED: {
    description: 'The `contains` constraint was removed.',
    breaks: 'forward',
    message: () => 'The "contains" constraint was removed',
  },
  TUPLE_ITEM_ADDED: {
    description: 'A positional item (`prefixItems`, or draft-07 tuple `items`) was added; the position was governed by the old rest schema (`items`/`additionalItems`). Whether it breaks is decided by comparing the two.',
    breaks: 'depends',
    example: '{"prefixItems":[{"type":"string"}],"items":false} => {"prefixItems":[{"type":"string"},{"type":"integer"}],"items":false}',
    message: (p) => `Tuple position ${p.index} was added`,
  },
  TUPLE_ITEM_REMOVED: {
    description: 'A positional item was removed; the position is now governed by the new rest schema.',
    breaks: 'depends',
    message: (p) => `Tuple position ${p.index} was removed`,
  },
  // ── objects ──────────────────────────────────────────────────────────────
  PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL: {
    description: 'A property was declared where the old schema had an open content model. Old data may carry that name with any value, so under the strict policy this breaks backward unless the new property accepts anything; under the lenient policy it is compatible.',
    breaks: 'backward',
    lenient: 'none',
    example: '{"properties":{"a":{}}} => {"properties":{"a":{},"b":{"type":"string"}}}',
    message: (p) => `Property ${q(p.name)} was added to an open content model`,
  },
  PROPERTY_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL: {
    description: 'A property that accepts any value was declared in an open content model: nothing changes for any reader.',
    breaks: 'none',
    message: (p) => `Property ${q(p.name)} accepting any value was added to an open content model`,
  },
  PROPERTY_ADDED_TO_CLOSED_CONTENT_MODEL: {
    description: 'A property was added where the old schema was closed (`additionalProperties: false`); old readers reject it unless it is never written (its schema is `false`).',
    breaks: 'forward',
    example: '{"additionalProperties":false} => {"properties":{"b":{}},"additionalProperties":false}',
    message: (p) => `Property ${q(p.name)} was added to a closed content model`,
  },
  PROPERTY_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL: {
    description: 'A property was declared whose values were already governed, compatibly, by the old `additionalProperties` schema or a matching `patternProperties` schema.',
    breaks: 'none',
    message: (p) => `Property ${q(p.name)} was added and is covered by the previous partially open content model`,
  },
  PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL: {
    description: 'A property was declared whose schema does not match what the old `additionalProperties`/`patternProperties` schema allowed under that name.',
    breaks: 'depends',
    message: (p) => `Property ${q(p.name)} was added and does not match the previous partially open content model`,
  },
  PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL: {
    description: 'A property declaration was removed and the new content model is open: new data may carry that name with any value, which old readers may reject (strict); compatible under the lenient policy.',
    breaks: 'forward',
    lenient: 'none',
    message: (p) => `Previously declared property ${q(p.name)} was removed from an open content model`,
  },
  PROPERTY_WITH_EMPTY_SCHEMA_REMOVED_FROM_OPEN_CONTENT_MODEL: {
    description: 'A property that accepted any value was removed from an open content model: nothing changes for any reader.',
    breaks: 'none',
    message: (p) => `Previously declared property ${q(p.name)}, which accepted any value, was removed from an open content model`,
  },
  PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL: {
    description: 'A property declaration was removed from a closed content model: readers on the new schema reject old data that carries it (unless its old schema was `false`).',
    breaks: 'backward',
    example: '{"properties":{"a":{},"email":{}},"additionalProperties":false} => {"properties":{"a":{}},"additionalProperties":false}',
    message: (p) => `Previously present property ${q(p.name)} was removed from a closed content model`,
  },
  PROPERTY_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL: {
    description: 'A property declaration was removed and its values are still accepted by the new `additionalProperties`/`patternProperties` schema.',
    breaks: 'none',
    message: (p) => `Previously declared property ${q(p.name)} was removed and is covered by the partially open content model`,
  },
  PROPERTY_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL: {
    description: 'A property declaration was removed and its old values are not all accepted by the new `additionalProperties`/`patternProperties` schema.',
    breaks: 'depends',
    message: (p) => `Previously declared property ${q(p.name)} was removed and is not covered by the partially open content model`,
  },
  REQUIRED_PROPERTY_ADDED: {
    description: 'A property became required (or a required property was added): old data may lack it.',
    breaks: 'backward',
    example: '{"properties":{"a":{}}} => {"properties":{"a":{}},"required":["a"]}',
    message: (p) => `Property ${q(p.name)} is now required`,
  },
  REQUIRED_PROPERTY_WITH_DEFAULT_ADDED: {
    description: 'A property with a `default` became required. Safe only for readers that fill in defaults (option `readersApplyDefaults`); Confluent always calls it compatible.',
    breaks: 'depends',
    message: (p) => `Property ${q(p.name)} (default ${p.default}) is now required`,
  },
  REQUIRED_PROPERTY_REMOVED: {
    description: 'A property is no longer required: new data may lack it.',
    breaks: 'forward',
    message: (p) => `Property ${q(p.name)} is no longer required`,
  },
  ADDITIONAL_PROPERTIES_NARROWED: {
    description: '`additionalProperties` accepts less than before (e.g. `true` => `false`, the model was closed). Compatible under the lenient policy, where writers are assumed to write only declared properties.',
    breaks: 'backward',
    lenient: 'none',
    message: (p) => `"additionalProperties" was narrowed from ${p.from} to ${p.to}`,
  },
  ADDITIONAL_PROPERTIES_EXTENDED: {
    description: '`additionalProperties` accepts more than before (e.g. `false` => `true`, the model was opened).',
    breaks: 'forward',
    lenient: 'none',
    message: (p) => `"additionalProperties" was extended from ${p.from} to ${p.to}`,
  },
  PATTERN_PROPERTY_ADDED: {
    description: 'A `patternProperties` entry was added; the properties it matches were governed by the old `additionalProperties`. Patterns are compared textually (different patterns are assumed not to overlap).',
    breaks: 'depends',
    message: (p) => `Pattern property ${q(p.pattern)} was added`,
  },
  PATTERN_PROPERTY_REMOVED: {
    description: 'A `patternProperties` entry was removed; the properties it matched fall to the new `additionalProperties`.',
    breaks: 'depends',
    message: (p) => `Pattern property ${q(p.pattern)} was removed`,
  },
  MIN_PROPERTIES_ADDED: { description: '`minProperties` was added.', breaks: 'backward', message: minProps.ADDED },
  MIN_PROPERTIES_REMOVED: { description: '`minProperties` was removed.', breaks: 'forward', message: minProps.REMOVED },
  MIN_PROPERTIES_INCREASED: { description: '`minProperties` was raised.', breaks: 'backward', message: minProps.INCREASED },
  MIN_PROPERTIES_DECREASED: { description: '`minProperties` was lowered.', breaks: 'forward', message: minProps.DECREASED },
  MAX_PROPERTIES_ADDED: { description: '`maxProperties` was added.', breaks: 'backward', message: maxProps.ADDED },
  MAX_PROPERTIES_REMOVED: { description: '`maxProperties` was removed.', breaks: 'forward', message: maxProps.REMOVED },
  MAX_PROPERTIES_INCREASED: { description: '`maxProperties` was raised.', breaks: 'forward', message: maxProps.INCREASED },
  MAX_PROPERTIES_DECREASED: { description: '`maxProperties` was lowered.', breaks: 'backward', message: maxProps.DECREASED },
  DEPENDENT_REQUIRED_ADDED: {
    description: 'A `dependentRequired` (or draft-07 array-form `dependencies`) entry was added.',
    breaks: 'backward',
    message: (p) => `When ${q(p.name)} is present, ${p.to} are now required`,
  },
  DEPENDENT_REQUIRED_REMOVED: {
    description: 'A `dependentRequired` entry was removed.',
    breaks: 'forward',
    message: (p) => `When ${q(p.name)} is present, ${p.from} are no longer required`,
  },
  DEPENDENT_REQUIRED_EXTENDED: {
    description: 'A `dependentRequired` entry requires more properties.',
    breaks: 'backward',
    message: (p) => `When ${q(p.name)} is present, ${p.added} are now also required`,
  },
  DEPENDENT_REQUIRED_NARROWED: {
    description: 'A `dependentRequired` entry requires fewer properties.',
    breaks: 'forward',
    message: (p) => `When ${q(p.name)} is present, ${p.removed} are no longer required`,
  },
  DEPENDENT_SCHEMA_ADDED: {
    description: 'A `dependentSchemas` (or draft-07 schema-form `dependencies`) entry was added.',
    breaks: 'backward',
    message: (p) => `A dependent schema for ${q(p.name)} was added`,
  },
  DEPENDENT_SCHEMA_REMOVED: {
    description: 'A `dependentSchemas` entry was removed.',
    breaks: 'forward',
    message: (p) => `The dependent schema for ${q(p.name)} was removed`,
  },
  PROPERTY_NAMES_ADDED: {
    description: 'A `propertyNames` constraint was added.',
    breaks: 'backward',
    message: () => 'A "propertyNames" constraint was added',
  },
  PROPERTY_NAMES_REMOVED: {
    description: 'The `propertyNames` constraint was removed.',
    breaks: 'forward',
    message: () => 'The "propertyNames" constraint was removed',
  },
  // ── combinators ──────────────────────────────────────────────────────────
  COMBINED_BRANCH_ADDED: {
    description: 'A branch of `anyOf`/`oneOf` (or a whole union where there was a single schema) accepts values no old branch accepts. Branches are paired by meaning, not position.',
    breaks: 'depends',
    example: '{"type":"string"} => {"anyOf":[{"type":"string"},{"type":"null"}]}',
    message: (p) => `Branch ${p.branch} accepts values that no previous branch accepted`,
  },
  COMBINED_BRANCH_REMOVED: {
    description: 'An old `anyOf`/`oneOf` branch is no longer matched by any new branch.',
    breaks: 'depends',
    example: '{"oneOf":[{"type":"string"},{"type":"integer"}]} => {"oneOf":[{"type":"string"}]}',
    message: (p) => `Previously accepted branch ${p.branch} is not accepted by any branch of the new schema`,
  },
  ONE_OF_OVERLAP_NOT_DISPROVED: {
    description: 'A value the writer allows may match two branches of the reader\'s `oneOf`, which then rejects it. The engine calls a `oneOf` reader compatible only when it proves the other branches reject the writer\'s values: disjoint types, `const`/`enum` values, a required discriminator property with disjoint values, disjoint bounds, or (for a `oneOf` writer) the other branch within another writer branch. Acknowledge it in config when the branches are exclusive for a reason the engine cannot see.',
    breaks: 'depends',
    example: '{"anyOf":[{"type":"string"},{"type":"string","maxLength":3}]} => {"oneOf":[{"type":"string"},{"type":"string","maxLength":3}]}',
    message: (p) => `Could not prove that values of ${p.branch}, matched by ${p.first}, are not also matched by ${p.second} of the ${p.reader} schema's "oneOf"`,
  },
  NOT_ADDED: {
    description: 'A `not` constraint was added that excludes values the old schema allowed (no finding when they are provably disjoint).',
    breaks: 'depends',
    message: () => 'A "not" constraint was added',
  },
  NOT_REMOVED: {
    description: 'A `not` constraint was removed, admitting values the old schema excluded.',
    breaks: 'depends',
    message: () => 'The "not" constraint was removed',
  },
  UNSUPPORTED_KEYWORD_CHANGED: {
    description: 'The reader has a keyword the engine cannot analyse where it stands (`unevaluatedProperties`/`unevaluatedItems` beside `anyOf`, `oneOf`, `if` or `dependentSchemas`; `$dynamicRef`; `$recursiveRef`) and the two schemas differ: the engine could not prove the change safe, so it is breaking for that reader. (Where nothing else feeds it, `unevaluatedProperties` is compared exactly as `additionalProperties`; a writer\'s such keywords only narrow the writer and are ignored.) Acknowledge it in config when you know the change is safe.',
    breaks: 'depends',
    message: (p) => `The ${p.side} schema's ${q(p.keyword)} could not be analysed here, so the change could not be proven safe`,
  },
  CONDITIONAL_NOT_PROVEN: {
    description: 'The reader has `if`/`then`/`else` and the engine could not prove every writer value meets it: it proves it when the writer\'s values are within both `then` and `else`, within the branch they provably take, or (with the same `if` on both sides) when each writer branch is within the reader\'s. A writer\'s `if`/`then`/`else` only narrows the writer (so adding one is FORWARD compatible).',
    breaks: 'depends',
    example: '{"type":"object"} => {"type":"object","if":{"required":["a"]},"then":{"required":["b"]}}',
    message: (p) => `The ${p.side} schema's "if"/"then"/"else" could not be proven to accept every value the other schema allows`,
  },
  CONTAINS_COUNT_CHANGED: {
    description: '`minContains`/`maxContains` (or the `contains` schema they count) changed and the reader\'s counts could not be proven from the writer\'s: at least `minContains` items must match the reader\'s `contains` (proven when the writer\'s `contains` is within it and its `minContains` is not lower), at most `maxContains` (proven from the writer\'s `maxItems`, or from a `contains` covering the reader\'s with a `maxContains` not higher).',
    breaks: 'depends',
    example: '{"contains":{"type":"integer"},"minContains":2} => {"contains":{"type":"integer"},"minContains":3}',
    message: (p) => `Items matching "contains" must now number ${p.to} (was ${p.from})`,
  },
  RECURSION_NOT_PROVEN: {
    description: 'A `$ref` cycle comes back to the same pair of schemas on the same instance, without reading a property or an item in between (`A: {anyOf: [{$ref: "#/$defs/A"}, ...]}`). The engine assumes recursive schemas compatible only through such a step (each turn then reads a smaller part of the instance), so this change could not be proven safe.',
    breaks: 'depends',
    example: '{"type":"integer"} => {"$defs":{"A":{"anyOf":[{"$ref":"#/$defs/A"},{"type":"string"}]}},"$ref":"#/$defs/A"}',
    message: () => 'A schema refers to itself on the same value, so the change could not be proven safe',
  },
  // ── annotations (never validation) ───────────────────────────────────────
  DESCRIPTION_CHANGED: {
    description: '`description` was added, removed or changed.',
    breaks: 'none',
    documentation: true,
    message: () => 'Description changed',
  },
  TITLE_CHANGED: {
    description: '`title` was added, removed or changed.',
    breaks: 'none',
    documentation: true,
    message: (p) => `Title changed from ${p.from} to ${p.to}`,
  },
  EXAMPLES_CHANGED: {
    description: '`examples` (or OpenAPI/AsyncAPI `example`) changed.',
    breaks: 'none',
    documentation: true,
    message: () => 'Examples changed',
  },
  DEPRECATED_CHANGED: {
    description: '`deprecated` was set or cleared.',
    breaks: 'none',
    documentation: true,
    message: (p) => `"deprecated" changed from ${p.from} to ${p.to}`,
  },
  ANNOTATION_CHANGED: {
    description: 'Another annotation changed: `x-*` extensions, `discriminator`, `externalDocs`, `$comment`, `readOnly`, `writeOnly`, `$id`, `$schema`, `contentMediaType`, `contentEncoding`.',
    breaks: 'none',
    documentation: true,
    message: (p) => `Annotation ${q(p.keyword)} changed`,
  },
  DEFAULT_CHANGED: {
    description: '`default` was added, removed or changed. It does not affect validation, but readers that fill in defaults behave differently, so it weighs as an additive (minor) change.',
    breaks: 'none',
    message: (p) => `Default changed from ${p.from} to ${p.to}`,
  },
} as const satisfies Record<string, RuleDefinition>;

/** Stable ids of every kind of change the engine reports. */
export type RuleId = keyof typeof RULES;

export const RULE_IDS = Object.keys(RULES) as RuleId[];

/**
 * The lenient policy's documented allowances: rules that assume writers write only the
 * properties they declare (their open or partially open content is unused). A "compatible"
 * lenient verdict may be disproved by an instance that uses undeclared territory exactly
 * where the strict policy reports one of these.
 */
export const LENIENT_ALLOWANCES: ReadonlySet<RuleId> = new Set<RuleId>([
  'PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL',
  'PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL',
  'PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL',
  'PROPERTY_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL',
  'ADDITIONAL_PROPERTIES_NARROWED',
  'ADDITIONAL_PROPERTIES_EXTENDED',
  'PATTERN_PROPERTY_ADDED',
  'PATTERN_PROPERTY_REMOVED',
]);

/**
 * Whether a strict finding is one the lenient policy allows by design: a rule of
 * {@link LENIENT_ALLOWANCES}, or any finding inside `patternProperties` or
 * `additionalProperties` (the undeclared territory lenient writers are assumed not to use).
 */
export function lenientAllows(change: { rule: RuleId; path: string; oldPath?: string }): boolean {
  const undeclared = (p: string | undefined) => p !== undefined && /\/(patternProperties|additionalProperties)(\/|$)/.test(p);
  return LENIENT_ALLOWANCES.has(change.rule) || undeclared(change.path) || undeclared(change.oldPath);
}

/** The declared breaking direction of a rule under a policy. */
export function declaredBreaks(rule: RuleId, policy: OpenContentPolicy): Breaks {
  const def: RuleDefinition = RULES[rule];
  return policy === 'lenient' && def.lenient ? def.lenient : def.breaks;
}

/** Whether a rule with a fixed direction breaks a reader in `dir`; undefined for `depends`. */
export function breaksIn(rule: RuleId, dir: Direction, policy: OpenContentPolicy): boolean | undefined {
  const b = declaredBreaks(rule, policy);
  if (b === 'depends') return undefined;
  return b === 'both' || b === dir;
}

/** What a finding in `dir` costs the reader, appended to the rule's message. */
export function consequence(dir: Direction): string {
  return dir === 'backward'
    ? 'readers on the new schema reject events written with the old one'
    : 'readers on the old schema reject events written with the new one';
}
