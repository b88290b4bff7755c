/**
 * The user_events `otlp_metrics` layouts read back: the bytes of one write to
 * `user_events_data`, and the record tracefs and perf deliver. No protobuf: the payload is
 * returned as bytes.
 *
 * @module
 */
import { EVENT_HEADER_SIZE } from "./abi.ts";

/** The fields of a user_events `otlp_metrics` write. */
export interface UserEventsWrite {
  /** The registration's write index. */
  writeIndex: number;
  /** 0 = OTLP protobuf. */
  protocol: number;
  /** `"v0.19.00"`. */
  version: string;
  /** The encoded request. */
  payload: Uint8Array;
}

/**
 * Parses the bytes of one `writev` to user_events_data:
 * `[u32 index][u32 protocol][char[8] version][u32 rel_loc][payload]`.
 *
 * @throws {RangeError} when the layout is inconsistent
 */
export function parseUserEventsWrite(bytes: Uint8Array): UserEventsWrite {
  if (bytes.length < EVENT_HEADER_SIZE) {
    throw new RangeError(`write of ${bytes.length} bytes is too short`);
  }
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const relLoc = v.getUint32(16, true);
  const length = relLoc >>> 16, offset = relLoc & 0xffff;
  const start = EVENT_HEADER_SIZE + offset;
  if (start + length !== bytes.length) {
    throw new RangeError(
      `rel_loc says ${length} bytes at +${offset}, write has ${bytes.length - EVENT_HEADER_SIZE}`,
    );
  }
  return {
    writeIndex: v.getUint32(0, true),
    protocol: v.getUint32(4, true),
    version: new TextDecoder().decode(bytes.subarray(8, 16)),
    payload: bytes.subarray(start, start + length),
  };
}

/** The fields of a tracefs/perf record of `otlp_metrics`. */
export interface OtlpMetricsRecord {
  /** 0 = OTLP protobuf. */
  protocol: number;
  /** `"v0.19.00"`. */
  version: string;
  /** The encoded request (a view into the record). */
  payload: Uint8Array;
}

/**
 * Parses a tracefs/perf record of `user_events:otlp_metrics` (common fields, protocol@8,
 * version@12, rel_loc@20, data at 24 + offset) and returns its payload.
 */
export function parseOtlpMetricsRecord(record: Uint8Array): OtlpMetricsRecord {
  const v = new DataView(record.buffer, record.byteOffset, record.byteLength);
  if (record.length < 24) throw new RangeError(`record of ${record.length} bytes is too short`);
  const relLoc = v.getUint32(20, true);
  const start = 24 + (relLoc & 0xffff), length = relLoc >>> 16;
  if (start + length > record.length) throw new RangeError("rel_loc points past the record");
  return {
    protocol: v.getUint32(8, true),
    version: new TextDecoder().decode(record.subarray(12, 20)),
    payload: record.subarray(start, start + length),
  };
}
