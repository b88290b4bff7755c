/**
 * Native addresses stored into native structs on the hot path without bigint arithmetic.
 *
 * @module
 */

const TWO_32 = 4294967296;
// Which 32-bit word of a u64 holds its low half in this process's native byte order (x86_64 and
// aarch64: the first). The structs these words go into are read by native code in that order.
const LOW_WORD = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1 ? 0 : 1;

/**
 * A native base address split into two 32-bit halves once, so that `base + offset` can be
 * stored as a u64 field (an iovec's `iov_base`, an `EVENT_DATA_DESCRIPTOR.Ptr`) through a
 * `Uint32Array` view with number arithmetic only: no bigint and no float division per event.
 *
 * @example
 * ```ts
 * import { SplitAddress } from "./address.ts";
 * const base = new SplitAddress(0x1_ffff_fff0n);
 * const words = new Uint32Array(2); // a u64 field of a native struct
 * base.store(words, 0, 0x20); // carries into the high half
 * if (new BigUint64Array(words.buffer)[0] !== 0x2_0000_0010n) throw new Error("wrong address");
 * ```
 */
export class SplitAddress {
  /** The low 32 bits of the base address. */
  readonly lo: number;
  /** The high 32 bits of the base address. */
  readonly hi: number;

  /** Splits `address` (0 to 2^64 − 1). */
  constructor(address: bigint) {
    if (address < 0n || address >= 1n << 64n) {
      throw new RangeError(`not a 64-bit address: ${address}`);
    }
    this.lo = Number(address & 0xffffffffn);
    this.hi = Number(address >> 32n);
  }

  /**
   * Writes `base + offset` as a native-order u64 into `words[index]` and `words[index + 1]`
   * (`index` is the field's byte offset ÷ 4, so the field is 8-byte aligned when `index` is
   * even). `offset` is an integer with |offset| < 2^32; the sum must not leave the 64-bit range.
   */
  store(words: Uint32Array, index: number, offset: number): void {
    let lo = this.lo + offset;
    let hi = this.hi;
    // One carry or borrow at most: both |lo| and |offset| are below 2^32.
    if (lo >= TWO_32) {
      lo -= TWO_32;
      hi++;
    } else if (lo < 0) {
      lo += TWO_32;
      hi--;
    }
    words[index + LOW_WORD] = lo;
    words[index + 1 - LOW_WORD] = hi;
  }
}
