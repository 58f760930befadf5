/** Messages from the AsyncAPI parser reach users as one line: some embed a stack trace. */
import { describe, expect, it } from 'vitest';
import { oneLineMessage } from '../../src/load/asyncapi-parser.js';
import { internalError } from '../../src/diagnostics.js';

describe('oneLineMessage', () => {
  it.each([
    ['"info" property must have required property "title"', '"info" property must have required property "title"'],
    [
      'Error thrown during AsyncAPI document validation. Name: TypeError, message: target.hasOwnProperty is not a function, stack: TypeError: target.hasOwnProperty is not a function\n    at ResolveCrawler.computeGraph (crawler.js:35:33)',
      'Error thrown during AsyncAPI document validation. Name: TypeError, message: target.hasOwnProperty is not a function',
    ],
    ['first\n    at x (y.js:1:2)', 'first'],
  ])('%j', (given, want) => {
    expect(oneLineMessage(given)).toBe(want);
  });
});

describe('internalError', () => {
  it('is located at the file, one line, no stack, asks for a report', () => {
    const error = new TypeError('boom\nsecond line');
    const d = internalError('asyncapi/users.yaml', 'reading the document', error);
    expect(d).toMatchObject({ code: 'INTERNAL_ERROR', severity: 'error', location: { file: 'asyncapi/users.yaml', line: 1, column: 1 } });
    expect(d.message).toBe('reading the document failed: boom. This is a bug in event-contracts: please report it with this file');
  });
});
