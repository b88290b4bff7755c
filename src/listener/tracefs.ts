/**
 * A built-in user_events listener: a private tracefs instance with `otlp_metrics` enabled, read
 * through the binary per-CPU ring buffers (`per_cpu/cpuN/trace_pipe_raw`), decoded into
 * payloads. Root only (tracefs is root's). Events up to the ftrace limit (4048-byte payloads).
 *
 * @module
 */
import { cString, errno, libc, readSmallFile } from "../../ffi/mod.ts";
import { errnoName, NativeSinkError } from "../errors.ts";
import { parseOtlpMetricsRecord } from "../decode.ts";
import { DEFAULT_TRACEFS } from "../sinks/user_events/tracefs.ts";

const O_RDONLY = 0, O_WRONLY = 1, O_NONBLOCK = 0x800, O_CLOEXEC = 0x80000;
const EAGAIN = 11, ENOENT = 2, EEXIST = 17;
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

/** One captured event. */
export interface CapturedEvent {
  /** The CPU whose buffer held it. */
  cpu: number;
  /** Ring-buffer timestamp (trace clock units, `local`: ns). */
  timestamp: bigint;
  /** The writer's thread id. */
  tid: number;
  /** The `protocol` field (0 = OTLP protobuf). */
  protocol: number;
  /** The `version` field. */
  version: string;
  /** The OTLP payload. */
  payload: Uint8Array;
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
 * import { TracefsListener } from "./tracefs.ts";
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
        if (parseRingBufferPage(this.#page.subarray(0, n), cpu, this.eventId, out)) {
          this.lostPages++;
        }
      }
    }
    out.sort((a, b) => (a.timestamp < b.timestamp ? -1 : a.timestamp > b.timestamp ? 1 : 0));
    return out;
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

/**
 * Parses one ring-buffer page read from `trace_pipe_raw` (`kernel/trace/ring_buffer.c`),
 * appending the `otlp_metrics` records of event `eventId` to `out`. Returns whether the page
 * reports events lost to buffer overruns.
 */
export function parseRingBufferPage(
  page: Uint8Array,
  cpu: number,
  eventId: number,
  out: CapturedEvent[],
): boolean {
  if (page.length < 16) return false;
  const v = new DataView(page.buffer, page.byteOffset, page.byteLength);
  let time = v.getBigUint64(0, true);
  const commit = v.getUint32(8, true);
  const end = Math.min(16 + (commit & 0x3fffffff), page.length);
  let at = 16;
  while (at + 4 <= end) {
    const header = v.getUint32(at, true);
    const typeLen = header & 0x1f;
    const delta = BigInt(header >>> 5);
    if (typeLen === 29) { // padding; a zero delta ends the page
      if (delta === 0n) break;
      at += 4 + v.getUint32(at + 4, true);
      continue;
    }
    if (typeLen === 30) { // time extend
      time += (BigInt(v.getUint32(at + 4, true)) << 27n) | delta;
      at += 8;
      continue;
    }
    if (typeLen === 31) { // absolute timestamp
      time = (BigInt(v.getUint32(at + 4, true)) << 27n) | delta;
      at += 8;
      continue;
    }
    time += delta;
    let dataStart: number, dataLength: number;
    if (typeLen === 0) {
      dataLength = v.getUint32(at + 4, true) - 4;
      dataStart = at + 8;
    } else {
      dataLength = typeLen * 4;
      dataStart = at + 4;
    }
    const record = page.subarray(dataStart, dataStart + dataLength);
    at = dataStart + dataLength;
    if (record.length < 24 || (record[0]! | (record[1]! << 8)) !== eventId) continue;
    const parsed = parseOtlpMetricsRecord(record);
    out.push({
      cpu,
      timestamp: time,
      tid: new DataView(record.buffer, record.byteOffset, record.byteLength).getInt32(4, true),
      protocol: parsed.protocol,
      version: parsed.version,
      payload: parsed.payload.slice(),
    });
  }
  return (commit & 0x80000000) !== 0;
}
