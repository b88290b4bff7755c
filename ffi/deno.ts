/**
 * The Deno backend over `Deno.dlopen`. Loaded on Deno only.
 *
 * @module
 */
import { classifyOpenError } from "./errors.ts";
import type { FfiBackend, FfiLibrary, FfiSymbolTable, FfiType } from "./types.ts";

const DENO_TYPES: Record<FfiType, Deno.NativeResultType> = {
  i32: "i32",
  u32: "u32",
  u8: "u8",
  i64: "i64",
  u64: "u64",
  buffer: "buffer",
  void: "void",
};

function denoSymbols(symbols: FfiSymbolTable): Deno.ForeignLibraryInterface {
  const out: Record<string, Deno.ForeignFunction> = {};
  for (const [name, def] of Object.entries(symbols)) {
    out[name] = {
      parameters: def.parameters.map((t) => DENO_TYPES[t] as Deno.NativeType),
      result: DENO_TYPES[def.result],
    };
  }
  return out;
}

/** The FFI backend for Deno. */
export const denoBackend: FfiBackend = {
  runtime: "deno",
  open<S extends FfiSymbolTable>(path: string, symbols: S): FfiLibrary<S> {
    let lib: Deno.DynamicLibrary<Deno.ForeignLibraryInterface>;
    try {
      lib = Deno.dlopen(path, denoSymbols(symbols));
    } catch (error) {
      throw classifyOpenError(path, error);
    }
    return {
      symbols: lib.symbols as unknown as FfiLibrary<S>["symbols"],
      close: () => lib.close(),
    };
  },
  view(address: bigint, length: number): ArrayBuffer {
    const pointer = Deno.UnsafePointer.create(address);
    if (pointer === null) throw new RangeError("cannot view native memory at address 0");
    return Deno.UnsafePointerView.getArrayBuffer(pointer, length);
  },
};
