/**
 * Moved to ./amqp/ (public entry ./amqp/index.ts, the subpath export
 * `event-contracts/runtime/amqp`). This re-export keeps `./index.js` building until it
 * stops exporting the AMQP transport; delete it then.
 */
export * from './amqp/index.js';
