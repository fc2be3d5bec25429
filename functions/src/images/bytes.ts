/**
 * Tiny big/little-endian readers over untrusted bytes. They never throw: out-of-range reads yield
 * NaN (or "" for ascii), which every caller's range checks (`x > 0`, `x <= end`) then reject.
 */
const at = (bytes: Uint8Array, i: number): number => (i >= 0 && i < bytes.length ? bytes[i]! : NaN);

export const u8 = at;
export const u16be = (b: Uint8Array, o: number): number => at(b, o) * 0x100 + at(b, o + 1);
export const u16le = (b: Uint8Array, o: number): number => at(b, o) + at(b, o + 1) * 0x100;
export const u24le = (b: Uint8Array, o: number): number => u16le(b, o) + at(b, o + 2) * 0x10000;
export const u32be = (b: Uint8Array, o: number): number => u16be(b, o) * 0x10000 + u16be(b, o + 2);
export const u32le = (b: Uint8Array, o: number): number => u16le(b, o) + u16le(b, o + 2) * 0x10000;
export const u64be = (b: Uint8Array, o: number): number => u32be(b, o) * 0x1_0000_0000 + u32be(b, o + 4);

/** `length` bytes at `offset` as ASCII, or "" when out of range. */
export function ascii(bytes: Uint8Array, offset: number, length: number): string {
  if (offset < 0 || offset + length > bytes.length) return "";
  return String.fromCharCode(...bytes.subarray(offset, offset + length));
}

export function startsWith(bytes: Uint8Array, signature: readonly number[], offset = 0): boolean {
  if (offset < 0 || bytes.length < offset + signature.length) return false;
  return signature.every((b, i) => bytes[offset + i] === b);
}
