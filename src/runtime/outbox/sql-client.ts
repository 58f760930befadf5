/**
 * The few members of `pg` the outbox uses, typed structurally: the caller passes its own
 * `pg` Pool, PoolClient or Client, and this entry point never imports `pg` itself.
 */

export interface QueryResultLike<R> {
  rows: R[];
  rowCount: number | null;
}

/**
 * A query given as an object: rows as arrays of column text, left unparsed (`types` maps
 * every column type to the identity). The relay reads its rows this way.
 */
export interface TextArrayQuery {
  text: string;
  values: unknown[];
  rowMode: 'array';
  types: { getTypeParser(oid: number, format?: string): (value: string) => unknown };
}

/** Anything that runs a query: a pg Client, a PoolClient inside BEGIN, a Pool. */
export interface Queryable {
  query<R = any>(text: string, values?: unknown[]): Promise<QueryResultLike<R>>;
  query<R = any>(config: TextArrayQuery): Promise<QueryResultLike<R>>;
}

export interface NotificationLike {
  channel: string;
  payload?: string | undefined;
}

/** A connection checked out of a pool; `release(true)` destroys it instead of returning it. */
export interface PooledConnection extends Queryable {
  release(destroy?: boolean | Error): void;
  on(event: 'error', listener: (err: Error) => void): unknown;
  on(event: 'notification', listener: (msg: NotificationLike) => void): unknown;
  on(event: 'end', listener: () => void): unknown;
  removeListener(event: string, listener: (...args: any[]) => void): unknown;
}

/** A pg Pool: the relay checks connections out per batch and keeps one for LISTEN. */
export interface ConnectionPool extends Queryable {
  connect(): Promise<PooledConnection>;
  on(event: 'error', listener: (err: Error, client: unknown) => void): unknown;
  removeListener(event: string, listener: (...args: any[]) => void): unknown;
}
