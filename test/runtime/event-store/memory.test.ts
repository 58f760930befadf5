import { MemoryEventStoreBackend } from '../../../src/runtime/event-store/index.js';
import { describeEventStoreConformance } from './conformance.js';

// One memory backend per suite run: the fixture's fresh backends share it, as the other backends share a database.
const shared = new MemoryEventStoreBackend();
describeEventStoreConformance('memory', async () => ({
  backend: async () => sharedView(shared),
  writeRaw: async (streamId, raw) => shared.writeRaw(streamId, 'garbage' in raw ? '{"id": "x", "type": ' : JSON.stringify(raw.record)),
  cleanup: async () => {},
}));

/** The store closes its backend; the shared one must outlive each store. */
function sharedView(b: MemoryEventStoreBackend): MemoryEventStoreBackend {
  return Object.assign(Object.create(b) as MemoryEventStoreBackend, { close: async () => {} });
}
