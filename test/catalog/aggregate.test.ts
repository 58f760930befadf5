/**
 * `x-aggregate` on a channel: given the extension as written, want the binding in the
 * catalog, or a located INVALID_AGGREGATE / AGGREGATE_CONFLICT naming the problem.
 * Hostile names (code, markup, stream-id separators) are refused, never escaped into use.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Catalog } from '../../src/catalog/model.js';
import { runCli } from '../helpers/cli.js';

interface Reported {
  code: string;
  severity: string;
  message: string;
  location: { file: string; line: number; column: number; pointer?: string };
}

function workspace(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ec-aggregate-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
  return dir;
}

async function validate(files: Record<string, string>): Promise<{ errors: Reported[]; dir: string }> {
  const dir = workspace(files);
  const result = await runCli(['validate', '--format', 'json', dir]);
  const errors = (JSON.parse(result.stdout) as { diagnostics: Reported[] }).diagnostics.filter((d) => d.severity === 'error');
  expect(result.code).toBe(errors.length > 0 ? 1 : 0);
  return { errors, dir };
}

async function catalog(files: Record<string, string>): Promise<Catalog> {
  const dir = workspace(files);
  const result = await runCli(['catalog', '--format', 'json', dir]);
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as Catalog;
}

interface DocOptions {
  serviceId?: string;
  aggregate: string;
  /** The accountId parameter's lines below `accountId:` (default: its payload location). */
  parameter?: string[];
  extraParameter?: boolean;
  /** Payload properties (YAML lines below `properties:`) and required names. */
  properties?: string[];
  required?: string[];
  type?: string;
  version?: string;
  channel?: string;
  address?: string;
}

const ACCOUNT = ['            accountId: { type: string }', '            note: { type: string }', '            count: { type: integer }'];

/** One channel carrying one message; `aggregate` is the YAML of x-aggregate's value, indented under it. */
function doc(o: DocOptions): string {
  const channel = o.channel ?? 'created';
  return [
    'asyncapi: 3.0.0',
    `info: { title: Payments, version: 1.0.0, x-service-id: ${JSON.stringify(o.serviceId ?? 'payments')} }`,
    'channels:',
    `  ${channel}:`,
    `    address: '${o.address ?? `transaction.{accountId}${o.extraParameter ? '.{region}' : ''}.created.v1`}'`,
    '    parameters:',
    '      accountId:',
    ...(o.parameter ?? ["        location: '$message.payload#/accountId'"]),
    ...(o.extraParameter ? ['      region:', "        description: 'a region'"] : []),
    '    messages:',
    '      m:',
    `        name: ${o.type ?? 'transaction.created'}`,
    `        x-version: ${o.version ?? '1.0.0'}`,
    '        payload:',
    '          type: object',
    `          required: [${(o.required ?? ['accountId']).join(', ')}]`,
    '          properties:',
    ...(o.properties ?? ACCOUNT),
    `    x-aggregate:${o.aggregate.startsWith('\n') ? o.aggregate : ` ${o.aggregate}`}`,
    '',
  ].join('\n');
}

const block = (...lines: string[]) => lines.map((l) => `\n      ${l}`).join('');
const lineOf = (text: string, needle: string) => text.split('\n').findIndex((l) => l.includes(needle)) + 1;

describe('x-aggregate: valid bindings', () => {
  it.each([
    ['object form with domain', block('type: account', 'domain: payments', 'id: accountId'), { type: 'account', domain: 'payments', idField: 'accountId' }],
    ['object form, domain from the service id', block('type: account', 'id: accountId'), { type: 'account', domain: 'payments', idField: 'accountId' }],
    ['shorthand: the single parameter is the id', 'account', { type: 'account', domain: 'payments', idField: 'accountId' }],
    ['id names a payload property directly', block('type: ledger-entry', 'domain: books2', 'id: note'), { type: 'ledger-entry', domain: 'books2', idField: 'note' }],
  ])('%s', async (_name, aggregate, want) => {
    const model = await catalog({ 'api.yaml': doc({ aggregate, required: ['accountId', 'note'] }) });
    const [event] = model.events;
    expect(event!.versions[0]!.aggregate).toMatchObject(want);
    expect(model.services[0]!.channels[0]!.aggregate).toMatchObject(want);
  });

  it('a parameter without location whose name is a payload property: that property', async () => {
    const model = await catalog({ 'api.yaml': doc({ aggregate: block('type: account', 'id: accountId'), parameter: ["        description: 'the account'"] }) });
    expect(model.events[0]!.versions[0]!.aggregate).toMatchObject({ idField: 'accountId' });
  });

  it('the parameter location names the field, whatever the parameter is called', async () => {
    const text = doc({
      aggregate: block('type: account', 'id: accountId'),
      parameter: ["        location: '$message.payload#/owner'"],
      properties: ['            owner: { type: string }'],
      required: ['owner'],
    });
    const model = await catalog({ 'api.yaml': text });
    expect(model.events[0]!.versions[0]!.aggregate).toMatchObject({ idField: 'owner' });
  });

  it('no x-aggregate: no binding', async () => {
    const text = doc({ aggregate: 'account' }).replace(/\n {4}x-aggregate: account\n/, '\n');
    const model = await catalog({ 'api.yaml': text });
    expect(model.events[0]!.versions[0]!.aggregate).toBeUndefined();
  });
});

describe('x-aggregate: located errors', () => {
  const cases: Array<{ name: string; options: DocOptions; at: string; message: RegExp }> = [
    { name: 'type not a name', options: { aggregate: block('type: Account', 'id: accountId') }, at: 'type: Account', message: /type "Account" is not an aggregate name/ },
    { name: 'type is markup', options: { aggregate: block('type: "<script>alert(1)</script>"', 'id: accountId') }, at: 'type: "<script>', message: /type "<script>alert\(1\)<\/script>" is not an aggregate name/ },
    { name: 'type is code', options: { aggregate: block(`type: "a'+process.exit(1)+'"`, 'id: accountId') }, at: 'type: "a', message: /is not an aggregate name/ },
    { name: 'domain with a stream-id separator', options: { aggregate: block('type: account', 'domain: payments.eu', 'id: accountId') }, at: 'domain: payments.eu', message: /domain "payments\.eu" is not an aggregate name/ },
    { name: 'type not a string', options: { aggregate: block('type: [account]', 'id: accountId') }, at: 'type: [account]', message: /type "\[\\"account\\"\]" is not an aggregate name/ },
    { name: 'domain defaults to a service id that is no domain', options: { serviceId: 'Payments_Svc', aggregate: block('type: account', 'id: accountId') }, at: 'x-aggregate:', message: /has no domain, and the service id "Payments_Svc" is not one/ },
    { name: 'unknown key (a typo)', options: { aggregate: block('type: account', 'idField: accountId', 'id: accountId') }, at: 'idField:', message: /unknown key "idField" \(allowed: type, domain, id\)/ },
    { name: 'hundreds of unknown keys: one diagnostic', options: { aggregate: block('type: account', 'id: accountId', ...Array.from({ length: 300 }, (_, i) => `k${i}: x`)) }, at: 'k0: x', message: /unknown keys "k0", "k1", "k2" and 297 more/ },
    { name: 'not a string or object', options: { aggregate: '42' }, at: 'x-aggregate:', message: /must be an aggregate type \("account"\) or \{ type, domain, id \}, not "42"/ },
    { name: 'id missing', options: { aggregate: block('type: account') }, at: 'x-aggregate:', message: /id is missing/ },
    { name: 'id is markup', options: { aggregate: block('type: account', 'id: "<img src=x onerror=alert(1)>"') }, at: 'id: "<img', message: /is not a parameter or property name/ },
    { name: 'id is __proto__', options: { aggregate: block('type: account', 'id: __proto__'), parameter: ["        location: '$message.payload#/__proto__'"] }, at: 'id: __proto__', message: /id field "__proto__" is not a plain property name/ },
    { name: 'unknown parameter and no such payload property', options: { aggregate: block('type: account', 'id: userId') }, at: 'id: userId', message: /id "userId" is neither a parameter of the channel \(it has accountId\) nor a property of its payload/ },
    { name: 'parameter without location and no such payload property', options: { aggregate: block('type: account', 'id: accountId'), parameter: ["        description: 'x'"], properties: ['            owner: { type: string }'], required: ['owner'] }, at: 'id: accountId', message: /"accountId", which must be a required string property of transaction\.created@1\.0\.0's payload \(it is not a declared string property\)/ },
    { name: 'payload field not required', options: { aggregate: block('type: account', 'id: note') }, at: 'id: note', message: /"note", which must be a required string property .* \(it is not required\)/ },
    { name: 'payload field not a string', options: { aggregate: block('type: account', 'id: count'), required: ['accountId', 'count'] }, at: 'id: count', message: /"count", which must be a required string property .* \(it is not a declared string property\)/ },
    { name: 'parameter read from a header', options: { aggregate: block('type: account', 'id: accountId'), parameter: ["        location: '$message.header#/x-account'"] }, at: 'id: accountId', message: /parameter \{accountId\}, whose location "\$message\.header#\/x-account" is not a top-level payload property/ },
    { name: 'parameter read from a nested field', options: { aggregate: block('type: account', 'id: accountId'), parameter: ["        location: '$message.payload#/account/id'"] }, at: 'id: accountId', message: /is not a top-level payload property/ },
    { name: 'shorthand with two parameters', options: { aggregate: 'account', extraParameter: true }, at: 'x-aggregate:', message: /"account" does not say which field is the account id, and the channel has 2 parameters/ },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const text = doc(c.options);
      const { errors } = await validate({ 'api.yaml': text });
      expect(errors.map((e) => e.code)).toEqual(['INVALID_AGGREGATE']);
      const [error] = errors;
      expect(error!.message).toMatch(/^channel "created": x-aggregate /);
      expect(error!.message).toMatch(c.message);
      expect(error!.location.file).toMatch(/api\.yaml$/);
      expect(error!.location.line).toBe(lineOf(text, c.at));
    });
  }
});

describe('x-aggregate: one aggregate per event type', () => {
  /** A second channel, sorted first ("again" < "created"), carrying the same message. */
  const twoChannels = (second: string) =>
    doc({ aggregate: block('type: account', 'id: accountId') }) +
    [
      '  again:',
      "    address: 'transaction.{accountId}.created.again'",
      '    parameters:',
      '      accountId:',
      "        location: '$message.payload#/accountId'",
      '    messages:',
      "      m: { $ref: '#/channels/created/messages/m' }",
      `    x-aggregate: ${second}`,
      '',
    ].join('\n');

  it('two channels put one event type in different aggregates: AGGREGATE_CONFLICT at the second, the first related', async () => {
    const text = twoChannels('{ type: wallet, id: accountId }');
    const { errors } = await validate({ 'api.yaml': text });
    expect(errors.map((e) => e.code)).toEqual(['AGGREGATE_CONFLICT']);
    expect(errors[0]!.message).toMatch(/channel "created" puts event type "transaction\.created" in aggregate payments\.account, but another channel puts it in payments\.wallet: an event type belongs to one aggregate/);
  });

  it('the same aggregate on both channels is fine', async () => {
    const { errors } = await validate({ 'api.yaml': twoChannels('{ type: account, id: accountId }') });
    expect(errors).toEqual([]);
  });

  it('another document puts the type in another aggregate: AGGREGATE_CONFLICT', async () => {
    const owner = doc({ aggregate: block('type: account', 'id: accountId') });
    const other = doc({ serviceId: 'ledger', aggregate: block('type: account', 'id: accountId') }).replace('title: Payments', 'title: Ledger');
    const { errors } = await validate({ 'a.yaml': owner, 'b.yaml': other });
    expect(errors.map((e) => e.code)).toEqual(['AGGREGATE_CONFLICT']);
    expect(errors[0]!.message).toMatch(/aggregate ledger\.account, but another channel puts it in payments\.account/);
    expect(errors[0]!.location.file).toMatch(/b\.yaml$/);
  });
});

describe('x-aggregate: every version of a bound type', () => {
  const v2Channel = (required: string) =>
    [
      '  createdV2:',
      "    address: 'transaction.created.v2'",
      '    messages:',
      '      m2:',
      '        name: transaction.created',
      '        x-version: 2.0.0',
      '        payload:',
      '          type: object',
      `          required: [${required}]`,
      '          properties:',
      '            accountId: { type: string }',
      '            amount: { type: string }',
      '',
    ].join('\n');

  it('a new major on a channel without x-aggregate inherits the binding', async () => {
    const text = doc({ aggregate: block('type: account', 'id: accountId') }).replace('\nchannels:\n', `\nchannels:\n${v2Channel('accountId, amount')}`);
    const model = await catalog({ 'api.yaml': text });
    expect(model.events[0]!.versions.map((v) => [v.version, v.aggregate?.type, v.aggregate?.idField])).toEqual([
      ['1.0.0', 'account', 'accountId'],
      ['2.0.0', 'account', 'accountId'],
    ]);
  });

  it('an inheriting version without the id field: INVALID_AGGREGATE at its payload', async () => {
    const text = doc({ aggregate: block('type: account', 'id: accountId') }).replace('\nchannels:\n', `\nchannels:\n${v2Channel('amount')}`);
    const { errors } = await validate({ 'api.yaml': text });
    expect(errors.map((e) => e.code)).toEqual(['INVALID_AGGREGATE']);
    expect(errors[0]!.message).toMatch(/^transaction\.created@2\.0\.0 belongs to aggregate payments\.account .* has no required string "accountId"/);
    expect(errors[0]!.location.line).toBe(lineOf(text, 'm2:') + 3);
  });
});
