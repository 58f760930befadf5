import { MemoryTransport } from '../../src/runtime/index.js';
import { describeHostileInput } from './hostile.js';
import { rand } from './helpers.js';

describeHostileInput('memory', async () => {
  const broker = new MemoryTransport();
  const raw = broker.connection();
  let n = 0;
  return {
    prefix: `mem${rand()}`,
    connect: async () => broker.connection(),
    sendRaw: async (subject, headers, body) => void (await raw.publish({ subject, headers, body, id: `raw-${n++}` })),
    cleanup: async () => broker.destroy(),
  };
});
