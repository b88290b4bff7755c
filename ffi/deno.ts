/**
 * The Deno backend over `Deno.dlopen`. Loaded on Deno only.
 *
 * @module
 */
import { classifyOpenError } from "./errors.ts";
import type { FfiBackend, FfiLibrary, FfiSymbolTable, FfiType } from "./types.ts";

// The few `Deno` FFI types this backend uses, declared here (module scope, shadowing the
// global only for the type checker) so the compiled npm `.d.ts`/`.js` and a user's `tsc`
// never need Deno's type library. At run time `Deno` is the real global.
type DenoNativeType = "i32" | "u32" | "u8" | "i64" | "u64" | "buffer" | "void";
interface DenoForeignFunction {
  parameters: DenoNativeType[];
  result: DenoNativeType;
}
interface DenoDynamicLibrary {
  symbols: Record<string, unknown>;
  close(): void;
}
declare const Deno: {
  dlopen(path: string, symbols: Record<string, DenoForeignFunction>): DenoDynamicLibrary;
  UnsafePointer: { create(value: bigint): object | null };
  UnsafePointerView: { getArrayBuffer(pointer: object, byteLength: number): ArrayBuffer };
};

const DENO_TYPES: Record<FfiType, DenoNativeType> = {
  i32: "i32",
  u32: "u32",
  u8: "u8",
  i64: "i64",
  u64: "u64",
  buffer: "buffer",
  void: "void",
};

function denoSymbols(symbols: FfiSymbolTable): Record<string, DenoForeignFunction> {
  const out: Record<string, DenoForeignFunction> = {};
  for (const [name, def] of Object.entries(symbols)) {
    out[name] = {
      parameters: def.parameters.map((t) => DENO_TYPES[t]),
      result: DENO_TYPES[def.result],
    };
  }
  return out;
}

/** The FFI backend for Deno. */
export const denoBackend: FfiBackend = {
  runtime: "deno",
  open<S extends FfiSymbolTable>(path: string, symbols: S): FfiLibrary<S> {
    let lib: DenoDynamicLibrary;
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
