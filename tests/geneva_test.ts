// Geneva options as the .NET exporter (OpenTelemetry.Exporter.Geneva 1.18) defines them:
// Account/Namespace as resource attributes, the connection string, prepopulated dimensions'
// validation. Expected bytes follow .NET's documented behaviour (OtlpProtobufSerializer writes
// the resource's attributes, then _microsoft_metrics_account, then _microsoft_metrics_namespace).
import assert from "node:assert/strict";
import type { ResourceMetrics } from "@opentelemetry/sdk-metrics";
import { MemorySink, NativeMetricsExporter } from "../mod.ts";
import { decodeMetricsPayload } from "../src/decode.ts";
import { anyValueToJs } from "../src/decode.ts";
import { parseConnectionString, validateDimensions } from "../src/geneva.ts";
import { test } from "./harness.ts";
import { collectWorkload } from "./workload.ts";

/** Attributes as they decode: integers as bigint. */
function asDecoded(attributes: Record<string, unknown>): [string, unknown][] {
  return Object.entries(attributes).map((
    [k, v],
  ) => [k, typeof v === "number" && Number.isInteger(v) ? BigInt(v) : v]);
}

/** The resource attributes of every event, as [key, value] pairs in wire order. */
function resourcePairs(events: Uint8Array[]): [string, unknown][][] {
  return events.map((e) => {
    const rm = decodeMetricsPayload(e).resourceMetrics[0]!;
    return (rm.resource?.attributes ?? []).map((kv) => [kv.key, anyValueToJs(kv.value)]);
  });
}

function exportWith(
  options: ConstructorParameters<typeof NativeMetricsExporter>[0],
  rm: ResourceMetrics,
) {
  const sink = new MemorySink();
  const exporter = new NativeMetricsExporter({ ...options, sink });
  let code = -1;
  exporter.export(rm, (r) => (code = r.code));
  assert.equal(code, 0);
  return sink.take();
}

test("Geneva: account and namespace follow the resource's own attributes, in every event", async () => {
  const rm = await collectWorkload();
  const own = asDecoded(rm.resource.attributes);
  const events = exportWith({ account: "ProdAccount", namespace: "Checkout" }, rm);
  assert.ok(events.length > 10);
  for (const pairs of resourcePairs(events)) {
    assert.deepEqual(pairs, [
      ...own,
      ["_microsoft_metrics_account", "ProdAccount"],
      ["_microsoft_metrics_namespace", "Checkout"],
    ]);
  }
  // Without the options the resource is written as given.
  assert.deepEqual(resourcePairs(exportWith({}, rm))[0], own);
});

test("Geneva: each of account / namespace only when set; the connection string; options win", async () => {
  const rm = await collectWorkload();
  const own = asDecoded(rm.resource.attributes);
  assert.deepEqual(resourcePairs(exportWith({ namespace: "N" }, rm))[0], [
    ...own,
    ["_microsoft_metrics_namespace", "N"],
  ]);
  assert.deepEqual(
    resourcePairs(
      exportWith(
        { connectionString: "Account=A; Namespace=N;EnableOtlpProtobufEncoding=true" },
        rm,
      ),
    )[0],
    [...own, ["_microsoft_metrics_account", "A"], ["_microsoft_metrics_namespace", "N"]],
  );
  assert.deepEqual(
    resourcePairs(exportWith({ connectionString: "Account=A;Namespace=N", account: "B" }, rm))[0],
    [...own, ["_microsoft_metrics_account", "B"], ["_microsoft_metrics_namespace", "N"]],
  );
});

test("Geneva: an empty resource still carries account and namespace (.NET drops them for Resource.Empty)", () => {
  const rm = {
    resource: { attributes: {} },
    scopeMetrics: [{
      scope: { name: "s" },
      metrics: [{
        descriptor: { name: "g", description: "", unit: "", valueType: 1 },
        aggregationTemporality: 0,
        dataPointType: 2,
        dataPoints: [{ startTime: [1, 0], endTime: [2, 0], attributes: {}, value: 1 }],
      }],
    }],
  } as unknown as ResourceMetrics;
  assert.deepEqual(resourcePairs(exportWith({ account: "A", namespace: "N" }, rm))[0], [
    ["_microsoft_metrics_account", "A"],
    ["_microsoft_metrics_namespace", "N"],
  ]);
});

test("Geneva: a resource attribute of the same name is replaced by the option (.NET writes both)", async () => {
  const rm = await collectWorkload();
  const resource = {
    attributes: { _microsoft_metrics_account: "FromResource", ...rm.resource.attributes },
  };
  const pairs = resourcePairs(
    exportWith({ account: "FromOption" }, { ...rm, resource } as unknown as ResourceMetrics),
  )[0]!;
  const accounts = pairs.filter(([k]) => k === "_microsoft_metrics_account");
  assert.deepEqual(accounts, [["_microsoft_metrics_account", "FromOption"]]);
  assert.deepEqual(pairs.at(-1), ["_microsoft_metrics_account", "FromOption"]);
});

test("Geneva: the resource's attributes changed between exports are written fresh", async () => {
  const rm = await collectWorkload();
  const attributes: Record<string, unknown> = { "service.name": "one" };
  const resource = { attributes };
  const sink = new MemorySink();
  const exporter = new NativeMetricsExporter({ sink, account: "A" });
  exporter.export({ ...rm, resource } as unknown as ResourceMetrics, () => {});
  attributes["service.name"] = "two";
  exporter.export({ ...rm, resource } as unknown as ResourceMetrics, () => {});
  const all = resourcePairs(sink.take());
  assert.equal(all[0]![0]![1], "one");
  assert.equal(all.at(-1)![0]![1], "two");
});

test("Geneva: connection strings parse as .NET's ConnectionStringBuilder parses them", () => {
  assert.deepEqual(parseConnectionString("Account=A;Namespace=N"), {
    account: "A",
    namespace: "N",
  });
  assert.deepEqual(parseConnectionString(" Account = A ; ;Namespace=N;"), {
    account: "A",
    namespace: "N",
  });
  assert.deepEqual(
    parseConnectionString("account=a;Namespace=N"),
    { namespace: "N" },
    "case-sensitive keys",
  );
  assert.deepEqual(
    parseConnectionString("Account=A=B;Namespace=N"),
    { namespace: "N" },
    "two '=': ignored",
  );
  assert.deepEqual(parseConnectionString("Account=A;Account=B"), { account: "B" }, "the last wins");
  assert.deepEqual(
    parseConnectionString("EtwSession=x;PrivatePreviewEnableOtlpProtobufEncoding=true"),
    {},
  );
  for (const bad of ["", "  ", "Account=", "=A", "garbage"]) {
    assert.throws(() => parseConnectionString(bad), RangeError, JSON.stringify(bad));
  }
  assert.throws(
    () => new NativeMetricsExporter({ sink: new MemorySink(), connectionString: "Account=" }),
    RangeError,
  );
  assert.throws(
    () => new NativeMetricsExporter({ sink: new MemorySink(), account: "" }),
    TypeError,
  );
});

test("Geneva: prepopulated dimensions are validated as .NET validates them", () => {
  assert.deepEqual(validateDimensions({ a: "x", n: 1, d: 2.5, b: false, "": "empty name" }), {
    a: "x",
    n: 1,
    d: 2.5,
    b: false,
    "": "empty name",
  });
  for (const reserved of ["_microsoft_metrics_account", "_MICROSOFT_METRICS_NAMESPACE"]) {
    assert.throws(() => validateDimensions({ [reserved]: "x" }), /is reserved/);
  }
  assert.doesNotThrow(() => validateDimensions({ ["k".repeat(256)]: "x" }));
  assert.throws(() => validateDimensions({ ["k".repeat(257)]: "x" }), /256 characters/);
  assert.doesNotThrow(() => validateDimensions({ k: "v".repeat(1024) }));
  assert.throws(() => validateDimensions({ k: "v".repeat(1025) }), /1024 characters/);
  for (const bad of [null, undefined]) {
    assert.throws(() => validateDimensions({ k: bad as unknown as string }), TypeError);
  }
  for (const bad of [NaN, Infinity, {}, [], 1n, Symbol("s")]) {
    assert.throws(
      () => validateDimensions({ k: bad as unknown as string }),
      TypeError,
      String(bad),
    );
  }
  assert.throws(() => validateDimensions(null as unknown as Record<string, string>), TypeError);
  const frozen = validateDimensions({ a: "x" });
  assert.ok(Object.isFrozen(frozen));
});
