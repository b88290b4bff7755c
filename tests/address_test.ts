import assert from "node:assert/strict";
import fc from "fast-check";
import { ffi, NativeBlock } from "../ffi/mod.ts";
import { SplitAddress } from "../ffi/address.ts";
import { test } from "./harness.ts";

const U64_MAX = (1n << 64n) - 1n;

/** What `store` wrote, read back as the native-order u64 native code sees. */
function stored(base: bigint, offset: number): bigint {
  const words = new Uint32Array(4);
  words.fill(0xa5a5a5a5);
  new SplitAddress(base).store(words, 2, offset);
  assert.deepEqual([words[0], words[1]], [0xa5a5a5a5, 0xa5a5a5a5], "only its two words written");
  return new BigUint64Array(words.buffer)[1]!;
}

test("SplitAddress: base + offset across the 32-bit boundary, both ways", () => {
  assert.equal(stored(0x1_ffff_fff0n, 0x20), 0x2_0000_0010n);
  assert.equal(stored(0x1_ffff_ffffn, 1), 0x2_0000_0000n);
  assert.equal(stored(0x0_ffff_ffffn, 0xffff_ffff), 0x1_ffff_fffen);
  assert.equal(stored(0x2_0000_0010n, -0x20), 0x1_ffff_fff0n);
  assert.equal(stored(0x7f12_3456_789an, 0), 0x7f12_3456_789an);
  assert.equal(stored(U64_MAX - 5n, 5), U64_MAX);
  assert.equal(stored(0n, 0), 0n);
});

test("SplitAddress: equals bigint arithmetic for any address and offset", () => {
  fc.assert(
    fc.property(
      fc.bigInt({ min: 0n, max: U64_MAX }),
      fc.integer({ min: -0xffff_ffff, max: 0xffff_ffff }),
      (base, offset) => {
        const want = base + BigInt(offset);
        fc.pre(want >= 0n && want <= U64_MAX);
        assert.equal(stored(base, offset), want);
      },
    ),
    { numRuns: 20_000 },
  );
});

test("SplitAddress: rejects what is not a 64-bit address", () => {
  assert.throws(() => new SplitAddress(-1n), RangeError);
  assert.throws(() => new SplitAddress(1n << 64n), RangeError);
});

test("SplitAddress: a stored address points native code at the intended byte", () => {
  const block = NativeBlock.allocate(4096);
  try {
    block.bytes[3000] = 0x5a;
    const field = new Uint32Array(block.bytes.buffer, 16, 2);
    new SplitAddress(block.address).store(field, 0, 3000);
    const address = block.view.getBigUint64(16, true);
    assert.equal(address, block.at(3000));
    assert.equal(new Uint8Array(ffi().view(address, 1))[0], 0x5a);
  } finally {
    block.free();
  }
});
