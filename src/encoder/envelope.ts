/**
 * The parts of a per-point `ExportMetricsServiceRequest` that every point of a metric shares —
 * resource, scope, metric header and the trailing fields — serialized once per metric stream
 * and copied around each point's body, and the one place where the lengths of the enclosing
 * messages are computed ({@linkcode MetricEnvelope.frame}).
 *
 * A request with its points, and what the envelope holds of it:
 * ```
 * ExportMetricsServiceRequest
 *   1 resource_metrics: ResourceMetrics ─┐ prefix (constant bytes, gaps for 4 lengths)
 *       1 resource: Resource             │  `resource` part
 *       2 scope_metrics: ScopeMetrics    │
 *           1 scope: InstrumentationScope│  `scope` part
 *           2 metrics: Metric            │
 *               1 name, 2 description, 3 unit   `metricHead` part
 *               5|7|9|10 data: Gauge|Sum|Histogram|ExponentialHistogram ─┘
 *                   1 data_points: …DataPoint   ← the points (PointEncoder)
 *                   2 aggregation_temporality, 3 is_monotonic  ─┐ tail
 *           3 schema_url (scope)                                │
 *       3 schema_url (resource)                                ─┘
 * ```
 *
 * ## The envelope cache ({@linkcode EnvelopeCache})
 * - **What**: one {@linkcode MetricEnvelope} per metric stream, with its prefixes and its
 *   stream's attribute-set cache.
 * - **Keyed by**: the metric's descriptor object (the SDK hands the same one every
 *   collection), weakly. The key only finds a candidate.
 * - **Valid when** (checked on every {@linkcode EnvelopeCache.envelope} call, once per metric
 *   per export): every input the envelope's bytes are made of is the same as when it was made —
 *   the descriptor's name, description, unit and value type, the data point type, temporality
 *   and monotonicity, the scope's name, version and schema URL, the resource's schema URL
 *   (each compared with `===`), and the encoded resource and scope attributes, re-derived
 *   (through their own content-validated {@linkcode AttributeSetCache}, so usually one
 *   comparison per attribute) and compared byte for byte. Otherwise a new envelope is made.
 * - **Why it cannot go stale**: the envelope's bytes are a function of exactly those inputs,
 *   so equal inputs give equal bytes; a Resource, scope or descriptor mutated between
 *   collections fails the check.
 * - **Bounded**: one envelope per live descriptor object (a `WeakMap`), each with at most one
 *   prefix per combination of length sizes (at most 5^4).
 *
 * @module
 */
import type { MetricData, ResourceMetrics, ScopeMetrics } from "@opentelemetry/sdk-metrics";

/** The SDK's instrumentation scope, as `ScopeMetrics` carries it. */
type InstrumentationScope = ScopeMetrics["scope"];
import { type AttributeDropCounts, AttributeSetCache, emptyDropCounts } from "./attributes.ts";
import * as F from "./fields.ts";
import { ProtoWriter, putVarint, tag, varintSize, WireType } from "./wire.ts";

const LEN = WireType.LengthDelimited;

/** `DataPointType` of `@opentelemetry/sdk-metrics`, by value. */
export const PointKind = { Histogram: 0, ExponentialHistogram: 1, Gauge: 2, Sum: 3 } as const;
/** One of the {@linkcode PointKind} values. */
export type PointKind = typeof PointKind[keyof typeof PointKind];

/** `Metric.data` field number per {@linkcode PointKind}. */
const DATA_FIELDS: Record<number, number> = {
  [PointKind.Histogram]: F.Metric.histogram,
  [PointKind.ExponentialHistogram]: F.Metric.exponentialHistogram,
  [PointKind.Gauge]: F.Metric.gauge,
  [PointKind.Sum]: F.Metric.sum,
};

/** Bytes an envelope part may take; a larger part makes every point of its metric oversize. */
export const MAX_ENVELOPE_PART = 65536;

/**
 * The lengths of the messages around some data points, innermost first, as
 * {@linkcode MetricEnvelope.frame} computes them (filled in place: nothing allocated).
 */
export class Frame {
  /** Length of the `Metric.data` message (`Gauge`, `Sum`, …). */
  data = 0;
  /** Length of the `Metric` message. */
  metric = 0;
  /** Length of the `ScopeMetrics` message. */
  scopeMetrics = 0;
  /** Length of the `ResourceMetrics` message. */
  resourceMetrics = 0;
  /** Length of the whole request. */
  request = 0;
  /** The varint sizes of the four lengths, packed as the key of a prefix. */
  key = 0;
}

/** Everything but the data points, for one metric. */
export interface MetricEnvelope {
  /** The metric's name (for reports). */
  readonly name: string;
  /** `DataPointType`: which body encoder applies. */
  readonly kind: PointKind;
  /** Whether numbers are written as `as_int` (INT instruments). */
  readonly integer: boolean;
  /** Whether a part outgrew {@linkcode MAX_ENVELOPE_PART}: every point is then oversize. */
  readonly oversize: boolean;
  /** `ResourceMetrics.resource`, tag and length included. */
  readonly resource: Uint8Array;
  /** `ScopeMetrics.scope`, tag and length included. */
  readonly scope: Uint8Array;
  /** `Metric` name, description and unit fields. */
  readonly metricHead: Uint8Array;
  /** The tag of the `Metric.data` oneof member. */
  readonly dataTag: number;
  /** Bytes after the points: data trailer, scope schema_url, resource schema_url. */
  readonly tail: Uint8Array;
  /** Bytes of prefix in front of the data points, at most. */
  readonly reserve: number;
  /** The attribute sets of this stream's points, by position. */
  readonly attributes: AttributeSetCache;
  /** Computes into `out` the lengths around `pointsLength` bytes of `data_points` fields. */
  frame(pointsLength: number, out: Frame): void;
  /**
   * The prefix in front of the data points for the length sizes of `frame`: every constant
   * byte in place, the four lengths to be filled by {@linkcode writeLengths}.
   */
  prefix(frame: Frame): Uint8Array;
  /** Writes the four lengths of `frame` into a prefix copied to `b` at `start`. */
  writeLengths(b: Uint8Array, start: number, frame: Frame): void;
}

/** What an envelope was made from: it is reused only while all of these stay the same. */
interface Source {
  name: string;
  description: string;
  unit: string;
  valueType: number;
  type: number;
  temporality: number;
  monotonic: boolean;
  scopeName: string;
  scopeVersion: string | undefined;
  scopeSchemaUrl: string | undefined;
  resourceSchemaUrl: string | undefined;
  /** The encoded resource attributes, and the set they are re-derived through. */
  resourceAttributes: Uint8Array;
  resourceSet: AttributeSetCache;
  scopeAttributes: Uint8Array;
  scopeSet: AttributeSetCache;
}

class Envelope implements MetricEnvelope {
  readonly name: string;
  readonly kind: PointKind;
  readonly integer: boolean;
  readonly oversize: boolean;
  readonly resource: Uint8Array;
  readonly scope: Uint8Array;
  readonly metricHead: Uint8Array;
  readonly dataTag: number;
  readonly tail: Uint8Array;
  readonly reserve: number;
  readonly attributes = new AttributeSetCache();
  readonly source: Source;
  readonly #dataTailLength: number;
  readonly #scopeTailLength: number;
  readonly #resourceTailLength: number;
  #lastKey = -1;
  #lastPrefix: Uint8Array = new Uint8Array(0);
  readonly #prefixes = new Map<number, Uint8Array>();

  constructor(
    parts: {
      name: string;
      kind: PointKind;
      integer: boolean;
      oversize: boolean;
      resource: Uint8Array;
      scope: Uint8Array;
      metricHead: Uint8Array;
      dataTail: Uint8Array;
      scopeTail: Uint8Array;
      resourceTail: Uint8Array;
    },
    source: Source,
  ) {
    this.name = parts.name;
    this.kind = parts.kind;
    this.integer = parts.integer;
    this.oversize = parts.oversize;
    this.resource = parts.resource;
    this.scope = parts.scope;
    this.metricHead = parts.metricHead;
    this.dataTag = tag(DATA_FIELDS[parts.kind] ?? F.Metric.gauge, LEN);
    const { dataTail, scopeTail, resourceTail } = parts;
    this.#dataTailLength = dataTail.length;
    this.#scopeTailLength = scopeTail.length;
    this.#resourceTailLength = resourceTail.length;
    this.tail = concat([dataTail, scopeTail, resourceTail]);
    // four tags and four varints of at most 5 bytes each
    this.reserve = this.resource.length + this.scope.length + this.metricHead.length + 24;
    this.source = source;
  }

  frame(pointsLength: number, out: Frame): void {
    const data = pointsLength + this.#dataTailLength;
    const dataSize = varintSize(data);
    const metric = this.metricHead.length + 1 + dataSize + data;
    const metricSize = varintSize(metric);
    const scopeMetrics = this.scope.length + 1 + metricSize + metric + this.#scopeTailLength;
    const scopeMetricsSize = varintSize(scopeMetrics);
    const resourceMetrics = this.resource.length + 1 + scopeMetricsSize + scopeMetrics +
      this.#resourceTailLength;
    const resourceMetricsSize = varintSize(resourceMetrics);
    out.data = data;
    out.metric = metric;
    out.scopeMetrics = scopeMetrics;
    out.resourceMetrics = resourceMetrics;
    out.request = 1 + resourceMetricsSize + resourceMetrics;
    out.key = dataSize | (metricSize << 3) | (scopeMetricsSize << 6) | (resourceMetricsSize << 9);
  }

  prefix(frame: Frame): Uint8Array {
    const key = frame.key;
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
    const data = key & 7, metric = (key >> 3) & 7;
    const scopeMetrics = (key >> 6) & 7, resourceMetrics = (key >> 9) & 7;
    const r = this.resource, s = this.scope, h = this.metricHead;
    const out = new Uint8Array(
      4 + resourceMetrics + r.length + scopeMetrics + s.length + metric + h.length + data,
    );
    let p = 0;
    out[p++] = tag(F.Request.resourceMetrics, LEN);
    p += resourceMetrics;
    out.set(r, p);
    p += r.length;
    out[p++] = tag(F.ResourceMetrics.scopeMetrics, LEN);
    p += scopeMetrics;
    out.set(s, p);
    p += s.length;
    out[p++] = tag(F.ScopeMetrics.metrics, LEN);
    p += metric;
    out.set(h, p);
    p += h.length;
    out[p++] = this.dataTag;
    return out;
  }

  writeLengths(b: Uint8Array, start: number, frame: Frame): void {
    let p = putVarint(b, start + 1, frame.resourceMetrics);
    p += this.resource.length + 1;
    p = putVarint(b, p, frame.scopeMetrics);
    p += this.scope.length + 1;
    p = putVarint(b, p, frame.metric);
    p += this.metricHead.length + 1;
    putVarint(b, p, frame.data);
  }
}

/** Temporality as OTLP numbers it: SDK DELTA(0) → 1, CUMULATIVE(1) → 2, else none (0). */
function protoTemporality(t: number): number {
  return t === 0 ? 1 : t === 1 ? 2 : 0;
}

/** The SDK's resource, as `ResourceMetrics` carries it. */
export type Resource = ResourceMetrics["resource"];

/**
 * Builds envelopes and keeps them while they are valid (see the module notes).
 *
 * @example
 * ```ts
 * import { EnvelopeCache } from "./envelope.ts";
 * import { emptyDropCounts } from "./attributes.ts";
 * const cache = new EnvelopeCache();
 * const resource = { attributes: { "service.name": "demo" } } as never;
 * const metric = {
 *   descriptor: { name: "m", description: "", unit: "", valueType: 1 },
 *   aggregationTemporality: 0,
 *   dataPointType: 2,
 *   dataPoints: [],
 * } as never;
 * const env = cache.envelope(resource, { name: "s" }, metric, emptyDropCounts());
 * if (cache.envelope(resource, { name: "s" }, metric, emptyDropCounts()) !== env) {
 *   throw new Error("same content: same envelope");
 * }
 * ```
 */
export class EnvelopeCache {
  #envelopes = new WeakMap<object, Envelope>();
  // Where parts are encoded, and re-derived for validation.
  #writer = new ProtoWriter(new Uint8Array(new ArrayBuffer(MAX_ENVELOPE_PART)));
  #scratchDrops = emptyDropCounts();

  /**
   * The envelope of `metric` under `resource` and `scope`: the one made for this metric stream
   * before, unless anything it was made from changed.
   */
  envelope(
    resource: Resource,
    scope: InstrumentationScope,
    metric: MetricData,
    drops: AttributeDropCounts,
  ): MetricEnvelope {
    const descriptor = metric.descriptor;
    const cached = this.#envelopes.get(descriptor);
    if (cached && this.#valid(cached.source, resource, scope, metric)) return cached;
    const env = this.#make(resource, scope, metric, drops);
    this.#envelopes.set(descriptor, env);
    return env;
  }

  #valid(s: Source, resource: Resource, scope: InstrumentationScope, metric: MetricData): boolean {
    const d = metric.descriptor;
    if (
      s.name !== d.name || s.description !== d.description || s.unit !== d.unit ||
      s.valueType !== d.valueType || s.type !== metric.dataPointType ||
      s.temporality !== metric.aggregationTemporality ||
      s.monotonic !== isMonotonic(metric) || s.scopeName !== scope.name ||
      s.scopeVersion !== scope.version || s.scopeSchemaUrl !== scope.schemaUrl ||
      s.resourceSchemaUrl !== resource.schemaUrl
    ) return false;
    return this.#sameAttributes(
      resource.attributes,
      F.Resource.attributes,
      s.resourceSet,
      s.resourceAttributes,
    ) &&
      this.#sameAttributes(
        scopeAttributes(scope),
        F.Scope.attributes,
        s.scopeSet,
        s.scopeAttributes,
      );
  }

  /** Whether `attributes` encode to `expected` (re-derived through `set`). */
  #sameAttributes(
    attributes: unknown,
    field: number,
    set: AttributeSetCache,
    expected: Uint8Array,
  ): boolean {
    const w = this.#writer;
    w.reset(0);
    set.write(w, attributes, field, this.#scratchDrops, 0);
    if (w.spilled || w.pos !== expected.length) return false;
    const b = w.buf;
    for (let i = 0; i < expected.length; i++) if (b[i] !== expected[i]) return false;
    return true;
  }

  /** Encodes `attributes` under `field` through `set`; a copy of the bytes and the overflow. */
  #encodeAttributes(
    attributes: unknown,
    field: number,
    set: AttributeSetCache,
    drops: AttributeDropCounts,
  ): { bytes: Uint8Array; spilled: boolean } {
    const w = this.#writer;
    w.reset(0);
    set.write(w, attributes, field, drops, 0);
    return { bytes: w.buf.slice(0, w.pos), spilled: w.spilled };
  }

  #make(
    resource: Resource,
    scope: InstrumentationScope,
    metric: MetricData,
    drops: AttributeDropCounts,
  ): Envelope {
    const d = metric.descriptor;
    const resourceSet = new AttributeSetCache(), scopeSet = new AttributeSetCache();
    const ra = this.#encodeAttributes(
      resource.attributes,
      F.Resource.attributes,
      resourceSet,
      drops,
    );
    const sa = this.#encodeAttributes(scopeAttributes(scope), F.Scope.attributes, scopeSet, drops);
    const w = this.#writer;

    // Resource: attributes, dropped_attributes_count = 0 (written, as otlp-transformer does).
    w.reset(0);
    w.tag(F.ResourceMetrics.resource, LEN);
    let start = w.fork();
    w.raw(ra.bytes);
    w.tag(F.Resource.droppedAttributesCount, WireType.Varint);
    w.uint32(0);
    w.join(start);
    const resourcePart = w.buf.slice(0, w.pos);

    // Scope: name, version, attributes.
    w.reset(0);
    w.tag(F.ScopeMetrics.scope, LEN);
    start = w.fork();
    w.tag(F.Scope.name, LEN);
    w.string(scope.name);
    if (scope.version) {
      w.tag(F.Scope.version, LEN);
      w.string(scope.version);
    }
    w.raw(sa.bytes);
    w.join(start);
    const scopePart = w.buf.slice(0, w.pos);
    const scopeSpilled = w.spilled;

    // Metric: name, description, unit.
    w.reset(0);
    w.tag(F.Metric.name, LEN);
    w.string(d.name);
    if (d.description) {
      w.tag(F.Metric.description, LEN);
      w.string(d.description);
    }
    if (d.unit) {
      w.tag(F.Metric.unit, LEN);
      w.string(d.unit);
    }
    const metricHead = w.buf.slice(0, w.pos);
    const headSpilled = w.spilled;

    // Data trailer: temporality (not for gauges), monotonic (sums).
    const kind = metric.dataPointType as number as PointKind;
    const temporality = protoTemporality(metric.aggregationTemporality);
    const monotonic = isMonotonic(metric);
    w.reset(0);
    if (kind !== PointKind.Gauge && temporality !== 0) {
      w.tag(F.Data.aggregationTemporality, WireType.Varint);
      w.uint32(temporality);
    }
    if (kind === PointKind.Sum && monotonic) {
      w.tag(F.Data.isMonotonic, WireType.Varint);
      w.uint32(1);
    }
    const dataTail = w.buf.slice(0, w.pos);

    return new Envelope({
      name: d.name,
      kind,
      integer: d.valueType === 0,
      oversize: ra.spilled || sa.spilled || scopeSpilled || headSpilled ||
        resourcePart.length + scopePart.length + metricHead.length > MAX_ENVELOPE_PART,
      resource: resourcePart,
      scope: scopePart,
      metricHead,
      dataTail,
      scopeTail: stringField(F.ScopeMetrics.schemaUrl, scope.schemaUrl),
      resourceTail: stringField(F.ResourceMetrics.schemaUrl, resource.schemaUrl),
    }, {
      name: d.name,
      description: d.description,
      unit: d.unit,
      valueType: d.valueType,
      type: metric.dataPointType,
      temporality: metric.aggregationTemporality,
      monotonic,
      scopeName: scope.name,
      scopeVersion: scope.version,
      scopeSchemaUrl: scope.schemaUrl,
      resourceSchemaUrl: resource.schemaUrl,
      resourceAttributes: ra.bytes,
      resourceSet,
      scopeAttributes: sa.bytes,
      scopeSet,
    });
  }
}

function isMonotonic(metric: MetricData): boolean {
  return (metric as { isMonotonic?: boolean }).isMonotonic === true;
}

function scopeAttributes(scope: InstrumentationScope): unknown {
  return (scope as { attributes?: unknown }).attributes;
}

/** A string field, or nothing for an empty or missing string. */
function stringField(field: number, value: string | undefined): Uint8Array {
  if (!value) return new Uint8Array(0);
  const w = new ProtoWriter(new Uint8Array(value.length * 3 + 6));
  w.tag(field, LEN);
  w.string(value);
  return w.buf.slice(0, w.pos);
}

function concat(parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
