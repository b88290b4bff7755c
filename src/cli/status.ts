/// <reference types="node" />
/**
 * `otel-native-metrics status`: a doctor. What this machine offers the exporter and the
 * listener, what the current user may do, and for each problem the exact fix.
 *
 * @module
 */
import { accessSync, constants, existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { release } from "node:os";
import process from "node:process";
import { platform, runtime } from "../../ffi/runtime.ts";
import { formatHelp, type OptionSpec, parseArgs, stringOption } from "./args.ts";
import { eventOption, EXIT, stdout } from "./common.ts";
import { dynamicEventLine, findTracefs } from "./tracefs.ts";
import { toJsonText } from "./output.ts";

const OPTIONS: OptionSpec[] = [
  { name: "event", value: "NAME", help: "the user_events event", default: "otlp_metrics" },
  { name: "tracefs", value: "DIR", help: "tracefs directory", default: "found" },
  { name: "json", help: "one JSON object instead of text" },
  { name: "help", help: "this help" },
];

/** `status --help`. */
export const STATUS_HELP: string = formatHelp(
  "otel-native-metrics status [options]",
  `Checks what the exporter and 'listen' need: runtime, kernel version, tracefs (mounted, where),
user_events, the event's registration and definition, who listens, and what the current user
may do (write user_events_data, create and enable events). Prints the fix for each problem.
On Windows: whether an ETW session enables the provider.
Exit status: 0 no problem found · 1 a problem was found (each printed with its fix) · 2 usage.`,
  OPTIONS,
);

/** One line of the report. */
export interface Check {
  /** `ok`, `info`, `warn` (works, with a caveat) or `problem`. */
  level: "ok" | "info" | "warn" | "problem";
  what: string;
  detail: string;
  fix?: string;
}

function canAccess(path: string, mode: number): boolean {
  try {
    accessSync(path, mode);
    return true;
  } catch {
    return false;
  }
}

/** `undefined` when `path` exists, else the error code (`ENOENT`, `EACCES`, ...). */
function statError(path: string): string | undefined {
  try {
    statSync(path);
    return undefined;
  } catch (error) {
    return (error as { code?: string }).code ?? "error";
  }
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

/** Kernel `major.minor` as a number pair, if the release string has one. */
function kernelVersion(text: string): [number, number] | undefined {
  const m = /^(\d+)\.(\d+)/.exec(text);
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

/** The fields of a tracefs `format` file after the common ones: `name offset size`. */
export function formatFields(format: string): { name: string; offset: number; size: number }[] {
  const out: { name: string; offset: number; size: number }[] = [];
  for (const line of format.split("\n")) {
    const m = /field:(.*?);\s*offset:(\d+);\s*size:(\d+);/.exec(line);
    if (!m) continue;
    // The array length in "char version[<garbage>]" is uninitialised kernel memory: names only.
    const name = m[1]!.trim().replace(/\[.*$/, "").split(/\s+/).pop()!;
    if (name.startsWith("common_")) continue;
    out.push({ name, offset: Number(m[2]), size: Number(m[3]) });
  }
  return out;
}

const EXPECTED_FIELDS = "protocol@8/4 version@12/8 buffer@20/4";

function linuxChecks(event: string, tracefsOption: string | undefined): Check[] {
  const checks: Check[] = [];
  const rel = release();
  const ver = kernelVersion(rel);
  if (ver && (ver[0] < 6 || (ver[0] === 6 && ver[1] < 4))) {
    checks.push({
      level: "problem",
      what: "kernel",
      detail: `Linux ${rel}: user_events as the exporters use it arrived in 6.4`,
      fix: "run on Linux 6.4 or later built with CONFIG_USER_EVENTS=y",
    });
  } else if (ver && ver[0] === 6 && ver[1] < 10) {
    checks.push({
      level: "info",
      what: "kernel",
      detail: `Linux ${rel} (6.4-6.9: the kernel matches unspaced definitions wrongly; this ` +
        `package registers the spaced form, which every kernel matches)`,
    });
  } else checks.push({ level: "ok", what: "kernel", detail: `Linux ${rel}` });

  const uid = process.getuid?.();
  checks.push({
    level: "info",
    what: "user",
    detail: uid === undefined ? "unknown" : uid === 0 ? "root (uid 0)" : `uid ${uid}`,
  });

  const tracefs = tracefsOption ?? findTracefs();
  if (tracefs === undefined) {
    const sysDir = existsSync("/sys/kernel/tracing");
    checks.push({
      level: "problem",
      what: "tracefs",
      detail: sysDir && !canAccess("/sys/kernel/tracing", constants.X_OK)
        ? "/sys/kernel/tracing is not accessible to this user (tracefs is root's, 0700)"
        : "not mounted",
      fix: sysDir && !canAccess("/sys/kernel/tracing", constants.X_OK)
        ? "run as root, or: chgrp tracing /sys/kernel/tracing && chmod g+x /sys/kernel/tracing"
        : "mount -t tracefs nodev /sys/kernel/tracing   (as root)",
    });
    return checks;
  }
  checks.push({ level: "ok", what: "tracefs", detail: `mounted at ${tracefs}` });

  const data = `${tracefs}/user_events_data`;
  const seen = statError(data);
  if (seen === "EACCES" || seen === "EPERM") {
    checks.push({
      level: "problem",
      what: "user_events",
      detail: `cannot look into ${tracefs} (${seen}): tracefs is root's (mode 0700)`,
      fix: `run as root, or give a group access: chgrp tracing ${tracefs} ${data} && ` +
        `chmod g+x ${tracefs} && chmod g+w ${data}   (and add the user to group tracing)`,
    });
    return checks;
  }
  if (seen !== undefined) {
    checks.push({
      level: "problem",
      what: "user_events",
      detail: `${data} does not exist: this kernel has no user_events`,
      fix: "use a kernel built with CONFIG_USER_EVENTS=y (Linux 6.4 or later); in containers, " +
        "the host's kernel is the one that counts",
    });
    return checks;
  }
  checks.push({ level: "ok", what: "user_events", detail: `${data} present` });

  const status = readText(`${tracefs}/user_events_status`);
  const line = status?.split("\n").find((l) => l === event || l.startsWith(`${event} `));
  const usedBy = line?.includes("# Used by") ? line.slice(line.indexOf("# Used by") + 2) : "";
  const eventDir = `${tracefs}/events/user_events/${event}`;
  if (status === undefined) {
    checks.push({
      level: "warn",
      what: "registration",
      detail: `cannot read ${tracefs}/user_events_status (permission)`,
    });
  } else if (line !== undefined) {
    checks.push({
      level: "ok",
      what: "registration",
      detail: `${event} is registered${usedBy ? `; ${usedBy}` : "; nobody listens"}`,
    });
  } else {
    checks.push({
      level: "info",
      what: "registration",
      detail: `${event} is not registered (no exporter running, nothing pre-created)`,
    });
  }

  const format = readText(`${eventDir}/format`);
  if (format !== undefined) {
    const fields = formatFields(format);
    const text = fields.map((f) => `${f.name}@${f.offset}/${f.size}`).join(" ");
    if (text === EXPECTED_FIELDS) {
      checks.push({
        level: "ok",
        what: "definition",
        detail: `${event}: u32 protocol; char[8] version; __rel_loc u8[] buffer ` +
          `(the Rust/.NET/this package's layout)`,
      });
    } else {
      checks.push({
        level: "problem",
        what: "definition",
        detail: `${event} exists with other fields (${text || "none"}): exporters get ` +
          `EADDRINUSE (definition conflict)`,
        fix: `stop the process that registered it (an old exporter), or delete it once unused: ` +
          `echo '-:${event}' >> ${tracefs}/dynamic_events`,
      });
    }
    const listeners: string[] = [];
    if (readText(`${eventDir}/enable`)?.trim() === "1") listeners.push("top-level trace");
    try {
      for (const inst of readdirSync(`${tracefs}/instances`)) {
        const en = readText(`${tracefs}/instances/${inst}/events/user_events/${event}/enable`);
        if (en?.trim() === "1") listeners.push(`instance ${inst}`);
      }
    } catch { /* instances unreadable */ }
    checks.push({
      level: "info",
      what: "listeners",
      detail: listeners.length > 0 || usedBy
        ? `enabled in: ${listeners.join(", ") || "-"}${usedBy ? ` (${usedBy})` : ""}`
        : "none: exports are skipped (counted as pointsSkippedNoListener) until one attaches",
    });
  }

  const root = process.getuid?.() === 0;
  const canWrite = canAccess(data, constants.W_OK);
  checks.push(
    canWrite
      ? { level: "ok", what: "may write", detail: `${data} is writable: the exporter can register` }
      : {
        level: "problem",
        what: "may write",
        detail: `${data} is not writable by this user: the exporter reports "permission"`,
        fix: `run as root, or: chgrp tracing ${tracefs} ${data} && chmod g+x ${tracefs} && ` +
          `chmod g+w ${data}   (and add the user to group tracing)`,
      },
  );
  const canCreate = canAccess(`${tracefs}/dynamic_events`, constants.W_OK) &&
    canAccess(`${tracefs}/instances`, constants.W_OK);
  checks.push(
    canCreate && root
      ? {
        level: "ok",
        what: "may listen",
        detail: `can create ${event} (${dynamicEventLine(event)}) and tracefs instances`,
      }
      : {
        level: "warn",
        what: "may listen",
        detail: "cannot create events or tracefs instances: 'listen' and 'forward' need root",
        fix: "run 'listen' / 'forward' as root (sudo)",
      },
  );
  return checks;
}

async function windowsChecks(): Promise<Check[]> {
  try {
    const { EtwSink } = await import("../sinks/etw/sink.ts");
    const sink = new EtwSink();
    try {
      const enabled = sink.isEnabled();
      return [{
        level: enabled ? "ok" : "info",
        what: "ETW provider",
        detail: enabled
          ? "registered; an ETW session enables it (events are written)"
          : "registered; no session enables it (level 4, keyword 1): exports are skipped",
        fix: enabled ? undefined : "start a session: logman start OtlpMetrics -p " +
          "{EDC24920-E004-40F6-A8E1-0E6E48F39D84} 0x1 4 -o metrics.etl -ets",
      }];
    } finally {
      sink.shutdown();
    }
  } catch (error) {
    return [{
      level: "problem",
      what: "ETW provider",
      detail: `cannot register: ${(error as Error).message}`,
      fix: runtime === "deno" ? "run Deno with --allow-ffi" : undefined,
    }];
  }
}

/** Everything `status` checks, as data. */
export async function statusChecks(
  event = "otlp_metrics",
  tracefs?: string,
): Promise<Check[]> {
  const g = globalThis as { Deno?: { version: { deno: string } }; Bun?: { version: string } };
  const version = runtime === "deno"
    ? g.Deno!.version.deno
    : runtime === "bun"
    ? g.Bun!.version
    : process.version;
  const checks: Check[] = [{
    level: runtime === "other" ? "problem" : "ok",
    what: "runtime",
    detail: `${runtime === "other" ? "node" : runtime} ${version} on ${platform} ${process.arch}`,
    fix: runtime === "other" ? "run with Bun or Deno (the exporter needs their FFI)" : undefined,
  }];
  if (platform === "linux") checks.push(...linuxChecks(event, tracefs));
  else if (platform === "win32") checks.push(...await windowsChecks());
  else {
    checks.push({
      level: "problem",
      what: "platform",
      detail: `${platform} has neither user_events nor ETW`,
      fix: "run on Linux (user_events) or Windows (ETW)",
    });
  }
  return checks;
}

/** Runs `status`; returns the exit status. */
export async function statusCommand(argv: string[]): Promise<number> {
  const args = parseArgs(argv, OPTIONS);
  if (args.options.has("help")) {
    stdout.line(STATUS_HELP);
    stdout.flush();
    return EXIT.ok;
  }
  const checks = await statusChecks(
    eventOption(args),
    stringOption(args, "tracefs"),
  );
  const problems = checks.filter((c) => c.level === "problem").length;
  if (args.options.has("json")) {
    stdout.line(toJsonText({ problems, checks }));
  } else {
    const label = { ok: "ok  ", info: "    ", warn: "warn", problem: "FAIL" };
    const width = Math.max(...checks.map((c) => c.what.length));
    for (const c of checks) {
      stdout.line(`${label[c.level]}  ${c.what.padEnd(width)}  ${c.detail}`);
      if (c.fix) stdout.line(`${" ".repeat(width + 8)}fix: ${c.fix}`);
    }
    stdout.line(
      problems === 0
        ? "no problem found"
        : `${problems} problem${problems === 1 ? "" : "s"} found (see fix: above)`,
    );
  }
  stdout.flush();
  return problems === 0 ? EXIT.ok : EXIT.failure;
}
