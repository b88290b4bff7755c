export function forwardCommand(_a: string[]): number {
  return 0;
}
