/**
 * Avro payloads (`schemaFormat: application/vnd.apache.avro…`), registered with the
 * AsyncAPI parser as a schema parser: the parser hands each Avro schema (inline or a
 * `$ref` to an `.avsc` file) to `@asyncapi/avro-schema-parser`, the AsyncAPI project's
 * own converter, and the message carries JSON Schema from then on — typed, validated,
 * documented and compatibility-checked like any other payload.
 *
 * Before converting, logical types are rewritten to what a JSON event carries:
 * - `decimal` (on `bytes` or `fixed`): a decimal string within its precision and scale
 *   (`"1234.50"`), not Avro's two's-complement bytes, which no JSON producer writes;
 * - `timestamp-millis`, `timestamp-micros`, `local-timestamp-*`, `date`, `time-*`: the
 *   integer Avro's JSON encoding carries, documented with its unit;
 * - `uuid`: a string with `format: uuid` (the converter's own mapping).
 * A union with `null` becomes an optional property whose type includes `null` (the
 * converter's mapping). Not mapped: see the README ("Avro payloads").
 */
import { createRequire } from 'node:module';
import type { SchemaParser } from '@asyncapi/parser';

const require = createRequire(import.meta.url);

const AVRO_VERSIONS = ['1.7.0', '1.7.1', '1.7.2', '1.7.3', '1.7.4', '1.7.5', '1.7.6', '1.7.7', '1.8.0', '1.8.1', '1.8.2', '1.9.0', '1.9.1', '1.9.2', '1.10.0', '1.10.1', '1.10.2', '1.11.0', '1.11.1', '1.11.2', '1.11.3', '1.11.4', '1.12.0'];

/**
 * Every schema format this parser takes: with and without `+json`/`+yaml` and a version
 * (the AsyncAPI parser matches them exactly; another Avro version stays unconverted and so
 * `unknown`, with the parser's warning).
 */
export const AVRO_SCHEMA_FORMATS: readonly string[] = ['', '+json', '+yaml'].flatMap((suffix) => [
  `application/vnd.apache.avro${suffix}`,
  ...AVRO_VERSIONS.map((v) => `application/vnd.apache.avro${suffix};version=${v}`),
]);

export const isAvroFormat = (schemaFormat: string): boolean => /^application\/vnd\.apache\.avro(\+(json|yaml))?(;|$)/i.test(schemaFormat.trim());

const UNITS: Record<string, string> = {
  'timestamp-millis': 'milliseconds since the Unix epoch (Avro timestamp-millis)',
  'timestamp-micros': 'microseconds since the Unix epoch (Avro timestamp-micros)',
  'local-timestamp-millis': 'milliseconds since the Unix epoch, local time (Avro local-timestamp-millis)',
  'local-timestamp-micros': 'microseconds since the Unix epoch, local time (Avro local-timestamp-micros)',
  date: 'days since the Unix epoch (Avro date)',
  'time-millis': 'milliseconds after midnight (Avro time-millis)',
  'time-micros': 'microseconds after midnight (Avro time-micros)',
};

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const join = (doc: unknown, note: string) => (typeof doc === 'string' && doc !== '' ? `${doc} (${note})` : note);

/** A regular expression for a decimal string of `precision` digits, `scale` of them after the point. */
export function decimalPattern(precision: number, scale: number): string {
  const whole = Math.max(precision - scale, 0);
  const int = whole === 0 ? '0' : `(0|[1-9]\\d{0,${whole - 1}})`;
  return scale > 0 ? `^-?${int}(\\.\\d{1,${scale}})?$` : `^-?${int}$`;
}

/** The Avro schema with logical types rewritten as the module comment says (a copy; the input is untouched). */
export function mapLogicalTypes(avro: unknown): unknown {
  if (Array.isArray(avro)) return avro.map(mapLogicalTypes);
  if (!isObject(avro)) return avro;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(avro)) out[key] = key === 'default' || key === 'symbols' || key === 'aliases' ? value : mapLogicalTypes(value);
  const logical = typeof avro.logicalType === 'string' ? avro.logicalType : undefined;
  if (logical === 'decimal' && (avro.type === 'bytes' || avro.type === 'fixed') && typeof avro.precision === 'number') {
    const scale = typeof avro.scale === 'number' ? avro.scale : 0;
    const note = `a decimal number as a string, ${avro.precision} digits, ${scale} after the point (Avro decimal)`;
    return { type: 'string', pattern: decimalPattern(avro.precision, scale), doc: join(avro.doc, note) };
  }
  if (logical && UNITS[logical] && (avro.type === 'long' || avro.type === 'int')) return { ...out, doc: join(avro.doc, UNITS[logical]) };
  return out;
}

/** The schema parser the AsyncAPI parser calls for Avro payloads. */
export function avroSchemaParser(): SchemaParser {
  // Loaded on the first Avro payload (with avsc, ~40 ms): a document without Avro never pays it.
  let loaded: ReturnType<typeof import('@asyncapi/avro-schema-parser').AvroSchemaParser> | undefined;
  const library = () => (loaded ??= (require('@asyncapi/avro-schema-parser') as typeof import('@asyncapi/avro-schema-parser')).AvroSchemaParser());
  return {
    // avsc checks the schema as written (names, types, defaults).
    validate: (input) => library().validate(input as never),
    parse: (input) => library().parse({ ...input, data: mapLogicalTypes(input.data) } as never),
    getMimeTypes: () => [...AVRO_SCHEMA_FORMATS],
  };
}
