// Ambient types for the few `bun:ffi` functions the Bun backend uses, so `deno check`
// type-checks `bun.ts` without `@types/bun` (whose globals clash with Deno's).
declare module "bun:ffi" {
  export function dlopen(
    path: string,
    symbols: Record<string, { args: string[]; returns: string }>,
  ): { symbols: Record<string, (...args: unknown[]) => unknown>; close(): void };
  export function toArrayBuffer(ptr: number, byteOffset?: number, byteLength?: number): ArrayBuffer;
}
