/**
 * The command line against the real kernel (QEMU tier, root, under `deno test` and `bun test`):
 * the example exporter → `listen` shows every point (as many as the exporter's
 * stats.eventsWritten); the kernel's `trace` text and Debian's `perf record` capture the same
 * events at the same time, and `decode` of each prints exactly `listen`'s JSON; `forward`
 * delivers every point to @elastic/mockotlpserver, and to a fault-injecting receiver across a
 * restart; `status` inside the VM. Outputs are copied to $OTEL_NATIVE_VM_OUT/cli/ (README).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import dc from "node:diagnostics_channel";
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { readSmallFile } from "../../ffi/mod.ts";
import { deleteEvent, eventExists } from "../../src/cli/tracefs.ts";
import { runtimeName, testUnless } from "../harness.ts";
import { cliCommand, runCli } from "../fixtures/cli_run.ts";
import { FaultReceiver } from "../fixtures/fault_receiver.ts";
import { Child } from "./helpers/child.ts";
import { decodeMetricsPayload, flattenRequest } from "../../src/decode.ts";
import { MetricsBatcher } from "../../src/forward/batcher.ts";

const TRACING = "/sys/kernel/tracing";
const NO_KERNEL = readSmallFile(`${TRACING}/user_events_status`).text === undefined
  ? "needs a kernel with user_events, as root: runs in the QEMU tier (tests/kernel/run.sh)"
  : undefined;
const test = (name: string, fn: () => void | Promise<void>) => testUnless(NO_KERNEL, name, fn);
const proc = (globalThis as unknown as {
  process: { env: Record<string, string | undefined>; execPath: string };
}).process;
const OUT = `${proc.env.OTEL_NATIVE_VM_OUT ?? "/run/out"}/cli/${runtimeName}-${
  spawnSync("uname", ["-r"], { encoding: "utf8" }).stdout.trim()
}`;
// Held for the whole file: Bun collects diagnostics channels nobody references, and with them
// @elastic/mockotlpserver's subscription to received metrics.
const metricsChannel = dc.channel("otlp.v1.metrics");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function cli(args: string[]): Child {
  const [cmd, ...pre] = cliCommand();
  return new Child(cmd!, [...pre, ...args]);
}

/** Runs examples/basic.ts for `seconds` under this runtime; returns its stats. */
async function runExporter(seconds: number): Promise<{ eventsWritten: number }> {
  const args = runtimeName === "deno"
    ? ["run", "--allow-ffi", "--allow-env", "--no-lock", "examples/basic.ts", String(seconds)]
    : ["examples/basic.ts", String(seconds)];
  const c = new Child(proc.execPath, args);
  const code = await c.exit;
  assert.equal(code, 0, c.stderr);
  return JSON.parse(c.stdout.trim().split("\n").at(-1)!);
}

const sorted = (text: string) => text.trim().split("\n").filter((l) => l).sort();

function save(name: string, text: string): void {
  mkdirSync(OUT, { recursive: true });
  writeFileSync(`${OUT}/${name}`, text);
}

/** Removes otlp_metrics if it exists and nobody uses it, so `listen` has to create it. */
function removeEvent(): void {
  if (eventExists(TRACING, "otlp_metrics")) deleteEvent(TRACING, "otlp_metrics");
}

const perfMissing = spawnSync("perf", ["--version"]).status === 0
  ? undefined
  : "perf is not installed on the host (tests/kernel/ensure-perf.sh installs linux-perf)";

test("status inside the VM: user_events present, root may write and listen", () => {
  const r = runCli(["status"]);
  save("status.txt", r.stdout);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /ok\s+user_events\s+\/sys\/kernel\/tracing\/user_events_data present/);
  assert.match(r.stdout, /ok\s+may write/);
  assert.match(r.stdout, /ok\s+may listen/);
  assert.match(r.stdout, /no problem found/);
});

testUnless(
  NO_KERNEL ?? perfMissing,
  "exporter → listen shows every point; decode(trace) and decode(perf.data) print the same",
  async () => {
    removeEvent();
    const created = !eventExists(TRACING, "otlp_metrics");
    const listen = cli(["listen"]);
    await listen.waitFor(/listening to user_events:otlp_metrics/, "listen");
    if (created) assert.match(listen.stderr, /created user_events:otlp_metrics/);
    // perf on the same event, into the guest's tmpfs (perf cannot mmap a file on 9p).
    const perfData = "/run/cli-perf.data";
    const perf = new Child("perf", [
      "record",
      "-q",
      "-e",
      "user_events:otlp_metrics",
      "-a",
      "-o",
      perfData,
    ]);
    const status = () => readSmallFile(`${TRACING}/user_events_status`).text ?? "";
    const end = Date.now() + 60_000;
    while (!/otlp_metrics.*perf/.test(status())) {
      if (Date.now() > end) throw new Error(`perf did not attach: ${perf.stderr}`);
      await sleep(50);
    }
    // Clear the top-level buffer as a shell does (open with O_TRUNC). Bun's writeFileSync does
    // not clear it (it does not truncate at open), so earlier runs' events would remain.
    assert.equal(spawnSync("sh", ["-c", `echo > ${TRACING}/trace`]).status, 0);
    writeFileSync(`${TRACING}/events/user_events/otlp_metrics/enable`, "1");
    let stats;
    try {
      stats = await runExporter(2);
    } finally {
      await sleep(500);
      writeFileSync(`${TRACING}/events/user_events/otlp_metrics/enable`, "0");
    }
    const trace = readFileSync(`${TRACING}/trace`, "utf8");
    // perf record re-raises SIGINT on itself once it has written the file: a signal exit.
    const perfCode = await perf.stop("SIGINT");
    assert.ok(perfCode === 0 || perfCode === -1, `perf exited with ${perfCode}: ${perf.stderr}`);
    await sleep(200);
    const listenCode = await listen.stop("SIGINT");
    assert.equal(listenCode, 0, listen.stderr);
    assert.ok(stats.eventsWritten > 0);
    const points = sorted(listen.stdout);
    assert.equal(points.length, stats.eventsWritten, listen.stderr);
    assert.match(listen.stderr, new RegExp(`listen: ${stats.eventsWritten} events`));
    assert.match(listen.stderr, /0 lost in the ring buffer/);
    if (created) assert.match(listen.stderr, /removed user_events:otlp_metrics/);
    save("listen.jsonl", listen.stdout);
    save("listen.stderr", listen.stderr);
    save("trace.txt", trace);
    copyFileSync(perfData, `${OUT}/perf.data`);

    const fromTrace = runCli(["decode", `${OUT}/trace.txt`]);
    assert.equal(fromTrace.status, 0, fromTrace.stderr);
    assert.deepEqual(sorted(fromTrace.stdout), points, "trace text decodes to listen's JSON");
    const fromPerf = runCli(["decode", perfData]);
    assert.equal(fromPerf.status, 0, fromPerf.stderr);
    assert.deepEqual(sorted(fromPerf.stdout), points, "perf.data decodes to listen's JSON");
    save("decode-perf.jsonl", fromPerf.stdout);
    save("decode-trace-pretty.txt", runCli(["decode", "--pretty", `${OUT}/trace.txt`]).stdout);
  },
);

test("listen --count stops by itself; --metric and --attr filter; --pretty", async () => {
  const listen = cli([
    "listen",
    "--count",
    "3",
    "--metric",
    "counter_*",
    "--attr",
    "mykey1=myvalue1",
  ]);
  await listen.waitFor(/listening to/, "listen");
  const pretty = cli(["listen", "--pretty"]); // stopped below, once the exporter is done
  await pretty.waitFor(/listening to/, "listen --pretty");
  await runExporter(2);
  const code = await listen.exit;
  assert.equal(code, 0, listen.stderr);
  const lines = listen.stdout.trim().split("\n").map((l) => JSON.parse(l));
  assert.equal(lines.length, 3);
  for (const l of lines) {
    assert.match(l.metric, /^counter_/);
    assert.equal(l.attributes.mykey1, "myvalue1");
  }
  assert.match(listen.stderr, /stopped: count/);
  await sleep(500);
  assert.equal(await pretty.stop("SIGINT"), 0, pretty.stderr);
  assert.match(pretty.stdout.split("\n")[0]!, /^TIME\s+METRIC\s+KIND\s+VALUE\s+ATTRIBUTES$/);
  assert.match(pretty.stdout, /counter_u64_test\s+sum\s+\d+\s+mykey1="myvalue1"/);
  save("listen-pretty.txt", pretty.stdout);
});

test("--event NAME: listen and status follow an exporter with another eventName", async () => {
  const event = "cli_test_metrics";
  // An earlier run may have left it (listen cannot delete an event still registered).
  if (eventExists(TRACING, event)) deleteEvent(TRACING, event);
  const created = !eventExists(TRACING, event);
  const listen = cli(["listen", "--event", event, "--count", "50"]);
  await listen.waitFor(/listening to user_events:cli_test_metrics/, "listen --event");
  const args = runtimeName === "deno"
    ? ["run", "-A", "--no-lock", "tests/kernel/fixtures/rate_producer.ts", "500", "1", event]
    : ["tests/kernel/fixtures/rate_producer.ts", "500", "1", event];
  // status while listen is attached and waiting: it cannot have stopped yet (it needs the
  // producer's events), so "enabled in" is deterministic.
  const status = runCli(["status", "--event", event]);
  const producer = new Child(proc.execPath, args);
  assert.equal(await producer.exit, 0, producer.stderr);
  assert.equal(await listen.exit, 0, listen.stderr);
  const lines = listen.stdout.trim().split("\n").map((l) => JSON.parse(l));
  assert.equal(lines.length, 50);
  assert.ok(lines.every((l) => l.metric === "rate_test"));
  if (created) {
    assert.match(listen.stderr, /created user_events:cli_test_metrics \(u:cli_test_metrics u32/);
  }
  assert.match(status.stdout, /definition\s+cli_test_metrics: u32 protocol; char\[8\] version/);
  assert.match(status.stdout, /listeners\s+enabled in: instance otel_native_/);
  deleteEvent(TRACING, event); // leave nothing behind (the producer has exited)
});

/** Point identities (metric, attributes, time, value) of requests, for exactly-once checks. */
function identities(requests: Uint8Array[]): Set<string> {
  return new Set(
    requests.flatMap((p) =>
      flattenRequest(decodeMetricsPayload(p)).map((f) =>
        JSON.stringify(
          [f.metric.name, f.attributes, f.timeUnixNano, f.value],
          (_k, v) => typeof v === "bigint" ? String(v) : v,
        )
      )
    ),
  );
}

test("exporter → forward → @elastic/mockotlpserver receives every point", async () => {
  const { MockOtlpServer } = await import("@elastic/mockotlpserver");
  let points = 0;
  const server = new MockOtlpServer({
    services: ["http"],
    httpHostname: "127.0.0.1",
    httpPort: 0,
    logLevel: "warn",
    onMetrics(
      m: { resourceMetrics: { scopeMetrics: { metrics: Record<string, unknown>[] }[] }[] },
    ) {
      for (const rm of m.resourceMetrics) {
        for (const sm of rm.scopeMetrics) {
          for (const x of sm.metrics) {
            const d = (x.sum ?? x.gauge ?? x.histogram ?? x.exponentialHistogram) as {
              dataPoints: unknown[];
            };
            points += d.dataPoints.length;
          }
        }
      }
    },
  });
  await server.start();
  try {
    const forward = cli([
      "forward",
      "--endpoint",
      String(server.httpUrl),
      "--max-delay",
      "200",
      "--stats-interval",
      "1",
    ]);
    await forward.waitFor(/listening to/, "forward");
    const stats = await runExporter(2);
    const end = Date.now() + 60_000;
    while (points < stats.eventsWritten && Date.now() < end) await sleep(100);
    assert.equal(await forward.stop("SIGTERM"), 0, forward.stderr);
    save("forward-mock.stderr", forward.stderr);
    assert.equal(points, stats.eventsWritten, forward.stderr);
    assert.match(
      forward.stderr,
      new RegExp(`received ${stats.eventsWritten}, sent ${stats.eventsWritten} `),
    );
  } finally {
    await server.close();
    assert.ok(metricsChannel.hasSubscribers !== undefined);
  }
});

test("exporter → forward → fault receiver: 503, 429, reset and a restart lose nothing", async () => {
  const receiver = new FaultReceiver([{ status: 503 }, { status: 429, retryAfter: "1" }, "reset"]);
  const url = await receiver.start();
  try {
    const forward = cli(["forward", "--endpoint", url, "--max-delay", "100", "--gzip"]);
    await forward.waitFor(/listening to/, "forward");
    const exporter = runExporter(4);
    await sleep(2500);
    await receiver.stop(); // down for a while: connection refused, retried with backoff
    await sleep(2000);
    await receiver.start();
    const stats = await exporter;
    const end = Date.now() + 60_000;
    const got = () =>
      identities(
        receiver.received.filter((r) => r.request).map((r) =>
          MetricsBatcher.encode({ request: r.request!, points: 0 })
        ),
      ).size;
    while (got() < stats.eventsWritten && Date.now() < end) await sleep(100);
    assert.equal(await forward.stop("SIGTERM"), 0, forward.stderr);
    save("forward-faults.stderr", forward.stderr);
    assert.equal(got(), stats.eventsWritten, forward.stderr);
    const last = forward.stderr.trim().split("\n").at(-1)!;
    assert.match(last, /queue-full 0, rejected 0, retries-exhausted 0, shutdown 0/);
    assert.match(last, /retried [1-9]\d*,/);
  } finally {
    await receiver.stop();
  }
});
