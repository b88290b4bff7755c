/**
 * The parts of a per-point `ExportMetricsServiceRequest` that every point of a metric shares:
 * resource, scope, metric header and the trailing fields, serialized once and copied around
 * each point's body.
 *
 * @module
 */
import type { InstrumentationScope } from "@opentelemetry/core";
import type { MetricData, ResourceMetrics } from "@opentelemetry/sdk-metrics";
import { AttributeCache, type AttributeDropCounts, SeriesSlots } from "./attributes.ts";
import { ProtoWriter } from "./wire.ts";

/** `DataPointType` of `@opentelemetry/sdk-metrics`, by value. */
export const PointKind = { Histogram: 0, ExponentialHistogram: 1, Gauge: 2, Sum: 3 } as const;
/** One of the {@linkcode PointKind} values. */
export type PointKind = typeof PointKind[keyof typeof PointKind];

/** Everything but the point body, for one metric. */
export interface MetricEnvelope {
  /** The metric's name (for reports). */
  readonly name: string;
  /** `DataPointType`: which body encoder applies. */
  readonly kind: PointKind;
  /** Whether numbers are written as `as_int` (INT instruments). */
  readonly integer: boolean;
  /** `ResourceMetrics.resource` with its tag and length. */
  readonly resource: Uint8Array;
  /** `ScopeMetrics.scope` with its tag and length. */
  readonly scope: Uint8Array;
  /** `Metric` name, description and unit fields. */
  readonly metricHead: Uint8Array;
  /** The tag of the `Metric.data` oneof member (gauge 5, sum 7, histogram 9, exponential 10). */
  readonly dataTag: number;
  /** Bytes after the point: data trailer (temporality, monotonic), scope schema_url, resource schema_url. */
  readonly tail: Uint8Array;
  /** Length of the part of `tail` inside the `Metric.data` message. */
  readonly dataTailLength: number;
  /** Length of the part of `tail` inside `ScopeMetrics`. */
  readonly scopeTailLength: number;
  /** Bytes of prefix the point body needs in front of it, at most. */
  readonly reserve: number;
  /**
   * The whole prefix in front of a point body, every constant byte in place and zeros where
   * the five lengths go, for the varint sizes `key` packs (see {@linkcode prefixKey}).
   */
  prefix(key: number): Uint8Array;
  /** The stream's attribute sets by point position, for the point encoder's cache. */
  readonly slots: SeriesSlots;
}

/**
 * Packs the varint sizes (1..5) of the five lengths in front of a point body into one number:
 * the key of {@linkcode MetricEnvelope.prefix}.
 */
export function prefixKey(
  resourceMetrics: number,
  scopeMetrics: number,
  metric: number,
  data: number,
  body: number,
): number {
  return body | (data << 3) | (metric << 6) | (scopeMetrics << 9) | (resourceMetrics << 12);
}

/**
 * A {@linkcode MetricEnvelope} with its prefixes: made once per metric stream and kept across
 * collections, so a point costs one copy of its prefix, not one per enclosing message.
 */
class Envelope implements MetricEnvelope {
  readonly name: string;
  readonly kind: PointKind;
  readonly integer: boolean;
  readonly resource: Uint8Array;
  readonly scope: Uint8Array;
  readonly metricHead: Uint8Array;
  readonly dataTag: number;
  readonly tail: Uint8Array;
  readonly dataTailLength: number;
  readonly scopeTailLength: number;
  readonly reserve: number;
  readonly slots: SeriesSlots = new SeriesSlots();
  /** What the envelope was made from: it is reused only while all of these stay the same. */
  readonly source: {
    resource: object;
    scope: object;
    type: number;
    temporality: number;
    monotonic: boolean;
    valueType: number;
    name: string;
  };
  #lastKey = -1;
  #lastPrefix: Uint8Array = new Uint8Array(0);
  readonly #prefixes = new Map<number, Uint8Array>();

  constructor(fields: Omit<MetricEnvelope, "prefix" | "slots">, source: Envelope["source"]) {
    this.name = fields.name;
    this.kind = fields.kind;
    this.integer = fields.integer;
    this.resource = fields.resource;
    this.scope = fields.scope;
    this.metricHead = fields.metricHead;
    this.dataTag = fields.dataTag;
    this.tail = fields.tail;
    this.dataTailLength = fields.dataTailLength;
    this.scopeTailLength = fields.scopeTailLength;
    this.reserve = fields.reserve;
    this.source = source;
  }

  prefix(key: number): Uint8Array {
    if (key === this.#lastKey) return this.#lastPrefix;
    let prefix = this.#prefixes.get(key);
    if (!prefix) {
      prefix = this.#build(key);
      this.#prefixes.set(key, prefix);
    }
    this.#lastKey = key;
    this.#lastPrefix = prefix;
    return prefix;
  }

  #build(key: number): Uint8Array {
    const body = key & 7, data = (key >> 3) & 7, metric = (key >> 6) & 7;
    const scopeMetrics = (key >> 9) & 7, resourceMetrics = (key >> 12) & 7;
    const r = this.resource, s = this.scope, h = this.metricHead;
    const out = new Uint8Array(
      5 + resourceMetrics + r.length + scopeMetrics + s.length + metric + h.length + data + body,
    );
    let p = 0;
    out[p++] = 0x0a; // ExportMetricsServiceRequest.resource_metrics = 1
    p += resourceMetrics;
    out.set(r, p);
    p += r.length;
    out[p++] = 0x12; // ResourceMetrics.scope_metrics = 2
    p += scopeMetrics;
    out.set(s, p);
    p += s.length;
    out[p++] = 0x12; // ScopeMetrics.metrics = 2
    p += metric;
    out.set(h, p);
    p += h.length;
    out[p++] = this.dataTag;
    p += data;
    out[p] = 0x0a; // data_points = 1
    return out;
  }
}

const DATA_TAGS = [(9 << 3) | 2, (10 << 3) | 2, (5 << 3) | 2, (7 << 3) | 2];

/** Temporality as OTLP numbers it: SDK DELTA(0) → 1, CUMULATIVE(1) → 2. */
function protoTemporality(t: number): number {
  return t === 0 ? 1 : t === 1 ? 2 : 0;
}

/**
 * Builds and caches envelopes. Resources, scopes and descriptors are cached by object identity
 * (the SDK reuses them across collections), weakly.
 */
export class EnvelopeCache {
  #resources = new WeakMap<object, { resource: Uint8Array; tail: Uint8Array }>();
  #scopes = new WeakMap<object, { scope: Uint8Array; tail: Uint8Array }>();
  #heads = new WeakMap<object, Uint8Array>();
  #envelopes = new WeakMap<object, Envelope>();
  #writer = new ProtoWriter(new Uint8Array(1024));
  #attributes = new AttributeCache();

  /**
   * The envelope of `metric` under `resource` and `scope`: the one made for this metric stream
   * before (the SDK hands the same descriptor object each collection) unless anything it was
   * made from changed.
   */
  envelope(
    resource: ResourceMetrics["resource"],
    scope: InstrumentationScope,
    metric: MetricData,
    drops: AttributeDropCounts,
  ): MetricEnvelope {
    const descriptor = metric.descriptor;
    const cached = this.#envelopes.get(descriptor);
    if (cached) {
      const s = cached.source;
      if (
        s.resource === resource && s.scope === scope && s.type === metric.dataPointType &&
        s.temporality === metric.aggregationTemporality &&
        s.monotonic === ((metric as { isMonotonic?: boolean }).isMonotonic === true) &&
        s.valueType === descriptor.valueType && s.name === descriptor.name
      ) return cached;
    }
    const env = this.#make(resource, scope, metric, drops);
    this.#envelopes.set(descriptor, env);
    return env;
  }

  #make(
    resource: ResourceMetrics["resource"],
    scope: InstrumentationScope,
    metric: MetricData,
    drops: AttributeDropCounts,
  ): Envelope {
    const r = this.#resourceParts(resource, drops);
    const s = this.#scopeParts(scope, drops);
    const head = this.#head(metric.descriptor);
    const kind = metric.dataPointType as number as PointKind;
    let dataTail: Uint8Array;
    const temporality = protoTemporality(metric.aggregationTemporality);
    const monotonic = (metric as { isMonotonic?: boolean }).isMonotonic === true;
    if (kind === PointKind.Gauge) dataTail = new Uint8Array(0);
    else if (kind === PointKind.Sum) {
      dataTail = new Uint8Array([
        ...(temporality ? [0x10, temporality] : []),
        ...(monotonic ? [0x18, 1] : []),
      ]);
    } else dataTail = new Uint8Array(temporality ? [0x10, temporality] : []);
    const tail = new Uint8Array(dataTail.length + s.tail.length + r.tail.length);
    tail.set(dataTail, 0);
    tail.set(s.tail, dataTail.length);
    tail.set(r.tail, dataTail.length + s.tail.length);
    return new Envelope({
      name: metric.descriptor.name,
      kind,
      integer: metric.descriptor.valueType === 0,
      resource: r.resource,
      scope: s.scope,
      metricHead: head,
      dataTag: DATA_TAGS[kind] ?? DATA_TAGS[PointKind.Gauge]!,
      tail,
      dataTailLength: dataTail.length,
      scopeTailLength: s.tail.length,
      // five tags and five varints of at most 5 bytes each
      reserve: r.resource.length + s.scope.length + head.length + 30,
    }, {
      resource,
      scope,
      type: metric.dataPointType,
      temporality: metric.aggregationTemporality,
      monotonic,
      valueType: metric.descriptor.valueType,
      name: metric.descriptor.name,
    });
  }

  #resourceParts(resource: ResourceMetrics["resource"], drops: AttributeDropCounts) {
    let parts = this.#resources.get(resource);
    if (parts) return parts;
    const w = this.#writer;
    w.reset(0);
    this.#attributes.write(w, resource.attributes, 1, drops);
    w.tag(2, 0); // dropped_attributes_count = 0, written as otlp-transformer writes it
    w.uint32(0);
    const body = w.buf.slice(0, w.pos);
    parts = { resource: wrap(1, body), tail: stringField(3, resource.schemaUrl) };
    this.#resources.set(resource, parts);
    return parts;
  }

  #scopeParts(scope: InstrumentationScope, drops: AttributeDropCounts) {
    let parts = this.#scopes.get(scope);
    if (parts) return parts;
    const w = this.#writer;
    w.reset(0);
    w.tag(1, 2);
    w.string(scope.name);
    if (scope.version) {
      w.tag(2, 2);
      w.string(scope.version);
    }
    const attributes = (scope as { attributes?: Record<string, unknown> }).attributes;
    this.#attributes.write(w, attributes, 3, drops);
    const body = w.buf.slice(0, w.pos);
    parts = { scope: wrap(1, body), tail: stringField(3, scope.schemaUrl) };
    this.#scopes.set(scope, parts);
    return parts;
  }

  #head(descriptor: MetricData["descriptor"]): Uint8Array {
    let head = this.#heads.get(descriptor);
    if (head) return head;
    const w = this.#writer;
    w.reset(0);
    w.tag(1, 2);
    w.string(descriptor.name);
    if (descriptor.description) {
      w.tag(2, 2);
      w.string(descriptor.description);
    }
    if (descriptor.unit) {
      w.tag(3, 2);
      w.string(descriptor.unit);
    }
    head = w.buf.slice(0, w.pos);
    this.#heads.set(descriptor, head);
    return head;
  }
}

/** `tag(field, LEN) length body`. */
function wrap(field: number, body: Uint8Array): Uint8Array {
  const w = new ProtoWriter(new Uint8Array(body.length + 6));
  w.tag(field, 2);
  w.bytes(body);
  return w.buf.slice(0, w.pos);
}

/** A string field, or nothing for an empty or missing string. */
function stringField(field: number, value: string | undefined): Uint8Array {
  if (!value) return new Uint8Array(0);
  const w = new ProtoWriter(new Uint8Array(value.length * 3 + 6));
  w.tag(field, 2);
  w.string(value);
  return w.buf.slice(0, w.pos);
}
