/**
 * Another process holding a user_events registration: `register_hold.c` (compiled here with
 * gcc, once per run) registers a definition byte for byte, as the Rust crate or the .NET
 * exporter would, and keeps it until released. For tests/kernel/registration_kernel_test.ts.
 *
 * @module
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { hex } from "../../hex.ts";

const SOURCE = new URL("./register_hold.c", import.meta.url).pathname;
let compiled: string | undefined;

/** Compiles register_hold.c into $TMPDIR (the VM's tmpfs); returns the executable's path. */
export function registerHoldBinary(): string {
  if (compiled && existsSync(compiled)) return compiled;
  const tmp = (globalThis as unknown as { process: { env: Record<string, string | undefined> } })
    .process.env.TMPDIR ?? "/tmp";
  const out = `${tmp}/register_hold`;
  const r = spawnSync("gcc", ["-O1", "-Wall", "-Werror", "-o", out, SOURCE], { encoding: "utf8" });
  if (r.status !== 0) {
    throw new Error(`gcc ${SOURCE} failed (${r.error ?? r.status}): ${r.stderr}`);
  }
  compiled = out;
  return out;
}

/** The helper's first answer: registered (with the kernel's write index) or the errno. */
export type Registration = { registered: true; writeIndex: number } | {
  registered: false;
  errno: number;
  message: string;
};

/** One helper process: registered (or refused) definition, held until {@linkcode release}. */
export class HeldRegistration {
  readonly pid: number;
  readonly result: Registration;
  readonly #child: ChildProcess;
  readonly #lines: AsyncLines;

  private constructor(child: ChildProcess, lines: AsyncLines, result: Registration) {
    this.#child = child;
    this.#lines = lines;
    this.pid = child.pid!;
    this.result = result;
  }

  /** Starts a helper registering `definition`; resolves once the kernel answered. */
  static async start(definition: string): Promise<HeldRegistration> {
    const child = spawn(registerHoldBinary(), [definition], { stdio: ["pipe", "pipe", "inherit"] });
    const lines = new AsyncLines(child);
    const first = await lines.next();
    let result: Registration;
    const ok = /^registered (\d+)$/.exec(first);
    const err = /^error (\d+) (.*)$/.exec(first);
    if (ok) result = { registered: true, writeIndex: Number(ok[1]) };
    else if (err) result = { registered: false, errno: Number(err[1]), message: err[2]! };
    else throw new Error(`register_hold said: ${JSON.stringify(first)}`);
    const held = new HeldRegistration(child, lines, result);
    if (!result.registered) await held.#exited();
    return held;
  }

  /** Writes one event with `payload` (the Rust/.NET layout); returns the byte count or -errno. */
  async write(payload: Uint8Array): Promise<number> {
    this.#child.stdin!.write(`write ${hex(payload)}\n`);
    const line = await this.#lines.next();
    const ok = /^wrote (\d+)$/.exec(line);
    if (ok) return Number(ok[1]);
    const err = /^error (\d+)/.exec(line);
    if (err) return -Number(err[1]);
    throw new Error(`register_hold said: ${JSON.stringify(line)}`);
  }

  /** The helper's enable word. */
  async enableWord(): Promise<number> {
    this.#child.stdin!.write("enabled\n");
    const line = await this.#lines.next();
    const m = /^enabled (\d+)$/.exec(line);
    if (!m) throw new Error(`register_hold said: ${JSON.stringify(line)}`);
    return Number(m[1]);
  }

  /** Unregisters and ends the helper (a no-op if the registration was refused). */
  async release(): Promise<void> {
    if (!this.result.registered || this.#child.exitCode !== null) return;
    this.#child.stdin!.end("exit\n");
    const bye = await this.#lines.next();
    if (bye !== "bye") throw new Error(`register_hold ended with: ${JSON.stringify(bye)}`);
    await this.#exited();
  }

  #exited(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => this.#child.once("exit", () => resolve()));
  }
}

/** stdout of a child as lines, awaited one at a time (bounded: 10 s per line). */
class AsyncLines {
  #buffer = "";
  #ready: string[] = [];
  #waiting: ((line: string) => void)[] = [];
  #ended = false;

  constructor(child: ChildProcess) {
    child.stdout!.setEncoding("utf8");
    child.stdout!.on("data", (chunk: string) => {
      this.#buffer += chunk;
      let nl;
      while ((nl = this.#buffer.indexOf("\n")) >= 0) {
        this.#push(this.#buffer.slice(0, nl));
        this.#buffer = this.#buffer.slice(nl + 1);
      }
    });
    child.stdout!.on("end", () => {
      this.#ended = true;
      while (this.#waiting.length) this.#waiting.shift()!("<eof>");
    });
  }

  #push(line: string): void {
    const waiter = this.#waiting.shift();
    if (waiter) waiter(line);
    else this.#ready.push(line);
  }

  next(): Promise<string> {
    const line = this.#ready.shift();
    if (line !== undefined) return Promise.resolve(line);
    if (this.#ended) return Promise.resolve("<eof>");
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("register_hold: no answer in 10 s")), 10_000);
      this.#waiting.push((l) => {
        clearTimeout(timer);
        resolve(l);
      });
    });
  }
}
