/**
 * The Geneva options of the .NET exporter (`OpenTelemetry.Exporter.Geneva`): account and
 * namespace (written as resource attributes) and prepopulated dimensions (added to every point),
 * validated as .NET validates them.
 *
 * @module
 */

/** The resource attribute the Geneva agent reads the metrics account from. */
export const ACCOUNT_ATTRIBUTE = "_microsoft_metrics_account";
/** The resource attribute the Geneva agent reads the metrics namespace from. */
export const NAMESPACE_ATTRIBUTE = "_microsoft_metrics_namespace";
/** Longest dimension name, in UTF-16 code units (.NET's `MaxDimensionNameSize`). */
export const MAX_DIMENSION_NAME = 256;
/** Longest dimension value as text, in UTF-16 code units (.NET's `MaxDimensionValueSize`). */
export const MAX_DIMENSION_VALUE = 1024;

/** A prepopulated dimension's value. */
export type DimensionValue = string | number | boolean;

/** Account and namespace from a Geneva connection string. */
export interface GenevaAccount {
  /** `Account=…`, if given. */
  account?: string;
  /** `Namespace=…`, if given. */
  namespace?: string;
}

/**
 * Reads `Account` and `Namespace` from a Geneva connection string (`Account=…;Namespace=…`), as
 * the .NET exporter's `ConnectionStringBuilder` does: pairs split on `;` and trimmed, keys
 * case-sensitive, a pair without exactly one `=` ignored, other keys ignored, the last of a
 * duplicate key kept.
 *
 * @throws {RangeError} for an empty string, an empty key or value, or no pair at all
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseConnectionString } from "./geneva.ts";
 * assert.deepEqual(
 *   parseConnectionString("Account=Prod; Namespace=Checkout;EnableOtlpProtobufEncoding=true"),
 *   { account: "Prod", namespace: "Checkout" },
 * );
 * ```
 */
export function parseConnectionString(text: string): GenevaAccount {
  if (typeof text !== "string" || text.trim() === "") {
    throw new RangeError("connectionString must be a non-empty string");
  }
  const pairs = new Map<string, string>();
  for (const token of text.split(";")) {
    if (token.trim() === "") continue;
    const parts = token.split("=");
    if (parts.length !== 2) continue; // as .NET: no "=" or more than one, ignored
    const key = parts[0]!.trim(), value = parts[1]!.trim();
    if (key === "" || value === "") {
      throw new RangeError(`connectionString cannot contain empty keys or values: "${token}"`);
    }
    pairs.set(key, value);
  }
  if (pairs.size === 0) throw new RangeError(`connectionString is invalid: "${text}"`);
  const out: GenevaAccount = {};
  const account = pairs.get("Account"), namespace = pairs.get("Namespace");
  if (account !== undefined) out.account = account;
  if (namespace !== undefined) out.namespace = namespace;
  return out;
}

/**
 * Validates prepopulated dimensions as .NET's `PrepopulatedMetricDimensions` setter does, and
 * returns a frozen copy: names at most 256 characters, values not null and at most 1024
 * characters as text, the account/namespace names reserved (in any case). Stricter than .NET:
 * values must be strings, finite numbers or booleans (what OTLP has types for).
 *
 * @throws {TypeError | RangeError} naming the offending dimension
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { validateDimensions } from "./geneva.ts";
 * assert.deepEqual(validateDimensions({ region: "eu", replica: 3 }), { region: "eu", replica: 3 });
 * assert.throws(() => validateDimensions({ _Microsoft_Metrics_Account: "x" }), RangeError);
 * ```
 */
export function validateDimensions(
  dimensions: Readonly<Record<string, DimensionValue>>,
): Readonly<Record<string, DimensionValue>> {
  if (dimensions === null || typeof dimensions !== "object" || Array.isArray(dimensions)) {
    throw new TypeError("prepopulatedDimensions must be an object of name → value");
  }
  const out: Record<string, DimensionValue> = {};
  for (const [key, value] of Object.entries(dimensions)) {
    const lower = key.toLowerCase();
    if (lower === ACCOUNT_ATTRIBUTE || lower === NAMESPACE_ATTRIBUTE) {
      throw new RangeError(
        `The dimension: ${key} is reserved and cannot be used as a prepopulated dimension ` +
          `(use the account / namespace options)`,
      );
    }
    if (key.length > MAX_DIMENSION_NAME) {
      throw new RangeError(
        `The dimension: ${key.slice(0, 40)}… exceeds the maximum allowed limit of ` +
          `${MAX_DIMENSION_NAME} characters for a dimension name`,
      );
    }
    if (value === null || value === undefined) {
      throw new TypeError(`prepopulatedDimensions["${key}"] cannot be null or undefined`);
    }
    if (
      typeof value !== "string" && typeof value !== "boolean" &&
      !(typeof value === "number" && Number.isFinite(value))
    ) {
      throw new TypeError(
        `prepopulatedDimensions["${key}"] must be a string, a finite number or a boolean, ` +
          `got ${typeof value}`,
      );
    }
    if (String(value).length > MAX_DIMENSION_VALUE) {
      throw new RangeError(
        `Value provided for the dimension: ${key} exceeds the maximum allowed limit of ` +
          `${MAX_DIMENSION_VALUE} characters for dimension value`,
      );
    }
    Object.defineProperty(out, key, { value, enumerable: true, writable: false });
  }
  return Object.freeze(out);
}

/**
 * The account and namespace options, resolved: explicit `account` / `namespace` win over the
 * connection string's.
 *
 * @throws {TypeError | RangeError} for an empty or non-string account or namespace, or a bad
 *   connection string
 */
export function resolveAccount(options: {
  account?: string;
  namespace?: string;
  connectionString?: string;
}): GenevaAccount {
  const parsed = options.connectionString === undefined
    ? {}
    : parseConnectionString(options.connectionString);
  const out: GenevaAccount = { ...parsed };
  for (const name of ["account", "namespace"] as const) {
    const value = options[name];
    if (value === undefined) continue;
    if (typeof value !== "string" || value.trim() === "") {
      throw new TypeError(`${name} must be a non-empty string`);
    }
    out[name] = value;
  }
  return out;
}

/**
 * The resource attributes with the account and namespace added after the resource's own
 * (replacing a resource attribute of the same name, where .NET would write both).
 */
export function withAccount(
  attributes: Readonly<Record<string, unknown>>,
  account: GenevaAccount,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(attributes)) {
    if (key === ACCOUNT_ATTRIBUTE && account.account !== undefined) continue;
    if (key === NAMESPACE_ATTRIBUTE && account.namespace !== undefined) continue;
    Object.defineProperty(out, key, {
      value: attributes[key],
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  if (account.account !== undefined) out[ACCOUNT_ATTRIBUTE] = account.account;
  if (account.namespace !== undefined) out[NAMESPACE_ATTRIBUTE] = account.namespace;
  return out;
}
