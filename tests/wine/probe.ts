/**
 * Wine smoke probe for the Windows builds of Deno and Bun (run through tests/wine/run.sh):
 *
 *   tests/wine/run.sh deno tests/wine/probe.ts [Z:\path\to\advapi32_standin.dll]
 *   tests/wine/run.sh bun  tests/wine/probe.ts [same]
 *
 * (a) dlopen("advapi32.dll") by Windows name, declaring all five ETW functions, and call
 *     EventRegister / EventSetInformation / EventProviderEnabled / EventWriteTransfer /
 *     EventUnregister: Wine 8's stubs give handle 0xdeadbeef, 0 results, enabled FALSE.
 * (b) dlopen the stand-in DLL by path (argument, else $ETW_STANDIN_DLL, which run.sh sets)
 *     and run the same scenario as tests/etw/probe_standin.ts, with the log read back.
 * (c) resolve one of the repo's npm dependencies (proves node_modules resolution under Wine).
 * Exit code 0 when every check passed.
 *
 * @module
 */
import { arena, checker, etwDecls, native, sequence, standinScenario } from "../etw/standin_ffi.ts";

// deno-lint-ignore no-explicit-any
const g = globalThis as any;
const args: string[] = g.Deno ? g.Deno.args : g.process.argv.slice(2);
const env = (k: string): string | undefined => g.Deno ? g.Deno.env.get(k) : g.process.env[k];
const version = g.Deno ? `deno ${g.Deno.version.deno}` : `bun ${g.Bun.version}`;

const n = await native();
console.log(`${version} on ${n.os}`);
let failures = 0;

// (a) Wine's advapi32 stubs.
{
  const c = checker(`${n.runtime}/${n.os} advapi32.dll`);
  const etw = n.open("advapi32.dll", etwDecls("u64"));
  const a = arena(n);
  const r = sequence(etw, a);
  console.log(
    `  advapi32: register=${r.reg} handle=0x${
      r.h.toString(16)
    } set=${r.set} enabled=${r.enabled} write=${r.write}`,
  );
  c.eq("EventRegister", r.reg, 0);
  if (n.os === "windows") {
    // Real Windows hands out an opaque handle and may report a listener; Wine's stub does not.
    c.eq("handle (Wine stub)", r.h, 0xdeadbeefn);
    c.eq("EventProviderEnabled (Wine stub)", r.enabled, 0);
  }
  c.eq("EventSetInformation", r.set, 0);
  c.eq("EventWriteTransfer", r.write, 0);
  c.eq("EventUnregister", etw.EventUnregister(r.h), 0);
  failures += c.summary();
}

// (b) The recording stand-in.
const dll = args[0] ?? env("ETW_STANDIN_DLL");
if (!dll) {
  console.log("FAIL: no stand-in DLL path (argument or ETW_STANDIN_DLL)");
  failures++;
} else {
  console.log(`  stand-in: ${dll}`);
  failures += standinScenario(n, dll, "u64", env("PROBE_VERBOSE") === "1");
  if (n.runtime === "deno") failures += standinScenario(n, dll, "usize", false);
}

// (c) npm dependency resolution from the repo's node_modules.
try {
  const api = await import("@opentelemetry/api");
  console.log(`  npm: @opentelemetry/api resolved (metrics=${typeof api.metrics})`);
} catch (e) {
  console.log(`  FAIL npm: @opentelemetry/api did not resolve: ${e}`);
  failures++;
}

console.log(failures === 0 ? "OK" : `FAILED (${failures})`);
if (g.Deno) g.Deno.exit(failures ? 1 : 0);
else g.process.exit(failures ? 1 : 0);
