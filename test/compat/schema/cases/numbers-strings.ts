import type { Case } from '../table.js';

const num = (extra: Record<string, unknown> = {}) => ({ type: 'number', ...extra });
const int = (extra: Record<string, unknown> = {}) => ({ type: 'integer', ...extra });
const str = (extra: Record<string, unknown> = {}) => ({ type: 'string', ...extra });

const numbers: Case[] = [
  { name: 'minimum added', old: num(), new: num({ minimum: 0 }), rules: ['MINIMUM_ADDED'], ok: 'forward' },
  { name: 'minimum removed', old: num({ minimum: 0 }), new: num(), rules: ['MINIMUM_REMOVED'], ok: 'backward' },
  { name: 'minimum increased', old: num({ minimum: 0 }), new: num({ minimum: 5 }), rules: ['MINIMUM_INCREASED'], ok: 'forward' },
  { name: 'minimum decreased', old: num({ minimum: 5 }), new: num({ minimum: 0 }), rules: ['MINIMUM_DECREASED'], ok: 'backward' },
  { name: 'maximum decreased', old: num({ maximum: 10 }), new: num({ maximum: 5 }), rules: ['MAXIMUM_DECREASED'], ok: 'forward' },
  { name: 'maximum increased', old: num({ maximum: 5 }), new: num({ maximum: 10 }), rules: ['MAXIMUM_INCREASED'], ok: 'backward' },
  { name: 'maximum added', old: num(), new: num({ maximum: 5 }), rules: ['MAXIMUM_ADDED'], ok: 'forward' },
  { name: 'maximum removed', old: num({ maximum: 5 }), new: num(), rules: ['MAXIMUM_REMOVED'], ok: 'backward' },
  { name: 'inclusive minimum made exclusive (draft-06 numeric)', old: num({ minimum: 0 }), new: num({ exclusiveMinimum: 0 }), rules: ['MINIMUM_INCREASED'], ok: 'forward' },
  { name: 'exclusive minimum made inclusive', old: num({ exclusiveMinimum: 0 }), new: num({ minimum: 0 }), rules: ['MINIMUM_DECREASED'], ok: 'backward' },
  { name: 'draft-04 boolean exclusiveMinimum equals draft-06 numeric one', old: num({ minimum: 0, exclusiveMinimum: true }), new: num({ exclusiveMinimum: 0 }), rules: [], ok: 'both' },
  { name: 'draft-04 exclusiveMaximum dropped (bound becomes inclusive)', old: num({ maximum: 10, exclusiveMaximum: true }), new: num({ maximum: 10 }), rules: ['MAXIMUM_INCREASED'], ok: 'backward' },
  { name: 'draft-04 exclusiveMaximum added', old: num({ maximum: 10 }), new: num({ maximum: 10, exclusiveMaximum: true }), rules: ['MAXIMUM_DECREASED'], ok: 'forward' },
  { name: 'integer: exclusiveMinimum 0 equals minimum 1', old: int({ exclusiveMinimum: 0 }), new: int({ minimum: 1 }), rules: [], ok: 'both' },
  { name: 'integer: minimum 1.5 equals minimum 2', old: int({ minimum: 1.5 }), new: int({ minimum: 2 }), rules: [], ok: 'both' },
  { name: 'number: minimum 1.5 raised to 2', old: num({ minimum: 1.5 }), new: num({ minimum: 2 }), rules: ['MINIMUM_INCREASED'], ok: 'forward' },
  { name: 'numeric exclusiveMaximum raised', old: num({ exclusiveMaximum: 10 }), new: num({ exclusiveMaximum: 11 }), rules: ['MAXIMUM_INCREASED'], ok: 'backward' },
  { name: 'tighter of maximum and exclusiveMaximum is what counts', old: num({ maximum: 5, exclusiveMaximum: 10 }), new: num({ maximum: 5 }), rules: [], ok: 'both' },
  { name: 'range narrowed on both ends', old: num({ minimum: 0, maximum: 10 }), new: num({ minimum: 1, maximum: 9 }), rules: ['MINIMUM_INCREASED', 'MAXIMUM_DECREASED'], ok: 'forward' },
  { name: 'range shifted', old: num({ minimum: 0, maximum: 10 }), new: num({ minimum: 5, maximum: 15 }), rules: ['MINIMUM_INCREASED', 'MAXIMUM_INCREASED'], ok: 'none' },
  { name: 'multipleOf added', old: num(), new: num({ multipleOf: 2 }), rules: ['MULTIPLE_OF_ADDED'], ok: 'forward' },
  { name: 'multipleOf removed', old: num({ multipleOf: 2 }), new: num(), rules: ['MULTIPLE_OF_REMOVED'], ok: 'backward' },
  // Bounded writers: ajv rejects quotients of 1e21 or more (parseInt("1e+21") is 1), so a
  // divisor is proven safe only when the writer's bounds keep quotients below that.
  { name: 'multipleOf expanded to a multiple', old: num({ multipleOf: 2, minimum: -1000, maximum: 1000 }), new: num({ multipleOf: 4, minimum: -1000, maximum: 1000 }), rules: ['MULTIPLE_OF_EXPANDED'], ok: 'forward' },
  { name: 'multipleOf reduced to a divisor', old: num({ multipleOf: 4, minimum: -1000, maximum: 1000 }), new: num({ multipleOf: 2, minimum: -1000, maximum: 1000 }), rules: ['MULTIPLE_OF_REDUCED'], ok: 'backward' },
  { name: 'multipleOf reduced to a divisor, unbounded: 3.6e21 is a multiple of 4 to ajv, not of 2', old: num({ multipleOf: 4 }), new: num({ multipleOf: 2 }), rules: ['MULTIPLE_OF_REDUCED', 'MULTIPLE_OF_CHANGED'], ok: 'none' },
  { name: 'multipleOf changed to an unrelated value', old: num({ multipleOf: 2 }), new: num({ multipleOf: 3 }), rules: ['MULTIPLE_OF_CHANGED'], ok: 'none' },
  { name: 'decimal multipleOf halved (a power-of-two ratio is exact)', old: num({ multipleOf: 0.1, minimum: 0, maximum: 100 }), new: num({ multipleOf: 0.05, minimum: 0, maximum: 100 }), rules: ['MULTIPLE_OF_REDUCED'], ok: 'backward' },
  { name: 'decimal multipleOf 0.3 => 0.1 (0.3 / 0.1 is 2.9999999999999996 to ajv)', old: num({ multipleOf: 0.3, minimum: 0, maximum: 100 }), new: num({ multipleOf: 0.1, minimum: 0, maximum: 100 }), rules: ['MULTIPLE_OF_CHANGED'], ok: 'none' },
  { name: 'bounded integer: multipleOf 1 constrains nothing', old: int({ minimum: 0, maximum: 1e6 }), new: int({ minimum: 0, maximum: 1e6, multipleOf: 1 }), rules: [], ok: 'both' },
  { name: 'multipleOf 1 rewritten as type integer', old: num({ multipleOf: 1, minimum: 0, maximum: 1e6 }), new: int({ minimum: 0, maximum: 1e6 }), rules: [], ok: 'both' },
  { name: 'type integer rewritten as multipleOf 1 (unbounded: ajv rejects 1e21 as a multiple of 1)', old: int(), new: num({ multipleOf: 1 }), rules: ['MULTIPLE_OF_ADDED'], ok: 'forward' },
  { name: 'integer exclusive bounds rewritten as inclusive ones', old: int({ exclusiveMinimum: 0, exclusiveMaximum: 10 }), new: int({ minimum: 1, maximum: 9 }), rules: [], ok: 'both' },
  { name: 'multipleOf on an integer from 0.3 to 0.1 stays unproven', old: int({ multipleOf: 0.3 }), new: int({ multipleOf: 0.1 }), rules: ['MULTIPLE_OF_CHANGED'], ok: 'none' },
  { name: 'unbounded integer: multipleOf 1 rejects 1e21', old: int(), new: int({ multipleOf: 1 }), rules: ['MULTIPLE_OF_ADDED'], ok: 'forward' },
  { name: 'number bounds on a string-only schema are irrelevant', old: str({ minimum: 5 }), new: str({ minimum: 10 }), rules: [], ok: 'both' },
  { name: 'integer to number with the same bounds', old: int({ minimum: 0 }), new: num({ minimum: 0 }), rules: ['TYPE_WIDENED'], ok: 'backward' },
];

const strings: Case[] = [
  { name: 'maxLength decreased', old: str({ maxLength: 10 }), new: str({ maxLength: 5 }), rules: ['MAX_LENGTH_DECREASED'], ok: 'forward' },
  { name: 'maxLength increased', old: str({ maxLength: 5 }), new: str({ maxLength: 10 }), rules: ['MAX_LENGTH_INCREASED'], ok: 'backward' },
  { name: 'maxLength added', old: str(), new: str({ maxLength: 5 }), rules: ['MAX_LENGTH_ADDED'], ok: 'forward' },
  { name: 'maxLength removed', old: str({ maxLength: 5 }), new: str(), rules: ['MAX_LENGTH_REMOVED'], ok: 'backward' },
  { name: 'minLength added', old: str(), new: str({ minLength: 1 }), rules: ['MIN_LENGTH_ADDED'], ok: 'forward' },
  { name: 'minLength decreased', old: str({ minLength: 3 }), new: str({ minLength: 1 }), rules: ['MIN_LENGTH_DECREASED'], ok: 'backward' },
  { name: 'minLength increased', old: str({ minLength: 1 }), new: str({ minLength: 3 }), rules: ['MIN_LENGTH_INCREASED'], ok: 'forward' },
  { name: 'minLength removed', old: str({ minLength: 3 }), new: str(), rules: ['MIN_LENGTH_REMOVED'], ok: 'backward' },
  { name: 'minLength 0 constrains nothing', old: str(), new: str({ minLength: 0 }), rules: [], ok: 'both' },
  { name: 'pattern added', old: str(), new: str({ pattern: '^[a-z]+$' }), rules: ['PATTERN_ADDED'], ok: 'forward' },
  { name: 'pattern removed', old: str({ pattern: '^[a-z]+$' }), new: str(), rules: ['PATTERN_REMOVED'], ok: 'backward' },
  { name: 'pattern changed to a proven wider one', old: str({ pattern: '^[a-z]+$' }), new: str({ pattern: '^[a-z0-9]+$' }), rules: ['PATTERN_WIDENED'], ok: 'backward' },
  { name: 'pattern changed, inclusion not proven either way', old: str({ pattern: '^[a-z]+$' }), new: str({ pattern: '^[a-z]+[0-9]$' }), rules: ['PATTERN_CHANGED'], ok: 'none' },
  { name: 'pattern unchanged', old: str({ pattern: '^a' }), new: str({ pattern: '^a' }), rules: [], ok: 'both' },
  { name: 'format added', old: str(), new: str({ format: 'email' }), rules: ['FORMAT_ADDED'], ok: 'forward' },
  { name: 'format removed', old: str({ format: 'email' }), new: str(), rules: ['FORMAT_REMOVED'], ok: 'backward' },
  { name: 'format changed', old: str({ format: 'date' }), new: str({ format: 'date-time' }), rules: ['FORMAT_CHANGED'], ok: 'none' },
  { name: 'length limits swapped for wider ones', old: str({ minLength: 2, maxLength: 4 }), new: str({ minLength: 1, maxLength: 8 }), rules: ['MIN_LENGTH_DECREASED', 'MAX_LENGTH_INCREASED'], ok: 'backward' },
  { name: 'string limits ignored when the old schema had no string type', old: { type: 'integer' }, new: { type: ['integer', 'string'], maxLength: 3 }, rules: ['TYPE_WIDENED'], ok: 'backward' },
];

export const TABLES: Array<[string, Case[]]> = [
  ['numbers', numbers],
  ['strings', strings],
];
