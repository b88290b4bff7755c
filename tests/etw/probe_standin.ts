/**
 * Proves the Linux stand-in (.so) from Bun and Deno with bigint-address declarations.
 *
 *   tests/etw/build-standin.sh
 *   node_modules/.bin/bun  tests/etw/probe_standin.ts [path/to/advapi32_standin.so]
 *   node_modules/.bin/deno run -A tests/etw/probe_standin.ts [path]
 *
 * Default path: $ETW_STANDIN_SO, else ~/.cache/otel-native-metrics/etw/advapi32_standin.so.
 * Exit code 0 when every check passed. On Deno the scenario also runs with "usize" pointers.
 *
 * @module
 */
import { native, standinScenario } from "./standin_ffi.ts";

// deno-lint-ignore no-explicit-any
const g = globalThis as any;
const args: string[] = g.Deno ? g.Deno.args : g.process.argv.slice(2);
const env = (k: string): string | undefined => g.Deno ? g.Deno.env.get(k) : g.process.env[k];
const home = env("HOME") ?? "/root";
const path = args[0] ?? env("ETW_STANDIN_SO") ??
  `${home}/.cache/otel-native-metrics/etw/advapi32_standin.so`;

const n = await native();
console.log(`${n.runtime} on ${n.os}: ${path}`);
let failures = standinScenario(n, path, "u64");
if (n.runtime === "deno") failures += standinScenario(n, path, "usize", false);
console.log(failures === 0 ? "OK" : `FAILED (${failures})`);
if (g.Deno) g.Deno.exit(failures ? 1 : 0);
else g.process.exit(failures ? 1 : 0);
