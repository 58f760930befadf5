/**
 * Avro payloads (issue 12): converted to JSON Schema while the document is parsed, with
 * logical types as a JSON event carries them and unions with null optional and nullable;
 * the result validates like any payload, and the gate compares it like any payload.
 * Other formats stay `unknown` with a warning (the protobuf fixture).
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decimalPattern, isAvroFormat, mapLogicalTypes } from '../../src/load/avro.js';
import { compileSchema } from '../../src/validation/event-validators.js';
import { openWorkspace } from '../../src/workspace.js';
import { formatDiagnostic } from '../../src/diagnostics.js';
import { runCli } from '../helpers/cli.js';

const fixtures = 'test/fixtures/foreign';

describe('logical types', () => {
  it.each([
    [{ type: 'bytes', logicalType: 'decimal', precision: 10, scale: 2 }, { type: 'string', pattern: decimalPattern(10, 2) }],
    [{ type: 'fixed', name: 'F', size: 8, logicalType: 'decimal', precision: 4, scale: 0 }, { type: 'string', pattern: decimalPattern(4, 0) }],
    [{ type: 'long', logicalType: 'timestamp-millis' }, { type: 'long', logicalType: 'timestamp-millis', doc: 'milliseconds since the Unix epoch (Avro timestamp-millis)' }],
    [{ type: 'int', logicalType: 'date', doc: 'Shipped' }, { type: 'int', logicalType: 'date', doc: 'Shipped (days since the Unix epoch (Avro date))' }],
    [{ type: 'string', logicalType: 'uuid' }, { type: 'string', logicalType: 'uuid' }],
    [{ type: 'string', logicalType: 'unknown-to-us' }, { type: 'string', logicalType: 'unknown-to-us' }],
  ])('%j → %j', (avro, want) => {
    expect(mapLogicalTypes(avro)).toMatchObject(want);
  });

  it.each([
    [10, 2, ['0', '12', '-12.5', '12345678.99'], ['1.234', '123456789', '01', '1e3', '', '.5']],
    [4, 0, ['0', '9999', '-1'], ['10000', '1.0']],
    [3, 3, ['0.123', '-0.1', '0'], ['1.0', '0.1234']],
  ])('decimal(%i, %i) accepts %j, refuses %j', (precision, scale, good, bad) => {
    const re = new RegExp(decimalPattern(precision, scale), 'u');
    for (const g of good) expect(re.test(g), g).toBe(true);
    for (const b of bad) expect(re.test(b), b).toBe(false);
  });

  it.each([
    ['application/vnd.apache.avro;version=1.9.0', true],
    ['application/vnd.apache.avro+json;version=1.9.0', true],
    ['application/vnd.apache.avro+yaml;version=1.8.2', true],
    ['application/vnd.apache.avro', true],
    ['application/vnd.google.protobuf;version=3', false],
    ['application/schema+json;version=draft-07', false],
  ])('isAvroFormat(%j) = %s', (format, want) => expect(isAvroFormat(format)).toBe(want));
});

describe('Avro payloads in documents', () => {
  it('inline (AsyncAPI 3 multi-format), by $ref to an .avsc file, and AsyncAPI 2 message schemaFormat become JSON Schema', async () => {
    const workspace = await openWorkspace([path.join(fixtures, 'avro'), path.join(fixtures, 'avro-asyncapi-2')], { config: { root: fixtures, refRoots: [] } });
    expect(workspace.diagnostics.filter((d) => /^[A-Z_]+$/.test(d.code)).map(formatDiagnostic)).toEqual([]);
    const byKey = new Map(workspace.catalog.events.flatMap((t) => t.versions).map((v) => [v.key, v]));
    const shipped = byKey.get('order.shipped@1.0.0')!;
    expect(shipped.dialect).toBe('draft-07');
    expect(shipped.payload).toMatchObject({
      type: 'object',
      description: 'An order left the warehouse.',
      required: ['id', 'weightKg', 'shippedOn', 'status', 'lines', 'attributes'],
      properties: {
        id: { type: 'string', format: 'uuid' },
        carrier: { oneOf: [{ type: 'string' }, { type: 'null' }], default: null },
        trackingCode: { oneOf: [{ type: 'string' }, { type: 'null' }] },
        status: { type: 'string', enum: ['PACKED', 'SHIPPED'] },
        lines: { type: 'array', items: { type: 'object', required: ['sku', 'quantity'] } },
        attributes: { type: 'object', additionalProperties: { type: 'string' } },
      },
    });
    const validate = compileSchema(shipped.payload, shipped.dialect).validate!;
    const value = { id: '6a1f0d1e-3b0c-4c55-9c7f-0c1f3f8a2b11', weightKg: '12.5', shippedOn: 20000, status: 'SHIPPED', lines: [{ sku: 'a', quantity: 1 }], attributes: {} };
    expect(validate(value)).toBe(true);
    expect(validate({ ...value, carrier: null, trackingCode: 'X1' })).toBe(true);
    expect(validate({ ...value, id: 'not-a-uuid' })).toBe(false);
    expect(validate({ ...value, weightKg: '12.3456' })).toBe(false);
    expect(validate({ ...value, shippedOn: 1.5 })).toBe(false);
    expect(validate({ ...value, status: 'LOST' })).toBe(false);
    const { weightKg: _, ...withoutWeight } = value;
    expect(validate(withoutWeight)).toBe(false);

    const captured = byKey.get('payment.captured@1.0.0')!;
    expect(captured.schemaFormat).toBe('application/vnd.apache.avro;version=1.9.0');
    expect(captured.payload).toMatchObject({ properties: { capturedAt: { type: 'integer', description: 'milliseconds since the Unix epoch (Avro timestamp-millis)' } } });
    expect(compileSchema(captured.payload, captured.dialect).validate!(captured.examples[0]!.payload)).toBe(true);
  });

  it('types: logical types as users expect them, unions with null optional and nullable', async () => {
    // Written by the foreign-fixtures run of the corpus test's helper: generate here for this test alone.
    const { artifactDir, generateInto } = await import('../helpers/generate.js');
    const out = artifactDir('avro-types');
    const result = await generateInto([path.join(fixtures, 'avro')], out, path.join(fixtures, 'avro'));
    expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const types = readFileSync(path.join(out, 'types.ts'), 'utf8');
    for (const line of ['  id: string;', '  at: number;', '  amount: string;', '  note?: string | null;', '  carrier?: string | null;', '  shippedOn: number;', '  attributes: Record<string, string>;', '  lines: OrderShippedV1LinesItem[];']) {
      expect(types).toContain(line);
    }
  });

  it('an .avsc outside the workspace is refused; other file types still are', async () => {
    // Outside this repository: inside it, the repository's config makes the repository the workspace.
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ec-avro-refs-'));
    mkdirSync(path.join(dir, 'ws'), { recursive: true });
    cpSync(path.join(fixtures, 'avro/shipped.avsc'), path.join(dir, 'outside.avsc'));
    writeFileSync(path.join(dir, 'ws/schema.txt'), '{}');
    const doc = readFileSync(path.join(fixtures, 'avro/api.yaml'), 'utf8');
    writeFileSync(path.join(dir, 'ws/api.yaml'), doc.replace("'./shipped.avsc'", "'../outside.avsc'"));
    const outside = await runCli(['validate', path.join(dir, 'ws')]);
    expect(outside.code).toBe(1);
    expect(outside.stderr).toMatch(/api\.yaml:26:\d+: error REF_OUTSIDE_WORKSPACE: /);
    writeFileSync(path.join(dir, 'ws/api.yaml'), doc.replace("'./shipped.avsc'", "'./schema.txt'"));
    const txt = await runCli(['validate', path.join(dir, 'ws')]);
    expect(txt.stderr).toMatch(/error REF_FILE_TYPE: .*only \.yaml, \.yml, \.json and \(Avro\) \.avsc files/);
  });

  it('a format we cannot read stays unknown, with a warning', async () => {
    const workspace = await openWorkspace([path.join(fixtures, 'protobuf')]);
    expect(workspace.diagnostics.map(formatDiagnostic)).toContain(
      'test/fixtures/foreign/protobuf/api.yaml:11:9: warning UNSUPPORTED_SCHEMA_FORMAT: event "sensor.reading": schema format "application/vnd.google.protobuf;version=3" is not JSON Schema; its payload is typed as unknown and not validated',
    );
  });
});

describe('the gate compares Avro payloads like JSON Schema', () => {
  let dir: string;
  let cwd: string;
  beforeEach(() => {
    cwd = process.cwd();
    dir = path.resolve('test-artifacts/avro-gate', String(Math.random()).slice(2));
    mkdirSync(path.join(dir, 'asyncapi'), { recursive: true });
    cpSync(path.join(fixtures, 'avro'), path.join(dir, 'asyncapi'), { recursive: true });
    process.chdir(dir);
  });
  afterEach(() => {
    process.chdir(cwd);
    rmSync(dir, { recursive: true, force: true });
  });

  it('a required field added to a released Avro record is a breaking change', async () => {
    const released = await runCli(['release']);
    expect(released.code, released.stderr).toBe(0);
    const avsc = path.join(dir, 'asyncapi/shipped.avsc');
    const schema = JSON.parse(readFileSync(avsc, 'utf8')) as { fields: unknown[] };
    schema.fields.push({ name: 'warehouse', type: 'string' });
    writeFileSync(avsc, JSON.stringify(schema));
    const check = await runCli(['check', '--format', 'json']);
    expect(check.code).toBe(1);
    const findings = (JSON.parse(check.stdout) as { findings: Array<{ rule: string; severity: string }> }).findings.filter((f) => f.severity === 'error');
    expect(findings.map((f) => f.rule)).toContain('RELEASED_VERSION_MODIFIED');
  });
});

describe('an Avro version the parser has no converter for', () => {
  it('stays unknown with a warning instead of failing as JSON Schema', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ec-avro-version-'));
    writeFileSync(
      path.join(dir, 'api.yaml'),
      // Without its example: the parser's own lint refuses examples of a format it cannot read.
      readFileSync(path.join(fixtures, 'avro-asyncapi-2/api.yaml'), 'utf8')
        .replace('application/vnd.apache.avro;version=1.9.0', 'application/vnd.apache.avro;version=9.9.9')
        .replace(/\n {8}examples:[\s\S]*$/, '\n'),
    );
    const workspace = await openWorkspace([dir]);
    expect(workspace.diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic)).toEqual([]);
    expect(workspace.diagnostics.map((d) => d.code)).toContain('UNSUPPORTED_SCHEMA_FORMAT');
    expect(workspace.catalog.events[0]!.versions[0]!.dialect).toBe('unsupported');
  });

  it('Avro 1.7 documents are converted too', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ec-avro-17-'));
    writeFileSync(
      path.join(dir, 'api.yaml'),
      readFileSync(path.join(fixtures, 'avro-asyncapi-2/api.yaml'), 'utf8').replace('application/vnd.apache.avro;version=1.9.0', 'application/vnd.apache.avro+json;version=1.7.7'),
    );
    const workspace = await openWorkspace([dir]);
    expect(workspace.catalog.events[0]!.versions[0]!.dialect).toBe('draft-07');
  });
});
