/** The JetStream backend (loads the NATS client when it connects). */
export { JetStreamEventStoreBackend, VERSION_HEADER, COUNT_HEADER } from './backend.js';
export type { JetStreamEventStoreOptions } from './backend.js';
export { entityToken, entityFromToken, streamName, subjectOf } from './layout.js';
