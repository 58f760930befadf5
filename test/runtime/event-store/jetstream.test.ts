/** The conformance suite on JetStream (127.0.0.1:4222), with subject and stream prefixes of its own per run, deleted at the end. */
import { connect, headers } from '@nats-io/transport-node';
import { jetstreamManager, jetstream } from '@nats-io/jetstream';
import { JetStreamEventStoreBackend, VERSION_HEADER, COUNT_HEADER, subjectOf, streamName } from '../../../src/runtime/event-store/jetstream/index.js';
import { parseStreamId } from '../../../src/runtime/event-store/index.js';
import { NATS_URL, rand } from '../helpers.js';
import { describeEventStoreConformance } from './conformance.js';

describeEventStoreConformance('jetstream', async () => {
  const id = rand();
  const layout = { subjectPrefix: `$EST${id}`, streamPrefix: `EST${id}` };
  const nc = await connect({ servers: NATS_URL });
  const jsm = await jetstreamManager(nc);
  const js = jetstream(nc);
  return {
    backend: () => JetStreamEventStoreBackend.connect({ servers: NATS_URL, ...layout, storage: 'memory', discoverMs: 500 }),
    writeRaw: async (streamId, raw) => {
      const s = parseStreamId(streamId);
      const subject = subjectOf(layout, s);
      const last = await jsm.streams.getMessage(streamName(layout, s.domain, s.aggregate), { last_by_subj: subject });
      const h = headers();
      h.set(VERSION_HEADER, String(Number(last?.header.get(VERSION_HEADER) ?? 0) + 1));
      h.set(COUNT_HEADER, '1');
      const body = 'garbage' in raw ? new Uint8Array([0xff, 0xfe, 0x7b, 0x00]) : new TextEncoder().encode(JSON.stringify([raw.record]));
      await js.publish(subject, body, { headers: h, ...(last ? { expect: { lastSubjectSequence: last.seq } } : {}) });
    },
    cleanup: async () => {
      for await (const name of jsm.streams.names(`${layout.subjectPrefix}.>`)) await jsm.streams.delete(name);
      await nc.close();
    },
  };
});
