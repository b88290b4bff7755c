/**
 * A small command-line parser: `--name value`, `--name=value`, boolean `--flag`, repeatable
 * options, positionals, and `--` ending the options. Each command declares its options once;
 * the same table prints its `--help`.
 *
 * @module
 */

/** One option of a command. */
export interface OptionSpec {
  /** `--name`. */
  name: string;
  /** Takes a value (else a boolean flag). */
  value?: string;
  /** May be given more than once (values collected in order). */
  repeat?: boolean;
  /** Help text. */
  help: string;
  /** Default shown in the help. */
  default?: string;
}

/** A usage error: exit status 2, message and the command's help hint. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** Parsed arguments. */
export interface ParsedArgs {
  /** Option values by name: `string` (last wins), `string[]` (repeatable), `true` (flags). */
  options: Map<string, string | string[] | true>;
  positionals: string[];
}

/** Parses `argv` against `specs`. */
export function parseArgs(argv: readonly string[], specs: readonly OptionSpec[]): ParsedArgs {
  const byName = new Map(specs.map((s) => [s.name, s]));
  const options = new Map<string, string | string[] | true>();
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith("--") || arg === "-") {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    const spec = byName.get(name);
    if (!spec) throw new UsageError(`unknown option --${name}`);
    let value: string | true = true;
    if (spec.value !== undefined) {
      if (eq >= 0) value = arg.slice(eq + 1);
      else if (i + 1 < argv.length) value = argv[++i]!;
      else throw new UsageError(`--${name} needs a value (${spec.value})`);
    } else if (eq >= 0) throw new UsageError(`--${name} takes no value`);
    if (spec.repeat && typeof value === "string") {
      const list = options.get(name);
      if (Array.isArray(list)) list.push(value);
      else options.set(name, [value]);
    } else options.set(name, value);
  }
  return { options, positionals };
}

/** The value of a single-valued option. */
export function stringOption(args: ParsedArgs, name: string): string | undefined {
  const v = args.options.get(name);
  return typeof v === "string" ? v : undefined;
}

/** The values of a repeatable option. */
export function listOption(args: ParsedArgs, name: string): string[] {
  const v = args.options.get(name);
  return Array.isArray(v) ? v : [];
}

/** A numeric option: finite, ≥ `min`; integer when `integer`. */
export function numberOption(
  args: ParsedArgs,
  name: string,
  { min = 0, integer = false }: { min?: number; integer?: boolean } = {},
): number | undefined {
  const text = stringOption(args, name);
  if (text === undefined) return undefined;
  const n = Number(text);
  if (text.trim() === "" || !Number.isFinite(n) || n < min || (integer && !Number.isInteger(n))) {
    throw new UsageError(
      `--${name} must be ${integer ? "an integer" : "a number"} ≥ ${min}, not "${text}"`,
    );
  }
  return n;
}

/** `key=value` pairs (`--attr`, `--header`). */
export function pairsOption(args: ParsedArgs, name: string): [string, string][] {
  return listOption(args, name).map((text) => {
    const eq = text.indexOf("=");
    if (eq <= 0) throw new UsageError(`--${name} takes key=value, not "${text}"`);
    return [text.slice(0, eq), text.slice(eq + 1)];
  });
}

/** The help text of a command. */
export function formatHelp(usage: string, summary: string, specs: readonly OptionSpec[]): string {
  const rows = specs.map((s) => [
    `  --${s.name}${s.value ? ` ${s.value}` : ""}`,
    s.help + (s.repeat ? " (repeatable)" : "") + (s.default ? ` [default: ${s.default}]` : ""),
  ]);
  const width = Math.max(...rows.map((r) => r[0]!.length)) + 2;
  return `Usage: ${usage}\n\n${summary}\n\nOptions:\n` +
    rows.map(([a, b]) => a!.padEnd(width) + b).join("\n") + "\n";
}
