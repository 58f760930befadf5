/** JetStream for the outbox tests: a stream per test prefix, read back in stream order. */
import type { OutboundMessage, Transport, TransportReceipt } from '../../../src/runtime/index.js';
import { NatsTransport, provisionNats } from '../../../src/runtime/nats/index.js';
import { NATS_URL } from '../helpers.js';

export interface TestStream {
  name: string;
  transport: NatsTransport;
  /** Event ids (Nats-Msg-Id) in stream order. */
  ids(): Promise<string[]>;
  count(): Promise<number>;
  destroy(): Promise<void>;
}

export async function testStream(prefix: string, url = NATS_URL): Promise<TestStream> {
  const transport = await NatsTransport.connect({ connect: { servers: url }, publishTimeoutMs: 2000 });
  const name = `OB_${prefix}`;
  // Memory storage; the dedupe window (2 min by default) outlasts every test.
  await provisionNats(transport, { streams: [{ name, subjects: [`${prefix}.>`], storage: 'memory' }] });
  const jsm = await transport.jsm();
  return {
    name,
    transport,
    async count() {
      return (await jsm.streams.info(name)).state.messages;
    },
    async ids() {
      const n = (await jsm.streams.info(name)).state.last_seq;
      const out: string[] = [];
      for (let seq = 1; seq <= n; seq++) {
        const m = await jsm.streams.getMessage(name, { seq });
        if (m) out.push(m.header.get('ce-id'));
      }
      return out;
    },
    async destroy() {
      await jsm.streams.delete(name).catch(() => undefined);
      await transport.close();
    },
  };
}

/**
 * A transport that watches the publishes passing through it: how many per event id, and
 * whether one id was ever being published twice at the same moment (by two relays, say).
 */
export class WatchingTransport implements Transport {
  readonly name = 'watching';
  readonly calls = new Map<string, number>();
  readonly inFlight = new Set<string>();
  overlaps = 0;
  /** While set, publishes fail with this error before reaching the broker. */
  failWith: Error | undefined;
  /** While set, publishes of these event ids fail with failWith (or a default error); others go through. */
  failIds: ReadonlySet<string> | undefined;
  /** The next such failure waits for releaseHeld() first: a broker slow to refuse, while later publishes are acked. */
  holdNextFailure = false;
  private readonly held: Array<() => void> = [];

  constructor(
    private readonly inner: Transport,
    private readonly shared?: WatchingTransport,
  ) {}

  maxMessageBytes() {
    return this.inner.maxMessageBytes();
  }
  messageBytes(m: OutboundMessage) {
    return this.inner.messageBytes ? this.inner.messageBytes(m) : m.body.byteLength;
  }
  async publish(m: OutboundMessage): Promise<TransportReceipt> {
    if (this.failIds?.has(m.id)) {
      if (this.holdNextFailure) {
        this.holdNextFailure = false;
        await new Promise<void>((resolve) => this.held.push(resolve));
      }
      throw this.failWith ?? new Error(`publish of ${m.id} refused (test)`);
    }
    if (this.failWith && !this.failIds) throw this.failWith;
    const ledger = this.shared ?? this;
    if (ledger.inFlight.has(m.id)) ledger.overlaps++;
    ledger.inFlight.add(m.id);
    ledger.calls.set(m.id, (ledger.calls.get(m.id) ?? 0) + 1);
    try {
      return await this.inner.publish(m);
    } finally {
      ledger.inFlight.delete(m.id);
    }
  }
  /** Lets the held publishes fail now. */
  releaseHeld(): void {
    for (const release of this.held.splice(0)) release();
  }
  get holding(): number {
    return this.held.length;
  }
  publishTransient(m: OutboundMessage) {
    return this.inner.publishTransient(m);
  }
  consume(...a: Parameters<Transport['consume']>) {
    return this.inner.consume(...a);
  }
  request(...a: Parameters<Transport['request']>) {
    return this.inner.request(...a);
  }
  serve(...a: Parameters<Transport['serve']>) {
    return this.inner.serve(...a);
  }
  async close() {
    // The inner transport belongs to the test.
  }
}
