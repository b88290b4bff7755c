/**
 * libc, opened once per process: the symbol table, errno, and natively allocated memory.
 *
 * @module
 */
import { ffi, platform } from "./runtime.ts";
import type { FfiLibrary } from "./types.ts";

/**
 * The libc functions the library calls. Pointers are `u64` addresses of native memory;
 * `buffer` is a typed array used only during the call.
 */
export const LIBC_SYMBOLS = {
  /** int open(const char *path, int flags); never with O_CREAT, so no mode argument. */
  open: { parameters: ["buffer", "i32"], result: "i32" },
  /** int pipe(int pipefd[2]); */
  pipe: { parameters: ["buffer"], result: "i32" },
  /** ssize_t write(int fd, const void *buf, size_t count); declared i32 like read. */
  write: { parameters: ["i32", "buffer", "u64"], result: "i32" },
  /** int mkdir(const char *path, mode_t mode); */
  mkdir: { parameters: ["buffer", "u32"], result: "i32" },
  /** int rmdir(const char *path); */
  rmdir: { parameters: ["buffer"], result: "i32" },
  /** int close(int fd); */
  close: { parameters: ["i32"], result: "i32" },
  /** ssize_t read(int fd, void *buf, size_t count); declared i32: counts stay far below 2^31. */
  read: { parameters: ["i32", "buffer", "u64"], result: "i32" },
  /**
   * int ioctl(int fd, unsigned long request, void *arg); variadic, declared with fixed integer
   * arguments: on x86_64 and aarch64 Linux those travel in the same registers either way.
   */
  ioctl: { parameters: ["i32", "u64", "u64"], result: "i32" },
  /**
   * ssize_t writev(int fd, const struct iovec *iov, int iovcnt);
   * declared i32 so the hot path gets a number, not a bigint: events are < 64 KiB and -1
   * keeps its value in the low 32 bits of the return register.
   */
  writev: { parameters: ["i32", "u64", "i32"], result: "i32" },
  /** void *calloc(size_t nmemb, size_t size); */
  calloc: { parameters: ["u64", "u64"], result: "u64" },
  /** void free(void *ptr); */
  free: { parameters: ["u64"], result: "void" },
  /** int *__errno_location(void); the calling thread's errno. */
  __errno_location: { parameters: [], result: "u64" },
} as const;

/** glibc's soname on every architecture (`libc.so` is a linker script, not ELF). */
export const LIBC_PATH = "libc.so.6";

/** open(2) flags used here. */
export const O_RDONLY = 0, O_WRONLY = 1, O_NONBLOCK = 0x800, O_CLOEXEC = 0x80000;

/** The C runtime's allocator: libc on Linux, msvcrt.dll on Windows. */
const ALLOCATOR_SYMBOLS = {
  /** void *calloc(size_t nmemb, size_t size); */
  calloc: { parameters: ["u64", "u64"], result: "u64" },
  /** void free(void *ptr); */
  free: { parameters: ["u64"], result: "void" },
} as const;

let allocatorLib: FfiLibrary<typeof ALLOCATOR_SYMBOLS> | undefined;

function allocator(): FfiLibrary<typeof ALLOCATOR_SYMBOLS>["symbols"] {
  allocatorLib ??= ffi().open(platform === "win32" ? "msvcrt.dll" : LIBC_PATH, ALLOCATOR_SYMBOLS);
  return allocatorLib.symbols;
}

let lib: FfiLibrary<typeof LIBC_SYMBOLS> | undefined;
let errnoView: Int32Array | undefined;

/** libc's functions, opened on first use. */
export function libc(): FfiLibrary<typeof LIBC_SYMBOLS>["symbols"] {
  lib ??= ffi().open(LIBC_PATH, LIBC_SYMBOLS);
  return lib.symbols;
}

/** The errno of the JS thread, read right after a failing call. */
export function errno(): number {
  if (!errnoView) {
    const address = libc().__errno_location();
    errnoView = new Int32Array(ffi().view(address, 4));
  }
  return errnoView[0]!;
}

/**
 * A block of natively allocated, zeroed memory with long-lived views over it. Its address
 * never moves, so the kernel may keep it (the user_events enable word lives in one).
 *
 * @example
 * ```ts
 * import { NativeBlock } from "./libc.ts";
 * const block = NativeBlock.allocate(64);
 * block.bytes[0] = 1;
 * block.free();
 * ```
 */
export class NativeBlock {
  /** The address of the first byte. */
  readonly address: bigint;
  /** The block's bytes. */
  readonly bytes: Uint8Array;
  /** A little-endian view of the block. */
  readonly view: DataView;
  readonly #length: number;
  #freed = false;
  static #blocks = 0;
  static #bytes = 0;

  private constructor(address: bigint, length: number) {
    this.address = address;
    this.#length = length;
    const buffer = ffi().view(address, length);
    this.bytes = new Uint8Array(buffer);
    this.view = new DataView(buffer);
  }

  /** Allocates `length` zeroed bytes with calloc (16-byte aligned). */
  static allocate(length: number): NativeBlock {
    const address = allocator().calloc(BigInt(length), 1n);
    if (address === 0n) throw new RangeError(`calloc(${length}) failed: out of memory`);
    NativeBlock.#blocks++;
    NativeBlock.#bytes += length;
    return new NativeBlock(address, length);
  }

  /**
   * Blocks allocated and not freed, and their bytes, in this process: what the soak test
   * watches (a registered sink holds one; a deliberately leaked one stays counted).
   */
  static get live(): { blocks: number; bytes: number } {
    return { blocks: NativeBlock.#blocks, bytes: NativeBlock.#bytes };
  }

  /** The address of byte `offset`, as the bigint FFI calls take. */
  at(offset: number): bigint {
    return this.address + BigInt(offset);
  }

  /** Releases the memory. The views must not be used afterwards. */
  free(): void {
    if (this.#freed) return;
    this.#freed = true;
    NativeBlock.#blocks--;
    NativeBlock.#bytes -= this.#length;
    allocator().free(this.address);
  }
}

/** NUL-terminates a string for a C call. */
export function cString(text: string): Uint8Array {
  return new TextEncoder().encode(text + "\0");
}

/**
 * Reads a whole (small, pseudo-)file through libc, so Deno needs only `--allow-ffi`.
 * Returns `undefined` and the errno when it cannot be opened.
 */
export function readSmallFile(path: string): { text?: string; errno: number } {
  const c = libc();
  const fd = c.open(cString(path), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return { errno: errno() };
  try {
    const chunks: Uint8Array[] = [];
    const chunk = new Uint8Array(new ArrayBuffer(65536));
    for (;;) {
      const n = c.read(fd, chunk, BigInt(chunk.length));
      if (n < 0) return { errno: errno() };
      if (n === 0) break;
      chunks.push(chunk.slice(0, n));
    }
    let total = 0;
    for (const part of chunks) total += part.length;
    const all = new Uint8Array(total);
    let at = 0;
    for (const part of chunks) {
      all.set(part, at);
      at += part.length;
    }
    return { text: new TextDecoder().decode(all), errno: 0 };
  } finally {
    c.close(fd);
  }
}
