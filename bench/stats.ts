/**
 * Small helpers of the benchmark: robust summaries, forced GC, and the machine description.
 *
 * @module
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import os from "node:os";
import process from "node:process";

/** Median, quartiles and extremes of repeated measurements. */
export interface Summary {
  median: number;
  p25: number;
  p75: number;
  min: number;
  max: number;
  n: number;
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const at = (sorted.length - 1) * q;
  const lo = Math.floor(at), hi = Math.ceil(at);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (at - lo);
}

/** Summarises `values` (medians of repeated runs are what the report shows). */
export function summarize(values: number[]): Summary {
  const s = [...values].sort((a, b) => a - b);
  return {
    median: quantile(s, 0.5),
    p25: quantile(s, 0.25),
    p75: quantile(s, 0.75),
    min: s[0] ?? NaN,
    max: s[s.length - 1] ?? NaN,
    n: s.length,
  };
}

/**
 * Theil–Sen slope of `ys` over `xs` (the median of all pairwise slopes: robust to the step
 * changes a collector's heap sizing makes), and a robust spread of the residuals around that
 * line (1.4826 × their median absolute deviation, a standard deviation for normal noise).
 */
export function robustFit(xs: number[], ys: number[]): { slope: number; residualStd: number } {
  const slopes: number[] = [];
  for (let i = 0; i < xs.length; i++) {
    for (let j = i + 1; j < xs.length; j++) {
      if (xs[j] !== xs[i]) slopes.push((ys[j]! - ys[i]!) / (xs[j]! - xs[i]!));
    }
  }
  const slope = slopes.length ? summarize(slopes).median : 0;
  const intercept = summarize(ys.map((y, i) => y - slope * xs[i]!)).median;
  const residuals = ys.map((y, i) => y - (intercept + slope * xs[i]!));
  const mad = summarize(residuals.map((r) => Math.abs(r))).median;
  return { slope, residualStd: 1.4826 * mad };
}

type Globals = { Bun?: { gc(full: boolean): void; version: string }; gc?: () => void };
const g = globalThis as unknown as Globals;

/** Which runtime runs the benchmark. */
export const runtimeName: "bun" | "deno" = g.Bun ? "bun" : "deno";

/** Whether {@linkcode forceGc} really collects (Deno needs `--v8-flags=--expose-gc`). */
export const gcAvailable: boolean = g.Bun !== undefined || typeof g.gc === "function";

/** A full, synchronous garbage collection where the runtime offers one. */
export function forceGc(): void {
  if (g.Bun) g.Bun.gc(true);
  else if (g.gc) g.gc();
}

/**
 * Whether timed sections start with a forced collection (`BENCH_SETTLE_GC=1`). Off by default:
 * a forced collection leaves the data the next section reads cold in the caches, and a forced
 * full V8 collection slowed the following allocation-heavy code 3–5× for many iterations
 * (measured on the official serializer: 25 ms per call after minor collections, 140 ms after
 * full ones). Without it each side runs as it would right after a collection; medians absorb
 * the collections that land inside a timed section.
 */
export const settleBeforeTiming: boolean = process.env.BENCH_SETTLE_GC === "1";

/**
 * Before a timed section, when {@linkcode settleBeforeTiming}: clears the previous section's
 * garbage (Bun: a full collection; Deno: a minor one, see above).
 */
export function settleGc(): void {
  if (!settleBeforeTiming) return;
  if (g.Bun) g.Bun.gc(true);
  else if (g.gc) (g.gc as (options?: { type: string }) => void)({ type: "minor" });
}

/** `process.memoryUsage()` after a forced collection. */
export function memoryAfterGc(): { heapUsed: number; rss: number } {
  forceGc();
  forceGc();
  const m = process.memoryUsage();
  return { heapUsed: m.heapUsed, rss: m.rss };
}

function firstLine(command: string, args: string[]): string {
  try {
    return execFileSync(command, args, { encoding: "utf8" }).split("\n")[0]!.trim();
  } catch {
    return "unavailable";
  }
}

/** The machine, OS and runtime the numbers were measured on. */
export interface Environment {
  date: string;
  runtime: string;
  runtimeVersion: string;
  engine: string;
  cpu: string;
  cores: number;
  memoryGiB: number;
  os: string;
  kernel: string;
  gcc: string;
  loadAverage: number[];
  gc: string;
}

/** Describes this machine and runtime. */
export function environment(): Environment {
  let cpu = os.cpus()[0]?.model ?? "unknown";
  try {
    const m = /model name\s*:\s*(.+)/.exec(readFileSync("/proc/cpuinfo", "utf8"));
    if (m) cpu = m[1]!.trim();
  } catch { /* not Linux */ }
  let distro = os.type();
  try {
    const m = /PRETTY_NAME="([^"]+)"/.exec(readFileSync("/etc/os-release", "utf8"));
    if (m) distro = m[1]!;
  } catch { /* no os-release */ }
  const deno = (globalThis as { Deno?: { version: { deno: string; v8: string } } }).Deno;
  return {
    date: new Date().toISOString(),
    runtime: runtimeName,
    runtimeVersion: g.Bun ? g.Bun.version : deno?.version.deno ?? "unknown",
    engine: g.Bun ? "JavaScriptCore" : `V8 ${deno?.version.v8 ?? ""}`.trim(),
    cpu,
    cores: os.cpus().length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30 * 10) / 10,
    os: distro,
    kernel: `${os.type()} ${os.release()} ${os.arch()}`,
    gcc: firstLine("gcc", ["--version"]),
    loadAverage: os.loadavg().map((x) => Math.round(x * 100) / 100),
    gc: (settleBeforeTiming ? (g.Bun ? "Bun.gc(true)" : 'gc({type: "minor"})') : "none") +
      " / " +
      (g.Bun ? "Bun.gc(true)" : gcAvailable ? "gc() (--expose-gc)" : "unavailable (--expose-gc)"),
  };
}
