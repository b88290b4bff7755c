/**
 * Sinks of the benchmark. All use the library's {@linkcode UserEventsWriter}: its calloc'd
 * arena (enable word, iovec, staging) and, for the null sink, its one `writev` per event. Only
 * the registration with the kernel is left out: events go to `/dev/null`.
 *
 * @module
 */
import { cString, errno, libc } from "../ffi/mod.ts";
import { O_CLOEXEC, O_WRONLY } from "../ffi/libc.ts";
import { Errno } from "../ffi/errno.ts";
import { type NativeSink, WRITE_NOT_LISTENING, WRITE_OK } from "../src/sinks/sink.ts";
import { EVENT_HEADER_SIZE, FTRACE_PAYLOAD_LIMIT } from "../src/sinks/user_events/abi.ts";
import { UserEventsWriter } from "../src/sinks/user_events/sink.ts";

const { EBADF } = Errno;

/** Opens `/dev/null` for writing through libc (the FFI path the library uses). */
export function openDevNull(): number {
  const fd = libc().open(cString("/dev/null"), O_WRONLY | O_CLOEXEC);
  if (fd < 0) throw new Error(`open(/dev/null) failed: errno ${errno()}`);
  return fd;
}

/**
 * user_events without the kernel: the writer's real `writev` into `/dev/null`, the enable word
 * in native memory (set by {@linkcode setEnabled} instead of by the kernel).
 */
export class NullSink implements NativeSink {
  readonly kind: string = "null";
  readonly maxPayloadSize: number;
  readonly headroom = EVENT_HEADER_SIZE;
  readonly staging: Uint8Array;
  readonly writer: UserEventsWriter;
  readonly #enable: Uint32Array;

  constructor(maxPayloadSize = FTRACE_PAYLOAD_LIMIT, fd = openDevNull()) {
    this.maxPayloadSize = maxPayloadSize;
    this.writer = new UserEventsWriter(fd, 0, maxPayloadSize);
    this.staging = this.writer.staging;
    this.#enable = new Uint32Array(this.writer.arena.bytes.buffer, 0, 1);
    this.#enable[0] = 1;
  }

  /** Sets the enable word as the kernel would (bit 0: somebody listens). */
  setEnabled(on: boolean): void {
    this.#enable[0] = on ? 1 : 0;
  }

  isEnabled(): boolean {
    return this.#enable[0] !== 0;
  }

  write(start: number, end: number): number {
    const code = this.writer.writeEvent(start, end);
    return code === 0 ? WRITE_OK : code === EBADF ? WRITE_NOT_LISTENING : code;
  }

  describeError(code: number): string {
    return `errno ${code}`;
  }

  shutdown(): void {
    if (this.writer.fd >= 0) libc().close(this.writer.fd);
    this.writer.fd = -1;
  }
}

/** Encodes into the same native staging memory but writes nothing: "encode only". */
export class DiscardSink extends NullSink {
  override readonly kind = "discard";
  override write(_start: number, _end: number): number {
    return WRITE_OK;
  }
}

/**
 * Keeps a copy of every event as the kernel would receive it (header + payload), for the C
 * floor and for byte comparisons.
 */
export class CaptureSink extends NullSink {
  override readonly kind = "capture";
  readonly events: Uint8Array[] = [];
  override write(start: number, end: number): number {
    const rc = super.write(start, end);
    this.events.push(this.staging.slice(start - EVENT_HEADER_SIZE, end));
    return rc;
  }
}
