import { MemoryTransport } from '../../src/runtime/index.js';
import { describeTransportConformance } from './conformance.js';
import { rand } from './helpers.js';

describeTransportConformance('memory', async () => {
  const broker = new MemoryTransport();
  return {
    prefix: `mem${rand()}`,
    rpcPrefix: `memrpc${rand()}`,
    connect: async () => broker.connection(),
    cleanup: async () => broker.destroy(),
  };
});
