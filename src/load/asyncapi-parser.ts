/**
 * The only module that knows @asyncapi/parser. It is loaded lazily: importing it costs
 * about a second, which a `generate` with nothing changed must not pay.
 */
import { createRequire } from 'node:module';
import type { AsyncAPIDocumentInterface, Diagnostic as ParserDiagnostic, Parser } from '@asyncapi/parser';
import type { Diagnostic } from '../diagnostics.js';
import { avroSchemaParser } from './avro.js';
import type { SourceSet } from './refs.js';
import { displayPath } from './source-file.js';

const require = createRequire(import.meta.url);

let shared: Parser | undefined;

/**
 * One parser per process. Its structural rule is re-registered so that every document
 * validates against one shared ajv instance: stock Spectral keys ajv instances by
 * document, recompiling the AsyncAPI meta-schema for each (~0.3 s a document, see
 * asyncapi/parser-js#252); shared, a warm parse costs tens of milliseconds.
 */
export function asyncApiParser(): Parser {
  if (shared) return shared;
  const { Parser: ParserClass } = require('@asyncapi/parser') as typeof import('@asyncapi/parser');
  const { documentStructure } = require('@asyncapi/parser/cjs/ruleset/functions/documentStructure.js') as {
    documentStructure: (target: unknown, options: unknown, context: Record<string, unknown>) => unknown;
  };
  const sharedInventory = {};
  const structure = (target: unknown, options: unknown, context: Record<string, unknown>) =>
    documentStructure(target, options, { ...context, documentInventory: sharedInventory });
  const structureRule = (resolved: boolean) => ({
    description: `AsyncAPI document has a valid ${resolved ? 'resolved' : 'unresolved'} structure.`,
    message: '{{error}}',
    severity: 'error',
    recommended: true,
    ...(resolved ? {} : { resolved: false }),
    given: '$',
    then: { function: structure, functionOptions: { resolved } },
  });
  shared = new ParserClass({
    ruleset: {
      rules: {
        'asyncapi-document-resolved': structureRule(true),
        'asyncapi-document-unresolved': structureRule(false),
        // Advice to move to the newest AsyncAPI version is noise in a contract gate.
        'asyncapi-latest-version': 'off',
        // Our convention names events with `name` + `x-version`; AsyncAPI 3 messages cannot carry messageId.
        'asyncapi2-message-messageId': 'off',
      },
    } as never,
    // Files change under --watch; the resolver's default cache would serve stale copies.
    __unstable: { resolver: { cache: false } },
  });
  // Avro payloads are converted to JSON Schema as the document is parsed.
  shared.registerSchemaParser(avroSchemaParser());
  return shared;
}

export interface ParsedDocument {
  document: AsyncAPIDocumentInterface | undefined;
  diagnostics: Diagnostic[];
}

const SEVERITY = ['error', 'warning', 'info', 'info'] as const;

export async function parseAsyncApi(absPath: string, text: string, sources: SourceSet): Promise<ParsedDocument> {
  const parser = asyncApiParser();
  const entryShown = displayPath(absPath);
  let output;
  try {
    output = await parser.parse(text, { source: absPath });
  } catch (error) {
    return {
      document: undefined,
      diagnostics: [
        {
          code: 'PARSER_CRASH',
          severity: 'error',
          message: `the AsyncAPI parser failed: ${oneLineMessage(error instanceof Error ? error.message : String(error))} (please report this with the document)`,
          location: { file: entryShown, line: 1, column: 1 },
        },
      ],
    };
  }
  const diagnostics: Diagnostic[] = [];
  for (const d of output.diagnostics as ParserDiagnostic[]) {
    const severity = SEVERITY[d.severity] ?? 'info';
    if (severity === 'info') continue;
    const file = d.source ? displayPath(d.source) : entryShown;
    // Touch the file so it is part of the inputs even if only the parser read it.
    if (d.source) sources.get(d.source);
    diagnostics.push({
      code: String(d.code),
      severity,
      message: oneLineMessage(d.message),
      location: {
        file,
        line: (d.range?.start.line ?? 0) + 1,
        column: (d.range?.start.character ?? 0) + 1,
        pointer: '/' + d.path.map((s) => String(s).replace(/~/g, '~0').replace(/\//g, '~1')).join('/'),
      },
    });
  }
  return { document: output.document, diagnostics };
}

/** A parser message without the stack trace some of them embed (`..., stack: TypeError: ...\n    at ...`). */
export function oneLineMessage(message: string): string {
  return message.split(/, stack: |\n/)[0]!.trim();
}
