/**
 * A reader for the `perf.data` files `perf record` writes (format:
 * `tools/perf/Documentation/perf.data-file-format.txt` and `include/uapi/linux/perf_event.h`
 * in the kernel source): the file header, the event attributes with their names
 * (`HEADER_EVENT_DESC`), and the `PERF_RECORD_SAMPLE`s with their `PERF_SAMPLE_RAW` data, which
 * for a tracepoint such as `user_events:otlp_metrics` is the tracefs record. Both the seekable
 * file layout and pipe mode (`perf record -o -`) are read. Little-endian files only;
 * `perf record -z` (zstd-compressed records) is reported, not decoded.
 *
 * Every length read from the file is checked against the bytes that remain before it is
 * used, so a truncated or hostile file gives a {@linkcode PerfDataError}, never a read past
 * the input or an endless loop (each step advances by at least 8 bytes).
 *
 * @example
 * ```ts ignore
 * import { readFileSync } from "node:fs";
 * import { otlpMetricsFromPerfData } from "./mod.ts";
 * const { events } = otlpMetricsFromPerfData(readFileSync("perf.data"));
 * console.log(events.length);
 * ```
 *
 * @module
 */
import { parseOtlpMetricsRecord } from "../sinks/user_events/records.ts";

/** The file is not a perf.data file we can read, or is cut/corrupt. */
export class PerfDataError extends Error {
  /** `"PerfDataError"`. */
  override name = "PerfDataError";
}

/** One event (attribute) of the recording. */
export interface PerfEventAttr {
  /** `perf_event_attr.type` (2 = tracepoint). */
  type: number;
  /** `perf_event_attr.config` (for a tracepoint: its id). */
  config: bigint;
  /** `perf_event_attr.sample_type` bits. */
  sampleType: bigint;
  /** `perf_event_attr.read_format` bits. */
  readFormat: bigint;
  /** Whether non-sample records carry the sample id fields. */
  sampleIdAll: boolean;
  /** The sample ids of this event. */
  ids: bigint[];
  /** Its name (`user_events:otlp_metrics`) when the file records names. */
  name?: string;
}

/** One `PERF_RECORD_SAMPLE`. */
export interface PerfSample {
  /** Index into {@linkcode PerfData.attrs}. */
  attr: number;
  /** `PERF_SAMPLE_TID`: process id. */
  pid?: number;
  /** `PERF_SAMPLE_TID`: thread id. */
  tid?: number;
  /** `PERF_SAMPLE_TIME` (ns, perf's clock). */
  time?: bigint;
  /** `PERF_SAMPLE_CPU`. */
  cpu?: number;
  /** `PERF_SAMPLE_RAW` data (a view into the file's bytes), when sampled. */
  raw?: Uint8Array;
}

/** What {@linkcode readPerfData} found. */
export interface PerfData {
  /** `true` for pipe mode (`perf record -o -`). */
  pipe: boolean;
  /** The events recorded. */
  attrs: PerfEventAttr[];
  /** Every sample, in file order. */
  samples: PerfSample[];
  /** Sum of `PERF_RECORD_LOST` counts: samples the kernel dropped (ring buffer full). */
  lost: bigint;
  /** `PERF_RECORD_LOST_SAMPLES` counts. */
  lostSamples: bigint;
  /** `PERF_RECORD_COMPRESSED` records skipped (`perf record -z`; not decoded here). */
  compressedRecords: number;
}

const MAGIC = 0x32454c4946524550n; // "PERFILE2" little-endian
const MAGIC_SWAPPED = 0x50455246494c4532n;
const HEADER_EVENT_DESC = 12;

// perf_event_sample_format bits, in the order the fields appear in a sample.
const S_IDENTIFIER = 1n << 16n, S_IP = 1n, S_TID = 2n, S_TIME = 4n, S_ADDR = 8n;
const S_READ = 16n, S_CALLCHAIN = 32n, S_ID = 64n, S_CPU = 128n, S_PERIOD = 256n;
const S_STREAM_ID = 512n, S_RAW = 1024n;
// read_format bits.
const R_TOTAL_TIME_ENABLED = 1n, R_TOTAL_TIME_RUNNING = 2n, R_ID = 4n, R_GROUP = 8n, R_LOST = 16n;

const RECORD_LOST = 2, RECORD_SAMPLE = 9, RECORD_LOST_SAMPLES = 13;
const RECORD_HEADER_ATTR = 64, RECORD_HEADER_TRACING_DATA = 66, RECORD_HEADER_FEATURE = 80;
const RECORD_COMPRESSED = 81;

/** Bounds-checked little-endian reads over one byte range. */
class Reader {
  readonly view: DataView;
  constructor(readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  need(at: number, n: number, what: string): void {
    if (!(at >= 0 && n >= 0 && at + n <= this.bytes.length)) {
      throw new PerfDataError(
        `${what}: needs ${n} bytes at ${at}, the data has ${this.bytes.length} (cut file?)`,
      );
    }
  }
  u16(at: number, what: string): number {
    this.need(at, 2, what);
    return this.view.getUint16(at, true);
  }
  i32(at: number, what: string): number {
    this.need(at, 4, what);
    return this.view.getInt32(at, true);
  }
  u32(at: number, what: string): number {
    this.need(at, 4, what);
    return this.view.getUint32(at, true);
  }
  u64(at: number, what: string): bigint {
    this.need(at, 8, what);
    return this.view.getBigUint64(at, true);
  }
  /** A u64 that is an offset or size: must fit the data. */
  size(at: number, what: string): number {
    const v = this.u64(at, what);
    if (v > BigInt(this.bytes.length)) {
      throw new PerfDataError(`${what} is ${v}, past the end of the data (${this.bytes.length})`);
    }
    return Number(v);
  }
}

function parseAttr(r: Reader, at: number, attrSize: number): PerfEventAttr {
  r.need(at, attrSize, "perf_event_attr");
  if (attrSize < 64) throw new PerfDataError(`perf_event_attr size ${attrSize} is too small`);
  const flags = r.u64(at + 40, "attr flags");
  return {
    type: r.u32(at, "attr.type"),
    config: r.u64(at + 8, "attr.config"),
    sampleType: r.u64(at + 24, "attr.sample_type"),
    readFormat: r.u64(at + 32, "attr.read_format"),
    sampleIdAll: ((flags >> 18n) & 1n) === 1n,
    ids: [],
  };
}

/** HEADER_EVENT_DESC: names and ids per attr. */
function applyEventDesc(r: Reader, at: number, end: number, attrs: PerfEventAttr[]): void {
  const nr = r.u32(at, "event_desc.nr"), attrSize = r.u32(at + 4, "event_desc.attr_size");
  let p = at + 8;
  for (let i = 0; i < nr; i++) {
    if (p >= end) throw new PerfDataError("event_desc ends early");
    const attr = parseAttr(r, p, attrSize);
    p += attrSize;
    const nrIds = r.u32(p, "event_desc.nr_ids");
    const len = r.u32(p + 4, "event_desc string length");
    r.need(p + 8, len, "event_desc name");
    const raw = r.bytes.subarray(p + 8, p + 8 + len);
    const nul = raw.indexOf(0);
    const name = new TextDecoder().decode(nul < 0 ? raw : raw.subarray(0, nul));
    p += 8 + len;
    r.need(p, nrIds * 8, "event_desc ids");
    const ids: bigint[] = [];
    for (let k = 0; k < nrIds; k++) ids.push(r.u64(p + 8 * k, "event_desc id"));
    p += nrIds * 8;
    // Match by ids (or position, when the attrs section listed none).
    const target = attrs.find((a) => a.ids.length > 0 && ids.some((id) => a.ids.includes(id))) ??
      (attrs.length === nr ? attrs[i] : undefined);
    if (target) target.name = name;
    else attrs.push({ ...attr, ids, name });
  }
}

function readFormatSize(readFormat: bigint): (r: Reader, at: number) => number {
  const extra = (readFormat & R_TOTAL_TIME_ENABLED ? 8 : 0) +
    (readFormat & R_TOTAL_TIME_RUNNING ? 8 : 0);
  const perValue = 8 + (readFormat & R_ID ? 8 : 0) + (readFormat & R_LOST ? 8 : 0);
  if (readFormat & R_GROUP) {
    return (r, at) => {
      const nr = r.u64(at, "read_format.nr");
      if (nr > 65536n) throw new PerfDataError(`read_format.nr ${nr} is implausible`);
      return 8 + extra + Number(nr) * perValue;
    };
  }
  return () => extra + perValue;
}

function parseSample(
  r: Reader,
  at: number,
  end: number,
  attrs: PerfEventAttr[],
  idToAttr: Map<bigint, number>,
): PerfSample {
  // Which attr: by IDENTIFIER (fixed position) or ID (position from the first attr's layout).
  let attrIndex = 0;
  const first = attrs[0]!;
  if (attrs.length > 1) {
    let id: bigint | undefined;
    if (first.sampleType & S_IDENTIFIER) id = r.u64(at, "sample id");
    else if (first.sampleType & S_ID) {
      let p = at;
      for (const bit of [S_IP, S_TID, S_TIME, S_ADDR]) if (first.sampleType & bit) p += 8;
      id = r.u64(p, "sample id");
    }
    if (id !== undefined) {
      const found = idToAttr.get(id);
      if (found === undefined) throw new PerfDataError(`sample of unknown id ${id}`);
      attrIndex = found;
    }
  }
  const st = attrs[attrIndex]!.sampleType;
  const sample: PerfSample = { attr: attrIndex };
  let p = at;
  const skip = (n: number, what: string) => {
    r.need(p, n, what);
    p += n;
  };
  if (st & S_IDENTIFIER) skip(8, "sample identifier");
  if (st & S_IP) skip(8, "sample ip");
  if (st & S_TID) {
    // pid_t: signed (perf reports -1 for samples it could not attribute).
    sample.pid = r.i32(p, "sample pid");
    sample.tid = r.i32(p + 4, "sample tid");
    p += 8;
  }
  if (st & S_TIME) {
    sample.time = r.u64(p, "sample time");
    p += 8;
  }
  if (st & S_ADDR) skip(8, "sample addr");
  if (st & S_ID) skip(8, "sample id");
  if (st & S_STREAM_ID) skip(8, "sample stream id");
  if (st & S_CPU) {
    sample.cpu = r.u32(p, "sample cpu");
    p += 8;
  }
  if (st & S_PERIOD) skip(8, "sample period");
  if (st & S_READ) skip(readFormatSize(attrs[attrIndex]!.readFormat)(r, p), "sample read");
  if (st & S_CALLCHAIN) {
    const nr = r.u64(p, "callchain nr");
    if (nr > BigInt(end - p)) throw new PerfDataError(`callchain of ${nr} entries is too long`);
    skip(8 + 8 * Number(nr), "callchain");
  }
  if (st & S_RAW) {
    const size = r.u32(p, "raw size");
    if (p + 4 + size > end) {
      throw new PerfDataError(`raw data of ${size} bytes overruns its record`);
    }
    sample.raw = r.bytes.subarray(p + 4, p + 4 + size);
    p += 4 + size;
  }
  if (p > end) throw new PerfDataError("sample fields overrun their record");
  return sample;
}

/**
 * Reads a perf.data file (or pipe-mode stream) held in memory.
 *
 * @throws {PerfDataError} not a perf.data file, big-endian, or cut/corrupt
 */
export function readPerfData(bytes: Uint8Array): PerfData {
  const r = new Reader(bytes);
  if (bytes.length < 16) throw new PerfDataError(`${bytes.length} bytes: too short for perf.data`);
  const magic = r.u64(0, "magic");
  if (magic === MAGIC_SWAPPED) {
    throw new PerfDataError("big-endian perf.data files are not supported");
  }
  if (magic !== MAGIC) throw new PerfDataError('not a perf.data file (no "PERFILE2" magic)');
  const headerSize = r.size(8, "header size");
  const out: PerfData = {
    pipe: headerSize === 16,
    attrs: [],
    samples: [],
    lost: 0n,
    lostSamples: 0n,
    compressedRecords: 0,
  };
  let dataStart: number, dataEnd: number;
  if (out.pipe) {
    dataStart = 16;
    dataEnd = bytes.length;
  } else {
    if (headerSize < 104) throw new PerfDataError(`header size ${headerSize} is too small`);
    const attrSize = r.size(16, "attr_size");
    const attrsOffset = r.size(24, "attrs offset"), attrsSize = r.size(32, "attrs size");
    dataStart = r.size(40, "data offset");
    const dataSize = r.size(48, "data size");
    dataEnd = dataStart + dataSize;
    r.need(dataStart, dataSize, "data section");
    r.need(attrsOffset, attrsSize, "attrs section");
    // attr_size covers one perf_event_attr plus its ids perf_file_section (16 bytes).
    const entry = attrSize, attrBytes = attrSize - 16;
    if (attrBytes < 64 || attrsSize % entry !== 0) {
      throw new PerfDataError(`attrs section of ${attrsSize} bytes, entries of ${entry}`);
    }
    for (let p = attrsOffset; p < attrsOffset + attrsSize; p += entry) {
      const attr = parseAttr(r, p, attrBytes);
      const idsOffset = r.size(p + attrBytes, "attr ids offset");
      const idsSize = r.size(p + attrBytes + 8, "attr ids size");
      r.need(idsOffset, idsSize, "attr ids");
      for (let k = 0; k + 8 <= idsSize; k += 8) attr.ids.push(r.u64(idsOffset + k, "attr id"));
      out.attrs.push(attr);
    }
    // Feature sections follow the data, one perf_file_section per set bit, in bit order.
    let sectionAt = dataEnd;
    for (let bit = 1; bit < 256; bit++) {
      // flags (u64 @72) and flags1[3] form one 256-bit little-endian bitmap.
      const word = r.u64(72 + 8 * (bit >> 6), "feature flags");
      const set = ((word >> BigInt(bit & 63)) & 1n) === 1n;
      if (!set) continue;
      if (bit === HEADER_EVENT_DESC) {
        const off = r.size(sectionAt, "feature offset"), size = r.size(sectionAt + 8, "size");
        r.need(off, size, "event_desc section");
        applyEventDesc(r, off, off + size, out.attrs);
      }
      sectionAt += 16;
    }
  }
  const idToAttr = new Map<bigint, number>();
  const index = () => {
    idToAttr.clear();
    out.attrs.forEach((a, i) => a.ids.forEach((id) => idToAttr.set(id, i)));
  };
  index();
  let at = dataStart;
  while (at < dataEnd) {
    if (at + 8 > dataEnd) throw new PerfDataError(`record header cut at ${at}`);
    const type = r.u32(at, "record type");
    const size = r.u16(at + 6, "record size");
    if (size < 8 || at + size > dataEnd) {
      throw new PerfDataError(`record at ${at} has size ${size} (cut or corrupt file)`);
    }
    const body = at + 8, end = at + size;
    switch (type) {
      case RECORD_SAMPLE:
        if (out.attrs.length === 0) throw new PerfDataError("sample before any attribute");
        out.samples.push(parseSample(r, body, end, out.attrs, idToAttr));
        break;
      case RECORD_LOST:
        out.lost += r.u64(body + 8, "lost count");
        break;
      case RECORD_LOST_SAMPLES:
        out.lostSamples += r.u64(body, "lost samples");
        break;
      case RECORD_HEADER_ATTR: { // pipe mode: attr then its ids
        const attrSize = r.u32(body + 4, "attr.size");
        if (attrSize < 64 || body + attrSize > end) {
          throw new PerfDataError(`HEADER_ATTR with attr size ${attrSize}`);
        }
        const attr = parseAttr(r, body, attrSize);
        for (let p = body + attrSize; p + 8 <= end; p += 8) attr.ids.push(r.u64(p, "attr id"));
        out.attrs.push(attr);
        index();
        break;
      }
      case RECORD_HEADER_FEATURE: { // pipe mode: u64 feature id, then the section's bytes
        if (Number(r.u64(body, "feature id")) === HEADER_EVENT_DESC) {
          applyEventDesc(r, body + 8, end, out.attrs);
          index();
        }
        break;
      }
      case RECORD_HEADER_TRACING_DATA: { // its data follows the record, outside header.size
        const extra = r.u32(body, "tracing data size");
        const aligned = Math.ceil(extra / 8) * 8;
        if (end + aligned > dataEnd) throw new PerfDataError("tracing data overruns the file");
        at = end + aligned;
        continue;
      }
      case RECORD_COMPRESSED:
        out.compressedRecords++;
        break;
    }
    at = end;
  }
  return out;
}

/** One `otlp_metrics` event read from a perf.data file. */
export interface PerfOtlpEvent {
  /** The CPU, when sampled. */
  cpu?: number;
  /** The writer's thread id, when sampled. */
  tid?: number;
  /** perf's timestamp (ns). */
  time?: bigint;
  /** The `protocol` field. */
  protocol: number;
  /** The `version` field. */
  version: string;
  /** The OTLP payload (a view into the file's bytes). */
  payload: Uint8Array;
}

/** What {@linkcode otlpMetricsFromPerfData} returns. */
export interface PerfOtlpResult {
  /** The events, in file order. */
  events: PerfOtlpEvent[];
  /** Samples of this event whose raw data is not an `otlp_metrics` record. */
  badRecords: number;
  /** Samples the kernel reported lost (`PERF_RECORD_LOST` + `LOST_SAMPLES`). */
  lost: bigint;
  /** The whole file as read. */
  data: PerfData;
}

/**
 * The `user_events:<event>` samples of a perf.data file as payloads. An attribute is picked by
 * its name when the file records names (perf does by default), else every tracepoint
 * attribute whose samples carry raw data is tried.
 *
 * @throws {PerfDataError} as {@linkcode readPerfData}, or when the file holds compressed
 * records and no event of that name could be read
 */
export function otlpMetricsFromPerfData(
  bytes: Uint8Array,
  options: { event?: string } = {},
): PerfOtlpResult {
  const data = readPerfData(bytes);
  const wanted = `user_events:${options.event ?? "otlp_metrics"}`;
  const named = data.attrs.some((a) => a.name !== undefined);
  const pick = data.attrs.map((a) => named ? a.name === wanted : a.type === 2);
  const events: PerfOtlpEvent[] = [];
  let badRecords = 0;
  for (const s of data.samples) {
    if (!pick[s.attr] || !s.raw) continue;
    try {
      const rec = parseOtlpMetricsRecord(s.raw);
      events.push({
        cpu: s.cpu,
        tid: s.tid,
        time: s.time,
        protocol: rec.protocol,
        version: rec.version,
        payload: rec.payload,
      });
    } catch {
      badRecords++;
    }
  }
  if (events.length === 0 && data.compressedRecords > 0) {
    throw new PerfDataError(
      `${data.compressedRecords} compressed records (perf record -z): record without -z, ` +
        `or decompress with "perf inject -i perf.data -o plain.data"`,
    );
  }
  return { events, badRecords, lost: data.lost + data.lostSamples, data };
}
