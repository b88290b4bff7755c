import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { ffi, LibraryNotFoundError, NativeBlock, SymbolNotFoundError } from "../ffi/mod.ts";
import { test } from "./harness.ts";

test("a missing library: LibraryNotFoundError naming it", () => {
  assert.throws(
    () => ffi().open("libdoes-not-exist.so.9", { f: { parameters: [], result: "void" } }),
    (e: Error) => e instanceof LibraryNotFoundError && e.message.includes("libdoes-not-exist.so.9"),
  );
});

test("a missing symbol: SymbolNotFoundError naming it", () => {
  assert.throws(
    () => ffi().open("libc.so.6", { no_such_function_xyz: { parameters: [], result: "i32" } }),
    (e: Error) => e instanceof SymbolNotFoundError && e.message.includes("no_such_function_xyz"),
  );
});

test("native memory: zeroed, stable address, visible through views", () => {
  const block = NativeBlock.allocate(4096);
  try {
    assert.ok(block.bytes.every((b) => b === 0));
    block.view.setUint32(8, 0xdeadbeef, true);
    const again = new Uint32Array(ffi().view(block.at(8), 4));
    assert.equal(again[0], 0xdeadbeef);
  } finally {
    block.free();
  }
});

test("Deno without --allow-ffi: the error says which flag to add", () => {
  const deno = new URL("../node_modules/.bin/deno", import.meta.url).pathname;
  const script = new URL("./fixtures/needs_ffi.ts", import.meta.url).pathname;
  const result = spawnSync(deno, ["run", "--no-prompt", script], { encoding: "utf8" });
  assert.equal(result.status, 3, result.stderr);
  assert.match(result.stdout, /FfiPermissionError: .*--allow-ffi/);
});
