// Ambient types for the one `bun:test` function the harness uses (Deno type-checks the tests).
declare module "bun:test" {
  export function test(name: string, fn: () => void | Promise<void>): void;
}
