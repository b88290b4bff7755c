/**
 * Unavailable at start, available later (issue 9 item 2), in the QEMU tier under `deno test`
 * and `bun test`: the exporter is created while tracefs is not mounted, counts what it cannot
 * write, and starts writing once tracefs is mounted, without a restart.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { NativeMetricsExporter } from "../../mod.ts";
import { decodeMetricsPayload, flattenRequest } from "../../src/decode.ts";
import { TracefsListener } from "../../src/listener/mod.ts";
import { runtimeName, testUnless } from "../harness.ts";
import { collectWorkload, WORKLOAD_POINTS } from "../workload.ts";
import { KERNEL_RELEASE, NO_KERNEL, sleep, TRACING, until } from "./helpers/kernel.ts";

const test = (name: string, fn: () => void | Promise<void>) =>
  testUnless(NO_KERNEL, `[${runtimeName}, ${KERNEL_RELEASE}] ${name}`, fn);

const isMounted = () =>
  (spawnSync("cat", ["/proc/mounts"], { encoding: "utf8" }).stdout ?? "").split("\n")
    .some((l) => l.split(" ")[1] === TRACING);

test("tracefs mounted after the exporter started: unavailable and counted, then ready, events flow", async () => {
  assert.equal(spawnSync("umount", [TRACING]).status, 0, "umount tracefs (nothing may hold it)");
  let exporter: NativeMetricsExporter | undefined;
  let listener: TracefsListener | undefined;
  try {
    assert.equal(isMounted(), false);
    exporter = new NativeMetricsExporter({ retry: { initialDelayMs: 100, maxDelayMs: 200 } });
    const down = exporter.status;
    assert.equal(down.state, "unavailable", JSON.stringify(down));
    if (down.state !== "unavailable") throw new Error("unreachable");
    assert.equal(down.reason, "no-tracefs", JSON.stringify(down));
    assert.equal(down.retryable, true);
    assert.match(down.fix, /mount -t tracefs/);

    let code = -1;
    exporter.export(await collectWorkload(), (r) => (code = r.code));
    assert.equal(code, 0, "a deployment state, not a failed export");
    assert.equal(exporter.stats.pointsDropped.unavailable, WORKLOAD_POINTS);
    assert.equal(exporter.stats.eventsWritten, 0);

    assert.equal(spawnSync("mount", ["-t", "tracefs", "tracefs", TRACING]).status, 0);
    await sleep(250); // past the retry delay (100 ms, then at most 200 ms)
    code = -1;
    exporter.export(await collectWorkload(), (r) => (code = r.code));
    assert.equal(code, 0);
    assert.deepEqual(exporter.status, { state: "ready", sink: "user_events" });
    // Registered during this export, before its points: nobody listened yet.
    assert.equal(exporter.stats.pointsSkippedNoListener, WORKLOAD_POINTS);

    listener = TracefsListener.open();
    await until("enabled", () => exporter!.isEnabled());
    exporter.export(await collectWorkload(), (r) => (code = r.code));
    assert.equal(code, 0);
    const events = listener.poll();
    assert.equal(events.length, WORKLOAD_POINTS);
    for (const e of events) assert.equal(flattenRequest(decodeMetricsPayload(e.payload)).length, 1);
    const s = exporter.stats;
    assert.equal(s.eventsWritten, WORKLOAD_POINTS);
    assert.equal(s.pointsDropped.unavailable, WORKLOAD_POINTS, "still only the first export's");
    assert.equal(s.exports, 3);
  } finally {
    listener?.close();
    await exporter?.shutdown();
    if (!isMounted()) spawnSync("mount", ["-t", "tracefs", "tracefs", TRACING]);
  }
});
