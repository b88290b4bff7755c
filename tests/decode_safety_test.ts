/**
 * Decoded data cannot pollute objects: attribute keys such as `__proto__` and `constructor`
 * (in point, resource, scope and kvlist attributes) are ordinary data keys of the results, on
 * Bun and Deno alike, and survive into the CLI's JSON.
 */
import assert from "node:assert/strict";
import { create, toBinary } from "@bufbuild/protobuf";
import { ExportMetricsServiceRequestSchema } from "../proto/gen/opentelemetry/proto/collector/metrics/v1/metrics_service_pb.ts";
import { decodeMetricsPayload, flattenRequest, keyValuesToJs } from "../src/decode.ts";
import { pointToJson, toJsonText } from "../src/cli/output.ts";
import { test } from "./harness.ts";

const kv = (key: string, value: string) => ({
  key,
  value: { value: { case: "stringValue" as const, value } },
});

function hostileRequest(): Uint8Array {
  const attrs = [kv("__proto__", "polluted"), kv("constructor", "c"), kv("ok", "1")];
  const nested = {
    key: "map",
    value: {
      value: { case: "kvlistValue" as const, value: { values: [kv("__proto__", "deep")] } },
    },
  };
  return toBinary(
    ExportMetricsServiceRequestSchema,
    create(ExportMetricsServiceRequestSchema, {
      resourceMetrics: [{
        resource: { attributes: attrs },
        scopeMetrics: [{
          scope: { name: "s", attributes: attrs },
          metrics: [{
            name: "m",
            data: {
              case: "gauge",
              value: {
                dataPoints: [{
                  attributes: [...attrs, nested],
                  value: { case: "asDouble", value: 1 },
                }],
              },
            },
          }],
        }],
      }],
    }),
  );
}

test("__proto__ and constructor keys are data, never prototypes", () => {
  const [point] = flattenRequest(decodeMetricsPayload(hostileRequest()));
  for (const attrs of [point!.attributes, point!.resource, point!.scope.attributes]) {
    assert.equal(Object.getPrototypeOf(attrs), Object.prototype);
    assert.ok(Object.hasOwn(attrs, "__proto__"));
    assert.equal(Object.getOwnPropertyDescriptor(attrs, "__proto__")!.value, "polluted");
    assert.equal(Object.getOwnPropertyDescriptor(attrs, "constructor")!.value, "c");
    assert.deepEqual(
      Object.keys(attrs),
      ["__proto__", "constructor", "ok"].concat(
        attrs === point!.attributes ? ["map"] : [],
      ),
    );
  }
  const map = point!.attributes.map as Record<string, unknown>;
  assert.equal(Object.getPrototypeOf(map), Object.prototype);
  assert.equal(Object.getOwnPropertyDescriptor(map, "__proto__")!.value, "deep");
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  const json = JSON.parse(toJsonText(pointToJson(point!)));
  assert.match(
    toJsonText(pointToJson(point!)),
    /"attributes":\{"__proto__":"polluted","constructor":"c"/,
  );
  assert.ok(Object.hasOwn(json.attributes, "ok"));
});

test("keyValuesToJs: a repeated key, the last wins", () => {
  const o = keyValuesToJs([kv("a", "1"), kv("a", "2")] as never);
  assert.deepEqual(o, { a: "2" });
});
