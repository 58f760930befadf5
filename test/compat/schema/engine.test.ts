import { describe, expect, it } from 'vitest';
import {
  canRead, checkCompatibility, classifyChange, isReadable, RULES, RULE_IDS, SchemaError, SchemaSource, type JsonSchema,
} from '../../../src/compat/schema/index.js';
import { TABLES as typesValues } from './cases/types-values.js';
import { TABLES as numbersStrings } from './cases/numbers-strings.js';
import { TABLES as arrays } from './cases/arrays.js';
import { TABLES as objects } from './cases/objects.js';
import { TABLES as combinatorsRefs } from './cases/combinators-refs.js';
import { TABLES as soundness } from './cases/soundness.js';
import { TABLES as draft2020 } from './cases/draft2020.js';

const ALL_CASES = [...typesValues, ...numbersStrings, ...arrays, ...objects, ...combinatorsRefs, ...soundness, ...draft2020].flatMap(([, cases]) => cases);

const s = { type: 'string' };

describe('rule reference', () => {
  it('has a description and a message for every rule id', () => {
    for (const id of RULE_IDS) {
      expect(RULES[id].description.length, id).toBeGreaterThan(10);
      expect(typeof RULES[id].message({})).toBe('string');
    }
  });
  it('every rule id is exercised by the given/want table', () => {
    const used = new Set(ALL_CASES.flatMap((c) => c.rules));
    expect(RULE_IDS.filter((id) => !used.has(id))).toEqual([]);
  });
  it('the table holds at least 150 cases', () => {
    expect(ALL_CASES.length).toBeGreaterThanOrEqual(150);
  });
});

describe('findings', () => {
  it('read like buf: what changed, where, and whom it breaks', () => {
    const [change] = checkCompatibility(
      [{ type: 'object', properties: { email: s }, additionalProperties: false }],
      { type: 'object', properties: {}, additionalProperties: false },
      'BACKWARD',
    ).changes;
    expect(change).toEqual({
      rule: 'PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL',
      path: '/properties/email',
      oldPath: '/properties/email',
      breaking: true,
      kind: 'breaking',
      against: 0,
      message: 'Previously present property "email" was removed from a closed content model; readers on the new schema reject events written with the old one.',
    });
  });
  it('point at the keyword in both schemas', () => {
    const [c] = canRead({ type: 'object', properties: { a: { type: 'string', maxLength: 5 } } }, { type: 'object', properties: { a: { type: 'string', maxLength: 10 } } });
    expect(c).toMatchObject({ rule: 'MAX_LENGTH_DECREASED', path: '/properties/a/maxLength', oldPath: '/properties/a/maxLength', newPath: '/properties/a/maxLength' });
    expect(c?.message).toBe('"maxLength" was decreased from 10 to 5; readers on the new schema reject events written with the old one.');
  });
  it('name the forward consequence for a FORWARD check', () => {
    const { changes } = checkCompatibility([{ enum: ['a'] }], { enum: ['a', 'b'] }, 'FORWARD');
    expect(changes[0]?.message).toBe('Value "b" was added to the allowed values; readers on the old schema reject events written with the new one.');
  });
  it('canRead names the writer as old and the reader as new', () => {
    expect(canRead({ enum: ['a'] }, { enum: ['a', 'b'] }).map((c) => [c.rule, c.breaking])).toEqual([['ENUM_VALUE_REMOVED', true]]);
    expect(isReadable({ enum: ['a', 'b'] }, { enum: ['a'] })).toBe(true);
  });
});

describe('levels', () => {
  // status values: v1 {new, legacy}; v2 adds "done"; v3 drops "legacy".
  const v1 = { type: 'object', properties: { status: { enum: ['new', 'legacy'] } }, additionalProperties: false };
  const v2 = { type: 'object', properties: { status: { enum: ['new', 'legacy', 'done'] } }, additionalProperties: false };
  const v3 = { type: 'object', properties: { status: { enum: ['new', 'done'] } }, additionalProperties: false };
  it('BACKWARD checks against the latest version only', () => {
    expect(checkCompatibility([v1], v2, 'BACKWARD').compatible).toBe(true);
    expect(checkCompatibility([v1, v2], v3, 'BACKWARD').compatible).toBe(false); // "legacy" events
  });
  it('transitive chain: v3 is compatible with v2 but not with v1', () => {
    // maxLength: v1 10, v2 5 (a breaking release, accepted under FORWARD), v3 5 again.
    const w1 = { type: 'string', maxLength: 10 };
    const w2 = { type: 'string', maxLength: 5 };
    const w3 = { type: 'string', maxLength: 5, description: 'v3' };
    expect(checkCompatibility([w1, w2], w3, 'BACKWARD').compatible).toBe(true);
    const t = checkCompatibility([w1, w2], w3, 'BACKWARD_TRANSITIVE');
    expect(t.compatible).toBe(false);
    expect(t.changes.filter((x) => x.breaking)).toMatchObject([{ rule: 'MAX_LENGTH_DECREASED', against: 0 }]);
    expect(checkCompatibility([w1, w2], w3, 'FULL').compatible).toBe(true);
    expect(checkCompatibility([w1, w2], w3, 'FULL_TRANSITIVE').compatible).toBe(false);
  });
  it('FORWARD_TRANSITIVE: v3 data is read by v2 but not by v1 ("done")', () => {
    expect(checkCompatibility([v1, v2], v3, 'FORWARD').compatible).toBe(true);
    const t = checkCompatibility([v1, v2], v3, 'FORWARD_TRANSITIVE');
    expect(t.compatible).toBe(false);
    expect(t.changes.filter((x) => x.breaking)).toMatchObject([{ rule: 'ENUM_VALUE_ADDED', against: 0, message: expect.stringContaining('"done"') }]);
    expect(checkCompatibility([v1], v2, 'FULL').compatible).toBe(false);
  });
  it('NONE accepts anything but still lists the changes', () => {
    const r = checkCompatibility([s], { type: 'integer' }, 'NONE');
    expect(r).toMatchObject({ compatible: true, changes: [{ rule: 'TYPE_CHANGED', breaking: false }] });
  });
  it('no previous version is always compatible', () => {
    expect(checkCompatibility([], s, 'FULL_TRANSITIVE')).toEqual({ compatible: true, changes: [] });
  });
});

describe('semver classification', () => {
  it.each([
    ['breaking change needs a major', s, { type: 'integer' }, 'FULL', 'major'],
    ['optional property in a closed model under FULL is breaking (old readers reject it)', { type: 'object', additionalProperties: false }, { type: 'object', properties: { a: s }, additionalProperties: false }, 'FULL', 'major'],
    ['optional property in a closed model under BACKWARD is additive', { type: 'object', additionalProperties: false }, { type: 'object', properties: { a: s }, additionalProperties: false }, 'BACKWARD', 'minor'],
    ['description only is a patch', { ...s, description: 'a' }, { ...s, description: 'b' }, 'FULL', 'patch'],
    ['no change needs nothing', s, { type: 'string' }, 'FULL', 'none'],
    ['NONE still classifies truthfully', s, { type: 'integer' }, 'NONE', 'major'],
  ] as const)('%s', (_name, a, b, level, bump) => {
    expect(classifyChange(a as JsonSchema, b as JsonSchema, { level }).bump).toBe(bump);
  });
  it('lenient policy: adding an optional property to an open model is a minor change', () => {
    const a = { type: 'object', properties: { id: s } };
    const b = { type: 'object', properties: { id: s, note: s } };
    expect(classifyChange(a, b, { level: 'FULL', policy: 'lenient' }).bump).toBe('minor');
    expect(classifyChange(a, b, { level: 'FULL', policy: 'strict' }).bump).toBe('major');
  });
});

describe('recursion terminates', () => {
  it('circular object graphs (as the AsyncAPI parser dereferences them)', () => {
    const a: Record<string, any> = { type: 'object', properties: { name: s } };
    a.properties.parent = a;
    a.properties.children = { type: 'array', items: a };
    const b: Record<string, any> = { type: 'object', properties: { name: { type: 'string', maxLength: 3 } } };
    b.properties.parent = b;
    b.properties.children = { type: 'array', items: b };
    expect(canRead(b, a).map((c) => [c.rule, c.path])).toEqual([['MAX_LENGTH_ADDED', '/properties/name/maxLength']]);
    expect(canRead(a, a)).toEqual([]);
  });
  it('mutually recursive definitions, and a cycle through allOf and anyOf', () => {
    const defs = {
      A: { type: 'object', properties: { b: { $ref: '#/definitions/B' } } },
      B: { anyOf: [{ type: 'null' }, { allOf: [{ $ref: '#/definitions/A' }, { properties: { x: s } }] }] },
    };
    const old = { definitions: defs, $ref: '#/definitions/A' };
    const next = { definitions: { ...defs, B: { anyOf: [{ type: 'null' }, { allOf: [{ $ref: '#/definitions/A' }, { properties: { x: { type: 'integer' } } }] }] } }, $ref: '#/definitions/A' };
    expect(canRead(next, old).some((c) => c.breaking)).toBe(true);
    expect(canRead(old, old)).toEqual([]);
  });
  it('an enumerated writer against a recursive reader', () => {
    const reader: Record<string, any> = { type: 'object', properties: {} };
    reader.properties.next = reader;
    expect(canRead(reader, { enum: [{ next: { next: {} } }] }).filter((c) => c.breaking)).toEqual([]);
    expect(canRead(reader, { enum: [{ next: 1 }] }).filter((c) => c.breaking).map((c) => c.rule)).toEqual(['ENUM_VALUE_REJECTED']);
  });
});

describe('malformed schemas give a clear SchemaError', () => {
  const cases: Array<[string, unknown, string, string]> = [
    ['not a schema', 42, '', 'expected a schema'],
    ['type is a number', { type: 42 }, '/type', '"type" must be a type name'],
    ['unknown type name', { type: 'strin' }, '/type', 'unknown type'],
    ['properties not an object', { properties: [] }, '/properties', '"properties" must be an object'],
    ['property schema not a schema', { properties: { a: 'x' } }, '/properties/a', 'expected a schema'],
    ['dangling $ref', { $ref: '#/definitions/Nope' }, '/$ref', 'points at nothing'],
    ['cross-file $ref without resolver', { $ref: 'other.json#/A' }, '/$ref', 'cannot resolve'],
    ['$ref cycle with no schema', { definitions: { A: { $ref: '#/definitions/B' }, B: { $ref: '#/definitions/A' } }, $ref: '#/definitions/A' }, '', 'circular "$ref"'],
    ['maxLength not a number', { type: 'string', maxLength: 'ten' }, '/maxLength', 'must be a number'],
    ['required not strings', { type: 'object', required: [1] }, '/required', 'array of strings'],
    ['invalid pattern', { type: 'string', pattern: '(' }, '/pattern', 'invalid regular expression'],
    ['enum not an array', { enum: 'a' }, '/enum', '"enum" must be an array'],
  ];
  it.each(cases)('%s', (_name, bad, pointer, text) => {
    let err: unknown;
    try {
      checkCompatibility([s], bad as JsonSchema, 'FULL');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SchemaError);
    const se = err as SchemaError;
    expect(se.side).toBe('new');
    if (pointer) expect(se.pointer.endsWith(pointer)).toBe(true);
    expect(se.message).toContain(text);
  });
  it('canRead says which side is malformed', () => {
    expect(() => canRead(s, { type: 42 } as JsonSchema)).toThrow(/writer schema/);
    expect(() => canRead({ type: 42 } as JsonSchema, s)).toThrow(/reader schema/);
  });
});

describe('cross-document $ref through resolveRef', () => {
  const common = { definitions: { Money: { type: 'object', properties: { amount: { type: 'number' }, currency: { $ref: '#/definitions/Currency' } } }, Currency: { enum: ['EUR', 'USD'] } } };
  const commonNext = { definitions: { Money: common.definitions.Money, Currency: { enum: ['EUR'] } } };
  const schema = { type: 'object', properties: { total: { $ref: 'common.json#/definitions/Money' } } };
  it('follows refs into the other document and resolves its local refs there', () => {
    const changes = canRead(new SchemaSource(schema, 'new/order.json'), new SchemaSource(schema, 'old/order.json'), {
      resolveRef: (ref, base) => (ref === 'common.json' ? { root: base?.startsWith('new/') ? commonNext : common, base: base?.replace('order.json', 'common.json') } : undefined),
    });
    expect(changes).toMatchObject([{ rule: 'ENUM_VALUE_REMOVED', breaking: true, path: 'new/common.json#/definitions/Currency/enum', oldPath: 'old/common.json#/definitions/Currency/enum' }]);
  });
});
