/**
 * Test helpers for the ETW stand-in (tests/etw/standin/advapi32_standin.c) and for
 * advapi32.dll itself, usable from Bun and Deno on Linux and on Windows (Wine).
 *
 * Self-contained on purpose (does not import the library's ffi/ layer): it proves the raw
 * declarations. Every pointer parameter is declared "u64" in both runtimes and receives a
 * bigint address of native memory (calloc from libc.so.6 / msvcrt.dll); no pointer objects,
 * no typed arrays passed to native code.
 *
 * @module
 */
// deno-lint-ignore-file no-explicit-any

/** The FFI type strings this file uses; identical in Bun and Deno. */
type T = "u8" | "u32" | "i32" | "u64" | "usize" | "void";
type Decl = { parameters: T[]; result: T };

/**
 * The five advapi32 ETW functions (etw.md §3), Windows x64 signatures.
 * REGHANDLE/ULONGLONG = u64; ULONG/EVENT_INFO_CLASS = u32; BOOLEAN/UCHAR = u8; pointers = u64.
 */
export function etwDecls(ptr: T = "u64") {
  return {
    EventRegister: { parameters: [ptr, ptr, ptr, ptr], result: "u32" },
    EventUnregister: { parameters: ["u64"], result: "u32" },
    EventSetInformation: { parameters: ["u64", "u32", ptr, "u32"], result: "u32" },
    EventProviderEnabled: { parameters: ["u64", "u8", "u64"], result: "u8" },
    EventWriteTransfer: { parameters: ["u64", ptr, ptr, ptr, "u32", ptr], result: "u32" },
  } satisfies Record<string, Decl>;
}

/** The stand-in's control/readback functions. size_t = u64. */
export function standinDecls(ptr: T = "u64") {
  return {
    standin_version: { parameters: [], result: "u32" },
    standin_set_enabled: { parameters: ["u8"], result: "void" },
    standin_set_handle: { parameters: ["u64"], result: "void" },
    standin_set_result: { parameters: [ptr, "u32"], result: "i32" },
    standin_set_result_n: { parameters: [ptr, "u32", "u32"], result: "i32" },
    standin_call_count: { parameters: [ptr], result: "i32" },
    standin_log_size: { parameters: [], result: "u64" },
    standin_log_copy: { parameters: [ptr, "u64"], result: "u64" },
    standin_log_overflowed: { parameters: [], result: "u8" },
    standin_log_clear: { parameters: [], result: "void" },
    standin_reset: { parameters: [], result: "void" },
  } satisfies Record<string, Decl>;
}

/** Native memory + dlopen for the current runtime. */
export interface Native {
  runtime: "bun" | "deno";
  os: "linux" | "windows";
  /** dlopen with Deno-style declarations (converted to Bun's {args, returns}). */
  open(path: string, decls: Record<string, Decl>): Record<string, (...a: any[]) => any>;
  /** calloc'd memory (never freed: test process lifetime) and a zero-copy view of it. */
  alloc(n: number): { addr: bigint; view: Uint8Array };
}

const g = globalThis as any;

export async function native(): Promise<Native> {
  const isBun = typeof g.Bun !== "undefined";
  const isDeno = !isBun && typeof g.Deno?.dlopen === "function";
  if (!isBun && !isDeno) throw new Error("needs Bun or Deno");
  const os: "linux" | "windows" = isDeno
    ? (g.Deno.build.os === "windows" ? "windows" : "linux")
    : (g.process.platform === "win32" ? "windows" : "linux");
  const crt = os === "windows" ? "msvcrt.dll" : "libc.so.6";
  const crtDecls = { calloc: { parameters: ["u64", "u64"], result: "u64" } } satisfies Record<
    string,
    Decl
  >;

  let open: Native["open"];
  let view: (addr: bigint, n: number) => Uint8Array;
  if (isBun) {
    const bunffi: any = await import("bun:ffi");
    open = (path, decls) => {
      const bunDecls: Record<string, { args: string[]; returns: string }> = {};
      for (const [k, d] of Object.entries(decls)) {
        bunDecls[k] = { args: d.parameters, returns: d.result };
      }
      return bunffi.dlopen(path, bunDecls).symbols;
    };
    view = (addr, n) => new Uint8Array(bunffi.toArrayBuffer(Number(addr), 0, n));
  } else {
    const D = g.Deno;
    open = (path, decls) => D.dlopen(path, decls).symbols;
    view = (addr, n) =>
      new Uint8Array(D.UnsafePointerView.getArrayBuffer(D.UnsafePointer.create(addr), n));
  }
  const libc = open(crt, crtDecls);
  const alloc = (n: number) => {
    const addr: bigint = libc.calloc(1n, BigInt(n));
    if (!addr) throw new Error(`calloc(${n}) failed`);
    return { addr, view: view(addr, n) };
  };
  return { runtime: isBun ? "bun" : "deno", os, open, alloc };
}

// ---------------------------------------------------------------- bytes (etw.md §2)

export const hex = (b: Uint8Array) =>
  Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
export const unhex = (s: string) =>
  new Uint8Array(s.replace(/\s+/g, "").match(/../g)!.map((h) => parseInt(h, 16)));

/** Provider GUID EDC24920-E004-40F6-A8E1-0E6E48F39D84 in memory order. */
export const GUID = unhex("2049C2ED04E0F640A8E10E6E48F39D84");
/** Provider traits: u16 size 34, "NativeMetricsExtension_Provider", NUL. */
export const TRAITS = unhex("22004E61746976654D657472696373457874656E73696F6E5F50726F766964657200");
/** Event metadata: u16 size 16, tag 0, "otlp_metrics", NUL. */
export const EVENT_META = unhex("1000006F746C705F6D65747269637300");
/** EVENT_DESCRIPTOR: Id 81, Version 0, Channel 11, Level 4, Opcode 0, Task 0, Keyword 1. */
export const DESCRIPTOR = unhex("5100000B040000000100000000000000");
/** A stand-in payload (bytes of a tiny protobuf-like message, includes 00 and ff). */
export const PAYLOAD = unhex("0a1c0a1a12180a0474657374120a0a0868656c6c6f00ff1a04080110013a0101");

/** Everything an ETW write needs, laid out once in one calloc'd arena (ffi.md §5). */
export function arena(n: Native, payload = PAYLOAD) {
  const layout = {
    guid: 0,
    handle: 16,
    desc: 24,
    dd: 40,
    traits: 88,
    meta: 128,
    name: 144,
    payload: 176,
  };
  const size = layout.payload + payload.length;
  const { addr, view } = n.alloc(size);
  view.set(GUID, layout.guid);
  view.set(DESCRIPTOR, layout.desc);
  view.set(TRAITS, layout.traits);
  view.set(EVENT_META, layout.meta);
  view.set(payload, layout.payload);
  const dv = new DataView(view.buffer, view.byteOffset, view.byteLength);
  const setDD = (i: number, ptr: bigint, size: number, type: number) => {
    const o = layout.dd + i * 16;
    dv.setBigUint64(o, ptr, true);
    dv.setUint32(o + 8, size, true);
    dv.setUint8(o + 12, type); // Type
    dv.setUint8(o + 13, 0); // Reserved1
    dv.setUint16(o + 14, 0, true); // Reserved2
  };
  setDD(0, addr + BigInt(layout.traits), TRAITS.length, 2); // PROVIDER_METADATA
  setDD(1, addr + BigInt(layout.meta), EVENT_META.length, 1); // EVENT_METADATA
  setDD(2, addr + BigInt(layout.payload), payload.length, 0); // NONE
  const at = (k: keyof typeof layout) => addr + BigInt(layout[k]);
  return {
    guid: at("guid"),
    handleSlot: at("handle"),
    desc: at("desc"),
    dd: at("dd"),
    traits: at("traits"),
    readHandle: () => dv.getBigUint64(layout.handle, true),
    /** a NUL-terminated ASCII string in the arena's 32-byte name slot */
    cstr(s: string): bigint {
      if (s.length > 31) throw new Error("name too long");
      view.fill(0, layout.name, layout.name + 32);
      for (let i = 0; i < s.length; i++) view[layout.name + i] = s.charCodeAt(i);
      return at("name");
    },
  };
}

/** The recommended call sequence (etw.md §3): register, traits, poll, write. */
export function sequence(etw: Record<string, (...a: any[]) => any>, a: ReturnType<typeof arena>) {
  const reg: number = etw.EventRegister(a.guid, 0n, 0n, a.handleSlot);
  const h = a.readHandle();
  const set: number = etw.EventSetInformation(h, 2, a.traits, TRAITS.length);
  const enabled: number = etw.EventProviderEnabled(h, 4, 1n);
  const write: number = etw.EventWriteTransfer(h, a.desc, 0n, 0n, 3, a.dd);
  return { reg, h, set, enabled, write };
}

/** Read the stand-in's log back as parsed JSON lines. */
export function readLog(n: Native, s: Record<string, (...a: any[]) => any>): any[] {
  const size = Number(s.standin_log_size());
  if (size === 0) return [];
  const buf = n.alloc(size);
  const copied = Number(s.standin_log_copy(buf.addr, BigInt(size)));
  if (copied !== size) throw new Error(`standin_log_copy copied ${copied} of ${size}`);
  const text = new TextDecoder().decode(buf.view.slice(0, size));
  return text.trimEnd().split("\n").map((l) => JSON.parse(l));
}

/** Tiny check collector: prints each failed check, counts them. */
export function checker(label: string) {
  let failures = 0;
  let passes = 0;
  const fmt = (v: unknown) => typeof v === "bigint" ? `${v}n` : JSON.stringify(v);
  return {
    eq(what: string, got: unknown, want: unknown) {
      const ok = typeof got === "bigint" || typeof want === "bigint"
        ? BigInt(got as any) === BigInt(want as any)
        : JSON.stringify(got) === JSON.stringify(want);
      if (ok) passes++;
      else {
        failures++;
        console.log(`  FAIL [${label}] ${what}: got ${fmt(got)}, want ${fmt(want)}`);
      }
    },
    get failures() {
      return failures;
    },
    summary() {
      console.log(`[${label}] ${passes} checks passed, ${failures} failed`);
      return failures;
    },
  };
}

/**
 * Runs the full stand-in scenario (deliverables 3 and 5b) against a loaded stand-in:
 * the recommended sequence with the provider enabled, then forced failures, and checks
 * every logged field against the bytes of etw.md §2. Returns the number of failures.
 */
export function standinScenario(n: Native, path: string, ptr: T = "u64", verbose = true): number {
  const c = checker(`${n.runtime}/${n.os} stand-in, pointers ${ptr}`);
  const etw = n.open(path, etwDecls(ptr));
  const s = n.open(path, standinDecls(ptr));
  const a = arena(n);
  c.eq("standin_version", s.standin_version(), 1);
  s.standin_reset();
  s.standin_set_enabled(1);

  const r = sequence(etw, a);
  c.eq("EventRegister result", r.reg, 0);
  c.eq("handle via PREGHANDLE", r.h, 0x1234n);
  c.eq("EventSetInformation result", r.set, 0);
  c.eq("EventProviderEnabled", r.enabled, 1);
  c.eq("EventWriteTransfer result", r.write, 0);
  c.eq("EventUnregister result", etw.EventUnregister(r.h), 0);

  // Forced failures: register once with ERROR_ACCESS_DENIED, writes with 534 then 8.
  c.eq("set_result_n", s.standin_set_result_n(a.cstr("EventRegister"), 5, 1), 0);
  c.eq("EventRegister forced 5", etw.EventRegister(a.guid, 0n, 0n, a.handleSlot), 5);
  c.eq("handle after failure", a.readHandle(), 0n);
  c.eq("EventRegister ok again", etw.EventRegister(a.guid, 0n, 0n, a.handleSlot), 0);
  c.eq("set_result 534", s.standin_set_result(a.cstr("EventWriteTransfer"), 534), 0);
  c.eq(
    "EventWriteTransfer forced 534",
    etw.EventWriteTransfer(0x1234n, a.desc, 0n, 0n, 3, a.dd),
    534,
  );
  s.standin_set_result(a.cstr("EventWriteTransfer"), 8);
  c.eq("EventWriteTransfer forced 8", etw.EventWriteTransfer(0x1234n, a.desc, 0n, 0n, 3, a.dd), 8);
  s.standin_set_enabled(0);
  c.eq(
    "EventProviderEnabled after set_enabled(0)",
    etw.EventProviderEnabled(0x1234n, 5, 0x8000000000000001n),
    0,
  );
  c.eq("unknown fn name", s.standin_set_result(a.cstr("EventNope"), 1), -1);
  c.eq("call_count EventWriteTransfer", s.standin_call_count(a.cstr("EventWriteTransfer")), 3);

  const log = readLog(n, s);
  if (verbose) { for (const l of log) console.log("  log:", JSON.stringify(l)); }
  c.eq("log lines", log.length, 10);
  c.eq("log overflowed", s.standin_log_overflowed(), 0);
  const [reg, set, en, wr, unreg, regFail, regOk, wr534, wr8, en0] = log;
  c.eq("0 fn", reg?.fn, "EventRegister");
  c.eq("0 guid", reg?.guid, hex(GUID));
  c.eq("0 callback", reg?.callback, null);
  c.eq("0 context", reg?.context, null);
  c.eq("0 handle_ptr", reg?.handle_ptr, "0x" + a.handleSlot.toString(16));
  c.eq("0 handle", reg?.handle, "0x1234");
  c.eq("1 fn", set?.fn, "EventSetInformation");
  c.eq("1 handle", set?.handle, "0x1234");
  c.eq("1 class", set?.class, 2);
  c.eq("1 length", set?.length, 34);
  c.eq("1 info", set?.info, hex(TRAITS));
  c.eq("2 fn/level/keyword/result", [en?.fn, en?.level, en?.keyword, en?.result], [
    "EventProviderEnabled",
    4,
    "0x1",
    1,
  ]);
  c.eq("3 fn", wr?.fn, "EventWriteTransfer");
  c.eq("3 handle", wr?.handle, "0x1234");
  c.eq("3 descriptor", wr?.descriptor, hex(DESCRIPTOR));
  c.eq("3 descriptor fields", [
    wr?.id,
    wr?.version,
    wr?.channel,
    wr?.level,
    wr?.opcode,
    wr?.task,
    wr?.keyword,
  ], [
    81,
    0,
    11,
    4,
    0,
    0,
    "0x1",
  ]);
  c.eq("3 activity/related", [wr?.activity, wr?.related], [null, null]);
  c.eq("3 count", wr?.count, 3);
  c.eq(
    "3 data[].type/size/reserved",
    wr?.data?.map((d: any) => [d.type, d.size, d.reserved1, d.reserved2]),
    [
      [2, 34, 0, 0],
      [1, 16, 0, 0],
      [0, PAYLOAD.length, 0, 0],
    ],
  );
  c.eq("3 data[].hex", wr?.data?.map((d: any) => d.hex), [
    hex(TRAITS),
    hex(EVENT_META),
    hex(PAYLOAD),
  ]);
  c.eq("3 total_size", wr?.total_size, 34 + 16 + PAYLOAD.length);
  c.eq("3 result", wr?.result, 0);
  c.eq("4 EventUnregister", [unreg?.fn, unreg?.handle, unreg?.result], [
    "EventUnregister",
    "0x1234",
    0,
  ]);
  c.eq("5 forced register", [regFail?.fn, regFail?.result, regFail?.handle], [
    "EventRegister",
    5,
    "0x0",
  ]);
  c.eq("6 register recovered", [regOk?.result, regOk?.handle], [0, "0x1234"]);
  c.eq("7 write 534", wr534?.result, 534);
  c.eq("8 write 8", wr8?.result, 8);
  c.eq("9 enabled poll", [en0?.level, en0?.keyword, en0?.result], [5, "0x8000000000000001", 0]);
  c.eq("seq", log.map((l) => l.seq), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  s.standin_reset();
  c.eq("log empty after reset", Number(s.standin_log_size()), 0);
  return c.summary();
}
