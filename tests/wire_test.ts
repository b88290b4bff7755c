/// <reference types="./bun_test.d.ts" />
/**
 * src/encoder/wire.ts against protobuf-es' `BinaryWriter` (an independent implementation of
 * the same wire format): varints at every width, 64-bit integers of both signs, fixed64,
 * sint32, doubles, strings (ASCII, UTF-8, lone surrogates), bytes, fork/join with length
 * prefixes that widen, times (seconds ≥ 2^32, nanosecond carries), and spilling.
 *
 * @module
 */
import assert from "node:assert/strict";
import { BinaryWriter, WireType as PbWireType } from "@bufbuild/protobuf/wire";
import {
  hrTimeHalves,
  ProtoWriter,
  putVarint,
  tag,
  TWO_32,
  varintSize,
  WireType,
} from "../src/encoder/wire.ts";
import { test } from "./harness.ts";
import { hexJoined } from "./hex.ts";

/** Bytes written by `write` into a fresh ProtoWriter (home buffer of `home` bytes). */
function ours(write: (w: ProtoWriter) => void, home = 64): Uint8Array {
  const w = new ProtoWriter(new Uint8Array(home));
  write(w);
  return w.buf.slice(0, w.pos);
}

/** Bytes written by `write` into protobuf-es' BinaryWriter. */
function theirs(write: (w: BinaryWriter) => void): Uint8Array {
  const w = new BinaryWriter();
  write(w);
  return w.finish();
}

const spaced = (b: Uint8Array) => hexJoined(b, " ");

function same(a: Uint8Array, b: Uint8Array, what: string): void {
  assert.equal(spaced(a), spaced(b), what);
}

/** Every varint width: 0, then 2^k - 1 and 2^k for k = 1..32 (uint32) or 1..63 (64-bit). */
function boundaries(bits: number): number[] {
  const out = [0];
  for (let k = 1; k <= bits; k++) out.push(2 ** k - 1, 2 ** k);
  return out.filter((v) => v < 2 ** bits);
}

test("wire: WireType and tags are protobuf's", () => {
  assert.equal<number>(WireType.Varint, PbWireType.Varint);
  assert.equal<number>(WireType.Bit64, PbWireType.Bit64);
  assert.equal<number>(WireType.LengthDelimited, PbWireType.LengthDelimited);
  assert.equal<number>(WireType.Bit32, PbWireType.Bit32);
  for (const field of [1, 2, 7, 9, 15, 16, 2047, 2048, 536870911]) {
    for (const wt of [WireType.Varint, WireType.Bit64, WireType.LengthDelimited]) {
      same(
        ours((w) => w.tag(field, wt)),
        theirs((w) => w.tag(field, wt as number as PbWireType)),
        `tag ${field}/${wt}`,
      );
      if (field < 16) assert.equal(tag(field, wt), ours((w) => w.tag(field, wt))[0]);
    }
  }
});

test("wire: uint32 varints at every width, varintSize and putVarint agree", () => {
  for (const v of boundaries(32)) {
    const expected = theirs((w) => w.uint32(v));
    same(ours((w) => w.uint32(v)), expected, `uint32 ${v}`);
    assert.equal(varintSize(v), expected.length, `varintSize ${v}`);
    const b = new Uint8Array(8);
    assert.equal(putVarint(b, 1, v), 1 + expected.length);
    same(b.subarray(1, 1 + expected.length), expected, `putVarint ${v}`);
  }
});

test("wire: int64 varints of both signs, every width, up to ±2^63", () => {
  const values = [
    ...boundaries(63).filter(Number.isSafeInteger),
    2 ** 53,
    2 ** 60,
    2 ** 63 - 1024, // the largest double below 2^63
    TWO_32 + 1,
    TWO_32 - 1,
  ];
  for (const v of [...values, ...values.map((x) => -x), -(2 ** 63)]) {
    same(ours((w) => w.int64(v)), theirs((w) => w.int64(BigInt(v))), `int64 ${v}`);
  }
  // uint64 above 2^63 (bucket counts can be any uint64)
  for (const v of [2 ** 63, 2 ** 64 - 2048]) {
    same(ours((w) => w.int64(v)), theirs((w) => w.uint64(BigInt(v))), `uint64 ${v}`);
  }
  // varint64 from halves
  same(
    ours((w) => w.varint64(0xffffffff, 0x7fffffff)),
    theirs((w) => w.int64(2n ** 63n - 1n)),
    "max",
  );
  same(ours((w) => w.varint64(5, 0)), theirs((w) => w.uint32(5)), "hi = 0");
});

test("wire: fixed64 and sfixed64 of both signs, sint32 zigzag, doubles", () => {
  const values = [0, 1, -1, 2 ** 31, -(2 ** 31), TWO_32, -TWO_32, TWO_32 - 1, -(TWO_32 + 1)];
  for (const v of [...values, 2 ** 53, -(2 ** 53), 2 ** 62, -(2 ** 63), 2 ** 63 - 1024]) {
    same(ours((w) => w.sfixed64(v)), theirs((w) => w.sfixed64(BigInt(v))), `sfixed64 ${v}`);
  }
  same(
    ours((w) => w.sfixed64(2 ** 64 - 2048)),
    theirs((w) => w.fixed64(2n ** 64n - 2048n)),
    "fixed64",
  );
  same(
    ours((w) => w.fixed64(0xdeadbeef, 0x01020304)),
    theirs((w) => w.fixed64(0x01020304deadbeefn)),
    "halves",
  );
  for (const v of [0, 1, -1, 63, -64, 64, -65, 2 ** 30, -(2 ** 31), 2 ** 31 - 1]) {
    same(ours((w) => w.sint32(v)), theirs((w) => w.sint32(v)), `sint32 ${v}`);
  }
  for (const v of [0, -0, 1.5, -2.25, NaN, Infinity, -Infinity, 5e-324, Number.MAX_VALUE]) {
    same(ours((w) => w.double(v)), theirs((w) => w.double(v)), `double ${v}`);
  }
});

test("wire: strings (ASCII, UTF-8, lone surrogates, long) and bytes", () => {
  const strings = [
    "",
    "a",
    "x".repeat(127),
    "x".repeat(128),
    "x".repeat(20_000),
    "grüße ✓ 🚀",
    "日本語".repeat(50),
    "lone \ud800 high, lone \udc00 low",
    "ascii then é",
  ];
  for (const s of strings) {
    same(ours((w) => w.string(s), 8), theirs((w) => w.string(s)), `string ${s.slice(0, 20)}`);
  }
  for (const b of [new Uint8Array(0), new Uint8Array([0, 255]), new Uint8Array(300).fill(7)]) {
    same(ours((w) => w.bytes(b), 8), theirs((w) => w.bytes(b)), `bytes ${b.length}`);
    same(ours((w) => w.raw(b), 8), theirs((w) => w.raw(b)), `raw ${b.length}`);
  }
});

test("wire: fork/join, nested, with length prefixes widening from 1 to 4 bytes", () => {
  for (const n of [0, 1, 125, 126, 127, 128, 16381, 16382, 16383, 16384, 2 ** 21 - 3, 2 ** 21]) {
    const payload = new Uint8Array(n).fill(0x61);
    // outer { inner { payload } , 1 } : the inner prefix widens, then the outer one.
    const a = ours((w) => {
      w.tag(1, WireType.LengthDelimited);
      const outer = w.fork();
      w.tag(2, WireType.LengthDelimited);
      const inner = w.fork();
      w.raw(payload);
      w.join(inner);
      w.tag(3, WireType.Varint);
      w.uint32(1);
      w.join(outer);
    }, 16);
    const b = theirs((w) => {
      w.tag(1, PbWireType.LengthDelimited).fork();
      w.tag(2, PbWireType.LengthDelimited).fork().raw(payload).join();
      w.tag(3, PbWireType.Varint).uint32(1);
      w.join();
    });
    assert.equal(a.length, b.length, `length for ${n}`);
    same(a.subarray(0, 12), b.subarray(0, 12), `prefixes for ${n}`);
    same(a.subarray(a.length - 12), b.subarray(b.length - 12), `end for ${n}`);
  }
});

test("wire: a writer spills off its home buffer only when it must, and reset returns home", () => {
  const home = new Uint8Array(16);
  const w = new ProtoWriter(home);
  w.string("0123456789"); // 11 bytes
  assert.equal(w.spilled, false);
  assert.equal(w.buf, home);
  w.string("0123456789"); // 22 > 16
  assert.equal(w.spilled, true);
  same(w.buf.subarray(0, 22), theirs((x) => x.string("0123456789").string("0123456789")), "kept");
  assert.equal(w.capacity, 16);
  w.reset(3);
  assert.equal(w.spilled, false);
  assert.equal(w.buf, home);
  assert.equal(w.pos, 3);
});

/** Unix nanoseconds of an HrTime, exactly. */
function exactNanos(seconds: number, nanos: number): bigint {
  return BigInt(seconds) * 1_000_000_000n + BigInt(Math.round(nanos));
}

test("wire: hrTimeHalves is exact: seconds ≥ 2^32, nanosecond carries, every range", () => {
  const cases: [number, number][] = [
    [0, 0],
    [1, 999_999_999],
    [1_790_000_000, 123_456_789],
    [1_790_000_010, 999_999_999],
    [4_294_967_295, 999_999_999], // 2^32 - 1 seconds
    [4_294_967_296, 0], // 2^32 seconds: the 16-bit split path
    [4_294_967_296 + 17, 999_999_999],
    [18_446_744_073, 709_551_615], // 2^64 - 1 ns
    [5, 1_500_000_000], // nanoseconds ≥ 1e9 carry into the seconds
    [5, 2 ** 31 - 1],
    [5, 2 ** 31], // past the fast path's range
    [1_790_000_000, 1_999_999_999],
  ];
  // and many random ones, both paths
  let seed = 12345;
  const rand = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / TWO_32;
  for (let i = 0; i < 2000; i++) {
    cases.push([Math.floor(rand() * 2 ** 34), Math.floor(rand() * 1e9)]);
    cases.push([Math.floor(rand() * TWO_32), Math.floor(rand() * 2e9)]);
  }
  const out = new Uint32Array(2);
  for (const [s, n] of cases) {
    hrTimeHalves(s, n, out);
    const want = exactNanos(s, n);
    const got = (BigInt(out[1]!) << 32n) | BigInt(out[0]!);
    assert.ok(got === want, `[${s}, ${n}]: ${got} !== ${want}`);
    // and as the fixed64 BinaryWriter writes
    same(
      ours((w) => w.fixed64(out[0]!, out[1]!)),
      theirs((w) => w.fixed64(want)),
      `fixed64 [${s}, ${n}]`,
    );
  }
});
