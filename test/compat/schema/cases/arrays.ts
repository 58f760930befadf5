import type { Case } from '../table.js';

const arr = (extra: Record<string, unknown> = {}) => ({ type: 'array', ...extra });
const s = { type: 'string' };
const i = { type: 'integer' };

const cases: Case[] = [
  { name: 'item type gains null', old: arr({ items: s }), new: arr({ items: { type: ['string', 'null'] } }), rules: ['TYPE_WIDENED'], ok: 'backward' },
  { name: 'item type changed', old: arr({ items: s }), new: arr({ items: i }), rules: ['TYPE_CHANGED'], ok: 'none' },
  { name: 'item schema added to an untyped list', old: arr(), new: arr({ items: s }), rules: ['TYPE_NARROWED'], ok: 'forward' },
  { name: 'item schema relaxed to anything', old: arr({ items: s }), new: arr({ items: true }), rules: ['TYPE_WIDENED'], ok: 'backward' },
  { name: 'minItems added', old: arr(), new: arr({ minItems: 1 }), rules: ['MIN_ITEMS_ADDED'], ok: 'forward' },
  { name: 'minItems removed', old: arr({ minItems: 1 }), new: arr(), rules: ['MIN_ITEMS_REMOVED'], ok: 'backward' },
  { name: 'minItems decreased', old: arr({ minItems: 2 }), new: arr({ minItems: 1 }), rules: ['MIN_ITEMS_DECREASED'], ok: 'backward' },
  { name: 'minItems increased', old: arr({ minItems: 1 }), new: arr({ minItems: 2 }), rules: ['MIN_ITEMS_INCREASED'], ok: 'forward' },
  { name: 'maxItems decreased', old: arr({ maxItems: 5 }), new: arr({ maxItems: 3 }), rules: ['MAX_ITEMS_DECREASED'], ok: 'forward' },
  { name: 'maxItems increased', old: arr({ maxItems: 3 }), new: arr({ maxItems: 5 }), rules: ['MAX_ITEMS_INCREASED'], ok: 'backward' },
  { name: 'maxItems added', old: arr(), new: arr({ maxItems: 3 }), rules: ['MAX_ITEMS_ADDED'], ok: 'forward' },
  { name: 'maxItems removed', old: arr({ maxItems: 3 }), new: arr(), rules: ['MAX_ITEMS_REMOVED'], ok: 'backward' },
  { name: 'uniqueItems added', old: arr(), new: arr({ uniqueItems: true }), rules: ['UNIQUE_ITEMS_ADDED'], ok: 'forward' },
  { name: 'uniqueItems removed', old: arr({ uniqueItems: true }), new: arr(), rules: ['UNIQUE_ITEMS_REMOVED'], ok: 'backward' },
  { name: 'uniqueItems false is no constraint', old: arr({ uniqueItems: false }), new: arr(), rules: [], ok: 'both' },
  { name: 'contains added', old: arr(), new: arr({ contains: s }), rules: ['CONTAINS_ADDED'], ok: 'forward' },
  { name: 'contains removed', old: arr({ contains: s }), new: arr(), rules: ['CONTAINS_REMOVED'], ok: 'backward' },
  { name: 'contains schema widened', old: arr({ contains: s }), new: arr({ contains: { type: ['string', 'null'] } }), rules: ['TYPE_WIDENED'], ok: 'backward' },
  {
    name: 'draft-07 closed tuple gains a position',
    old: arr({ items: [s, i], additionalItems: false }),
    new: arr({ items: [s, i, { type: 'boolean' }], additionalItems: false }),
    rules: ['TUPLE_ITEM_ADDED', 'TYPE_WIDENED'],
    ok: 'backward',
  },
  {
    name: '2020-12 closed tuple gains a position',
    old: arr({ prefixItems: [s], items: false }),
    new: arr({ prefixItems: [s, i], items: false }),
    rules: ['TUPLE_ITEM_ADDED', 'TYPE_WIDENED'],
    ok: 'backward',
  },
  {
    name: '2020-12 closed tuple loses a position',
    old: arr({ prefixItems: [s, i], items: false }),
    new: arr({ prefixItems: [s], items: false }),
    rules: ['TUPLE_ITEM_REMOVED', 'TYPE_NARROWED'],
    ok: 'forward',
  },
  {
    name: 'open tuple gains a typed position (old data may hold anything there)',
    old: arr({ prefixItems: [s] }),
    new: arr({ prefixItems: [s, i] }),
    rules: ['TUPLE_ITEM_ADDED', 'TYPE_NARROWED'],
    ok: 'forward',
  },
  {
    name: 'open tuple loses a typed position',
    old: arr({ prefixItems: [s, i] }),
    new: arr({ prefixItems: [s] }),
    rules: ['TUPLE_ITEM_REMOVED', 'TYPE_WIDENED'],
    ok: 'backward',
  },
  { name: 'draft-07 tuple opened with additionalItems', old: arr({ items: [s], additionalItems: false }), new: arr({ items: [s], additionalItems: true }), rules: ['TYPE_WIDENED'], ok: 'backward' },
  { name: 'draft-07 tuple rewritten in 2020-12 spelling', old: arr({ items: [s], additionalItems: false }), new: arr({ prefixItems: [s], items: false }), rules: [], ok: 'both' },
  {
    name: 'tuple positions with a rest schema that matches the new position',
    old: arr({ prefixItems: [s], items: i }),
    new: arr({ prefixItems: [s, i], items: i }),
    rules: ['TUPLE_ITEM_ADDED'],
    ok: 'both',
  },
  {
    name: 'nested object in items made optional',
    old: arr({ items: { type: 'object', properties: { a: s }, required: ['a'] } }),
    new: arr({ items: { type: 'object', properties: { a: s } } }),
    rules: ['REQUIRED_PROPERTY_REMOVED'],
    ok: 'backward',
  },
  { name: 'array of arrays, inner limit decreased', old: arr({ items: arr({ maxItems: 4 }) }), new: arr({ items: arr({ maxItems: 2 }) }), rules: ['MAX_ITEMS_DECREASED'], ok: 'forward' },
];

export const TABLES: Array<[string, Case[]]> = [
  ['arrays', cases],
];
