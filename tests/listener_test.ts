import assert from "node:assert/strict";
import { parseRingBufferPage } from "../src/listener/mod.ts";
import type { CapturedEvent } from "../src/listener/listener.ts";
import { test } from "./harness.ts";

/** A record as the kernel stores it: common fields, protocol, version, rel_loc, data, padding. */
function record(id: number, tid: number, payload: number[]): Uint8Array {
  const length = (24 + payload.length + 3) & ~3;
  const r = new Uint8Array(length);
  const v = new DataView(r.buffer);
  v.setUint16(0, id, true);
  v.setInt32(4, tid, true);
  v.setUint32(8, 0, true);
  r.set(new TextEncoder().encode("v0.19.00"), 12);
  v.setUint32(20, payload.length << 16, true);
  r.set(payload, 24);
  return r;
}

test("ring-buffer pages: small and large events, time extends, other events, padding", () => {
  const page = new Uint8Array(4096);
  const v = new DataView(page.buffer);
  v.setBigUint64(0, 1000n, true);
  let at = 16;
  const small = record(42, 7, [1, 2, 3]); // 28 bytes: type_len 7
  v.setUint32(at, (5 << 5) | (small.length / 4), true);
  page.set(small, at + 4);
  at += 4 + small.length;
  v.setUint32(at, (3 << 5) | 30, true); // time extend: + (2 << 27) | 3
  v.setUint32(at + 4, 2, true);
  at += 8;
  const big = record(42, 8, Array.from({ length: 200 }, (_, i) => i & 0xff)); // type_len 0
  v.setUint32(at, 10 << 5, true);
  v.setUint32(at + 4, big.length + 4, true);
  page.set(big, at + 8);
  at += 8 + big.length;
  const other = record(43, 9, [9]); // another event id: ignored
  v.setUint32(at, other.length / 4, true);
  page.set(other, at + 4);
  at += 4 + other.length;
  v.setUint32(at, 29, true); // padding with delta 0: end of page
  v.setBigUint64(8, BigInt(at + 4 - 16) | 0x80000000n, true); // commit with "events missed"
  const out: CapturedEvent[] = [];
  const lost = parseRingBufferPage(page, 1, 42, out);
  assert.equal(lost, true);
  assert.equal(out.length, 2);
  assert.deepEqual(
    out.map((e) => [e.cpu, e.tid, e.timestamp, e.version, e.protocol, e.payload.length]),
    [[1, 7, 1005n, "v0.19.00", 0, 3], [1, 8, 1005n + ((2n << 27n) | 3n) + 10n, "v0.19.00", 0, 200]],
  );
  assert.deepEqual(out[0]!.payload, new Uint8Array([1, 2, 3]));
  assert.equal(out[1]!.payload[199], 199);
});
