/// <reference types="node" />
/**
 * SIGINT/SIGTERM for the long-running commands. The handlers are installed once and never
 * removed: on Deno, removing the last listener of a signal while it is being delivered has
 * been seen to let the default action kill the process, so callbacks come and go instead.
 * A signal with no callback registered exits at once with 128 + the signal number.
 *
 * @module
 */
import process from "node:process";

type Signal = "SIGINT" | "SIGTERM";
const callbacks = new Set<(signal: Signal) => void>();
let installed = false;

/** Calls `callback` on SIGINT/SIGTERM until the returned function is called. */
export function onStopSignal(callback: (signal: Signal) => void): () => void {
  if (!installed) {
    installed = true;
    for (const [signal, number] of [["SIGINT", 2], ["SIGTERM", 15]] as const) {
      process.on(signal, () => {
        if (callbacks.size === 0) process.exit(128 + number);
        for (const cb of [...callbacks]) cb(signal);
      });
    }
  }
  callbacks.add(callback);
  return () => callbacks.delete(callback);
}
