/**
 * The trace-text parser (`trace`, `trace_pipe`): the kernel's line layouts (with and without
 * the irq-info flags column and the tgid column, task names with dashes and spaces), other
 * events and headers ignored, cut and edited lines reported with their line numbers.
 */
import assert from "node:assert/strict";
import { parseTraceLine, parseTraceText, TraceTextError } from "../src/trace_text/mod.ts";
import { decodeMetricsPayload, flattenRequest } from "../src/decode.ts";
import { test } from "./harness.ts";
import { hex, traceLine, workloadPayloads } from "./fixtures/payloads.ts";

const FIELDS = "protocol=0x0 (0) version=v0.19.00 buffer=0a,00";

test("trace lines: the kernel's column layouts", () => {
  const layouts: [string, { task: string; tid: number; cpu: number; timestamp: string }][] = [
    [`            bun-4121    [001] .....   812.402136: otlp_metrics: ${FIELDS}`, {
      task: "bun",
      tid: 4121,
      cpu: 1,
      timestamp: "812.402136",
    }],
    [`           deno-77      [000] d..1. 12345.000001: otlp_metrics: ${FIELDS}`, {
      task: "deno",
      tid: 77,
      cpu: 0,
      timestamp: "12345.000001",
    }],
    [`  my-app-worker-9 [003]   1.5: otlp_metrics: ${FIELDS}`, {
      task: "my-app-worker",
      tid: 9,
      cpu: 3,
      timestamp: "1.5",
    }],
    [` Web Content-31  (   30) [002] .N... 99.000000: otlp_metrics: ${FIELDS}`, {
      task: "Web Content",
      tid: 31,
      cpu: 2,
      timestamp: "99.000000",
    }],
    [`          <...>-5       [001] ..... 7.000000: otlp_metrics: ${FIELDS}\r`, {
      task: "<...>",
      tid: 5,
      cpu: 1,
      timestamp: "7.000000",
    }],
  ];
  for (const [line, expected] of layouts) {
    const e = parseTraceLine(line)!;
    assert.deepEqual(
      { task: e.task, tid: e.tid, cpu: e.cpu, timestamp: e.timestamp },
      expected,
      line,
    );
    assert.deepEqual([...e.payload], [0x0a, 0x00]);
    assert.equal(e.protocol, 0);
    assert.equal(e.version, "v0.19.00");
  }
});

test("trace lines: not ours → undefined; ours but broken → TraceTextError", () => {
  for (
    const line of [
      "",
      "# tracer: nop",
      "#           TASK-PID     CPU#",
      "  bun-1 [000] ..... 1.0: sched_switch: prev_comm=bun",
      `  bun-1 [000] ..... 1.0: other_event: ${FIELDS}`,
    ]
  ) {
    assert.equal(parseTraceLine(line), undefined, line);
  }
  const broken = [
    `  bun-1 [000] ..... 1.0: otlp_metrics: protocol=0x0 (0) version=v0.19.00 buffer=0a,0`, // cut
    `  bun-1 [000] ..... 1.0: otlp_metrics: protocol=0x0 (0) version=v0.19.00 buffer=0a,zz`,
    `  bun-1 [000] ..... 1.0: otlp_metrics: protocol=0x0 (0) version=v0.19.00 buffer=0a;00`,
    `  bun-1 [000] ..... 1.0: otlp_metrics: protocol=0x0 (0) version=v0.19.00`,
    `  bun-1 [000] ..... xyz: otlp_metrics: ${FIELDS}`,
    `  bun [000] ..... 1.0: otlp_metrics: ${FIELDS}`,
    `  bun-1 ..... 1.0: otlp_metrics: ${FIELDS}`,
    // trace_pipe cuts long lines without a newline: the next event runs on in the same line.
    `  bun-1 [000] ..... 1.0: otlp_metrics: protocol=0x0 (0) version=v0.19.00 buffer=0a,1  bun-1 [000] ..... 1.1: otlp_metrics: ${FIELDS}`,
  ];
  for (const line of broken) assert.throws(() => parseTraceLine(line), TraceTextError, line);
});

test("trace lines: empty buffer, uppercase hex, another event name", () => {
  assert.equal(
    parseTraceLine(`  a-1 [000] . 1.0: otlp_metrics: protocol=0x0 (0) version=v0.19.00 buffer=`)!
      .payload.length,
    0,
  );
  assert.deepEqual([
    ...parseTraceLine(
      `  a-1 [000] . 1.0: otlp_metrics: protocol=0x0 (0) version=v0.19.00 buffer=0A,FF`,
    )!.payload,
  ], [10, 255]);
  const e = parseTraceLine(`  a-1 [000] . 1.0: my_metrics: ${FIELDS}`, { event: "my_metrics" })!;
  assert.equal(e.event, "my_metrics");
  assert.equal(parseTraceLine(`  a-1 [000] . 1.0: my_metrics: ${FIELDS}`), undefined);
});

test("a trace dump: every payload decodes to the workload; errors carry line numbers", async () => {
  const payloads = await workloadPayloads();
  const text = [
    "# tracer: nop",
    "#",
    ...payloads.map((p, i) => traceLine(p, 100 + i, i % 2)),
    "  bun-1 [000] ..... 1.0: otlp_metrics: protocol=0x0 (0) version=v0.19.00 buffer=0a,0",
    "",
  ].join("\n");
  const items = [...parseTraceText(text)];
  const events = items.filter((i) => !(i instanceof TraceTextError));
  const errors = items.filter((i) => i instanceof TraceTextError) as TraceTextError[];
  assert.equal(events.length, payloads.length);
  assert.equal(errors.length, 1);
  assert.equal(errors[0]!.line, payloads.length + 3);
  assert.match(errors[0]!.message, /^line \d+: buffer= is not a list/);
  for (let i = 0; i < payloads.length; i++) {
    const e = events[i] as { payload: Uint8Array; tid: number };
    assert.equal(hex(e.payload), hex(payloads[i]!));
    assert.equal(e.tid, 100 + i);
    assert.equal(flattenRequest(decodeMetricsPayload(e.payload)).length, 1);
  }
});

test("the parser is linear: a 2 MB hostile line takes well under a second", () => {
  const line = `  a-1 [000] . 1.0: otlp_metrics: protocol=0x0 (0) version=v0.19.00 buffer=` +
    "0a,".repeat(700_000) + "0";
  const start = performance.now();
  assert.throws(() => parseTraceLine(line), TraceTextError);
  const spaces = " ".repeat(1_000_000) + "-1 [0] 1.0: otlp_metrics: x";
  assert.throws(() => parseTraceLine(spaces), TraceTextError);
  assert.ok(performance.now() - start < 1000);
});
