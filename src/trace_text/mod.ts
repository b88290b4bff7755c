/**
 * The kernel's text view of user_events (`trace`, `trace_pipe`, and the same lines in a saved
 * capture), parsed back into payloads. A line looks like
 *
 * ```text
 *   bun-4121    [001] .....   812.402136: otlp_metrics: protocol=0x0 (0) version=v0.19.00 buffer=0a,b1,02
 * ```
 *
 * (`kernel/trace/trace_events_user.c` prints `protocol` as hex and decimal, `version` with `%s`
 * and the `__rel_loc` bytes as comma-separated hex). The parser scans with `indexOf` and short
 * anchored patterns only, so its time is linear in the line whatever the line holds.
 *
 * @example
 * ```ts
 * import { parseTraceLine } from "./mod.ts";
 * const event = parseTraceLine(
 *   "  bun-1  [000] .....  1.000001: otlp_metrics: protocol=0x0 (0) version=v0.19.00 buffer=0a,00",
 * );
 * console.log(event?.payload); // Uint8Array [ 10, 0 ]
 * ```
 *
 * @module
 */

/** One event line of `trace` / `trace_pipe`. */
export interface TraceTextEvent {
  /** The writer's command name (`comm`), as the kernel printed it. */
  task: string;
  /** The writer's thread id. */
  tid: number;
  /** The CPU column. */
  cpu: number;
  /** The timestamp column as printed (seconds, with the trace clock's precision). */
  timestamp: string;
  /** The event name (`otlp_metrics`). */
  event: string;
  /** The `protocol` field (0 = OTLP protobuf). */
  protocol: number;
  /** The `version` field. */
  version: string;
  /** The `buffer` bytes: one OTLP `ExportMetricsServiceRequest`. */
  payload: Uint8Array;
}

/** A line that names the event but cannot be read back (cut, edited or not of this layout). */
export class TraceTextError extends Error {
  /** `"TraceTextError"`. */
  override name = "TraceTextError";
  /** 1-based line number when known (set by {@linkcode parseTraceText}). */
  line?: number;
  /** A message, and the line number when known. */
  constructor(message: string, line?: number) {
    super(line === undefined ? message : `line ${line}: ${message}`);
    this.line = line;
  }
}

/** Options of the trace-text parser. */
export interface TraceTextOptions {
  /** The event name to pick (default `otlp_metrics`). */
  event?: string;
}

const HEX = new Int8Array(128).fill(-1);
for (let i = 0; i < 16; i++) {
  HEX["0123456789abcdef".charCodeAt(i)] = i;
  HEX["0123456789ABCDEF".charCodeAt(i)] = i;
}

/** Parses `0a,12,ff` (possibly empty) into bytes; throws on anything else. */
function parseHexList(text: string): Uint8Array {
  if (text.length === 0) return new Uint8Array(0);
  // "hh" then ",hh" repeated: exactly 3n-1 characters.
  if ((text.length + 1) % 3 !== 0) {
    throw new TraceTextError(
      `buffer= is not a list of hex bytes (${text.length} characters; cut line?)`,
    );
  }
  const out = new Uint8Array((text.length + 1) / 3);
  for (let i = 0, at = 0; i < out.length; i++, at += 3) {
    const hi = HEX[text.charCodeAt(at)] ?? -1, lo = HEX[text.charCodeAt(at + 1)] ?? -1;
    if (hi < 0 || lo < 0 || (at + 2 < text.length && text.charCodeAt(at + 2) !== 44)) {
      throw new TraceTextError(`buffer= has a non-hex byte at byte ${i}`);
    }
    out[i] = (hi << 4) | lo;
  }
  return out;
}

/**
 * Parses one line. Returns `undefined` for lines that are not an event of `options.event`
 * (headers, comments, other events, blank lines).
 *
 * @throws {TraceTextError} the line is an event of that name but its fields do not parse
 * (a line the kernel cut at 8155 characters, a hand-edited one)
 */
export function parseTraceLine(
  line: string,
  options: TraceTextOptions = {},
): TraceTextEvent | undefined {
  const event = options.event ?? "otlp_metrics";
  if (line.endsWith("\r")) line = line.slice(0, -1);
  if (line.length === 0 || line.charCodeAt(0) === 35 /* # */) return undefined;
  const marker = `: ${event}: `;
  const at = line.indexOf(marker);
  if (at < 0) return undefined;
  const head = line.slice(0, at);
  // head: "<task>-<tid> [(<tgid>)] [<cpu>] [<flags>] <timestamp>"
  const tsStart = head.lastIndexOf(" ") + 1;
  const timestamp = head.slice(tsStart);
  if (!/^\d+(\.\d+)?$/.test(timestamp)) {
    throw new TraceTextError(`no timestamp before "${event}:"`);
  }
  const cpuOpen = head.lastIndexOf("[", tsStart);
  const cpuClose = cpuOpen < 0 ? -1 : head.indexOf("]", cpuOpen);
  if (cpuOpen < 0 || cpuClose < 0 || !/^\d+$/.test(head.slice(cpuOpen + 1, cpuClose))) {
    throw new TraceTextError("no [cpu] column");
  }
  const cpu = Number(head.slice(cpuOpen + 1, cpuClose));
  // The task column ends before the optional "(tgid)" column and the CPU column.
  let taskEnd = cpuOpen;
  const tgid = head.lastIndexOf("(", cpuOpen);
  if (tgid >= 0 && /^\(\s*[\d-]+\)\s*$/.test(head.slice(tgid, cpuOpen))) taskEnd = tgid;
  const taskColumn = head.slice(0, taskEnd).trim();
  const dash = taskColumn.lastIndexOf("-");
  if (dash < 0 || !/^\d+$/.test(taskColumn.slice(dash + 1))) {
    throw new TraceTextError("no <task>-<tid> column");
  }
  const fields = line.slice(at + marker.length);
  const m = /^protocol=(0x[0-9a-fA-F]{1,8}|\d{1,10})(?: \(\d{1,10}\))? version=(\S{0,64}) buffer=/
    .exec(fields);
  if (!m) throw new TraceTextError(`fields are not "protocol=… version=… buffer=…"`);
  return {
    task: taskColumn.slice(0, dash),
    tid: Number(taskColumn.slice(dash + 1)),
    cpu,
    timestamp,
    event,
    protocol: Number(m[1]),
    version: m[2]!,
    payload: parseHexList(fields.slice(m[0].length).trimEnd()),
  };
}

/**
 * Every event of `text` (a whole `trace` dump or `trace_pipe` capture), in order. Lines that
 * fail to parse are yielded as {@linkcode TraceTextError}s carrying their line number, so one
 * cut line does not hide the rest.
 *
 * @example
 * ```ts
 * import { parseTraceText, TraceTextError } from "./mod.ts";
 * for (const item of parseTraceText("# tracer: nop\n")) {
 *   if (item instanceof TraceTextError) console.error(item.message);
 * }
 * ```
 */
export function* parseTraceText(
  text: string,
  options: TraceTextOptions = {},
): Generator<TraceTextEvent | TraceTextError> {
  let start = 0, lineNumber = 0;
  while (start <= text.length) {
    let end = text.indexOf("\n", start);
    if (end < 0) end = text.length;
    lineNumber++;
    const line = text.slice(start, end);
    start = end + 1;
    try {
      const event = parseTraceLine(line, options);
      if (event) yield event;
    } catch (error) {
      if (!(error instanceof TraceTextError)) throw error;
      yield new TraceTextError(error.message, lineNumber);
    }
    if (end === text.length) break;
  }
}
