/**
 * event-contracts/runtime/outbox: the transactional outbox for services whose state lives
 * in PostgreSQL. Takes the caller's `pg` Pool or client; loads no broker client and does
 * not import `pg` itself.
 */
export { migrateOutbox } from './migrate.js';
export type { OutboxTableOptions } from './migrate.js';
export { createOutbox, OutboxEventIdConflictError } from './outbox.js';
export type { Outbox, OutboxOptions, OutboxAddOptions, OutboxReceipt } from './outbox.js';
export { createOutboxRelay } from './relay.js';
export type { OutboxRelay, OutboxRelayOptions, OutboxRelayNotice, OutboxRelayStats } from './relay.js';
export type { OutboxFailureReason } from './row.js';
export { OutboxConfigError, quoteIdent, DEFAULT_SCHEMA, DEFAULT_TABLE } from './names.js';
export type { OutboxLocation } from './names.js';
export type { Queryable, ConnectionPool, PooledConnection, QueryResultLike, NotificationLike } from './sql-client.js';
