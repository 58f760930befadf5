import type { Case } from '../table.js';

const s = { type: 'string' };
const i = { type: 'integer' };
const obj = (properties: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({ type: 'object', properties, ...extra });
const closed = (properties: Record<string, unknown>, extra: Record<string, unknown> = {}) => obj(properties, { additionalProperties: false, ...extra });

const contentModels: Case[] = [
  // open content model (Confluent: strict vs lenient)
  { name: 'optional property added to an open model', old: obj({ a: s }), new: obj({ a: s, b: s }), rules: ['PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL'], ok: 'forward', lenient: 'both' },
  { name: 'property accepting anything added to an open model', old: obj({ a: s }), new: obj({ a: s, b: {} }), rules: ['PROPERTY_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL'], ok: 'both' },
  { name: 'property removed from an open model', old: obj({ a: s, b: s }), new: obj({ a: s }), rules: ['PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL'], ok: 'backward', lenient: 'both' },
  { name: 'property accepting anything removed from an open model', old: obj({ a: s, b: true }), new: obj({ a: s }), rules: ['PROPERTY_WITH_EMPTY_SCHEMA_REMOVED_FROM_OPEN_CONTENT_MODEL'], ok: 'both' },
  { name: 'required property added to an open model', old: obj({ a: s }), new: obj({ a: s, b: s }, { required: ['b'] }), rules: ['PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL', 'REQUIRED_PROPERTY_ADDED'], ok: 'forward' },
  {
    name: 'required property removed from an open model',
    old: obj({ a: s, b: s }, { required: ['a', 'b'] }),
    new: obj({ a: s }, { required: ['a'] }),
    rules: ['PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL', 'REQUIRED_PROPERTY_REMOVED'],
    ok: 'backward',
  },
  // closed content model
  { name: 'optional property added to a closed model', old: closed({ a: s }), new: closed({ a: s, b: s }), rules: ['PROPERTY_ADDED_TO_CLOSED_CONTENT_MODEL'], ok: 'backward' },
  { name: 'property removed from a closed model', old: closed({ a: s, email: s }), new: closed({ a: s }), rules: ['PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL'], ok: 'forward' },
  { name: 'required property added to a closed model', old: closed({ a: s }), new: closed({ a: s, b: s }, { required: ['b'] }), rules: ['PROPERTY_ADDED_TO_CLOSED_CONTENT_MODEL', 'REQUIRED_PROPERTY_ADDED'], ok: 'none' },
  { name: 'forbidden (false) property dropped from a closed model', old: closed({ a: s, legacy: false }), new: closed({ a: s }), rules: [], ok: 'both' },
  { name: 'forbidden (false) property declared in a closed model', old: closed({ a: s }), new: closed({ a: s, legacy: false }), rules: [], ok: 'both' },
  { name: 'model closed', old: obj({ a: s }), new: closed({ a: s }), rules: ['ADDITIONAL_PROPERTIES_NARROWED', 'TYPE_NARROWED'], ok: 'forward', lenient: 'both' },
  { name: 'model opened', old: closed({ a: s }), new: obj({ a: s }, { additionalProperties: true }), rules: ['ADDITIONAL_PROPERTIES_EXTENDED', 'TYPE_WIDENED'], ok: 'backward', lenient: 'both' },
  // partially open content model
  { name: 'open model becomes partially open', old: obj({ a: s }), new: obj({ a: s }, { additionalProperties: s }), rules: ['ADDITIONAL_PROPERTIES_NARROWED', 'TYPE_NARROWED'], ok: 'forward', lenient: 'both' },
  { name: 'additionalProperties schema widened', old: obj({ a: s }, { additionalProperties: s }), new: obj({ a: s }, { additionalProperties: { type: ['string', 'null'] } }), rules: ['ADDITIONAL_PROPERTIES_EXTENDED', 'TYPE_WIDENED'], ok: 'backward', lenient: 'both' },
  { name: 'partially open model closed', old: obj({ a: s }, { additionalProperties: s }), new: closed({ a: s }), rules: ['ADDITIONAL_PROPERTIES_NARROWED', 'TYPE_NARROWED'], ok: 'forward', lenient: 'both' },
  { name: 'property added, covered by additionalProperties', old: obj({ a: s }, { additionalProperties: s }), new: obj({ a: s, b: s }, { additionalProperties: s }), rules: ['PROPERTY_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL'], ok: 'both' },
  {
    name: 'property added, not covered by additionalProperties',
    old: obj({ a: s }, { additionalProperties: s }),
    new: obj({ a: s, b: i }, { additionalProperties: s }),
    rules: ['PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL', 'TYPE_CHANGED'],
    ok: 'none',
    lenient: 'backward',
  },
  { name: 'property removed, covered by additionalProperties', old: obj({ a: s, b: s }, { additionalProperties: s }), new: obj({ a: s }, { additionalProperties: s }), rules: ['PROPERTY_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL'], ok: 'both' },
  {
    name: 'constrained property removed into a looser additionalProperties',
    old: obj({ a: s, b: { type: 'string', maxLength: 5 } }, { additionalProperties: s }),
    new: obj({ a: s }, { additionalProperties: s }),
    rules: ['PROPERTY_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL', 'PROPERTY_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL', 'MAX_LENGTH_REMOVED'],
    ok: 'backward',
    lenient: 'both',
  },
  { name: 'property added, covered by a matching patternProperties', old: obj({}, { patternProperties: { '^x-': s } }), new: obj({ 'x-a': s }, { patternProperties: { '^x-': s } }), rules: ['PROPERTY_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL'], ok: 'both' },
  {
    // The new name must be an integer (declared) and a string (pattern): it can never appear.
    name: 'property added whose type contradicts a matching pattern',
    old: obj({}, { patternProperties: { '^x-': s } }),
    new: obj({ 'x-a': i }, { patternProperties: { '^x-': s } }),
    rules: ['PROPERTY_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL', 'PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL', 'TYPE_NARROWED'],
    ok: 'forward',
    lenient: 'both',
  },
  {
    name: 'pattern replaced by a declared property of another type',
    old: obj({}, { patternProperties: { '^x-': s } }),
    new: obj({ 'x-a': i }),
    rules: ['PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL', 'TYPE_CHANGED', 'PATTERN_PROPERTY_REMOVED', 'TYPE_WIDENED'],
    ok: 'none',
    lenient: 'backward',
  },
  { name: 'patternProperties added to an open model', old: obj({}), new: obj({}, { patternProperties: { '^n_': { type: 'number' } } }), rules: ['PATTERN_PROPERTY_ADDED', 'TYPE_NARROWED'], ok: 'forward', lenient: 'both' },
  {
    name: 'patternProperties removed from a closed model',
    old: obj({}, { patternProperties: { '^n_': { type: 'number' } }, additionalProperties: false }),
    new: obj({}, { additionalProperties: false }),
    rules: ['PATTERN_PROPERTY_REMOVED', 'TYPE_NARROWED'],
    ok: 'forward',
    lenient: 'both',
  },
  { name: 'patternProperties schema widened', old: obj({}, { patternProperties: { '^n_': i } }), new: obj({}, { patternProperties: { '^n_': { type: 'number' } } }), rules: ['TYPE_WIDENED'], ok: 'backward', lenient: 'both' },
  { name: 'declared property also governed by a pattern', old: obj({ n_a: { type: 'number' } }, { patternProperties: { '^n_': { minimum: 0 } } }), new: obj({ n_a: { type: 'number', minimum: 0 } }, { patternProperties: { '^n_': { minimum: 0 } } }), rules: [], ok: 'both' },
];

const others: Case[] = [
  { name: 'property becomes required', old: obj({ a: s }), new: obj({ a: s }, { required: ['a'] }), rules: ['REQUIRED_PROPERTY_ADDED'], ok: 'forward' },
  { name: 'property becomes optional', old: obj({ a: s }, { required: ['a'] }), new: obj({ a: s }), rules: ['REQUIRED_PROPERTY_REMOVED'], ok: 'backward' },
  { name: 'required reordered', old: obj({ a: s, b: s }, { required: ['a', 'b'] }), new: obj({ a: s, b: s }, { required: ['b', 'a'] }), rules: [], ok: 'both' },
  { name: 'undeclared name becomes required', old: obj({}), new: obj({}, { required: ['x'] }), rules: ['REQUIRED_PROPERTY_ADDED'], ok: 'forward' },
  {
    // Deviation from Confluent (which calls it compatible): a plain validator rejects old events without the property.
    name: 'property with a default becomes required',
    old: closed({ a: { type: 'string', default: 'x' } }),
    new: closed({ a: { type: 'string', default: 'x' } }, { required: ['a'] }),
    rules: ['REQUIRED_PROPERTY_WITH_DEFAULT_ADDED'],
    ok: 'forward',
  },
  {
    name: 'property with a default becomes required, readers apply defaults',
    old: closed({ a: { type: 'string', default: 'x' } }),
    new: closed({ a: { type: 'string', default: 'x' } }, { required: ['a'] }),
    rules: ['REQUIRED_PROPERTY_WITH_DEFAULT_ADDED'],
    ok: 'both',
    opts: { readersApplyDefaults: true },
  },
  { name: 'nested property narrowed', old: obj({ a: obj({ b: { type: 'number' } }) }), new: obj({ a: obj({ b: i }) }), rules: ['TYPE_NARROWED'], ok: 'forward' },
  { name: 'property type changed in a closed model', old: closed({ a: s }), new: closed({ a: i }), rules: ['TYPE_CHANGED'], ok: 'none' },
  { name: 'implicit object gets an explicit type', old: { properties: { a: s } }, new: obj({ a: s }), rules: ['TYPE_NARROWED'], ok: 'forward' },
  { name: 'minProperties added', old: obj({}), new: obj({}, { minProperties: 1 }), rules: ['MIN_PROPERTIES_ADDED'], ok: 'forward' },
  { name: 'minProperties removed', old: obj({}, { minProperties: 1 }), new: obj({}), rules: ['MIN_PROPERTIES_REMOVED'], ok: 'backward' },
  { name: 'minProperties decreased', old: obj({}, { minProperties: 2 }), new: obj({}, { minProperties: 1 }), rules: ['MIN_PROPERTIES_DECREASED'], ok: 'backward' },
  { name: 'minProperties increased', old: obj({}, { minProperties: 1 }), new: obj({}, { minProperties: 2 }), rules: ['MIN_PROPERTIES_INCREASED'], ok: 'forward' },
  { name: 'maxProperties decreased', old: obj({}, { maxProperties: 5 }), new: obj({}, { maxProperties: 3 }), rules: ['MAX_PROPERTIES_DECREASED'], ok: 'forward' },
  { name: 'maxProperties increased', old: obj({}, { maxProperties: 3 }), new: obj({}, { maxProperties: 5 }), rules: ['MAX_PROPERTIES_INCREASED'], ok: 'backward' },
  { name: 'maxProperties added', old: obj({}), new: obj({}, { maxProperties: 3 }), rules: ['MAX_PROPERTIES_ADDED'], ok: 'forward' },
  { name: 'maxProperties removed', old: obj({}, { maxProperties: 3 }), new: obj({}), rules: ['MAX_PROPERTIES_REMOVED'], ok: 'backward' },
  { name: 'dependentRequired added', old: obj({ a: s, b: s }), new: obj({ a: s, b: s }, { dependentRequired: { a: ['b'] } }), rules: ['DEPENDENT_REQUIRED_ADDED'], ok: 'forward' },
  { name: 'dependentRequired removed', old: obj({ a: s, b: s }, { dependentRequired: { a: ['b'] } }), new: obj({ a: s, b: s }), rules: ['DEPENDENT_REQUIRED_REMOVED'], ok: 'backward' },
  { name: 'dependentRequired extended', old: obj({}, { dependentRequired: { a: ['b'] } }), new: obj({}, { dependentRequired: { a: ['b', 'c'] } }), rules: ['DEPENDENT_REQUIRED_EXTENDED'], ok: 'forward' },
  { name: 'dependentRequired narrowed', old: obj({}, { dependentRequired: { a: ['b', 'c'] } }), new: obj({}, { dependentRequired: { a: ['b'] } }), rules: ['DEPENDENT_REQUIRED_NARROWED'], ok: 'backward' },
  { name: 'draft-07 array dependencies rewritten as dependentRequired', old: obj({}, { dependencies: { a: ['b'] } }), new: obj({}, { dependentRequired: { a: ['b'] } }), rules: [], ok: 'both' },
  { name: 'dependentSchemas added', old: obj({}), new: obj({}, { dependentSchemas: { a: { required: ['b'] } } }), rules: ['DEPENDENT_SCHEMA_ADDED'], ok: 'forward' },
  { name: 'dependentSchemas removed', old: obj({}, { dependentSchemas: { a: { required: ['b'] } } }), new: obj({}), rules: ['DEPENDENT_SCHEMA_REMOVED'], ok: 'backward' },
  { name: 'schema dependency requires more', old: obj({}, { dependencies: { a: { required: ['b'] } } }), new: obj({}, { dependencies: { a: { required: ['b', 'c'] } } }), rules: ['REQUIRED_PROPERTY_ADDED'], ok: 'forward' },
  { name: 'propertyNames added', old: obj({}), new: obj({}, { propertyNames: { pattern: '^[a-z]+$' } }), rules: ['PROPERTY_NAMES_ADDED'], ok: 'forward' },
  { name: 'propertyNames removed', old: obj({}, { propertyNames: { pattern: '^[a-z]+$' } }), new: obj({}), rules: ['PROPERTY_NAMES_REMOVED'], ok: 'backward' },
  { name: 'propertyNames maxLength decreased', old: obj({}, { propertyNames: { maxLength: 10 } }), new: obj({}, { propertyNames: { maxLength: 5 } }), rules: ['MAX_LENGTH_DECREASED'], ok: 'forward' },
  { name: 'object keywords ignored when the old schema was no object', old: { type: 'string' }, new: { type: ['string', 'object'], required: ['a'] }, rules: ['TYPE_WIDENED'], ok: 'backward' },
];

export const TABLES: Array<[string, Case[]]> = [
  ['object content models', contentModels],
  ['other object keywords', others],
];
