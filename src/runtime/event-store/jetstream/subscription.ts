/**
 * A JetStream subscription: one ordered consumer per aggregate stream the filter selects,
 * each starting after its sequence in the checkpoint. An ordered consumer delivers a
 * stream's messages in sequence with no gap and no repeat, and the same consumer carries on
 * live after the catch-up, so there is no switch to get wrong. Messages of several streams
 * are handed to the handler one at a time, in the order they arrive; each event's
 * checkpoint holds every stream's position after it. Aggregate streams created later are
 * found by a periodic listing.
 */
import type { ConsumerMessages } from '@nats-io/jetstream';
import type { BackendRecordHandler } from '../backend.js';
import type { EventFilter, EventSubscription } from '../types.js';
import type { JetStreamEventStoreBackend } from './backend.js';
import { fromJsMsg } from './backend.js';
import type { StreamPosition } from './layout.js';

export async function startSubscription(
  backend: JetStreamEventStoreBackend,
  filter: EventFilter,
  handler: BackendRecordHandler,
  from: ReadonlyMap<string, StreamPosition>,
  discoverMs: number,
): Promise<EventSubscription> {
  const positions = new Map(from);
  const followed = new Map<string, ConsumerMessages>();
  const catchingUp = new Set<string>();
  let stopped = false;
  let isCaughtUp = false;
  let chain: Promise<void> = Promise.resolve();
  let resolveCaughtUp!: () => void;
  let rejectCaughtUp!: (e: unknown) => void;
  const caughtUp = new Promise<void>((res, rej) => {
    resolveCaughtUp = res;
    rejectCaughtUp = rej;
  });
  caughtUp.catch(() => {});

  const settleCatchUp = (name?: string) => {
    if (name !== undefined) catchingUp.delete(name);
    if (!isCaughtUp && catchingUp.size === 0) {
      isCaughtUp = true;
      resolveCaughtUp();
    }
  };

  const fail = (err: unknown) => {
    if (stopped) return;
    void stop();
    if (!isCaughtUp) rejectCaughtUp(err);
    else process.emitWarning(`event store subscription stopped: ${err instanceof Error ? err.message : String(err)}`, 'EventStoreSubscription');
  };

  const follow = async (name: string, initial: boolean) => {
    const after = positions.get(name);
    const info = await backend.jsm.streams.info(name);
    const target = info.state.last_seq;
    // A resumed position inside a message starts at that message and skips what was delivered.
    const start = after ? after[0] : 1;
    if (initial && target >= start && info.state.messages > 0) catchingUp.add(name);
    const consumer = await backend.js.consumers.get(name, start > 1 ? { deliver_policy: 'by_start_sequence' as never, opt_start_seq: start } : {});
    const messages = await consumer.consume({ max_messages: 1000 });
    followed.set(name, messages);
    void (async () => {
      for await (const m of messages) {
        if (stopped) break;
        // One handler call at a time across all streams; this stream waits for its turn.
        chain = chain.then(async () => {
          if (stopped) return;
          for (const r of backend.expand(name, fromJsMsg(m), undefined, positions, after)) {
            if (stopped) return;
            await handler(r);
          }
        });
        await chain;
        if (m.seq >= target) settleCatchUp(name);
      }
    })().catch(fail);
  };

  const discover = async (initial: boolean) => {
    for (const name of await backend.streams(filter)) {
      if (stopped || followed.has(name)) continue;
      followed.set(name, undefined as never); // claimed: a slow listing must not follow it twice
      await follow(name, initial);
    }
  };

  await discover(true);
  settleCatchUp();
  const timer = setInterval(() => void discover(false).catch(fail), discoverMs);
  timer.unref();

  async function stop(): Promise<void> {
    if (stopped) return;
    stopped = true;
    clearInterval(timer);
    for (const m of followed.values()) m?.stop();
    await chain.catch(() => {});
    if (!isCaughtUp) rejectCaughtUp(new Error('the subscription was stopped before it caught up'));
  }

  return { caughtUp, stop };
}
