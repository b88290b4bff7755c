/**
 * The inputs `decode` reads, each turned into OTLP payloads: hex, base64, raw binary, the
 * kernel's `trace`/`trace_pipe` text, perf-decode JSON and perf.data files.
 *
 * @module
 */
import { otlpMetricsFromPerfData, PerfDataError } from "../perf/mod.ts";
import { parseTraceText, TraceTextError } from "../trace_text/mod.ts";

/** The formats `decode --format` accepts. */
export const INPUT_FORMATS = [
  "hex",
  "base64",
  "binary",
  "trace",
  "perf-json",
  "perf-data",
] as const;
/** One of {@linkcode INPUT_FORMATS}. */
export type InputFormat = typeof INPUT_FORMATS[number];

/** Payloads found in one input, with what could not be read. */
export interface InputPayloads {
  format: InputFormat;
  /** The payloads, in input order, each with where it came from (`line 3`, `sample 12`). */
  payloads: { where: string; bytes: Uint8Array }[];
  /** Parts of the input that could not be read (each also means a non-zero exit status). */
  errors: string[];
  /** Facts worth a line on stderr that are not errors (lost samples, skipped events). */
  notes: string[];
}

/** Options of {@linkcode readPayloads}. */
export interface InputOptions {
  /** Event name for trace text, perf JSON and perf.data (default `otlp_metrics`). */
  event?: string;
  /** hex/base64: the whole input is one payload (wrapped over lines), not one per line. */
  single?: boolean;
}

const PERF_MAGIC = "PERFILE2";

/** Guesses the format of an input from its bytes. */
export function detectFormat(bytes: Uint8Array): InputFormat | undefined {
  if (bytes.length >= 8 && new TextDecoder().decode(bytes.subarray(0, 8)) === PERF_MAGIC) {
    return "perf-data";
  }
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if ((b < 0x20 && b !== 9 && b !== 10 && b !== 13) || b === 0x7f) return "binary";
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return "binary";
  }
  const trimmed = text.trimStart();
  if (trimmed.startsWith("{") || trimmed.startsWith("[")) return "perf-json";
  if (text.includes(" buffer=")) return "trace";
  if (/^[\s0-9a-fA-FxX,:-]*$/.test(text) && /[0-9a-fA-F]/.test(text)) return "hex";
  if (/^[\sA-Za-z0-9+/=_-]*$/.test(text) && text.trim().length > 0) return "base64";
  return undefined;
}

function hexToBytes(text: string): Uint8Array {
  const digits = text.split(/[\s,:-]+/).filter((t) => t.length > 0)
    .map((t) => t.startsWith("0x") || t.startsWith("0X") ? t.slice(2) : t).join("");
  if (!/^[0-9a-fA-F]*$/.test(digits)) throw new Error("not hex");
  if (digits.length % 2 !== 0) throw new Error(`odd number of hex digits (${digits.length})`);
  const out = new Uint8Array(digits.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(digits.slice(2 * i, 2 * i + 2), 16);
  return out;
}

function base64ToBytes(text: string): Uint8Array {
  const clean = text.replace(/\s+/g, "").replace(/-/g, "+").replace(/_/g, "/");
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(clean) || clean.replace(/=+$/, "").length % 4 === 1) {
    throw new Error("not base64");
  }
  const bin = atob(clean + "=".repeat((4 - (clean.length % 4)) % 4));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** Per line (or all at once with `single`), through `convert`. */
function lineFormat(
  format: InputFormat,
  text: string,
  single: boolean,
  convert: (t: string) => Uint8Array,
): InputPayloads {
  const result: InputPayloads = { format, payloads: [], errors: [], notes: [] };
  const lines = single ? [text] : text.split("\n");
  lines.forEach((line, i) => {
    if (line.trim() === "") return;
    const where = single ? "input" : `line ${i + 1}`;
    try {
      result.payloads.push({ where, bytes: convert(line) });
    } catch (error) {
      result.errors.push(`${where}: ${(error as Error).message}`);
    }
  });
  return result;
}

/** Objects with a numeric `buffer` array anywhere in a JSON value (iterative: no deep recursion). */
function perfJsonEvents(value: unknown, event: string, result: InputPayloads): void {
  const stack: unknown[] = [value];
  let index = 0;
  while (stack.length > 0) {
    const v = stack.pop();
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push(v[i]);
      continue;
    }
    if (v === null || typeof v !== "object") continue;
    const o = v as Record<string, unknown>;
    if (Array.isArray(o.buffer)) {
      index++;
      const name = typeof o.n === "string" ? o.n : undefined;
      if (name !== undefined && name !== event && !name.endsWith(`:${event}`)) {
        result.notes.push(`event ${index}: skipped "${name}" (not ${event})`);
        continue;
      }
      const bytes = o.buffer;
      if (!bytes.every((b) => Number.isInteger(b) && (b as number) >= 0 && (b as number) <= 255)) {
        result.errors.push(`event ${index}: "buffer" is not a list of bytes 0-255`);
        continue;
      }
      if (o.protocol !== undefined && o.protocol !== 0) {
        result.errors.push(`event ${index}: protocol ${String(o.protocol)} is not 0 (OTLP)`);
        continue;
      }
      result.payloads.push({ where: `event ${index}`, bytes: new Uint8Array(bytes as number[]) });
      continue;
    }
    const values = Object.values(o);
    for (let i = values.length - 1; i >= 0; i--) stack.push(values[i]);
  }
}

/** Reads the payloads of one input in `format` (detected when undefined). */
export function readPayloads(
  bytes: Uint8Array,
  format: InputFormat | undefined,
  options: InputOptions = {},
): InputPayloads {
  const event = options.event ?? "otlp_metrics";
  const fmt = format ?? detectFormat(bytes);
  if (fmt === undefined) {
    return {
      format: "binary",
      payloads: [],
      errors: [`cannot tell the input's format: give --format (${INPUT_FORMATS.join(", ")})`],
      notes: [],
    };
  }
  const text = () => new TextDecoder().decode(bytes);
  switch (fmt) {
    case "binary":
      return { format: fmt, payloads: [{ where: "input", bytes }], errors: [], notes: [] };
    case "hex":
      return lineFormat(fmt, text(), options.single ?? false, hexToBytes);
    case "base64":
      return lineFormat(fmt, text(), options.single ?? false, base64ToBytes);
    case "trace": {
      const result: InputPayloads = { format: fmt, payloads: [], errors: [], notes: [] };
      let lineNo = 0;
      for (const item of parseTraceText(text(), { event })) {
        lineNo++;
        if (item instanceof TraceTextError) result.errors.push(item.message);
        else {
          if (item.protocol !== 0) {
            result.errors.push(`event ${lineNo}: protocol ${item.protocol} is not 0 (OTLP)`);
          } else result.payloads.push({ where: `event ${lineNo}`, bytes: item.payload });
        }
      }
      return result;
    }
    case "perf-json": {
      const result: InputPayloads = { format: fmt, payloads: [], errors: [], notes: [] };
      const t = text();
      try {
        perfJsonEvents(JSON.parse(t), event, result);
      } catch (error) {
        if (!(error instanceof SyntaxError)) throw error;
        // JSON lines: one document per line.
        t.split("\n").forEach((line, i) => {
          if (line.trim() === "") return;
          try {
            perfJsonEvents(JSON.parse(line), event, result);
          } catch (e) {
            result.errors.push(`line ${i + 1}: ${(e as Error).message}`);
          }
        });
      }
      return result;
    }
    case "perf-data": {
      const result: InputPayloads = { format: fmt, payloads: [], errors: [], notes: [] };
      try {
        const perf = otlpMetricsFromPerfData(bytes, { event });
        perf.events.forEach((e, i) => {
          if (e.protocol !== 0) {
            result.errors.push(`sample ${i + 1}: protocol ${e.protocol} is not 0 (OTLP)`);
          } else result.payloads.push({ where: `sample ${i + 1}`, bytes: e.payload });
        });
        if (perf.badRecords > 0) {
          result.errors.push(`${perf.badRecords} samples are not otlp_metrics records`);
        }
        if (perf.lost > 0n) result.notes.push(`perf reports ${perf.lost} samples lost`);
        if (perf.events.length === 0) {
          const names = perf.data.attrs.map((a) => a.name ?? `type ${a.type}`).join(", ");
          result.notes.push(`no user_events:${event} samples (events in the file: ${names})`);
        }
      } catch (error) {
        if (!(error instanceof PerfDataError)) throw error;
        result.errors.push(error.message);
      }
      return result;
    }
  }
}
