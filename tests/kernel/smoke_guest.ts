// Smoke test for the user_events test VM; runs under Bun and Deno inside the
// guest (see tests/kernel/smoke.sh). Independent of the library: it talks to
// libc directly through the runtime's own FFI.
//
//   bun tests/kernel/smoke_guest.ts
//   deno run --no-lock -A tests/kernel/smoke_guest.ts
//   (Deno needs -A: it denies node:fs/Deno.* access to /sys without --allow-all.)
//
// Steps: open user_events_data (O_WRONLY), DIAG_IOCSREG the otlp_metrics event
// from a 28-byte user_reg in calloc'd memory, check
// events/user_events/otlp_metrics/format, then enable the event through tracefs,
// check the enable word, write one event and find it in the ftrace buffer.
import { existsSync, readFileSync, writeFileSync } from "node:fs";

// deno-lint-ignore no-explicit-any
const g = globalThis as any;
const runtime: "bun" | "deno" = g.Bun ? "bun" : g.Deno ? "deno" : (() => {
  throw new Error("run this under bun or deno");
})();

const TRACING = "/sys/kernel/tracing";
const DATA = `${TRACING}/user_events_data`;
const EVENT_DIR = `${TRACING}/events/user_events/otlp_metrics`;
const DEFINITION = "otlp_metrics u32 protocol;char[8] version;__rel_loc u8[] buffer";
const O_WRONLY = 1;
const DIAG_IOCSREG = 0xc0082a00n;
const USER_REG_SIZE = 28;

// Minimal, runtime-neutral view of the libc functions we need. Addresses are
// bigints; byte arrays are passed as JS buffers.
interface Libc {
  open(path: Uint8Array, flags: number): number;
  ioctl(fd: number, req: bigint, arg: bigint): number;
  write(fd: number, buf: Uint8Array, len: number): number;
  close(fd: number): number;
  calloc(n: number, size: number): bigint;
  memcpyIn(dst: bigint, src: Uint8Array, n: number): void; // JS -> native
  memcpyOut(dst: Uint8Array, src: bigint, n: number): void; // native -> JS
  errno(): number;
}

async function loadLibc(): Promise<Libc> {
  if (runtime === "bun") {
    const ffi = await import("bun:ffi");
    const { symbols: s } = ffi.dlopen("libc.so.6", {
      open: { args: ["ptr", "i32"], returns: "i32" },
      ioctl: { args: ["i32", "u64", "u64"], returns: "i32" },
      write: { args: ["i32", "ptr", "u64"], returns: "i64" },
      close: { args: ["i32"], returns: "i32" },
      calloc: { args: ["u64", "u64"], returns: "u64" },
      memcpy: { args: ["u64", "ptr", "u64"], returns: "u64" },
      __errno_location: { args: [], returns: "ptr" },
    });
    const memcpyOut = ffi.dlopen("libc.so.6", {
      memcpy: { args: ["ptr", "u64", "u64"], returns: "u64" },
    }).symbols.memcpy;
    return {
      open: (p, f) => s.open(p, f),
      ioctl: (fd, r, a) => s.ioctl(fd, r, a),
      write: (fd, b, n) => Number(s.write(fd, b, n)),
      close: (fd) => s.close(fd),
      calloc: (n, z) => BigInt(s.calloc(n, z)),
      memcpyIn: (d, src, n) => void s.memcpy(d, src, n),
      memcpyOut: (d, src, n) => void memcpyOut(d, src, n),
      errno: () => ffi.read.i32(s.__errno_location(), 0),
    };
  }
  const Deno = g.Deno;
  const { symbols: s } = Deno.dlopen("libc.so.6", {
    open: { parameters: ["buffer", "i32"], result: "i32" },
    ioctl: { parameters: ["i32", "u64", "u64"], result: "i32" },
    write: { parameters: ["i32", "buffer", "usize"], result: "isize" },
    close: { parameters: ["i32"], result: "i32" },
    calloc: { parameters: ["usize", "usize"], result: "u64" },
    memcpy: { parameters: ["u64", "buffer", "usize"], result: "u64", name: "memcpy" },
    memcpy_out: { parameters: ["buffer", "u64", "usize"], result: "u64", name: "memcpy" },
    __errno_location: { parameters: [], result: "pointer" },
  });
  return {
    open: (p, f) => s.open(p, f),
    ioctl: (fd, r, a) => s.ioctl(fd, r, a),
    write: (fd, b, n) => Number(s.write(fd, b, n)),
    close: (fd) => s.close(fd),
    calloc: (n, z) => BigInt(s.calloc(n, z)),
    memcpyIn: (d, src, n) => void s.memcpy(d, src, n),
    memcpyOut: (d, src, n) => void s.memcpy_out(d, src, n),
    errno: () => new Deno.UnsafePointerView(s.__errno_location()).getInt32(0),
  };
}

function check(cond: unknown, msg: string): asserts cond {
  if (!cond) throw new Error(`FAIL: ${msg}`);
  console.log(`ok: ${msg}`);
}

const cstr = (s: string) => new TextEncoder().encode(s + "\0");

const libc = await loadLibc();
const version = runtime === "bun" ? `bun ${g.Bun.version}` : `deno ${g.Deno.version.deno}`;
console.log(`# smoke_guest.ts under ${version}`);

check(existsSync(DATA), `${DATA} exists`);

const fd = libc.open(cstr(DATA), O_WRONLY);
check(fd >= 0, `open(user_events_data, O_WRONLY) = ${fd} (errno ${fd < 0 ? libc.errno() : 0})`);

// Native memory: the enable word (4 bytes, never freed), the name and user_reg.
const enableAddr = libc.calloc(1, 8);
const name = cstr(DEFINITION);
const nameAddr = libc.calloc(1, name.length);
libc.memcpyIn(nameAddr, name, name.length);
const regAddr = libc.calloc(1, USER_REG_SIZE);
check(enableAddr !== 0n && nameAddr !== 0n && regAddr !== 0n, "calloc'd native memory");

const reg = new Uint8Array(USER_REG_SIZE);
const dv = new DataView(reg.buffer);
dv.setUint32(0, USER_REG_SIZE, true); // size
dv.setUint8(4, 0); // enable_bit
dv.setUint8(5, 4); // enable_size
dv.setUint16(6, 0, true); // flags
dv.setBigUint64(8, enableAddr, true); // enable_addr
dv.setBigUint64(16, nameAddr, true); // name_args
dv.setUint32(24, 0xffffffff, true); // write_index (output)
libc.memcpyIn(regAddr, reg, USER_REG_SIZE);

const r = libc.ioctl(fd, DIAG_IOCSREG, regAddr);
check(r === 0, `ioctl(DIAG_IOCSREG) = ${r} (errno ${r < 0 ? libc.errno() : 0})`);
libc.memcpyOut(reg, regAddr, USER_REG_SIZE);
const writeIndex = dv.getUint32(24, true);
check(writeIndex !== 0xffffffff, `write_index = ${writeIndex}`);

const format = `${EVENT_DIR}/format`;
check(existsSync(format), `${format} exists`);
const fmt = readFileSync(format, "utf8");
check(/field:u32 protocol;\s+offset:8;\s+size:4;/.test(fmt), "format: protocol at offset 8");
// The kernel prints uninitialised memory for array lengths (`version[1919247974]`,
// sometimes `buffer[<garbage>]` too): match names, offsets and sizes only.
check(
  /field:__rel_loc u8 buffer\[[^\]]*\];\s+offset:20;\s+size:4;/.test(fmt),
  "format: buffer rel_loc at offset 20",
);

// Enable via ftrace; the kernel sets bit 0 of the enable word.
const word = new Uint8Array(4);
libc.memcpyOut(word, enableAddr, 4);
check(word[0] === 0, "enable word is 0 while nothing listens");
writeFileSync(`${TRACING}/trace`, "");
writeFileSync(`${EVENT_DIR}/enable`, "1");
try {
  libc.memcpyOut(word, enableAddr, 4);
  check((word[0] & 1) === 1, "enable word bit 0 set after enabling the ftrace event");

  // One event: index, protocol 0, "v0.19.00", rel_loc = N << 16, payload.
  const payload = [0x01, 0x02, 0x03, 0xfe, 0xff];
  const ev = new Uint8Array(20 + payload.length);
  const ew = new DataView(ev.buffer);
  ew.setUint32(0, writeIndex, true);
  ew.setUint32(4, 0, true);
  ev.set(new TextEncoder().encode("v0.19.00"), 8);
  ew.setUint32(16, payload.length << 16, true);
  ev.set(payload, 20);
  const n = libc.write(fd, ev, ev.length);
  check(n === ev.length, `write(event) = ${n} (errno ${n < 0 ? libc.errno() : 0})`);

  const trace = readFileSync(`${TRACING}/trace`, "utf8");
  check(trace.includes("buffer=01,02,03,fe,ff"), "event found in /sys/kernel/tracing/trace");
} finally {
  writeFileSync(`${EVENT_DIR}/enable`, "0");
}
libc.memcpyOut(word, enableAddr, 4);
check((word[0] & 1) === 0, "enable word bit 0 cleared after disabling");

libc.close(fd);
console.log(`# PASS (${runtime})`);
