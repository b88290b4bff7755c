/**
 * Field numbers of the OTLP messages the encoder writes (opentelemetry-proto v1.4.0,
 * `collector/metrics/v1/metrics_service.proto`, `metrics/v1/metrics.proto`,
 * `common/v1/common.proto`, `resource/v1/resource.proto`), one table per message:
 * number, name, protobuf type and wire type. `tests/envelope_test.ts` checks every number and
 * wire type against the schemas generated from the .proto files (`proto/gen`).
 *
 * @module
 */

/**
 * `ExportMetricsServiceRequest`
 * ```
 *   1  resource_metrics  repeated ResourceMetrics  LEN
 * ```
 */
export const Request = { resourceMetrics: 1 } as const;

/**
 * `ResourceMetrics`
 * ```
 *   1  resource       Resource               LEN
 *   2  scope_metrics  repeated ScopeMetrics  LEN
 *   3  schema_url     string                 LEN
 * ```
 */
export const ResourceMetrics = { resource: 1, scopeMetrics: 2, schemaUrl: 3 } as const;

/**
 * `Resource`
 * ```
 *   1  attributes                repeated KeyValue  LEN
 *   2  dropped_attributes_count  uint32             VARINT (written as 0, as otlp-transformer does)
 * ```
 */
export const Resource = { attributes: 1, droppedAttributesCount: 2 } as const;

/**
 * `ScopeMetrics`
 * ```
 *   1  scope       InstrumentationScope  LEN
 *   2  metrics     repeated Metric       LEN
 *   3  schema_url  string                LEN
 * ```
 */
export const ScopeMetrics = { scope: 1, metrics: 2, schemaUrl: 3 } as const;

/**
 * `InstrumentationScope`
 * ```
 *   1  name        string             LEN
 *   2  version     string             LEN
 *   3  attributes  repeated KeyValue  LEN
 * ```
 */
export const Scope = { name: 1, version: 2, attributes: 3 } as const;

/**
 * `Metric`
 * ```
 *   1  name                   string                LEN
 *   2  description            string                LEN
 *   3  unit                   string                LEN
 *   5  gauge                  Gauge                 LEN
 *   7  sum                    Sum                   LEN
 *   9  histogram              Histogram             LEN
 *  10  exponential_histogram  ExponentialHistogram  LEN
 * ```
 */
export const Metric = {
  name: 1,
  description: 2,
  unit: 3,
  gauge: 5,
  sum: 7,
  histogram: 9,
  exponentialHistogram: 10,
} as const;

/**
 * `Gauge`, `Sum`, `Histogram`, `ExponentialHistogram` (the `Metric.data` members)
 * ```
 *   1  data_points              repeated …DataPoint     LEN
 *   2  aggregation_temporality  AggregationTemporality  VARINT (not in Gauge)
 *   3  is_monotonic             bool                    VARINT (Sum only)
 * ```
 */
export const Data = { dataPoints: 1, aggregationTemporality: 2, isMonotonic: 3 } as const;

/**
 * `NumberDataPoint`
 * ```
 *   7  attributes            repeated KeyValue  LEN
 *   2  start_time_unix_nano  fixed64            I64
 *   3  time_unix_nano        fixed64            I64
 *   4  as_double             double             I64
 *   6  as_int                sfixed64           I64
 *   8  flags                 uint32             VARINT
 * ```
 */
export const NumberPoint = {
  startTime: 2,
  time: 3,
  asDouble: 4,
  asInt: 6,
  attributes: 7,
  flags: 8,
} as const;

/**
 * `HistogramDataPoint`
 * ```
 *   9  attributes            repeated KeyValue  LEN
 *   2  start_time_unix_nano  fixed64            I64
 *   3  time_unix_nano        fixed64            I64
 *   4  count                 fixed64            I64
 *   5  sum                   optional double    I64
 *   6  bucket_counts         repeated fixed64   LEN (packed)
 *   7  explicit_bounds       repeated double    LEN (packed)
 *  10  flags                 uint32             VARINT
 *  11  min                   optional double    I64
 *  12  max                   optional double    I64
 * ```
 */
export const HistogramPoint = {
  startTime: 2,
  time: 3,
  count: 4,
  sum: 5,
  bucketCounts: 6,
  explicitBounds: 7,
  attributes: 9,
  flags: 10,
  min: 11,
  max: 12,
} as const;

/**
 * `ExponentialHistogramDataPoint`
 * ```
 *   1  attributes            repeated KeyValue  LEN
 *   2  start_time_unix_nano  fixed64            I64
 *   3  time_unix_nano        fixed64            I64
 *   4  count                 fixed64            I64
 *   5  sum                   optional double    I64
 *   6  scale                 sint32             VARINT (zigzag)
 *   7  zero_count            fixed64            I64
 *   8  positive              Buckets            LEN
 *   9  negative              Buckets            LEN
 *  10  flags                 uint32             VARINT
 *  12  min                   optional double    I64
 *  13  max                   optional double    I64
 *  14  zero_threshold        double             I64
 * ```
 */
export const ExponentialPoint = {
  attributes: 1,
  startTime: 2,
  time: 3,
  count: 4,
  sum: 5,
  scale: 6,
  zeroCount: 7,
  positive: 8,
  negative: 9,
  flags: 10,
  min: 12,
  max: 13,
  zeroThreshold: 14,
} as const;

/**
 * `ExponentialHistogramDataPoint.Buckets`
 * ```
 *   1  offset         sint32           VARINT (zigzag)
 *   2  bucket_counts  repeated uint64  LEN (packed varints)
 * ```
 */
export const Buckets = { offset: 1, bucketCounts: 2 } as const;

/**
 * `KeyValue`
 * ```
 *   1  key    string    LEN
 *   2  value  AnyValue  LEN
 * ```
 */
export const KeyValue = { key: 1, value: 2 } as const;

/**
 * `AnyValue` (a oneof; an empty message for null / undefined, as otlp-transformer writes it)
 * ```
 *   1  string_value  string            LEN
 *   2  bool_value    bool              VARINT
 *   3  int_value     int64             VARINT
 *   4  double_value  double            I64
 *   5  array_value   ArrayValue        LEN
 *   6  kvlist_value  KeyValueList      LEN
 *   7  bytes_value   bytes             LEN
 * ```
 */
export const AnyValue = {
  string: 1,
  bool: 2,
  int: 3,
  double: 4,
  array: 5,
  kvlist: 6,
  bytes: 7,
} as const;

/**
 * `ArrayValue` and `KeyValueList`
 * ```
 *   1  values  repeated AnyValue / repeated KeyValue  LEN
 * ```
 */
export const List = { values: 1 } as const;
