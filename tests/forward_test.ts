/**
 * The forwarder (`./forward`, `otel-native-metrics forward`) against @elastic/mockotlpserver
 * (a receiver no one here wrote) and against a fault-injecting receiver: batching, every point
 * delivered exactly once, retries on 429/503/resets/timeouts with backoff and Retry-After,
 * partial_success, the bounded queue dropping oldest-first, a receiver restart, gzip, headers.
 */
import assert from "node:assert/strict";
import dc from "node:diagnostics_channel";
import { spawn, spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { decodeMetricsPayload, flattenRequest } from "../src/decode.ts";
import { MetricsBatcher, metricsUrl, OtlpForwarder, parseRetryAfter } from "../src/forward/mod.ts";
import { test, testUnless } from "./harness.ts";
import { countPoints, FaultReceiver } from "./fixtures/fault_receiver.ts";
import { hex, workloadPayloads } from "./fixtures/payloads.ts";
import { cliCommand } from "./fixtures/cli_run.ts";

const g = globalThis as {
  Deno?: { permissions: { querySync(d: { name: string; host?: string }): { state: string } } };
};
const granted = (name: string, host?: string) =>
  g.Deno?.permissions.querySync({ name, host }).state === "granted";
const noNet = g.Deno && !(granted("net", "127.0.0.1") && granted("sys"))
  ? "deno test runs without --allow-net=127.0.0.1 --allow-sys (scripts/test.sh): the test " +
    "receivers cannot listen, and @elastic/mockotlpserver needs sys access to load"
  : undefined;

/** Point identities (metric + attributes + value) for exactly-once comparisons. */
function identities(requests: Uint8Array[] | { toString(): string }[]): string[] {
  return (requests as Uint8Array[]).flatMap((p) =>
    flattenRequest(decodeMetricsPayload(p)).map((f) =>
      JSON.stringify(
        [f.metric.name, f.attributes, f.value],
        (_k, v) => typeof v === "bigint" ? String(v) : v instanceof Uint8Array ? hex(v) : v,
      )
    )
  ).sort();
}

function receivedIdentities(r: FaultReceiver): string[] {
  return identities(
    r.received.filter((x) => x.request).map((x) =>
      // re-encode what arrived, so both sides go through the same flattening
      MetricsBatcher.encode({ request: x.request!, points: countPoints(x.request!) })
    ),
  );
}

// Bun's diagnostics_channel loses subscriptions of channels nobody holds (they are collected):
// hold the one @elastic/mockotlpserver publishes received metrics on, for the whole file.
const metricsChannel = dc.channel("otlp.v1.metrics");

const fast = { initialBackoffMs: 20, maxBackoffMs: 200, maxDelayMs: 10, timeoutMs: 2000 };

test("metricsUrl and Retry-After parsing", () => {
  assert.equal(metricsUrl("http://h:4318"), "http://h:4318/v1/metrics");
  assert.equal(metricsUrl("https://h/otlp/"), "https://h/otlp/v1/metrics");
  assert.equal(metricsUrl("http://h/v1/metrics"), "http://h/v1/metrics");
  assert.throws(() => metricsUrl("ftp://h"), /http: or https:/);
  assert.equal(parseRetryAfter("3"), 3000);
  assert.equal(parseRetryAfter(null), undefined);
  assert.equal(parseRetryAfter(new Date(10_000).toUTCString(), 4_000), 6000);
  assert.equal(parseRetryAfter("soon"), undefined);
});

test("batcher: one resource/scope/metric entry each, all points, bounded, oldest dropped", async () => {
  const payloads = await workloadPayloads();
  const batcher = new MetricsBatcher({ maxBatchPoints: 5 });
  for (const p of payloads) batcher.add(decodeMetricsPayload(p), p.length);
  assert.equal(batcher.points, payloads.length);
  const batches = [];
  for (let b = batcher.take(); b; b = batcher.take()) batches.push(b);
  assert.deepEqual(batches.map((b) => b.points), [5, 5, payloads.length - 10]);
  for (const b of batches) {
    const resources = b.request.resourceMetrics;
    assert.equal(resources.length, 1, "the workload has one resource");
    for (const rm of resources) {
      const scopes = rm.scopeMetrics.map((s) => `${s.scope?.name}@${s.scope?.version}`);
      assert.equal(new Set(scopes).size, scopes.length, "each scope once");
      for (const sm of rm.scopeMetrics) {
        const names = sm.metrics.map((m) => `${m.name}/${m.data.case}`);
        assert.equal(new Set(names).size, names.length, "each metric once per scope");
      }
    }
  }
  const merged = batches.map((b) => MetricsBatcher.encode(b));
  assert.deepEqual(identities(merged), identities(payloads), "every point, exactly once");
  // Oldest first: drop 3, the next batch starts with the 4th point.
  for (const p of payloads) batcher.add(decodeMetricsPayload(p), p.length);
  assert.equal(batcher.dropOldest(3), 3);
  const next = batcher.take()!;
  assert.deepEqual(
    identities([MetricsBatcher.encode(next)]),
    identities(payloads.slice(3, 8)),
  );
});

testUnless(noNet, "forward: every point reaches @elastic/mockotlpserver, batched", async () => {
  let requests = 0, points = 0;
  const received: string[] = [];
  // Imported here: the package reads system info at load (Deno: --allow-sys).
  const { MockOtlpServer } = await import("@elastic/mockotlpserver");
  const server = new MockOtlpServer({
    services: ["http"],
    httpHostname: "127.0.0.1",
    httpPort: 0,
    logLevel: "warn",
    onMetrics(m: {
      resourceMetrics: {
        scopeMetrics: { metrics: Record<string, { dataPoints: unknown[] } | string>[] }[];
      }[];
    }) {
      requests++;
      for (const rm of m.resourceMetrics) {
        for (const sm of rm.scopeMetrics) {
          for (const metric of sm.metrics) {
            const data = (metric.sum ?? metric.gauge ?? metric.histogram ??
              metric.exponentialHistogram) as { dataPoints: unknown[] };
            points += data.dataPoints.length;
            for (let i = 0; i < data.dataPoints.length; i++) received.push(String(metric.name));
          }
        }
      }
    },
  });
  await server.start();
  try {
    const payloads = await workloadPayloads();
    const forwarder = new OtlpForwarder({
      endpoint: String(server.httpUrl),
      maxBatchPoints: 4,
      ...fast,
    });
    for (let round = 0; round < 3; round++) for (const p of payloads) forwarder.push(p);
    await forwarder.shutdown();
    const s = forwarder.stats;
    assert.equal(s.received, 3 * payloads.length);
    assert.equal(s.sent, 3 * payloads.length);
    assert.equal(s.requests, Math.ceil((3 * payloads.length) / 4));
    assert.equal(points, 3 * payloads.length, "the mock server counted every point");
    assert.equal(requests, s.requests);
    const expected = payloads.flatMap((p) =>
      flattenRequest(decodeMetricsPayload(p)).map((f) => f.metric.name)
    );
    assert.deepEqual(received.sort(), [...expected, ...expected, ...expected].sort());
  } finally {
    await server.close();
    assert.ok(metricsChannel.hasSubscribers !== undefined);
  }
});

testUnless(
  noNet,
  "forward: 429 (Retry-After), 503, reset, slow: retried, nothing lost",
  async () => {
    const receiver = new FaultReceiver([
      { status: 429, retryAfter: "1" },
      { status: 503 },
      "reset",
      { slowMs: 600 }, // longer than the 300 ms timeout: aborted, retried
      "ok",
    ]);
    const url = await receiver.start();
    try {
      const payloads = await workloadPayloads();
      const forwarder = new OtlpForwarder({
        endpoint: url,
        maxBatchPoints: 100,
        ...fast,
        timeoutMs: 300,
        gzip: true,
        headers: { authorization: "Bearer t0ken" },
      });
      for (const p of payloads) forwarder.push(p);
      const start = Date.now();
      await forwarder.shutdown({ timeoutMs: 20_000 });
      const s = forwarder.stats;
      const seen = receiver.received.map((
        x,
      ) => [JSON.stringify(x.behaviour), x.request ? countPoints(x.request) : -1]);
      // Bun: 4 retries (one per fault). Deno's fetch re-sends a request itself when its pooled
      // connection is reset, so there the reset and the slow answer cost one retry of ours.
      assert.ok(s.retries === 4 || s.retries === 3, JSON.stringify([s, seen]));
      assert.equal(s.sent, payloads.length);
      assert.equal(s.dropped.rejected + s.dropped.queueFull + s.dropped.shutdown, 0);
      assert.ok(receiver.received[1]!.at - receiver.received[0]!.at >= 950, "Retry-After: 1 s");
      assert.ok(Date.now() - start >= 1000);
      assert.equal(receiver.received.length, 5);
      assert.equal(receiver.received[0]!.headers["content-encoding"], "gzip");
      assert.equal(receiver.received[0]!.headers["authorization"], "Bearer t0ken");
      assert.equal(receiver.received[0]!.path, "/v1/metrics");
      // The slow one was accepted by the receiver after we gave up on it: it arrives twice there,
      // which is what OTLP's at-least-once retry means; the last copy is the acknowledged one.
      assert.deepEqual(receiverLast(receiver), identities(payloads));
    } finally {
      await receiver.stop();
    }
  },
);

function receiverLast(r: FaultReceiver): string[] {
  const last = r.received.filter((x) => x.request).at(-1)!;
  return identities([MetricsBatcher.encode({ request: last.request!, points: 0 })]);
}

testUnless(noNet, "forward: 400 is not retried; partial_success is counted", async () => {
  const receiver = new FaultReceiver([
    { status: 400, body: "bad" },
    { partialRejected: 2, message: "2 points too old" },
  ]);
  const url = await receiver.start();
  try {
    const payloads = await workloadPayloads();
    const forwarder = new OtlpForwarder({ endpoint: url, maxBatchPoints: 7, ...fast });
    for (const p of payloads) forwarder.push(p);
    await forwarder.shutdown();
    const s = forwarder.stats;
    assert.equal(s.dropped.rejected, 7);
    assert.equal(s.sent, payloads.length - 7);
    assert.equal(s.partialRejected, 2);
    assert.equal(s.retries, 0);
    assert.match(s.lastError ?? "", /2 points too old/);
    assert.equal(s.received, s.sent + s.dropped.rejected);
  } finally {
    await receiver.stop();
  }
});

testUnless(noNet, "forward: receiver restart within the queue bound loses nothing", async () => {
  const receiver = new FaultReceiver();
  const url = await receiver.start();
  const payloads = await workloadPayloads();
  const forwarder = new OtlpForwarder({ endpoint: url, maxBatchPoints: 10, ...fast });
  try {
    for (const p of payloads) forwarder.push(p);
    await forwarder.flush();
    await receiver.stop(); // down: connection refused
    for (const p of payloads) forwarder.push(p);
    await new Promise((r) => setTimeout(r, 300)); // several failed attempts
    assert.ok(forwarder.stats.retries >= 1, JSON.stringify(forwarder.stats));
    await receiver.start(); // same port
    await forwarder.shutdown({ timeoutMs: 10_000 });
    const s = forwarder.stats;
    assert.equal(s.sent, 2 * payloads.length, JSON.stringify(s));
    assert.equal(receiver.acceptedPoints, 2 * payloads.length);
    assert.deepEqual(
      receivedIdentities(receiver),
      [
        ...identities(payloads),
        ...identities(payloads),
      ].sort(),
    );
  } finally {
    await receiver.stop();
  }
});

testUnless(noNet, "forward: overflow drops the oldest points and counts them", async () => {
  const receiver = new FaultReceiver([{ status: 503 }]);
  const url = await receiver.start();
  try {
    const payloads = await workloadPayloads();
    const forwarder = new OtlpForwarder({
      endpoint: url,
      maxBatchPoints: 100, // no batch is cut before the delay: all points wait in the queue
      maxQueuePoints: 5,
      ...fast,
      maxDelayMs: 1000,
    });
    for (const p of payloads) forwarder.push(p); // 14 points into a queue of 5
    await forwarder.shutdown();
    const s = forwarder.stats;
    assert.equal(s.dropped.queueFull, payloads.length - 5);
    assert.equal(s.sent, 5);
    assert.deepEqual(receivedIdentities(receiver), identities(payloads.slice(-5)), "newest kept");
  } finally {
    await receiver.stop();
  }
});

testUnless(noNet, "forward: shutdown deadline counts unsent points as dropped", async () => {
  const receiver = new FaultReceiver(Array(100).fill({ status: 503 }));
  const url = await receiver.start();
  try {
    const payloads = await workloadPayloads();
    const forwarder = new OtlpForwarder({ endpoint: url, ...fast });
    for (const p of payloads) forwarder.push(p);
    await forwarder.shutdown({ timeoutMs: 300 });
    const s = forwarder.stats;
    assert.equal(s.sent, 0);
    assert.equal(s.dropped.shutdown, payloads.length);
    forwarder.push(payloads[0]!); // after shutdown: counted, not sent
    assert.equal(forwarder.stats.dropped.shutdown, payloads.length + 1);
  } finally {
    await receiver.stop();
  }
});

testUnless(
  noNet,
  "forward CLI: --input file to the receiver; exit status and stats line",
  async () => {
    const receiver = new FaultReceiver([{ status: 503 }]);
    const url = await receiver.start();
    try {
      const payloads = await workloadPayloads();
      const file = `${tmpDir()}/payloads.hex`;
      writeFileSync(file, payloads.map((p) => hex(p)).join("\n"));
      const [cmd, ...args] = cliCommand();
      const child = spawn(cmd!, [...args, "forward", "--endpoint", url, "--input", file, "--gzip"]);
      let stderr = "";
      child.stderr.on("data", (d: Uint8Array) => (stderr += new TextDecoder().decode(d)));
      const code = await new Promise<number>((r) => child.on("exit", (c: number) => r(c)));
      assert.equal(code, 0, stderr);
      assert.match(stderr, new RegExp(`received ${payloads.length}, sent ${payloads.length} `));
      assert.match(stderr, /retried 1,/);
      assert.equal(receiver.acceptedPoints, payloads.length);
    } finally {
      await receiver.stop();
    }
  },
);

function tmpDir(): string {
  const p = (globalThis as { process: { env: Record<string, string> } }).process;
  return p.env.TMPDIR ?? "/tmp";
}

/**
 * A test CA and a certificate for 127.0.0.1 it signed, made with openssl (rustls, under Deno,
 * refuses a self-signed CA certificate used as the server's own), or why there are none.
 */
function testCertificates(): { key: string; cert: string; caFile: string } | string {
  const d = `${tmpDir()}/otel-native-tls-${Date.now()}`;
  const steps = [
    [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-days",
      "1",
      "-subj",
      "/CN=otel-native test CA",
      "-keyout",
      `${d}-ca-key.pem`,
      "-out",
      `${d}-ca.pem`,
    ],
    [
      "req",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-subj",
      "/CN=127.0.0.1",
      "-keyout",
      `${d}-key.pem`,
      "-out",
      `${d}.csr`,
    ],
    [
      "x509",
      "-req",
      "-in",
      `${d}.csr`,
      "-CA",
      `${d}-ca.pem`,
      "-CAkey",
      `${d}-ca-key.pem`,
      "-CAcreateserial",
      "-days",
      "1",
      "-out",
      `${d}-cert.pem`,
      "-extfile",
      `${d}.ext`,
    ],
  ];
  writeFileSync(`${d}.ext`, "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n");
  for (const args of steps) {
    const r = spawnSync("openssl", args, { encoding: "utf8" });
    if (r.error || r.status !== 0) return `openssl ${args[0]} failed: ${r.error ?? r.stderr}`;
  }
  return {
    key: readFileSync(`${d}-key.pem`, "utf8"),
    cert: readFileSync(`${d}-cert.pem`, "utf8"),
    caFile: `${d}-ca.pem`,
  };
}

testUnless(
  noNet,
  "forward CLI over https: delivered when the receiver's certificate is trusted, refused when not",
  async () => {
    const tls = testCertificates();
    if (typeof tls === "string") assert.fail(tls);
    const receiver = new FaultReceiver();
    const url = await receiver.start(0, { key: tls.key, cert: tls.cert });
    assert.match(url, /^https:/);
    try {
      const payloads = await workloadPayloads();
      const file = `${tmpDir()}/payloads-tls.hex`;
      writeFileSync(file, payloads.map((p) => hex(p)).join("\n"));
      const run = (trusted: boolean) => {
        const [cmd, ...args] = cliCommand();
        const deno = !!(globalThis as { Deno?: unknown }).Deno;
        // Deno trusts extra CAs with --cert, Bun (like Node) through NODE_EXTRA_CA_CERTS.
        const pre = deno && trusted ? [args[0]!, "--cert", tls.caFile, ...args.slice(1)] : args;
        const env = {
          ...(globalThis as unknown as { process: { env: Record<string, string> } }).process.env,
        };
        if (!deno && trusted) env.NODE_EXTRA_CA_CERTS = tls.caFile;
        const child = spawn(cmd!, [
          ...pre,
          "forward",
          "--endpoint",
          url,
          "--input",
          file,
          "--shutdown-timeout",
          "2",
        ], { env });
        let stderr = "";
        child.stderr.on("data", (d: Uint8Array) => (stderr += new TextDecoder().decode(d)));
        return new Promise<{ code: number; stderr: string }>((r) =>
          child.on("exit", (c: number) => r({ code: c, stderr }))
        );
      };
      const refused = await run(false);
      assert.notEqual(refused.code, 0, "an untrusted certificate must not be accepted");
      assert.equal(receiver.acceptedPoints, 0);
      const ok = await run(true);
      assert.equal(ok.code, 0, ok.stderr);
      assert.equal(receiver.acceptedPoints, payloads.length);
    } finally {
      await receiver.stop();
    }
  },
);
