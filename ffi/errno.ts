/**
 * Linux errno values the library handles by name, and their printable names: the one home of
 * both (sinks, listener and tests import them from here).
 *
 * @module
 */

/** errno values (Linux, every architecture this library runs on). */
export const Errno = {
  EPERM: 1,
  ENOENT: 2,
  EINTR: 4,
  EIO: 5,
  E2BIG: 7,
  EBADF: 9,
  EAGAIN: 11,
  ENOMEM: 12,
  EACCES: 13,
  EFAULT: 14,
  EBUSY: 16,
  EEXIST: 17,
  ENODEV: 19,
  EINVAL: 22,
  EMFILE: 24,
  ENOTTY: 25,
  ENOSPC: 28,
  ENOSYS: 38,
  ENOTSUP: 95,
  EADDRINUSE: 98,
} as const;

const NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(Errno).map(([name, code]) => [code, name]),
);

/**
 * `"EACCES (13)"` for 13; `"errno (N)"` for codes without a name here.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { errnoName } from "./errno.ts";
 * assert.equal(errnoName(13), "EACCES (13)");
 * ```
 */
export function errnoName(code: number): string {
  return `${NAMES[code] ?? "errno"} (${code})`;
}
