/**
 * A child process with its output collected, for the kernel-tier tests that drive the CLI and
 * example programs. Under Deno through `Deno.Command`: Deno's `node:child_process` reports a
 * child that handled SIGINT/SIGTERM and exited 0 as killed by the signal (exit code null),
 * which would hide the exit status these tests check.
 *
 * @module
 */
import { type ChildProcess, spawn } from "node:child_process";
import { REPO } from "../../fixtures/cli_run.ts";
import { sleep } from "./kernel.ts";

interface DenoCommandLike {
  Command: new (
    cmd: string,
    o: { args: string[]; cwd: string; stdout: "piped"; stderr: "piped" },
  ) => {
    spawn(): {
      stdout: ReadableStream<Uint8Array>;
      stderr: ReadableStream<Uint8Array>;
      status: Promise<{ code: number; signal: string | null }>;
      kill(signal: string): void;
    };
  };
}

/** A running child (cwd: the repository), its stdout and stderr so far, and its exit status. */
export class Child {
  stdout = "";
  stderr = "";
  /** Lines written to stdout so far. */
  lines = 0;
  /** The exit status; -1 when a signal ended it. */
  readonly exit: Promise<number>;
  readonly #kill: (signal: "SIGINT" | "SIGTERM") => void;

  constructor(cmd: string, args: string[]) {
    const take = (into: "stdout" | "stderr", text: string) => {
      this[into] += text;
      if (into === "stdout") { for (const c of text) if (c === "\n") this.lines++; }
    };
    const D = (globalThis as { Deno?: DenoCommandLike }).Deno;
    if (D) {
      const child = new D.Command(cmd, { args, cwd: REPO, stdout: "piped", stderr: "piped" })
        .spawn();
      const pump = async (stream: ReadableStream<Uint8Array>, into: "stdout" | "stderr") => {
        const decoder = new TextDecoder();
        for await (const chunk of stream) take(into, decoder.decode(chunk, { stream: true }));
      };
      const done = Promise.all([pump(child.stdout, "stdout"), pump(child.stderr, "stderr")]);
      this.exit = child.status.then(async (s) => {
        await done;
        return s.signal ? -1 : s.code;
      });
      this.#kill = (signal) => child.kill(signal);
    } else {
      const child: ChildProcess = spawn(cmd, args, { cwd: REPO });
      const decoders = { stdout: new TextDecoder(), stderr: new TextDecoder() };
      child.stdout!.on(
        "data",
        (d: Uint8Array) => take("stdout", decoders.stdout.decode(d, { stream: true })),
      );
      child.stderr!.on(
        "data",
        (d: Uint8Array) => take("stderr", decoders.stderr.decode(d, { stream: true })),
      );
      this.exit = new Promise((r) => child.on("close", (code: number | null) => r(code ?? -1)));
      this.#kill = (signal) => child.kill(signal);
    }
  }

  /** Waits until stderr matches `re` (or throws after `ms`, showing stderr). */
  async waitFor(re: RegExp, what: string, ms = 60_000): Promise<void> {
    const end = Date.now() + ms;
    while (!re.test(this.stderr)) {
      if (Date.now() > end) {
        throw new Error(`timed out waiting for ${what}; stderr: ${this.stderr}`);
      }
      await sleep(50);
    }
  }

  /** Sends `signal` and returns the exit status. */
  async stop(signal: "SIGINT" | "SIGTERM" = "SIGINT"): Promise<number> {
    this.#kill(signal);
    return await this.exit;
  }
}
