/**
 * Errors thrown when native code cannot be reached. Each says what to do about it.
 *
 * @module
 */

/** Base class of every error the FFI layer throws. */
export class FfiError extends Error {
  /** Creates an error with an optional underlying cause. */
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
  /** Always `"FfiError"`, kept under minification. */
  override name = "FfiError";
}

/** Neither Bun nor Deno (with `Deno.dlopen`) is running this code. */
export class UnsupportedRuntimeError extends FfiError {
  /** Always `"UnsupportedRuntimeError"`, kept under minification. */
  override name = "UnsupportedRuntimeError";
}

/** Deno refused FFI: the process lacks `--allow-ffi`. */
export class FfiPermissionError extends FfiError {
  /** Always `"FfiPermissionError"`, kept under minification. */
  override name = "FfiPermissionError";
}

/** The native library could not be loaded. */
export class LibraryNotFoundError extends FfiError {
  /** Always `"LibraryNotFoundError"`, kept under minification. */
  override name = "LibraryNotFoundError";
}

/** The library loaded but lacks a symbol of the table. */
export class SymbolNotFoundError extends FfiError {
  /** Always `"SymbolNotFoundError"`, kept under minification. */
  override name = "SymbolNotFoundError";
}

/** Wraps a runtime's dlopen failure in the error class that names its cause. */
export function classifyOpenError(path: string, error: unknown): FfiError {
  const message = error instanceof Error ? error.message : String(error);
  const name = error instanceof Error ? error.name : "";
  if (name === "NotCapable" || name === "PermissionDenied" || /--allow-ffi/.test(message)) {
    return new FfiPermissionError(
      `FFI access to "${path}" was denied: run Deno with --allow-ffi (or -A). ` +
        `A scoped --allow-ffi=<path> needs the library's absolute path. (${message})`,
      { cause: error },
    );
  }
  const symbol = /Symbol "([^"]+)" not found/.exec(message) ??
    /Failed to register symbol ([\w$]+)/.exec(message) ??
    /undefined symbol: ([\w$]+)/.exec(message);
  if (symbol) {
    return new SymbolNotFoundError(
      `"${path}" has no symbol "${symbol[1]}" (${message})`,
      { cause: error },
    );
  }
  return new LibraryNotFoundError(`Could not load "${path}": ${message}`, { cause: error });
}
