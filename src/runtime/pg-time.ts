/**
 * Times read from PostgreSQL as whole milliseconds in an integer. Not a float: a float's text
 * follows the session's extra_float_digits, and at -3 an event's time came back 10 ms off.
 * NULL when the time is infinite (a row written by hand can hold one), where a bigint cast
 * would fail the whole query; callers treat NULL as no valid time.
 */

/**
 * SQL for `timestamp` as milliseconds since the epoch, or, given `until`, the milliseconds
 * from `timestamp` to `until` (an age).
 */
export function millisSql(timestamp: string, until?: string): string {
  const span = until === undefined ? timestamp : `${until} - ${timestamp}`;
  return `CASE WHEN isfinite(${timestamp}) THEN floor(extract(epoch FROM ${span}) * 1000)::bigint END`;
}
