/**
 * NATS header blocks in and out: the inbound parser (on the hot path, checked against
 * nats.js's MsgHdrs by `test/runtime/headers.property.test.ts`), outbound MsgHdrs built
 * from a record, and what a dead letter keeps of a header block nats.js refused to read.
 */
import type { Msg, MsgHdrs } from '@nats-io/transport-node';
import type { HeaderReader, HeaderRecord } from '../types.js';
import { buildHeaders, headerMap, rawHeaderBlock, undecodedHeaderBlock } from './internals.js';

/**
 * Dead-letter header holding, base64-encoded, the original header block of a message whose
 * headers could not be read (a lone CR or LF, a name with a space or a non-ASCII
 * character): such a block cannot travel as headers, so it travels as data.
 */
export const RAW_HEADERS = 'ec-dead-letter-raw-headers';

/** Most bytes of a refused header block kept in RAW_HEADERS; longer ones are cut (and say so in the detail). */
export const RAW_HEADERS_LIMIT = 8 * 1024;

/** Reads NATS headers without MsgHdrs.get() where the internals allow (see headerMap). */
class NatsHeaders implements HeaderReader {
  private readonly map: Map<string, string[]> | undefined;
  constructor(private readonly h: MsgHdrs | undefined) {
    this.map = h ? headerMap(h) : undefined;
  }
  get(name: string): string | undefined {
    if (this.map) return this.map.get(name)?.[0];
    const h = this.h;
    if (!h || !h.has(name)) return undefined;
    return h.get(name);
  }
  keys(): Iterable<string> {
    return this.h ? this.h.keys() : [];
  }
}

class MapHeaders implements HeaderReader {
  constructor(private readonly map: Map<string, string>) {}
  get(name: string): string | undefined {
    return this.map.get(name);
  }
  keys(): Iterable<string> {
    return this.map.keys();
  }
}

export const NO_HEADERS: HeaderReader = new NatsHeaders(undefined);

const utf8Decoder = new TextDecoder();

/**
 * Headers of an inbound message, parsed straight from its bytes. MsgHdrsImpl.decode()
 * canonicalises every name, rescans all names per header and builds an array per value:
 * with the ten headers of an event that was the largest cost of consuming. This parser
 * gives the same first values and names; anything it does not expect (a status line other
 * than plain NATS/1.0, names or values MsgHdrs would refuse, a nats.js whose internals
 * differ) goes through MsgHdrs as before, with the same outcome, including its errors:
 * **this throws** on a header block nats.js refuses; callers on a receive path catch it.
 */
export function readHeaders(msg: Msg): HeaderReader {
  const block = rawHeaderBlock(msg);
  if (block === null) return NO_HEADERS;
  if (block !== undefined) {
    const map = parseHeaderBlock(utf8Decoder.decode(block));
    if (map) return new MapHeaders(map);
  }
  return new NatsHeaders(msg.headers);
}

/** Parses "NATS/1.0\r\nk: v\r\n..." as MsgHdrsImpl.decode() does; undefined = let it decide. */
export function parseHeaderBlock(s: string): Map<string, string> | undefined {
  // One pass with indexOf rather than split(): no array of lines per message.
  let pos = s.indexOf('\r\n');
  if ((pos < 0 ? s : s.slice(0, pos)) !== 'NATS/1.0') return undefined;
  const map = new Map<string, string>();
  const n = s.length;
  while (pos >= 0 && pos < n) {
    const start = pos + 2;
    // The line ends at the first CR, which must start a CRLF. A CR or LF on its own makes
    // MsgHdrs refuse the value (or it is in a line it skips): decline, and let it decide.
    let end = s.indexOf('\r', start);
    if (end < 0) end = n;
    else if (end + 1 < n && s.charCodeAt(end + 1) !== 10) return undefined;
    const lf = s.indexOf('\n', start);
    if (lf >= 0 && lf < end) return undefined;
    pos = end;
    if (end === start) continue;
    const idx = s.indexOf(':', start);
    if (idx < 0 || idx >= end) continue; // MsgHdrs skips lines without ':' too
    for (let j = start; j < idx; j++) {
      const c = s.charCodeAt(j);
      if (c < 33 || c > 126) return undefined; // MsgHdrs throws on it
    }
    // "name: value" with nothing to trim (the usual case) needs one slice, not slice + trim.
    const first = s.charCodeAt(idx + 2);
    const last = s.charCodeAt(end - 1);
    const v =
      s.charCodeAt(idx + 1) === 32 && idx + 2 < end && first > 32 && first < 127 && last > 32 && last < 127 ? s.slice(idx + 2, end) : s.slice(idx + 1, end).trim();
    const k = s.slice(start, idx);
    if (!map.has(k)) map.set(k, v); // readers see the first value, as with MsgHdrs.get()
  }
  return map;
}

const HEADER_NAME = /^[!-9;-~]+$/;
const HEADER_VALUE_BAD = /[\r\n]/;
/** Names that passed HEADER_NAME: an event carries the same handful of names every time. */
const checkedNames = new Set<string>();
export const MSG_ID = 'Nats-Msg-Id';

/**
 * MsgHdrs for a record. We refuse what would corrupt the wire: names outside printable
 * ASCII or with ':', values with CR/LF (user-supplied ids and middleware headers pass
 * through here). With `msgId`, Nats-Msg-Id goes in last, where js.publish({ msgID }) would
 * have put it, so the bytes on the wire are the same as nats.js's.
 */
export function toNatsHeaders(r: HeaderRecord, msgId?: string): MsgHdrs {
  let rec = r;
  for (const k in r) {
    if (!checkedNames.has(k)) {
      if (!HEADER_NAME.test(k)) throw new Error(`invalid header name ${JSON.stringify(k)}`);
      if (checkedNames.size < 1000) checkedNames.add(k);
    }
    const v = r[k];
    // Middleware may set a number: sent as its string, as nats.js would.
    if (typeof v !== 'string') (rec === r ? (rec = { ...r }) : rec)[k] = `${v as unknown}`;
    if (HEADER_VALUE_BAD.test(rec[k] as string)) throw new Error(`header ${k} must not contain CR or LF`);
  }
  if (msgId === undefined) return buildHeaders(rec);
  // What MsgHdrs.set() does with a value: refuse CR/LF, trim.
  if (HEADER_VALUE_BAD.test(msgId)) throw new Error(`header ${MSG_ID} must not contain CR or LF`);
  return buildHeaders(rec, [MSG_ID, msgId.trim()]);
}

/** First value of each header, as a record (dead letters). */
export function toRecord(h: MsgHdrs | undefined): HeaderRecord {
  const out: HeaderRecord = {};
  if (h) for (const k of h.keys()) out[k] = h.values(k)[0] ?? '';
  return out;
}

/** The headers of a message whose header block nats.js refused, as a dead letter carries them. */
export function refusedHeaderRecord(msg: Msg): { headers: HeaderRecord; note: string } {
  const block = undecodedHeaderBlock(msg);
  if (!block) return { headers: {}, note: 'the original header block could not be kept' };
  const kept = block.subarray(0, RAW_HEADERS_LIMIT);
  const note = kept.length < block.length ? `original header block (${block.length} bytes, first ${kept.length} kept) in ${RAW_HEADERS}, base64` : `original header block in ${RAW_HEADERS}, base64`;
  return { headers: { [RAW_HEADERS]: Buffer.from(kept).toString('base64') }, note };
}
