/**
 * Bytes as lowercase hex and back, for tests that compare or print exact bytes.
 *
 * @module
 */

/** `"00ff1a"` for `[0x00, 0xff, 0x1a]`: two lowercase digits per byte, no separators. */
export function hex(bytes: Uint8Array): string {
  return hexJoined(bytes, "");
}

/** `"00,ff,1a"` for `([0x00, 0xff, 0x1a], ",")`: {@linkcode hex} with `separator` between bytes. */
export function hexJoined(bytes: Uint8Array, separator: string): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(separator);
}

/** The bytes of a hex string (whitespace ignored). */
export function unhex(text: string): Uint8Array {
  const digits = text.replace(/\s+/g, "");
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(digits)) throw new RangeError(`not hex bytes: ${text}`);
  return new Uint8Array(digits.match(/../g)?.map((pair) => parseInt(pair, 16)) ?? []);
}
