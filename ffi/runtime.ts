/**
 * Detects the JavaScript runtime and loads its FFI backend. The Bun backend is imported
 * only on Bun, so Deno never sees `bun:ffi`.
 *
 * @module
 */
import { UnsupportedRuntimeError } from "./errors.ts";
import type { FfiBackend } from "./types.ts";

/** The runtime this code is running on. */
export type RuntimeName = "bun" | "deno" | "other";

const g = globalThis as { Bun?: unknown; Deno?: { dlopen?: unknown; build?: { os?: string } } };

/** Which runtime runs this code: checked through its global, never through `process.versions.node`. */
export const runtime: RuntimeName = typeof g.Bun !== "undefined"
  ? "bun"
  : typeof g.Deno?.dlopen === "function"
  ? "deno"
  : "other";

/** The operating system, as `process.platform` names it (`linux`, `win32`, `darwin`, ...). */
export const platform: string = (() => {
  if (runtime === "deno") {
    const os = g.Deno?.build?.os ?? "unknown";
    return os === "windows" ? "win32" : os;
  }
  const p = (globalThis as { process?: { platform?: string } }).process;
  return p?.platform ?? "unknown";
})();

const backend: FfiBackend | undefined = runtime === "bun"
  ? (await import("./bun.ts")).bunBackend
  : runtime === "deno"
  ? (await import("./deno.ts")).denoBackend
  : undefined;

/**
 * The FFI backend of this runtime.
 *
 * @throws {UnsupportedRuntimeError} on runtimes without a built-in FFI (Node.js, browsers).
 * @example
 * ```ts
 * import { ffi } from "./runtime.ts";
 * const libc = ffi().open("libc.so.6", { getpid: { parameters: [], result: "i32" } });
 * ```
 */
export function ffi(): FfiBackend {
  if (!backend) {
    throw new UnsupportedRuntimeError(
      "otel-native-metrics needs the built-in FFI of Bun or Deno; this runtime has none " +
        "(Node.js has no stable FFI).",
    );
  }
  return backend;
}
