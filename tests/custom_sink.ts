/**
 * A custom `NativeSink` for tests: a MemorySink's staging and writes, with any member replaced.
 *
 * @module
 */
import { MemorySink, type NativeSink } from "../mod.ts";

/**
 * A sink over a new MemorySink (`memory`) whose members the test replaces: `overrides`, or a
 * function of the MemorySink returning them (to write through it).
 */
export function customSink(
  overrides: Partial<NativeSink> | ((memory: MemorySink) => Partial<NativeSink>),
): NativeSink & { memory: MemorySink } {
  const memory = new MemorySink();
  return {
    memory,
    kind: "custom",
    maxPayloadSize: memory.maxPayloadSize,
    headroom: 0,
    staging: memory.staging,
    isEnabled: () => true,
    write: (s, e) => memory.write(s, e),
    describeError: (c) => `E${c}`,
    shutdown: () => {},
    ...(typeof overrides === "function" ? overrides(memory) : overrides),
  };
}
