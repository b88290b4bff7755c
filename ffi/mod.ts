/**
 * The FFI layer: one interface over `bun:ffi` and `Deno.dlopen`, and libc.
 *
 * @module
 */
export * from "./errors.ts";
export * from "./types.ts";
export { Errno, errnoName } from "./errno.ts";
export { SplitAddress } from "./address.ts";
export { ffi, platform, runtime, type RuntimeName } from "./runtime.ts";
export {
  cString,
  errno,
  libc,
  LIBC_PATH,
  LIBC_SYMBOLS,
  NativeBlock,
  O_CLOEXEC,
  O_NONBLOCK,
  O_RDONLY,
  O_WRONLY,
  readSmallFile,
} from "./libc.ts";
export { ADVAPI32_PATH, ADVAPI32_SYMBOLS } from "./advapi32.ts";
