/**
 * 128-bit MurmurHash3 (x86_128) of a string's UTF-16 code units, read as little-endian
 * bytes: the reference algorithm over the string's UTF-16LE encoding, computed straight from
 * charCodeAt without encoding the string first (no allocation per call).
 *
 * Used where a key only needs to be recognised again (dedupe): 128 bits make an accidental
 * match between two different keys far less likely than two random UUIDs being equal.
 */

/** Receives the four 32-bit words of the last fingerprint; reused across calls. */
export type Fingerprint = Int32Array;

export function newFingerprint(): Fingerprint {
  return new Int32Array(4);
}

const C1 = 0x239b961b;
const C2 = 0xab0e9789 | 0;
const C3 = 0x38b34ae5;
const C4 = 0xa1e38b93 | 0;

function rotl(x: number, r: number): number {
  return (x << r) | (x >>> (32 - r));
}

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** Two code units make one 32-bit word; a missing second unit reads as zero bytes. */
function word(s: string, i: number, n: number): number {
  return i + 1 < n ? s.charCodeAt(i) | (s.charCodeAt(i + 1) << 16) : i < n ? s.charCodeAt(i) : 0;
}

export function fingerprint(s: string, out: Fingerprint): void {
  const n = s.length;
  let h1 = 0;
  let h2 = 0;
  let h3 = 0;
  let h4 = 0;
  // Body: blocks of 16 bytes = 8 code units.
  const blocks = n - (n % 8);
  let i = 0;
  for (; i < blocks; i += 8) {
    let k1 = s.charCodeAt(i) | (s.charCodeAt(i + 1) << 16);
    let k2 = s.charCodeAt(i + 2) | (s.charCodeAt(i + 3) << 16);
    let k3 = s.charCodeAt(i + 4) | (s.charCodeAt(i + 5) << 16);
    let k4 = s.charCodeAt(i + 6) | (s.charCodeAt(i + 7) << 16);

    k1 = Math.imul(rotl(Math.imul(k1, C1), 15), C2);
    h1 ^= k1;
    h1 = (Math.imul(rotl(h1, 19) + h2, 5) + 0x561ccd1b) | 0;

    k2 = Math.imul(rotl(Math.imul(k2, C2), 16), C3);
    h2 ^= k2;
    h2 = (Math.imul(rotl(h2, 17) + h3, 5) + 0x0bcaa747) | 0;

    k3 = Math.imul(rotl(Math.imul(k3, C3), 17), C4);
    h3 ^= k3;
    h3 = (Math.imul(rotl(h3, 15) + h4, 5) + 0x96cd1c35) | 0;

    k4 = Math.imul(rotl(Math.imul(k4, C4), 18), C1);
    h4 ^= k4;
    h4 = (Math.imul(rotl(h4, 13) + h1, 5) + 0x32ac3b17) | 0;
  }
  // Tail: up to 7 code units (14 bytes); the reference mixes each partial word it has.
  const rest = n - i;
  if (rest > 6) h4 ^= Math.imul(rotl(Math.imul(word(s, i + 6, n), C4), 18), C1);
  if (rest > 4) h3 ^= Math.imul(rotl(Math.imul(word(s, i + 4, n), C3), 17), C4);
  if (rest > 2) h2 ^= Math.imul(rotl(Math.imul(word(s, i + 2, n), C2), 16), C3);
  if (rest > 0) h1 ^= Math.imul(rotl(Math.imul(word(s, i, n), C1), 15), C2);

  const bytes = n * 2;
  h1 ^= bytes;
  h2 ^= bytes;
  h3 ^= bytes;
  h4 ^= bytes;
  h1 = (h1 + h2 + h3 + h4) | 0;
  h2 = (h2 + h1) | 0;
  h3 = (h3 + h1) | 0;
  h4 = (h4 + h1) | 0;
  h1 = fmix(h1);
  h2 = fmix(h2);
  h3 = fmix(h3);
  h4 = fmix(h4);
  h1 = (h1 + h2 + h3 + h4) | 0;
  h2 = (h2 + h1) | 0;
  h3 = (h3 + h1) | 0;
  h4 = (h4 + h1) | 0;
  out[0] = h1;
  out[1] = h2;
  out[2] = h3;
  out[3] = h4;
}
