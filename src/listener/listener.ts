/**
 * A built-in user_events listener: a private tracefs instance with `otlp_metrics` enabled, read
 * through the binary per-CPU ring buffers (`per_cpu/cpuN/trace_pipe_raw`), decoded into
 * payloads. Root only (tracefs is root's). Events up to the ftrace limit (4048-byte payloads).
 *
 * @module
 */
import {
  cString,
  Errno,
  errno,
  libc,
  O_CLOEXEC,
  O_NONBLOCK,
  O_RDONLY,
  O_WRONLY,
  readSmallFile,
} from "../../ffi/mod.ts";
import { errnoName, NativeSinkError } from "../errors.ts";
import { type CapturedEvent, parseRingBufferPage, ringBufferPageLost } from "./ring_buffer.ts";

import { DEFAULT_TRACEFS } from "../sinks/user_events/discovery.ts";

export type { CapturedEvent };

const { EAGAIN, ENOENT, EEXIST } = Errno;
const PAGE = 4096;

/** Options of {@linkcode TracefsListener.open}. */
export interface TracefsListenerOptions {
  /** The tracefs directory (default `/sys/kernel/tracing`). */
  tracefs?: string;
  /** Name of the private instance created under `instances/` (default `otel_native_<pid>`). */
  instance?: string;
  /** Per-CPU ring buffer size in KiB (default 4096). */
  bufferSizeKb?: number;
  /** The event (default `otlp_metrics`, which must exist: registered or pre-created). */
  event?: string;
}

function writeFile(path: string, text: string): void {
  const c = libc();
  const fd = c.open(cString(path), O_WRONLY | O_CLOEXEC);
  if (fd < 0) throw new NativeSinkError(`cannot open ${path}: ${errnoName(errno())}`);
  try {
    const bytes = new TextEncoder().encode(text);
    const n = c.write(fd, bytes, BigInt(bytes.length));
    if (n < 0) throw new NativeSinkError(`cannot write ${path}: ${errnoName(errno())}`);
  } finally {
    c.close(fd);
  }
}

/**
 * Listens to `user_events:otlp_metrics` through a private tracefs instance, so it neither
 * disturbs nor is disturbed by other tracing sessions. While open, the kernel sets the
 * exporters' enable bit.
 *
 * @example
 * ```ts ignore
 * import { TracefsListener } from "./listener.ts";
 * const listener = TracefsListener.open();
 * // ... export ...
 * for (const event of listener.poll()) console.log(event.payload.length);
 * listener.close();
 * ```
 */
export class TracefsListener {
  /** The instance directory. */
  readonly directory: string;
  /** The event's id (`common_type` of its records). */
  readonly eventId: number;
  /** Pages that reported events the ring buffer overwrote (lost). */
  lostPages = 0;
  /** Events lost, as counted by the pages that carry a count (most do). */
  lostEvents = 0;
  /** Lost events per CPU (same source as {@linkcode lostEvents}). */
  readonly lostEventsByCpu: number[] = [];
  readonly #fds: number[];
  readonly #event: string;
  readonly #page = new Uint8Array(new ArrayBuffer(PAGE));
  #closed = false;

  private constructor(directory: string, event: string, eventId: number, fds: number[]) {
    this.directory = directory;
    this.#event = event;
    this.eventId = eventId;
    this.#fds = fds;
  }

  /** Creates the instance, sizes its buffers, enables the event and opens every CPU's buffer. */
  static open(options: TracefsListenerOptions = {}): TracefsListener {
    const tracefs = options.tracefs ?? DEFAULT_TRACEFS;
    const event = options.event ?? "otlp_metrics";
    const pid = (globalThis as { process?: { pid?: number } }).process?.pid ?? 0;
    const directory = `${tracefs}/instances/${options.instance ?? `otel_native_${pid}`}`;
    const idText = readSmallFile(`${tracefs}/events/user_events/${event}/id`);
    if (idText.text === undefined) {
      throw new NativeSinkError(
        `user_events:${event} does not exist (${errnoName(idText.errno)} reading its id): ` +
          `register it first (start the exporter) or pre-create it in ${tracefs}/dynamic_events`,
        { code: idText.errno },
      );
    }
    const c = libc();
    if (c.mkdir(cString(directory), 0o755) !== 0 && errno() !== EEXIST) {
      throw new NativeSinkError(`cannot create ${directory}: ${errnoName(errno())}`);
    }
    const fds: number[] = [];
    try {
      writeFile(`${directory}/buffer_size_kb`, String(options.bufferSizeKb ?? 4096));
      writeFile(`${directory}/events/user_events/${event}/enable`, "1");
      for (let cpu = 0; cpu < 4096; cpu++) {
        const path = `${directory}/per_cpu/cpu${cpu}/trace_pipe_raw`;
        const fd = c.open(cString(path), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0) {
          if (errno() === ENOENT && cpu > 0) break;
          throw new NativeSinkError(`cannot open ${path}: ${errnoName(errno())}`);
        }
        fds.push(fd);
      }
    } catch (error) {
      for (const fd of fds) c.close(fd);
      c.rmdir(cString(directory));
      throw error;
    }
    return new TracefsListener(directory, event, Number(idText.text.trim()), fds);
  }

  /** Number of CPU buffers read. */
  get cpus(): number {
    return this.#fds.length;
  }

  /** Reads everything buffered now, from every CPU, without blocking. */
  poll(): CapturedEvent[] {
    const out: CapturedEvent[] = [];
    const c = libc();
    for (let cpu = 0; cpu < this.#fds.length; cpu++) {
      for (;;) {
        const n = c.read(this.#fds[cpu]!, this.#page, BigInt(PAGE));
        if (n < 0) {
          const code = errno();
          if (code === EAGAIN) break;
          throw new NativeSinkError(`reading cpu${cpu}'s buffer: ${errnoName(code)}`, { code });
        }
        if (n === 0) break;
        const page = this.#page.subarray(0, n);
        if (parseRingBufferPage(page, cpu, this.eventId, out)) {
          this.lostPages++;
          const lost = ringBufferPageLost(page);
          if (lost > 0) {
            this.lostEvents += lost;
            this.lostEventsByCpu[cpu] = (this.lostEventsByCpu[cpu] ?? 0) + lost;
          }
        }
      }
    }
    out.sort((a, b) => (a.timestamp < b.timestamp ? -1 : a.timestamp > b.timestamp ? 1 : 0));
    return out;
  }

  /**
   * The kernel's own counters for this instance's buffers, summed over CPUs
   * (`per_cpu/cpuN/stats`): `overrun` (events overwritten before they were read) and
   * `dropped` (events refused because the buffer was full). `undefined` when unreadable.
   */
  bufferStats(): { overrun: number; dropped: number } | undefined {
    let overrun = 0, dropped = 0;
    for (let cpu = 0; cpu < this.#fds.length; cpu++) {
      const { text } = readSmallFile(`${this.directory}/per_cpu/cpu${cpu}/stats`);
      if (text === undefined) return undefined;
      overrun += Number(/^overrun: (\d+)/m.exec(text)?.[1] ?? 0);
      dropped += Number(/^dropped events: (\d+)/m.exec(text)?.[1] ?? 0);
    }
    return { overrun, dropped };
  }

  /** Disables the event, closes the buffers and removes the instance. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const c = libc();
    for (const fd of this.#fds) c.close(fd);
    try {
      writeFile(`${this.directory}/events/user_events/${this.#event}/enable`, "0");
    } catch { /* the instance goes away below anyway */ }
    c.rmdir(cString(this.directory));
  }
}
