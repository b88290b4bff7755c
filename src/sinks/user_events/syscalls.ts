/**
 * The native calls the user_events sink makes, behind one small interface: libc by default, a
 * test double where tests inject faults at the FFI boundary.
 *
 * @module
 */
import { cString, errno, libc, readSmallFile } from "../../../ffi/mod.ts";

/** The system calls of the user_events sink and its discovery. Results follow libc: -1 + errno. */
export interface UserEventsSyscalls {
  /** `int open(const char *path, int flags)`. */
  open(path: string, flags: number): number;
  /** `int ioctl(int fd, unsigned long request, void *arg)`, `arg` a native address. */
  ioctl(fd: number, request: bigint, arg: bigint): number;
  /** `ssize_t writev(int fd, const struct iovec *iov, int iovcnt)`, `iov` a native address. */
  writev(fd: number, iov: bigint, count: number): number;
  /** `int close(int fd)`. */
  close(fd: number): number;
  /** The calling thread's errno, read right after a failing call. */
  errno(): number;
  /** A small (pseudo-)file's text, or the errno that prevented reading it. */
  readFile(path: string): { text?: string; errno: number };
}

let cached: UserEventsSyscalls | undefined;

/**
 * The real calls, through libc (opened on first use; throws the FFI layer's errors when libc
 * cannot be reached: no FFI, no `--allow-ffi`).
 */
export function libcSyscalls(): UserEventsSyscalls {
  if (cached) return cached;
  const c = libc();
  cached = {
    open: (path, flags) => c.open(cString(path), flags),
    ioctl: c.ioctl,
    writev: c.writev,
    close: c.close,
    errno,
    readFile: readSmallFile,
  };
  return cached;
}
