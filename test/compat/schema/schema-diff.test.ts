import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatSchemaDiffHuman, formatSchemaDiffJson, schemaDiff, SchemaDiffInputError } from '../../../src/compat/schema/schema-diff.js';

const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'diff');
const f = (name: string) => path.join(dir, name);

describe('schemaDiff', () => {
  it('compares a JSON and a YAML file, following relative cross-file $refs (default BACKWARD)', async () => {
    const r = await schemaDiff(f('old.json'), f('new.yaml'));
    expect(r.compatible).toBe(false);
    const breaking = r.changes.filter((c) => c.breaking).map((c) => [c.rule, c.path]);
    expect(breaking).toEqual([
      ['PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL', '/properties/email'],
      ['ENUM_VALUE_REMOVED', expect.stringMatching(/common-next\.yaml#\/definitions\/Currency\/enum$/)],
    ]);
  });
  it('FORWARD: the old schema reads what the new one writes', async () => {
    const r = await schemaDiff(f('old.json'), f('new.yaml'), { level: 'FORWARD' });
    expect(r.compatible).toBe(true);
  });
  it('the same file is compatible with itself', async () => {
    expect((await schemaDiff(f('old.json'), f('old.json'), { level: 'FULL' })).changes).toEqual([]);
  });
  it('JSON output carries rule, path and breaking', async () => {
    const json = JSON.parse(formatSchemaDiffJson(await schemaDiff(f('old.json'), f('new.yaml'))));
    expect(json.compatible).toBe(false);
    expect(json.changes[0]).toMatchObject({ rule: expect.any(String), path: expect.any(String), breaking: expect.any(Boolean) });
  });
  it('human output: breaking findings first, then a verdict', async () => {
    const text = formatSchemaDiffHuman(await schemaDiff(f('old.json'), f('new.yaml')));
    const lines = text.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^error (PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL|ENUM_VALUE_REMOVED) /);
    expect(lines.at(-1)).toBe('incompatible under BACKWARD (strict policy): 2 breaking change(s)');
    expect(text).toContain('error PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL #/properties/email: Previously present property "email" was removed from a closed content model');
  });
  it.each([
    ['missing file', 'nope.json', /nope\.json: cannot read file \(ENOENT\)/],
    ['YAML syntax error with line:col', 'bad.yaml', /bad\.yaml:4:1: invalid YAML: Flow map in block collection must be sufficiently indented and end with a }$/],
    ['JSON syntax error with line:col', 'bad.json', /bad\.json:2:\d+: invalid JSON/],
    ['malformed schema names the pointer', 'malformed.json', /malformed\.json: malformed schema at #\/properties\/id\/type: "type" must be/],
    ['dangling cross-file $ref names the missing file', 'dangling.json', /missing\.json: cannot read file/],
  ])('bad input: %s', async (_name, file, message) => {
    const err = await schemaDiff(f('old.json'), f(file)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SchemaDiffInputError);
    expect((err as Error).message).toMatch(message);
  });
});

describe('schemaDiff --explain', () => {
  it('shows an instance valid under the old schema and rejected by the new one, across file $refs', async () => {
    const r = await schemaDiff(f('old.json'), f('new.yaml'), { explain: true });
    expect(r.witnesses).toBeDefined();
    const value = r.witnesses?.backward;
    expect(value).toBeDefined();
    expect(value).not.toBeNull();
    const text = formatSchemaDiffHuman(r);
    expect(text).toMatch(/^witness \(backward\): .+ is valid under the old schema and rejected by the new one$/m);
    expect(JSON.parse(formatSchemaDiffJson(r)).witnesses.backward).toEqual(value);
  });
  it('FULL explains each breaking direction only', async () => {
    const r = await schemaDiff(f('old.json'), f('new.yaml'), { level: 'FULL', explain: true });
    expect(Object.keys(r.witnesses ?? {})).toEqual(['backward']);
  });
  it('a compatible pair has nothing to explain', async () => {
    expect((await schemaDiff(f('old.json'), f('new.yaml'), { level: 'FORWARD', explain: true })).witnesses).toBeUndefined();
  });
});
