/// <reference types="./bun_test.d.ts" />
/**
 * One test API for `deno test` and `bun test`, so every test file runs under both.
 * A skipped test prints why.
 *
 * @module
 */
type TestFn = () => void | Promise<void>;

const g = globalThis as {
  Deno?: { test: (o: { name: string; fn: TestFn; ignore?: boolean }) => void };
};
const bunTest = g.Deno ? undefined : (await import("bun:test")).test;

/** Registers a test. */
export function test(name: string, fn: TestFn): void {
  if (g.Deno) g.Deno.test({ name, fn });
  else bunTest!(name, fn);
}

/** Registers a test that is skipped when `reason` is a string, printing the reason. */
export function testUnless(reason: string | undefined, name: string, fn: TestFn): void {
  if (reason === undefined) return test(name, fn);
  console.log(`SKIP ${name}: ${reason}`);
  if (g.Deno) g.Deno.test({ name: `${name} (skipped: ${reason})`, fn, ignore: true });
  else {(bunTest as unknown as { skip: (n: string, f: TestFn) => void }).skip(
      `${name} (skipped: ${reason})`,
      fn,
    );}
}

/** Which runtime runs the tests. */
export const runtimeName: "deno" | "bun" = g.Deno ? "deno" : "bun";

/** An environment variable, in either runtime. */
export function env(name: string): string | undefined {
  const p = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process;
  return p?.env?.[name];
}
