/** The PostgreSQL backend (loads `pg` when it connects). */
export { PostgresEventStoreBackend } from './backend.js';
export type { PostgresEventStoreOptions } from './backend.js';
export { quoteIdent } from './sql.js';
