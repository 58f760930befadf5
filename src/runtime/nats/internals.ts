/**
 * Every use of nats.js internals in the runtime, and only here. Each one is a fast path
 * measured to matter (see the README's benchmark notes) with a fallback to public API that
 * gives the same result, slower. `internalsStats` counts which path was taken, and
 * `test/runtime/nats.internals.test.ts` fails when a fast path stops being taken, so an
 * upgrade of nats.js that moves a field is noticed instead of silently slowing down.
 *
 * Written against @nats-io/nats-core, transport-node and jetstream 3.4.0, which
 * package.json pins exactly for that reason.
 */
import { MsgHdrsImpl, headers as publicHeaders, type Msg, type MsgHdrs, type NatsConnection } from '@nats-io/transport-node';
import type { Consumer, ConsumerMessages, FetchOptions, JsMsg } from '@nats-io/jetstream';

/** How often each fast path and each fallback was taken (process-wide). */
export const internalsStats = {
  /** Header block read straight from MsgImpl's `_msg.hdr` / `_rdata`. */
  rawHeaderBlock: 0,
  rawHeaderBlockFallback: 0,
  /** First values read from MsgHdrsImpl's `headers` map instead of MsgHdrs.get(). */
  headerMap: 0,
  headerMapFallback: 0,
  /** Outbound headers built on MsgHdrsImpl's map and encoded in one pass. */
  outboundHeaders: 0,
  outboundHeadersFallback: 0,
  /** Acks of a loop turn sent as one protocol command (`protocol.sendCommand`, `didAck`). */
  ackCommand: 0,
  ackFallback: 0,
  /** fetch() honoured its (untyped) `callback` option. */
  fetchCallback: 0,
  fetchIterator: 0,
  /** JsMsg's wrapped core message (`msg`). */
  jsMsgInner: 0,
  jsMsgInnerFallback: 0,
  /** The connection's `options.inboxPrefix`. */
  inboxPrefix: 0,
  inboxPrefixFallback: 0,
};

/** The fields of nats.js's MsgImpl that hold the undecoded message. */
interface RawMsgFields {
  _headers?: unknown;
  _msg?: { hdr?: unknown };
  _rdata?: unknown;
}

/** JsMsgImpl wraps the core message as `msg`; headers are read from it. */
export function innerMsg(m: JsMsg): Msg {
  const inner = (m as unknown as { msg?: Msg }).msg;
  if (inner !== undefined && typeof inner === 'object') {
    internalsStats.jsMsgInner++;
    return inner;
  }
  internalsStats.jsMsgInnerFallback++;
  // A JsMsg has subject, data and headers too: enough for the public path.
  return m as unknown as Msg;
}

/**
 * The message's header block as received, without nats.js decoding it: a Uint8Array (the
 * "NATS/1.0\r\n..." bytes), `null` when the message has no headers, `undefined` when the
 * internals are not as expected (or the headers were decoded already): use `msg.headers`.
 */
export function rawHeaderBlock(msg: Msg): Uint8Array | null | undefined {
  const raw = msg as unknown as RawMsgFields;
  const hdr = raw._msg?.hdr;
  if (raw._headers === undefined && typeof hdr === 'number' && raw._rdata instanceof Uint8Array) {
    internalsStats.rawHeaderBlock++;
    return hdr < 0 ? null : raw._rdata.subarray(0, hdr);
  }
  internalsStats.rawHeaderBlockFallback++;
  return undefined;
}

/**
 * The header block of a message whose headers nats.js refused to decode, for the dead
 * letter. Only the internal fields hold it; without them there is nothing to return.
 */
export function undecodedHeaderBlock(msg: Msg): Uint8Array | undefined {
  const raw = msg as unknown as RawMsgFields;
  const hdr = raw._msg?.hdr;
  if (typeof hdr === 'number' && hdr >= 0 && raw._rdata instanceof Uint8Array) return raw._rdata.subarray(0, hdr);
  return undefined;
}

/**
 * MsgHdrsImpl's name → values map, read directly: MsgHdrs.get() copies and filters the
 * key list on every call (ten lookups per event made that the largest cost of consuming).
 */
export function headerMap(h: MsgHdrs): Map<string, string[]> | undefined {
  if (h instanceof MsgHdrsImpl && h.headers instanceof Map) {
    internalsStats.headerMap++;
    return h.headers;
  }
  internalsStats.headerMapFallback++;
  return undefined;
}

/**
 * MsgHdrs whose encode() writes the block in one pass. nats.js's own encode (a template
 * string per header, then TextEncoder) was the largest cost of publishing an event after
 * JSON.stringify. Same bytes; status lines (which we never send) go through nats.js.
 */
class OutboundHeaders extends MsgHdrsImpl {
  override encode(): Uint8Array {
    if (this._code !== 0 || this.headers.size === 0) return super.encode();
    let s = 'NATS/1.0';
    for (const [k, values] of this.headers) for (let i = 0; i < values.length; i++) s += '\r\n' + k + ': ' + values[i];
    return Buffer.from(s + '\r\n\r\n', 'utf8');
  }
}

/** Checked once: the subclass relies on `_code` and the `headers` map. */
const OUTBOUND_FAST = (() => {
  try {
    const probe = new OutboundHeaders();
    return probe.headers instanceof Map && probe._code === 0;
  } catch {
    return false;
  }
})();

/**
 * MsgHdrs for a record whose names and values the caller has already checked (MsgHdrs.set()
 * would re-scan all keys per call), one value per name, in the record's order; `last`, when
 * given, replaces any entry of its name and goes at the end.
 */
export function buildHeaders(r: Readonly<Record<string, string>>, last?: readonly [string, string]): MsgHdrs {
  if (OUTBOUND_FAST) {
    internalsStats.outboundHeaders++;
    const h = new OutboundHeaders();
    const map = h.headers;
    for (const k in r) map.set(k, [r[k] as string]);
    if (last) {
      map.delete(last[0]);
      map.set(last[0], [last[1]]);
    }
    return h;
  }
  internalsStats.outboundHeadersFallback++;
  const h = publicHeaders();
  for (const k in r) h.set(k, r[k] as string);
  if (last) {
    if (h.has(last[0])) h.delete(last[0]);
    h.set(last[0], last[1]);
  }
  return h;
}

/** Whether buildHeaders() takes its fast path (for the canary). */
export function outboundHeadersFast(): boolean {
  return OUTBOUND_FAST;
}

/**
 * Sends `+ACK` for every message of `batch` not acknowledged yet, as one protocol command
 * with the bytes JsMsg.ack() sends for each (each ack() is a publish of its own: a template
 * string, an encode, a buffer copy, a socket write; those were the largest cost of
 * consuming after decoding). Falls back to ack() per message.
 */
export function sendAcks(nc: NatsConnection, batch: readonly JsMsg[]): void {
  const protocol = (nc as unknown as { protocol?: { sendCommand?: (cmd: string) => void } }).protocol;
  if (batch.length > 1 && typeof protocol?.sendCommand === 'function' && !nc.isClosed() && batch.every(hasDidAck)) {
    internalsStats.ackCommand++;
    let cmd = '';
    for (const m of batch) {
      const msg = m as unknown as { didAck: boolean; reply?: string };
      if (msg.didAck || !msg.reply) continue;
      msg.didAck = true;
      cmd += `PUB ${msg.reply} 4\r\n+ACK\r\n`;
    }
    try {
      if (cmd !== '') protocol.sendCommand(cmd);
    } catch {
      // Connection gone: the server redelivers after the ack wait, as with a lost ack.
    }
    return;
  }
  if (batch.length > 1) internalsStats.ackFallback++;
  for (const m of batch) {
    try {
      m.ack();
    } catch {
      // Connection gone: the server redelivers after the ack wait, as with a lost ack.
    }
  }
}

function hasDidAck(m: JsMsg): boolean {
  return typeof (m as unknown as { didAck?: unknown }).didAck === 'boolean';
}

/**
 * consumer.fetch() with a per-message callback. nats.js accepts a `callback` option that its
 * FetchOptions type does not declare; with it messages reach us synchronously in socket
 * order (several overlapping fetches still hand out messages in stream order) and without an
 * async iterator per message. If a nats.js ignores the option (its messages object then has
 * no `noIterator` flag set), the messages are read with the public iterator instead.
 * `sent` is called once the pull request is on the connection.
 */
export async function fetchEach(c: Consumer, opts: FetchOptions, each: (m: JsMsg) => void, sent?: () => void): Promise<ConsumerMessages> {
  const msgs = await c.fetch({ ...opts, callback: each } as unknown as FetchOptions);
  // The pull request is on the connection by now (fetch() sends it before returning).
  sent?.();
  if ((msgs as unknown as { noIterator?: unknown }).noIterator === true) {
    internalsStats.fetchCallback++;
    return msgs;
  }
  internalsStats.fetchIterator++;
  for await (const m of msgs) each(m);
  return msgs;
}

/** The connection's `inboxPrefix` option (not on the public NatsConnection type). */
export function inboxPrefixOf(nc: NatsConnection): string | undefined {
  const options = (nc as unknown as { options?: { inboxPrefix?: unknown } }).options;
  if (options && typeof options === 'object') {
    internalsStats.inboxPrefix++;
    return typeof options.inboxPrefix === 'string' ? options.inboxPrefix : undefined;
  }
  internalsStats.inboxPrefixFallback++;
  return undefined;
}
