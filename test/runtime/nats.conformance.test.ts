import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { NatsTransport, provisionNats } from '../../src/runtime/nats/index.js';
import { describeTransportConformance } from './conformance.js';
import { NATS_URL, rand } from './helpers.js';

describeTransportConformance('nats', async () => {
  const id = rand();
  const prefix = `ect${id}`;
  const stream = `ECT_${id}`;
  const admin = await connect({ servers: NATS_URL });
  await provisionNats(admin, { streams: [{ name: stream, subjects: [`${prefix}.>`], storage: 'memory', maxAgeMs: 10 * 60_000 }] });
  return {
    prefix,
    rpcPrefix: `ectrpc${id}`,
    connect: () => NatsTransport.connect({ connect: { servers: NATS_URL } }),
    cleanup: async () => {
      const jsm = await jetstreamManager(admin);
      await jsm.streams.delete(stream);
      await admin.close();
    },
  };
});
