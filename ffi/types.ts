/**
 * The runtime-neutral FFI surface: one small interface implemented once over `bun:ffi`
 * (`bun.ts`) and once over `Deno.dlopen` (`deno.ts`). Everything else in the library talks
 * to this interface only.
 *
 * @module
 */

/**
 * Parameter and result types a symbol may use.
 *
 * - `i32`, `u32`, `u8`: numbers.
 * - `i64`, `u64`: bigints as results; bigint or number as parameters. Addresses are always
 *   passed as `u64` bigints (one value that works in both runtimes, no pointer objects).
 * - `buffer`: a typed array passed for the duration of the call only (its address is never kept).
 * - `void`: results only.
 */
export type FfiType = "i32" | "u32" | "u8" | "i64" | "u64" | "buffer" | "void";

/** One foreign function: its parameter types and its result type. */
export interface FfiSymbol {
  readonly parameters: readonly FfiType[];
  readonly result: FfiType;
}

/** A library's symbol table: one typed object per library (see `libc.ts`). */
export type FfiSymbolTable = Readonly<Record<string, FfiSymbol>>;

type ParamValue<T extends FfiType> = T extends "i64" | "u64" ? bigint | number
  : T extends "buffer" ? ArrayBufferView | null
  : number;
type ResultValue<T extends FfiType> = T extends "i64" | "u64" ? bigint
  : T extends "void" ? void
  : number;
type Params<P extends readonly FfiType[]> = { [K in keyof P]: ParamValue<P[K]> };

/** The callable functions of an opened library, typed from its symbol table. */
export type FfiFunctions<S extends FfiSymbolTable> = {
  readonly [K in keyof S]: (...args: Params<S[K]["parameters"]>) => ResultValue<S[K]["result"]>;
};

/** An opened native library. */
export interface FfiLibrary<S extends FfiSymbolTable> {
  /** The library's functions, one per symbol of the table it was opened with. */
  readonly symbols: FfiFunctions<S>;
  /** Unloads the library. Functions must not be called afterwards. */
  close(): void;
}

/** The runtime backend: Bun or Deno. */
export interface FfiBackend {
  /** Which runtime this backend drives. */
  readonly runtime: "bun" | "deno";
  /** Opens `path` (a soname, a file path, or a Windows DLL name) and binds `symbols`. */
  open<S extends FfiSymbolTable>(path: string, symbols: S): FfiLibrary<S>;
  /**
   * A zero-copy `ArrayBuffer` over `length` bytes of native memory at `address`.
   * The caller keeps the memory alive for as long as the view is used.
   */
  view(address: bigint, length: number): ArrayBuffer;
}
