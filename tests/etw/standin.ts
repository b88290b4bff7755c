/**
 * The recording advapi32 stand-in (`standin/advapi32_standin.c`) as the tests drive it: found or
 * built, opened through the library's own `ffi/` layer, its call log parsed, faults injected.
 *
 * @module
 */
import { spawnSync } from "node:child_process";
import { type ADVAPI32_SYMBOLS, cString, ffi } from "../../ffi/mod.ts";
import type { FfiFunctions, FfiSymbolTable } from "../../ffi/types.ts";
import { env } from "../harness.ts";

/** The stand-in's control functions, beside the five ETW functions it exports. */
export const STANDIN_SYMBOLS = {
  /** void standin_reset(void); */
  standin_reset: { parameters: [], result: "void" },
  /** void standin_set_enabled(uint8_t enabled); */
  standin_set_enabled: { parameters: ["u8"], result: "void" },
  /** void standin_set_handle(uint64_t handle); */
  standin_set_handle: { parameters: ["u64"], result: "void" },
  /** int32_t standin_fail(const char *fn, uint32_t code, uint32_t after, uint32_t times); */
  standin_fail: { parameters: ["buffer", "u32", "u32", "u32"], result: "i32" },
  /** int32_t standin_call_count(const char *fn); */
  standin_call_count: { parameters: ["buffer"], result: "i32" },
  /** size_t standin_log_size(void); */
  standin_log_size: { parameters: [], result: "u64" },
  /** size_t standin_log_copy(uint8_t *dst, size_t cap); */
  standin_log_copy: { parameters: ["buffer", "u64"], result: "u64" },
  /** uint8_t standin_log_overflowed(void); */
  standin_log_overflowed: { parameters: [], result: "u8" },
  /** void standin_log_clear(void); */
  standin_log_clear: { parameters: [], result: "void" },
} as const satisfies FfiSymbolTable;

/** One of the five ETW functions. */
export type EtwFunction = keyof typeof ADVAPI32_SYMBOLS;

/** One logged call; the fields of each function are listed in README.md. */
export interface StandinCall {
  seq: number;
  fn: EtwFunction;
  result: number;
  [field: string]: unknown;
}

/** One EVENT_DATA_DESCRIPTOR of a logged `EventWriteTransfer`, with the bytes it pointed at. */
export interface DataBlob {
  ptr: string | null;
  size: number;
  type: number;
  reserved1: number;
  reserved2: number;
  hex: string | null;
}

/** The stand-in's library path: `$ETW_STANDIN_DLL` (the Wine tier sets it), else the .so, built. */
export function standinPath(): string {
  const dll = env("ETW_STANDIN_DLL");
  if (dll) return dll;
  const script = new URL("./build-standin.sh", import.meta.url).pathname;
  const build = spawnSync("bash", [script], { encoding: "utf8" });
  if (build.status !== 0) throw new Error(`building the ETW stand-in failed: ${build.stderr}`);
  const so = build.stdout.split("\n").find((line) => line.endsWith(".so"));
  if (!so) throw new Error(`build-standin.sh printed no .so path: ${build.stdout}`);
  return so;
}

/**
 * The stand-in's controls. Its state lives in the loaded module, so this handle and every
 * `EtwSink` opening the same path share one log and one fault table.
 */
export class Standin {
  readonly #c: FfiFunctions<typeof STANDIN_SYMBOLS>;

  /** Opens the stand-in at `path` (its control functions). */
  constructor(readonly path: string) {
    this.#c = ffi().open(path, STANDIN_SYMBOLS).symbols;
  }

  /** Empties the log, clears every fault, restores handle 0x1234; `enabled` = any listener. */
  reset(enabled: boolean): void {
    this.#c.standin_reset();
    this.#c.standin_set_enabled(enabled ? 1 : 0);
  }

  /** What `EventProviderEnabled` answers from now on. */
  setEnabled(enabled: boolean): void {
    this.#c.standin_set_enabled(enabled ? 1 : 0);
  }

  /** The handle `EventRegister` hands out from now on. */
  setHandle(handle: bigint): void {
    this.#c.standin_set_handle(handle);
  }

  /**
   * Makes `fn` return the Win32 error `code`: after `after` more successful calls, for `times`
   * calls (default 0: every call until cleared), then succeed again. Code 0 clears the fault.
   */
  fail(fn: EtwFunction, code: number, { after = 0, times = 0 } = {}): void {
    if (this.#c.standin_fail(cString(fn), code, after, times) !== 0) {
      throw new RangeError(`the stand-in cannot fail ${fn}`);
    }
  }

  /** Calls of `fn` since the last reset. */
  callCount(fn: EtwFunction): number {
    return this.#c.standin_call_count(cString(fn));
  }

  /** The logged calls since the last reset or clear, of `fn` only when given. */
  calls(fn?: EtwFunction): StandinCall[] {
    if (this.#c.standin_log_overflowed() !== 0) throw new Error("the stand-in's log is incomplete");
    const size = Number(this.#c.standin_log_size());
    const text = new Uint8Array(new ArrayBuffer(size));
    if (size > 0) this.#c.standin_log_copy(text, BigInt(size));
    const all = new TextDecoder().decode(text).split("\n").filter(Boolean)
      .map((line) => JSON.parse(line) as StandinCall);
    return fn ? all.filter((call) => call.fn === fn) : all;
  }

  /** The results of the logged `EventWriteTransfer` calls, in order. */
  writeResults(): number[] {
    return this.calls("EventWriteTransfer").map((call) => call.result);
  }

  /** Empties the log; faults, counters and settings stay. */
  clearLog(): void {
    this.#c.standin_log_clear();
  }
}
