/**
 * Property tests (fast-check): random and mutated bytes into every decoder shipped — the OTLP
 * payload decoder and flattener, parseUserEventsWrite, parseOtlpMetricsRecord,
 * parseRingBufferPage, the trace-text parser, the perf.data reader, and `decode`'s input
 * readers — give a result or the documented error, never another exception, a hang, or a read
 * past the input. "Past the input" is checked differentially: each input is embedded in a
 * larger buffer between canary bytes, once with 0x00 and once with 0xff around it; any read
 * beyond the input's view would make the two results differ. Bounded: a fixed number of runs
 * per property (FUZZ_RUNS, default 300) and a per-call time limit. On failure fast-check prints
 * the seed and path; rerun with FUZZ_SEED=<seed>.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { decodeMetricsPayload, flattenRequest } from "../src/decode.ts";
import { parseOtlpMetricsRecord, parseUserEventsWrite } from "../src/sinks/user_events/records.ts";
import { type CapturedEvent, parseRingBufferPage } from "../src/listener/ring_buffer.ts";
import { parseTraceLine, parseTraceText, TraceTextError } from "../src/trace_text/mod.ts";
import { otlpMetricsFromPerfData, PerfDataError } from "../src/perf/mod.ts";
import { readPayloads } from "../src/cli/inputs.ts";
import { pointToJson, toJsonText } from "../src/cli/output.ts";
import { env, test } from "./harness.ts";
import { hex } from "./hex.ts";
import { buildPerfData, otlpRecord } from "./fixtures/perf_data_builder.ts";
import { traceLine, workloadPayloads } from "./fixtures/payloads.ts";

const RUNS = Number(env("FUZZ_RUNS") ?? 300);
const SEED = env("FUZZ_SEED") === undefined ? undefined : Number(env("FUZZ_SEED"));
const params = { numRuns: RUNS, seed: SEED, endOnFailure: true };
const TIME_LIMIT_MS = 2000;

/** `bytes` as a view in the middle of a larger buffer filled with `canary`. */
function embedded(bytes: Uint8Array, canary: number): Uint8Array {
  const buffer = new Uint8Array(bytes.length + 128).fill(canary);
  buffer.set(bytes, 64);
  return buffer.subarray(64, 64 + bytes.length);
}

/**
 * Runs `decode` on the input embedded twice (canaries 0x00 and 0xff); returns the outcome as
 * text. `allowed` lists the documented error classes; anything else fails the property.
 */
function outcome(
  bytes: Uint8Array,
  decode: (b: Uint8Array) => unknown,
  allowed: (new (...a: never[]) => Error)[],
): string {
  const results = [0x00, 0xff].map((canary) => {
    const start = performance.now();
    let text: string;
    try {
      text = "ok " + toJsonText(decode(embedded(bytes, canary)));
    } catch (error) {
      if (!allowed.some((c) => error instanceof c)) throw error;
      text = `${(error as Error).name}: ${(error as Error).message}`;
    }
    const ms = performance.now() - start;
    assert.ok(ms < TIME_LIMIT_MS, `took ${ms} ms on ${bytes.length} bytes`);
    return text;
  });
  assert.equal(results[0], results[1], "the result depends on bytes outside the input");
  return results[0]!;
}

/** Valid inputs and mutations of them: flipped bytes, truncation, insertions. */
function mutated(valid: Uint8Array[]): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    fc.uint8Array({ maxLength: 600 }),
    fc.tuple(
      fc.constantFrom(...valid),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
      fc.option(fc.nat()),
      fc.option(fc.tuple(fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 16 }))),
    ).map(([base, flips, cut, insert]) => {
      let b = base.slice();
      for (const [at, value] of flips) if (b.length > 0) b[at % b.length] = value;
      if (insert !== null && b.length > 0) {
        const at = insert[0] % b.length;
        b = new Uint8Array([...b.subarray(0, at), ...insert[1], ...b.subarray(at)]);
      }
      if (cut !== null && b.length > 0) b = b.slice(0, cut % (b.length + 1));
      return b;
    }),
  );
}

const payloads = await workloadPayloads();

/** Decodes and flattens: the path `decode`/`listen` take for every payload. */
function decodeAll(b: Uint8Array): unknown {
  return flattenRequest(decodeMetricsPayload(b)).map(pointToJson);
}

test("fuzz: OTLP payload decoder and flattener", () => {
  fc.assert(
    fc.property(mutated(payloads), (b) => {
      outcome(b, decodeAll, [Error]); // protobuf-es throws Error subclasses on bad wire data
    }),
    params,
  );
});

test("fuzz: parseUserEventsWrite and parseOtlpMetricsRecord", () => {
  const writes = payloads.map((p) => {
    const w = new Uint8Array(20 + p.length);
    const v = new DataView(w.buffer);
    v.setUint32(16, (p.length << 16) >>> 0, true);
    w.set(p, 20);
    return w;
  });
  const records = payloads.map((p) => otlpRecord(p, 7));
  fc.assert(
    fc.property(mutated(writes), mutated(records), (w, r) => {
      outcome(w, (b) => {
        const x = parseUserEventsWrite(b);
        assert.ok(x.payload.byteOffset >= b.byteOffset);
        assert.ok(x.payload.byteOffset + x.payload.length <= b.byteOffset + b.length);
        return x;
      }, [RangeError]);
      outcome(r, (b) => {
        const x = parseOtlpMetricsRecord(b);
        assert.ok(x.payload.byteOffset + x.payload.length <= b.byteOffset + b.length);
        return x;
      }, [RangeError]);
    }),
    params,
  );
});

/** A ring-buffer page holding `records` (type_len 0 events), as trace_pipe_raw delivers. */
function ringPage(records: Uint8Array[]): Uint8Array {
  const page = new Uint8Array(4096);
  const v = new DataView(page.buffer);
  v.setBigUint64(0, 1000n, true);
  let at = 16;
  for (const r of records) {
    if (at + 8 + r.length > 4096) break;
    v.setUint32(at, 5 << 5, true); // type_len 0, delta 5
    v.setUint32(at + 4, r.length + 4, true);
    page.set(r, at + 8);
    at += 8 + r.length;
  }
  v.setUint32(8, at - 16, true);
  return page;
}

test("fuzz: parseRingBufferPage", () => {
  const pages = [
    ringPage(payloads.slice(0, 3).map((p) => otlpRecord(p, 7))),
    ringPage([otlpRecord(payloads[5]!, 7)]),
  ];
  // The valid pages parse to their records first.
  const out: CapturedEvent[] = [];
  parseRingBufferPage(pages[0]!, 0, 7, out);
  assert.equal(out.length, 3);
  fc.assert(
    fc.property(mutated(pages), (page) => {
      outcome(page, (b) => {
        const events: CapturedEvent[] = [];
        const lost = parseRingBufferPage(b, 0, 7, events);
        return { lost, events };
      }, [RangeError]);
    }),
    params,
  );
});

test("fuzz: trace-text parser (random text and mutated kernel lines)", () => {
  const lines = payloads.slice(0, 4).map((p) => traceLine(p));
  const text = fc.oneof(
    fc.string({ maxLength: 300 }),
    fc.string({ unit: "grapheme", maxLength: 100 }),
    fc.tuple(fc.constantFrom(...lines), fc.nat(), fc.nat(), fc.string({ maxLength: 12 })).map(
      ([line, at, cut, junk]) =>
        (line.slice(0, at % line.length) + junk + line.slice(at % line.length)).slice(
          0,
          line.length + 12 - (cut % 40),
        ),
    ),
  );
  fc.assert(
    fc.property(fc.array(text, { maxLength: 5 }), (parts) => {
      const input = parts.join("\n");
      const start = performance.now();
      for (const line of parts) {
        try {
          const e = parseTraceLine(line);
          if (e) assert.ok(e.payload instanceof Uint8Array);
        } catch (error) {
          if (!(error instanceof TraceTextError)) throw error;
        }
      }
      for (const item of parseTraceText(input)) {
        if (item instanceof TraceTextError) assert.ok(item.line! >= 1);
      }
      assert.ok(performance.now() - start < TIME_LIMIT_MS);
    }),
    params,
  );
});

test("fuzz: perf.data reader (file and pipe layouts)", () => {
  const samples = payloads.slice(0, 3).map((p) => ({ raw: otlpRecord(p, 1500), id: 1n }));
  const attrs = [{ type: 2, config: 1500, name: "user_events:otlp_metrics", ids: [1n] }];
  const files = [
    buildPerfData({ attrs, samples }),
    buildPerfData({ attrs, samples, pipe: true }),
  ];
  fc.assert(
    fc.property(mutated(files), (file) => {
      outcome(file, (b) => {
        const r = otlpMetricsFromPerfData(b);
        for (const e of r.events) {
          assert.ok(e.payload.byteOffset + e.payload.length <= b.byteOffset + b.length);
        }
        return r.events;
      }, [PerfDataError]);
    }),
    params,
  );
});

test("fuzz: decode's input readers never throw (errors are collected)", () => {
  const hexText = new TextEncoder().encode(
    payloads.slice(0, 2).map((p) => hex(p)).join("\n"),
  );
  const json = new TextEncoder().encode(
    JSON.stringify([{ n: "user_events:otlp_metrics", buffer: [...payloads[0]!] }]),
  );
  const trace = new TextEncoder().encode(traceLine(payloads[1]!));
  fc.assert(
    fc.property(mutated([hexText, json, trace]), (b) => {
      outcome(b, (x) => {
        const r = readPayloads(x, undefined);
        for (const p of r.payloads) {
          try {
            decodeAll(p.bytes);
          } catch { /* undecodable payloads are reported by the command */ }
        }
        return { n: r.payloads.length, e: r.errors.length };
      }, []);
    }),
    params,
  );
});

test("fuzz: a deeply nested JSON input is read without overflowing the stack", () => {
  const deep = "[".repeat(100_000) + "]".repeat(100_000);
  const r = readPayloads(new TextEncoder().encode(deep), "perf-json");
  assert.equal(r.payloads.length, 0);
});
