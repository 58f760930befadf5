// The reference MurmurHash3 the dedupe fingerprint is checked against (tests only).
declare module 'murmurhash3js-revisited' {
  const murmur: { x86: { hash128(bytes: Uint8Array, seed?: number): string } };
  export default murmur;
}
