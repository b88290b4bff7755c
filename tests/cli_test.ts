/**
 * The command line as a user runs it (`deno run -A cli.ts`, `bun cli.ts`): `decode` prints the
 * same JSON for every input format, the documented fields and 64-bit conventions, filters,
 * `--pretty`, exit statuses, `--help` for each command, and `status` on this machine.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { decodeMetricsPayload, flattenRequest } from "../src/decode.ts";
import { pointToJson, toJsonText } from "../src/cli/output.ts";
import { env, test, testUnless } from "./harness.ts";
import { cliCommand, runCli } from "./fixtures/cli_run.ts";
import { buildPerfData, otlpRecord } from "./fixtures/perf_data_builder.ts";
import { hex, hexJoined, traceLine, workloadPayloads } from "./fixtures/payloads.ts";

function tmp(): string {
  return mkdtempSync(`${env("TMPDIR") ?? "/tmp"}/cli-test-`);
}

async function inputs(dir: string) {
  const payloads = await workloadPayloads();
  const files: Record<string, string> = {
    hex: payloads.map((p) => hex(p)).join("\n") + "\n",
    "hex-spaced": payloads.map((p) => "0x" + hexJoined(p, " 0x")).join("\n"),
    "hex-etw": payloads.map((p) => hexJoined(p, "-").toUpperCase()).join("\r\n"),
    base64: payloads.map((p) => btoa(String.fromCharCode(...p))).join("\n"),
    trace: "# tracer: nop\n#\n" + payloads.map((p, i) => traceLine(p, 40 + i)).join("\n") + "\n",
    "perf-json": JSON.stringify({
      "./perf.data": payloads.map((p) => ({
        n: "user_events:otlp_metrics",
        protocol: 0,
        version: "v0.19.00",
        buffer: [...p],
      })),
    }),
    "perf-jsonl": payloads.map((p) =>
      JSON.stringify({ n: "user_events:otlp_metrics", protocol: 0, buffer: [...p] })
    ).join("\n"),
  };
  for (const [name, text] of Object.entries(files)) writeFileSync(`${dir}/${name}`, text);
  writeFileSync(
    `${dir}/perf.data`,
    buildPerfData({
      attrs: [{ type: 2, config: 1500, name: "user_events:otlp_metrics", ids: [1n] }],
      samples: payloads.map((p) => ({ raw: otlpRecord(p, 1500), id: 1n })),
    }),
  );
  payloads.forEach((p, i) => writeFileSync(`${dir}/payload${i}.bin`, p));
  const expected =
    payloads.flatMap((p) =>
      flattenRequest(decodeMetricsPayload(p)).map((f) => toJsonText(pointToJson(f)))
    ).join("\n") + "\n";
  return { payloads, expected, names: [...Object.keys(files), "perf.data"] };
}

test("decode: every format, detected and given, prints the same JSON lines", async () => {
  const dir = tmp();
  try {
    const { payloads, expected, names } = await inputs(dir);
    for (const name of names) {
      const r = runCli(["decode", `${dir}/${name}`]);
      assert.equal(r.stderr, "", name);
      assert.equal(r.status, 0, name);
      assert.ok(r.stdout === expected, `detected: ${name}: ${r.stdout.slice(0, 300)}`);
    }
    const formats: Record<string, string> = {
      hex: "hex",
      base64: "base64",
      trace: "trace",
      "perf-json": "perf-json",
      "perf.data": "perf-data",
    };
    for (const [name, format] of Object.entries(formats)) {
      assert.equal(runCli(["decode", "--format", format, `${dir}/${name}`]).stdout, expected);
    }
    // Binary: one payload per file, several files, and stdin.
    const bins = payloads.map((_, i) => `${dir}/payload${i}.bin`);
    assert.equal(runCli(["decode", ...bins]).stdout, expected);
    const viaStdin = runCli(["decode", "--format", "binary"], payloads[0]!);
    assert.equal(viaStdin.stdout, expected.split("\n")[0] + "\n");
    assert.equal(
      runCli(["decode", "-"], `${hex(payloads[1]!)}\n`).stdout,
      expected.split("\n")[1] + "\n",
    );
    // A hex payload wrapped over lines, as one.
    const wrapped = hex(payloads[2]!).replace(/(.{32})/g, "$1\n");
    assert.equal(
      runCli(["decode", "--one", "--format", "hex"], wrapped).stdout,
      expected.split("\n")[2] + "\n",
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("decode: documented fields, 64-bit integers as strings, doubles as numbers", async () => {
  const payloads = await workloadPayloads();
  const lines = runCli(["decode", "--format", "hex"], payloads.map((p) => hex(p)).join("\n"))
    .stdout.trim().split("\n").map((l) => JSON.parse(l));
  const keys = [
    "metric",
    "kind",
    "unit",
    "description",
    "temporality",
    "monotonic",
    "value",
    "attributes",
    "startTimeUnixNano",
    "timeUnixNano",
    "resource",
    "scope",
  ];
  for (const l of lines) {
    assert.deepEqual(Object.keys(l), keys.filter((k) => k in l));
    assert.match(l.timeUnixNano, /^\d{19}$/);
    assert.ok(["sum", "gauge", "histogram", "exponentialHistogram"].includes(l.kind));
  }
  const intSum = lines.find((l) => l.metric === "requests.bytes");
  assert.equal(typeof intSum.value, "string");
  assert.equal(intSum.temporality, "delta");
  assert.equal(intSum.monotonic, true);
  const hist = lines.find((l) => l.kind === "histogram");
  assert.equal(typeof hist.value.count, "string");
  assert.ok(hist.value.bucketCounts.every((c: unknown) => typeof c === "string"));
  const typed = lines.find((l) => l.attributes.bytes !== undefined);
  assert.equal(typed.attributes.bytes, "AAH+/w==");
  assert.equal(typed.attributes.int, "42");
  assert.equal(typed.attributes.double, 3.25);
  assert.equal(typed.attributes.empty, null);
});

test("decode: --metric globs, --attr, --pretty", async () => {
  const payloads = await workloadPayloads();
  const input = payloads.map((p) => hex(p)).join("\n");
  const all = runCli(["decode"], input).stdout.trim().split("\n").map((l) => JSON.parse(l));
  const byGlob = runCli(["decode", "--metric", "lat*", "--metric", "inflight"], input).stdout
    .trim().split("\n").map((l) => JSON.parse(l));
  assert.deepEqual(
    byGlob.map((l) => l.metric),
    all.map((l) => l.metric).filter((m) => m.startsWith("lat") || m === "inflight"),
  );
  assert.ok(byGlob.length >= 3);
  const byAttr = runCli(["decode", "--attr", "pool=p2"], input).stdout.trim().split("\n");
  assert.equal(byAttr.length, 1);
  assert.equal(JSON.parse(byAttr[0]!).attributes.pool, "p2");
  assert.equal(runCli(["decode", "--attr", "pool=nope"], input).stdout, "");
  const table = runCli(["decode", "--pretty", "--metric", "inflight"], input).stdout.split("\n");
  assert.match(table[0]!, /^TIME\s+METRIC\s+KIND\s+VALUE\s+ATTRIBUTES$/);
  assert.match(table[1]!, /^\d{4}-\d\d-\d\dT.*Z\s+inflight\s+sum\s+5\s+pool="p1"$/);
  assert.equal(table[1]!.indexOf("sum"), table[0]!.indexOf("KIND"), "aligned");
});

test("decode: exit statuses and messages for bad input", async () => {
  const payloads = await workloadPayloads();
  const good = hex(payloads[0]!);
  const bad = runCli(["decode", "--format", "hex"], `${good}\nzz\n0a0\n${"ff".repeat(9)}\n`);
  assert.equal(bad.status, 3);
  assert.equal(bad.stdout.trim().split("\n").length, 1, "the good line still printed");
  assert.match(bad.stderr, /line 2: not hex/);
  assert.match(bad.stderr, /line 3: odd number of hex digits/);
  assert.match(bad.stderr, /line 4: not an OTLP ExportMetricsServiceRequest \(9 bytes\)/);
  const missing = runCli(["decode", "/nonexistent/file"]);
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /cannot read \/nonexistent\/file/);
  const usage = runCli(["decode", "--format", "xml"]);
  assert.equal(usage.status, 2);
  assert.match(usage.stderr, /--format must be one of hex, base64/);
  assert.equal(runCli(["decode", "--bogus"]).status, 2);
  assert.equal(runCli(["frobnicate"]).status, 2);
  assert.equal(runCli([]).status, 2);
  const corrupt = runCli(["decode"], new TextEncoder().encode("PERFILE2\x10\0\0\0\0\0\0\0\x01\0"));
  assert.equal(corrupt.status, 3);
  assert.match(corrupt.stderr, /perf-data.*record header cut/);
});

test("--help for every command, with options and exit statuses", () => {
  const top = runCli(["--help"]);
  assert.equal(top.status, 0);
  for (const c of ["status", "listen", "decode", "forward"]) {
    assert.match(top.stdout, new RegExp(`  ${c} `));
  }
  const expectations: Record<string, RegExp[]> = {
    status: [/--event NAME/, /--json/],
    listen: [
      /--metric GLOB/,
      /--attr KEY=VALUE/,
      /--count N/,
      /--duration S/,
      /--pretty/,
      /--event NAME/,
    ],
    decode: [/--format FORMAT/, /perf-data/, /trace/],
    forward: [
      /--endpoint URL/,
      /--header KEY=VALUE/,
      /--gzip/,
      /--queue N/,
      /Retry-After/,
      /--event NAME/,
    ],
  };
  for (const [c, res] of Object.entries(expectations)) {
    const r = runCli([c, "--help"]);
    assert.equal(r.status, 0, c);
    assert.match(r.stdout, /Exit status:/, c);
    for (const re of res) assert.match(r.stdout, re, `${c}: ${re}`);
  }
});

const inVm = env("OTEL_NATIVE_IN_VM") === "1";

test("status on this machine", () => {
  const r = runCli(["status"]);
  const json = JSON.parse(runCli(["status", "--json"]).stdout) as {
    problems: number;
    checks: { level: string; what: string; detail: string; fix?: string }[];
  };
  const check = (what: string) => json.checks.find((c) => c.what === what);
  // What the machine has, found independently by the shell (Deno needs -A for /sys itself).
  const exists = (path: string) => spawnSync("test", ["-e", path]).status === 0;
  const tracefs = exists("/sys/kernel/tracing/trace");
  const hasUserEvents = exists("/sys/kernel/tracing/user_events_data");
  console.log(`status: tracefs ${tracefs}, user_events ${hasUserEvents}`);
  assert.equal(check("runtime")?.level, "ok");
  assert.match(r.stdout, /runtime\s+(bun|deno) \d/);
  assert.match(r.stdout, /kernel\s+Linux \d/);
  if (!tracefs) {
    assert.equal(check("tracefs")?.level, "problem");
    assert.match(check("tracefs")!.fix!, /mount -t tracefs/);
    assert.equal(r.status, 1);
  } else if (!hasUserEvents) {
    assert.equal(check("tracefs")?.detail, "mounted at /sys/kernel/tracing");
    assert.equal(check("user_events")?.level, "problem");
    assert.match(check("user_events")!.fix!, /CONFIG_USER_EVENTS=y/);
    assert.equal(r.status, 1);
    assert.match(r.stdout, /FAIL\s+user_events/);
    assert.match(r.stdout, /fix: use a kernel built with CONFIG_USER_EVENTS=y/);
    for (const args of [["listen"], ["forward", "--endpoint", "http://127.0.0.1:9"]]) {
      const l = runCli([...args, "--duration", "1"]);
      assert.equal(l.status, 1, l.stderr);
      assert.match(l.stderr, /has no user_events_data: this kernel has no user_events/);
    }
  } else {
    assert.equal(check("user_events")?.level, "ok");
    assert.ok(check("may write"), JSON.stringify(json));
    if (inVm) {
      assert.equal(check("may write")?.level, "ok"); // root in the VM
      assert.equal(check("may listen")?.level, "ok");
      assert.equal(r.status, 0, r.stdout);
    }
  }
});

const asNobody = (() => {
  // `id -u`, not process.getuid(): Deno wants --allow-sys for that.
  if (spawnSync("id", ["-u"], { encoding: "utf8" }).stdout.trim() !== "0") {
    return "needs root (to run status as uid 65534)";
  }
  if (spawnSync("setpriv", ["--version"]).status !== 0) return "setpriv (util-linux) missing";
  return undefined;
})();

testUnless(asNobody, "status as an unprivileged user: tracefs not accessible, with the fix", () => {
  const dir = tmp();
  try {
    // A stand-in tracefs: root's and 0700, like the real one.
    writeFileSync(`${dir}/trace`, "");
    writeFileSync(`${dir}/user_events_data`, "");
    chmodSync(dir, 0o700);
    const denoDir = mkdtempSync(`${env("TMPDIR") ?? "/tmp"}/deno-nobody-`);
    chmodSync(denoDir, 0o777);
    const r = spawnSync("setpriv", [
      "--reuid=65534",
      "--regid=65534",
      "--clear-groups",
      ...cliCommand(),
      "status",
      "--tracefs",
      dir,
    ], { encoding: "utf8", env: { ...procEnv(), DENO_DIR: denoDir, HOME: denoDir } });
    rmSync(denoDir, { recursive: true, force: true });
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /user\s+uid 65534/);
    assert.match(
      r.stdout,
      /FAIL\s+user_events\s+cannot look into .* \(EACCES\): tracefs is root's/,
    );
    assert.match(r.stdout, /fix: run as root, or give a group access: chgrp tracing/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

function procEnv(): Record<string, string> {
  return (globalThis as unknown as { process: { env: Record<string, string> } }).process.env;
}
