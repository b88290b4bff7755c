/**
 * The Linux user_events sink: registers `otlp_metrics` and writes one event per data point.
 *
 * @module
 */
import { cString, Errno, NativeBlock, SplitAddress } from "../../../ffi/mod.ts";
import {
  errnoName,
  EventDefinitionConflictError,
  RegistrationError,
  UserEventsPermissionError,
} from "../../errors.ts";
import { type NativeSink, WRITE_NOT_LISTENING, WRITE_OK } from "../sink.ts";
import {
  DIAG_IOCSREG,
  DIAG_IOCSUNREG,
  EVENT_HEADER_SIZE,
  eventDefinition,
  FTRACE_PAYLOAD_LIMIT,
  OTLP_METRICS_DEFINITION,
  OTLP_METRICS_EVENT_NAME,
  PERF_PAYLOAD_LIMIT,
  USER_REG_SIZE,
  USER_UNREG_SIZE,
  writeEventHeader,
} from "./abi.ts";
import { openUserEventsData } from "./discovery.ts";
import { libcSyscalls, type UserEventsSyscalls } from "./syscalls.ts";

/** Options of {@linkcode UserEventsSink}. */
export interface UserEventsSinkOptions {
  /**
   * Largest payload written, in bytes. Default 4048: what every listener (ftrace and perf)
   * receives whole on 4 KiB pages. Up to 8168 when only perf-based listeners are used; ftrace
   * listeners then lose the larger events (the kernel drops them silently).
   */
  maxPayloadSize?: number;
  /** The tracefs directory (default: `/sys/kernel/tracing`, then `/proc/mounts`). */
  tracefs?: string;
  /**
   * The tracepoint's name (default `otlp_metrics`, what the Geneva agent and the other
   * exporters use): same fields, another name, for listeners that tell services apart by event.
   */
  eventName?: string;
  /**
   * The native calls to make (default: libc). For tests that inject faults at the FFI
   * boundary; the arena is always real native memory.
   */
  syscalls?: UserEventsSyscalls;
}

// Arena layout. The enable word must never move or be freed while registered: it lives in
// calloc'd memory, never in a GC-managed buffer.
const ENABLE_OFFSET = 0; // u32 the kernel sets bit 0 of
const REG_OFFSET = 8; // struct user_reg
const UNREG_OFFSET = 40; // struct user_unreg
const IOV_OFFSET = 64; // struct iovec { u64 base; u64 len; }
const NAME_OFFSET = 80; // the definition, NUL-terminated (≤ 512 bytes)
const STAGING_OFFSET = 640;
const { EBADF, EINTR, EADDRINUSE, EACCES, EPERM } = Errno;
/** Attempts of a write interrupted by a signal before it wrote anything. */
const EINTR_ATTEMPTS = 3;

/**
 * Writes events into an open user_events file with the layout the Rust and .NET exporters use:
 * `[u32 write_index][u32 protocol=0][char[8] "v0.19.00"][u32 rel_loc=N<<16][N bytes]`, one
 * `writev` per event from native memory.
 *
 * Separate from registration so the exact bytes can be tested on any file descriptor.
 */
export class UserEventsWriter {
  /** The arena: enable word, structs, iovec, staging. */
  readonly arena: NativeBlock;
  /** Where the encoder writes; the payload goes after {@linkcode EVENT_HEADER_SIZE} bytes of headroom. */
  readonly staging: Uint8Array;
  readonly #view: DataView;
  readonly #iov: Uint32Array;
  readonly #iovAddress: bigint;
  /** Address of `staging[0]`, stored into the iovec without 64-bit arithmetic per write. */
  readonly #stagingAddress: SplitAddress;
  readonly #sys: UserEventsSyscalls;
  /** The file descriptor written to; -1 once closed. */
  fd: number;
  /** The index the kernel assigned at registration. */
  writeIndex: number;

  /** Allocates the arena for payloads up to `maxPayloadSize` and writes to `fd`. */
  constructor(
    fd: number,
    writeIndex: number,
    maxPayloadSize: number,
    sys: UserEventsSyscalls = libcSyscalls(),
  ) {
    // Twice the limit: the envelope reserve sits in front of the body, and a point over the
    // limit must still be measured exactly (beyond this it spills to the heap, see ProtoWriter).
    const stagingSize = EVENT_HEADER_SIZE + 2 * maxPayloadSize + 1024;
    this.arena = NativeBlock.allocate(STAGING_OFFSET + stagingSize);
    const buffer = this.arena.bytes.buffer;
    this.staging = new Uint8Array(buffer, STAGING_OFFSET, stagingSize);
    this.#view = new DataView(buffer, STAGING_OFFSET, stagingSize);
    this.#iov = new Uint32Array(buffer, IOV_OFFSET, 4);
    this.#iovAddress = this.arena.at(IOV_OFFSET);
    this.#stagingAddress = new SplitAddress(this.arena.at(STAGING_OFFSET));
    this.#sys = sys;
    this.fd = fd;
    this.writeIndex = writeIndex;
  }

  /**
   * Writes `staging[start, end)` as one event (header written in front of it). Returns 0, or
   * the errno of the failed `writev` (a write interrupted by a signal is retried).
   */
  writeEvent(start: number, end: number): number {
    const length = end - start;
    writeEventHeader(this.#view, start, length, this.writeIndex);
    const iov = this.#iov;
    this.#stagingAddress.store(iov, 0, start - EVENT_HEADER_SIZE); // iov_base
    iov[2] = length + EVENT_HEADER_SIZE; // iov_len (events are < 64 KiB: the high half stays 0)
    for (let attempt = 1;; attempt++) {
      if (this.#sys.writev(this.fd, this.#iovAddress, 1) >= 0) return 0;
      const code = this.#sys.errno();
      if (code !== EINTR || attempt === EINTR_ATTEMPTS) return code;
    }
  }
}

/**
 * Exports into Linux user_events: registers `otlp_metrics` on creation, exactly as the Rust
 * crate `opentelemetry-user-events-metrics` and the .NET Geneva exporter do, so their listeners
 * (the Geneva agent, perf, ftrace) read our events unchanged.
 *
 * @example
 * ```ts ignore
 * import { NativeMetricsExporter, UserEventsSink } from "../../../mod.ts";
 * const exporter = new NativeMetricsExporter({ sink: new UserEventsSink() });
 * ```
 */
export class UserEventsSink implements NativeSink {
  readonly kind = "user_events";
  readonly maxPayloadSize: number;
  /** Bytes kept free in front of each payload in `staging` for the write header. */
  readonly headroom: number = EVENT_HEADER_SIZE;
  readonly staging: Uint8Array;
  /** The tracefs directory in use. */
  readonly tracefs: string;
  /** The tracepoint's name (`otlp_metrics` unless `eventName` said otherwise). */
  readonly eventName: string;
  /**
   * Whether {@linkcode shutdown} had to leave the native memory allocated because unregistering
   * failed (the kernel may still write the enable word there): a deliberate, bounded leak.
   */
  leaked = false;
  readonly #writer: UserEventsWriter;
  readonly #enable: Uint32Array;
  readonly #sys: UserEventsSyscalls;
  #registered = false;

  /**
   * Opens `user_events_data` and registers the event.
   *
   * @throws {TracefsNotFoundError | UserEventsUnavailableError | UserEventsPermissionError |
   *   EventDefinitionConflictError | RegistrationError} with a message naming the fix
   */
  constructor(options: UserEventsSinkOptions = {}) {
    const limit = options.maxPayloadSize ?? FTRACE_PAYLOAD_LIMIT;
    if (!Number.isInteger(limit) || limit < 1 || limit > PERF_PAYLOAD_LIMIT) {
      throw new RangeError(
        `maxPayloadSize must be an integer from 1 to ${PERF_PAYLOAD_LIMIT} (perf's limit; ` +
          `ftrace's is ${FTRACE_PAYLOAD_LIMIT}), got ${limit}`,
      );
    }
    this.maxPayloadSize = limit;
    const definition = eventDefinition(options.eventName);
    this.eventName = options.eventName ?? OTLP_METRICS_EVENT_NAME;
    const sys = this.#sys = options.syscalls ?? libcSyscalls();
    const opened = openUserEventsData(options.tracefs, sys);
    this.tracefs = opened.tracefs;
    let writer: UserEventsWriter | undefined;
    try {
      writer = new UserEventsWriter(opened.fd, -1, limit, sys);
      writer.writeIndex = registerOtlpMetrics(
        opened.fd,
        writer.arena,
        this.tracefs,
        sys,
        definition,
      );
    } catch (error) {
      sys.close(opened.fd);
      writer?.arena.free(); // never registered, so the kernel holds no pointer into it
      throw error;
    }
    this.#registered = true;
    this.#writer = writer;
    this.staging = writer.staging;
    this.#enable = new Uint32Array(writer.arena.bytes.buffer, ENABLE_OFFSET, 1);
  }

  isEnabled(): boolean {
    return this.#enable[0] !== 0;
  }

  write(start: number, end: number): number {
    if (!this.#registered) return EBADF;
    const code = this.#writer.writeEvent(start, end);
    // EBADF: the last listener detached between the enable check and the write (the kernel
    // checks for a probe, not our enable word).
    return code === 0 ? WRITE_OK : code === EBADF ? WRITE_NOT_LISTENING : code;
  }

  describeError(code: number): string {
    return errnoName(code);
  }

  /** The enable word as the kernel last wrote it. */
  get enableWord(): number {
    return this.#enable[0]!;
  }

  /** The kernel's write index of the registration. */
  get writeIndex(): number {
    return this.#writer.writeIndex;
  }

  /**
   * Unregisters (`DIAG_IOCSUNREG`), then closes the file and frees the arena. If unregistering
   * fails the arena is leaked on purpose: the kernel may still write the enable word.
   */
  shutdown(): void {
    if (!this.#registered) return;
    this.#registered = false;
    const writer = this.#writer;
    const arena = writer.arena;
    const rc = unregisterOtlpMetrics(writer.fd, arena, this.#sys);
    this.#sys.close(writer.fd);
    writer.fd = -1;
    if (rc === 0) arena.free();
    else this.leaked = true;
  }
}

/**
 * `DIAG_IOCSUNREG` for the enable word at the start of `arena`: afterwards the kernel never
 * writes to it again. Returns 0 or the errno.
 */
export function unregisterOtlpMetrics(
  fd: number,
  arena: NativeBlock,
  sys: UserEventsSyscalls = libcSyscalls(),
): number {
  const v = arena.view;
  v.setUint32(UNREG_OFFSET, USER_UNREG_SIZE, true);
  v.setUint8(UNREG_OFFSET + 4, 0); // disable_bit
  v.setBigUint64(UNREG_OFFSET + 8, arena.at(ENABLE_OFFSET), true);
  return sys.ioctl(fd, DIAG_IOCSUNREG, arena.at(UNREG_OFFSET)) === 0 ? 0 : sys.errno();
}

/**
 * Registers `otlp_metrics` on `fd` with the enable word at the start of `arena` (which must be
 * at least 640 bytes); returns the write index.
 */
export function registerOtlpMetrics(
  fd: number,
  arena: NativeBlock,
  tracefs: string,
  sys: UserEventsSyscalls = libcSyscalls(),
  definition: string = OTLP_METRICS_DEFINITION,
): number {
  const event = definition.slice(0, definition.indexOf(" "));
  const name = cString(definition);
  arena.bytes.set(name, NAME_OFFSET);
  const v = arena.view;
  v.setUint32(REG_OFFSET, USER_REG_SIZE, true); // size
  v.setUint8(REG_OFFSET + 4, 0); // enable_bit
  v.setUint8(REG_OFFSET + 5, 4); // enable_size
  v.setUint16(REG_OFFSET + 6, 0, true); // flags
  v.setBigUint64(REG_OFFSET + 8, arena.at(ENABLE_OFFSET), true); // enable_addr
  v.setBigUint64(REG_OFFSET + 16, arena.at(NAME_OFFSET), true); // name_args
  const rc = sys.ioctl(fd, DIAG_IOCSREG, arena.at(REG_OFFSET));
  if (rc === 0) return v.getUint32(REG_OFFSET + 24, true); // write_index
  const code = sys.errno();
  if (code === EADDRINUSE) {
    throw new EventDefinitionConflictError(
      `Registering "${definition}" failed with ${errnoName(code)}: an event ` +
        `"${event}" with other fields exists (listed in ${tracefs}/user_events_status; its ` +
        `fields are in ${tracefs}/dynamic_events), e.g. the pre-0.2 Rust crate's ` +
        `"otlp_metrics __rel_loc u8[] buffer" or opentelemetry-cpp-contrib's bare "otlp_metrics". ` +
        `Fix: stop the processes that registered it, or remove a persistent one with the ` +
        `DIAG_IOCSDEL ioctl once nothing uses it. (The same fields without a space after each ` +
        `';', as the Rust and .NET exporters write them, collide only on kernels before 6.10, ` +
        `and only for the second registrant: the kernel split a new definition on spaces alone. ` +
        `This definition is spaced, so it matches an existing event of the same fields on every ` +
        `kernel from 6.4 on.)`,
      { code },
    );
  }
  if (code === EACCES || code === EPERM) {
    throw new UserEventsPermissionError(
      `Registering ${event} was refused (${errnoName(code)}): the process needs root or ` +
        `write access to ${tracefs}/user_events_data.`,
      { code },
    );
  }
  throw new RegistrationError(
    `Registering ${event} failed: ioctl(DIAG_IOCSREG) gave ${errnoName(code)}.`,
    { code },
  );
}
