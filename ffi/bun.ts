/**
 * The Bun backend over `bun:ffi`. Imported dynamically, on Bun only, so Deno never parses
 * the `bun:ffi` specifier.
 *
 * @module
 */
/// <reference types="./bun_ffi.d.ts" />
import { classifyOpenError } from "./errors.ts";
import type { FfiBackend, FfiLibrary, FfiSymbolTable, FfiType } from "./types.ts";

// A dynamic import, not a static one: a bundler (esbuild, with `bun:ffi` external) inlines this
// module into a Node or browser bundle, where a static `import ... from "bun:ffi"` would be
// hoisted to the top and fail at load. This line runs only on Bun (runtime.ts imports this
// module only there).
const { dlopen, toArrayBuffer } = await import("bun:ffi");

// `buffer` maps to `ptr`, which accepts a typed array for the duration of the call; stored
// addresses are always native memory passed as `u64`, never `ptr(typedArray)` (see README,
// "Native memory").
const BUN_TYPES: Record<FfiType, string> = {
  i32: "i32",
  u32: "u32",
  u8: "u8",
  i64: "i64",
  u64: "u64",
  buffer: "ptr",
  void: "void",
};

/** The FFI backend for Bun. */
export const bunBackend: FfiBackend = {
  runtime: "bun",
  open<S extends FfiSymbolTable>(path: string, symbols: S): FfiLibrary<S> {
    const defs: Record<string, { args: string[]; returns: string }> = {};
    for (const [name, def] of Object.entries(symbols)) {
      defs[name] = {
        args: def.parameters.map((t) => BUN_TYPES[t]),
        returns: BUN_TYPES[def.result],
      };
    }
    try {
      const lib = dlopen(path, defs);
      return {
        symbols: lib.symbols as unknown as FfiLibrary<S>["symbols"],
        close: () => lib.close(),
      };
    } catch (error) {
      throw classifyOpenError(path, error);
    }
  },
  view(address: bigint, length: number): ArrayBuffer {
    return toArrayBuffer(Number(address), 0, length);
  },
};
