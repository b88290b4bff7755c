/**
 * The kernel's ring-buffer pages as `per_cpu/cpuN/trace_pipe_raw` delivers them
 * (`kernel/trace/ring_buffer.c`), parsed into `otlp_metrics` records.
 *
 * @module
 */
import { parseOtlpMetricsRecord } from "../sinks/user_events/records.ts";

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

/**
 * Parses one ring-buffer page read from `trace_pipe_raw` (`kernel/trace/ring_buffer.c`),
 * appending the `otlp_metrics` records of event `eventId` to `out`. Returns whether the page
 * reports events lost to buffer overruns.
 *
 * @throws {RangeError} an inconsistent page (an event or record running past the page's data)
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
  // Every length read from the page is checked against `end` before use: an inconsistent
  // page throws a RangeError naming the offset instead of reading past the data.
  const need = (n: number) => {
    if (at + n > end) {
      throw new RangeError(`ring-buffer event at ${at} needs ${n} bytes, page data ends at ${end}`);
    }
  };
  while (at + 4 <= end) {
    const header = v.getUint32(at, true);
    const typeLen = header & 0x1f;
    const delta = BigInt(header >>> 5);
    if (typeLen === 29) { // padding; a zero delta ends the page
      if (delta === 0n) break;
      need(8);
      at += 4 + v.getUint32(at + 4, true);
      continue;
    }
    if (typeLen === 30) { // time extend
      need(8);
      time += (BigInt(v.getUint32(at + 4, true)) << 27n) | delta;
      at += 8;
      continue;
    }
    if (typeLen === 31) { // absolute timestamp
      need(8);
      time = (BigInt(v.getUint32(at + 4, true)) << 27n) | delta;
      at += 8;
      continue;
    }
    time += delta;
    let dataStart: number, dataLength: number;
    if (typeLen === 0) {
      need(8);
      dataLength = v.getUint32(at + 4, true) - 4;
      dataStart = at + 8;
    } else {
      dataLength = typeLen * 4;
      dataStart = at + 4;
    }
    if (dataLength < 0 || dataStart + dataLength > end) {
      throw new RangeError(`ring-buffer event at ${at} of ${dataLength} bytes overruns the page`);
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

/**
 * How many events the kernel reports lost before this page: 0 when none, the stored count when
 * the page carries one (`RB_MISSED_STORED`, bit 30: a u64 right after the data), -1 when it
 * only says "some" (bit 31 without room for the count).
 *
 * @example
 * ```ts
 * import { ringBufferPageLost } from "./ring_buffer.ts";
 * console.log(ringBufferPageLost(new Uint8Array(4096))); // 0
 * ```
 */
export function ringBufferPageLost(page: Uint8Array): number {
  if (page.length < 16) return 0;
  const v = new DataView(page.buffer, page.byteOffset, page.byteLength);
  const commit = v.getUint32(8, true);
  if ((commit & 0x80000000) === 0) return 0;
  const at = 16 + (commit & 0x3fffffff);
  if ((commit & 0x40000000) === 0 || at + 8 > page.length) return -1;
  return Number(v.getBigUint64(at, true));
}
