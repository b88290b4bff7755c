/**
 * The Wine tier's smoke probe: what the tier relies on about Wine 8's advapi32, reached through
 * the library's own `EtwSink`. Wine's ETW functions are stubs: EventRegister hands out handle
 * 0xdeadbeef, EventProviderEnabled always says FALSE (so the sink never writes by itself, and
 * byte-exact tests need the recording stand-in), every other call returns 0.
 *
 *   tests/wine/run.sh deno tests/wine/probe.ts
 *   tests/wine/run.sh bun tests/wine/probe.ts
 *
 * Prints one line per check; exit code 0 when all passed.
 *
 * @module
 */
import assert from "node:assert/strict";
import process from "node:process";
import { platform, runtime } from "../../ffi/mod.ts";
import { EtwSink } from "../../mod.ts";

let failures = 0;
function check(what: string, fn: () => void): void {
  try {
    fn();
    console.log(`  ok   ${what}`);
  } catch (error) {
    failures++;
    console.log(`  FAIL ${what}: ${error instanceof Error ? error.message : error}`);
  }
}

console.log(`${runtime} on ${platform}`);
check("the runtime sees Windows", () => assert.equal(platform, "win32"));
let sink: EtwSink | undefined;
check("advapi32.dll registers the provider", () => void (sink = new EtwSink()));
if (sink) {
  const etw = sink;
  check("Wine's stub handle is 0xdeadbeef", () => assert.equal(etw.handle, 0xdeadbeefn));
  check("Wine's stub never reports a listener", () => assert.equal(etw.isEnabled(), false));
  check("a write reaches EventWriteTransfer and returns 0", () => {
    etw.staging.set([0x0a, 0x00], 0);
    assert.equal(etw.write(0, 2), 0);
  });
  check("EventUnregister succeeds", () => {
    etw.shutdown();
    assert.equal(etw.leaked, false, etw.shutdownError?.message ?? "");
  });
}
console.log(failures === 0 ? "OK" : `FAILED (${failures})`);
process.exit(failures === 0 ? 0 : 1);
