/**
 * Sends per-point `otlp_metrics` payloads to an OTLP/HTTP receiver (`<endpoint>/v1/metrics`,
 * protobuf), merged into batches; retries with exponential backoff and jitter; a bounded queue
 * that drops oldest-first; every point counted.
 *
 * @module
 */
import { fromBinary } from "@bufbuild/protobuf";
import { ExportMetricsServiceResponseSchema } from "../../proto/gen/opentelemetry/proto/collector/metrics/v1/metrics_service_pb.ts";
import { decodeMetricsPayload, type ExportMetricsServiceRequest } from "../decode.ts";
import { type Batch, MetricsBatcher } from "./batcher.ts";

/** Options of {@linkcode OtlpForwarder}. */
export interface ForwarderOptions {
  /**
   * The receiver: a base URL (`http://collector:4318`), to which `/v1/metrics` is appended, or
   * a full URL already ending in `/v1/metrics`. `http:` or `https:`.
   */
  endpoint: string;
  /** Extra request headers (authentication). */
  headers?: Record<string, string>;
  /** gzip request bodies (`Content-Encoding: gzip`); default false. */
  gzip?: boolean;
  /** Per-request timeout in ms (default 10000). */
  timeoutMs?: number;
  /** Most points per request (default 1000). */
  maxBatchPoints?: number;
  /** Most payload bytes merged into one request (default 1 MiB). */
  maxBatchBytes?: number;
  /** Longest a point waits for its batch to fill (ms, default 1000). */
  maxDelayMs?: number;
  /** Most points queued (not counting the batch in flight); beyond, the oldest are dropped. */
  maxQueuePoints?: number;
  /** First retry delay (ms, default 500); doubles per attempt, with jitter. */
  initialBackoffMs?: number;
  /** Longest backoff delay (ms, default 30000). */
  maxBackoffMs?: number;
  /** Longest `Retry-After` honoured (ms, default 300000); longer ones wait this long. */
  maxRetryAfterMs?: number;
  /** Attempts per batch before it is dropped (default Infinity: retried while the queue holds). */
  maxAttempts?: number;
  /** The fetch function (default `globalThis.fetch`). */
  fetch?: typeof fetch;
  /** Random numbers in [0, 1) for the jitter (default Math.random). */
  random?: () => number;
}

/** Points dropped, by reason. */
export interface ForwardDrops {
  /** The queue was full: the oldest points made room. */
  queueFull: number;
  /** The receiver answered with a non-retryable status (400, 401, 403, 404, 413, ...). */
  rejected: number;
  /** A batch used up `maxAttempts`. */
  retriesExhausted: number;
  /** Still queued or in flight when `shutdown` ran out of time. */
  shutdown: number;
}

/** The forwarder's counters. Invariant: received = sent + dropped.* + queued + inFlight. */
export interface ForwarderStats {
  /** Points handed over. */
  received: number;
  /** Payloads that were not an OTLP request (not counted in `received`). */
  undecodable: number;
  /** Points in requests the receiver accepted (2xx). */
  sent: number;
  /** Of those, points the receiver reported rejected in `partial_success`. */
  partialRejected: number;
  /** Requests accepted. */
  requests: number;
  /** Retries (attempts after the first). */
  retries: number;
  /** Points waiting. */
  queued: number;
  /** Points in the request being sent. */
  inFlight: number;
  /** Points dropped, by reason. */
  dropped: ForwardDrops;
  /** The last failure (status or error message) and the receiver's partial_success message. */
  lastError?: string;
}

/** The outcome of one attempt. */
type Attempt =
  | { ok: true; rejectedPoints: number; message: string }
  | { ok: false; retry: boolean; retryAfterMs?: number; error: string };

const RETRYABLE = new Set([429, 502, 503, 504]);

/** gzip with the web-standard CompressionStream (Bun, Deno, browsers; no node:zlib). */
async function gzip(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as BlobPart]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** `Retry-After`: seconds or an HTTP date; ms from now, or undefined. */
export function parseRetryAfter(
  value: string | null,
  now: number = Date.now(),
): number | undefined {
  if (value === null || value.trim() === "") return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** The URL requests go to. */
export function metricsUrl(endpoint: string): string {
  const url = new URL(endpoint);
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new TypeError(`endpoint must be http: or https:, not ${url.protocol}`);
  }
  if (!url.pathname.endsWith("/v1/metrics")) {
    url.pathname = url.pathname.replace(/\/+$/, "") + "/v1/metrics";
  }
  return url.toString();
}

/**
 * The forwarder. `push` never throws and never waits; sending runs in the background.
 *
 * @example
 * ```ts ignore
 * import { OtlpForwarder } from "@otel-native/metrics/forward";
 * const forwarder = new OtlpForwarder({ endpoint: "http://127.0.0.1:4318" });
 * forwarder.push(payload); // one otlp_metrics payload (e.g. from TracefsListener.poll())
 * await forwarder.shutdown(); // final flush
 * console.log(forwarder.stats);
 * ```
 */
export class OtlpForwarder {
  /** Where requests go (`<endpoint>/v1/metrics`). */
  readonly url: string;
  readonly #options: Required<Omit<ForwarderOptions, "headers" | "fetch" | "random">>;
  readonly #headers: Record<string, string>;
  readonly #fetch: typeof fetch;
  readonly #random: () => number;
  readonly #batcher: MetricsBatcher;
  readonly #stats: ForwarderStats = {
    received: 0,
    undecodable: 0,
    sent: 0,
    partialRejected: 0,
    requests: 0,
    retries: 0,
    queued: 0,
    inFlight: 0,
    dropped: { queueFull: 0, rejected: 0, retriesExhausted: 0, shutdown: 0 },
  };
  #pump: Promise<void> | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #flushing = 0;
  #deadline = Infinity;
  #closed = false;

  /** Checks the options; nothing is sent before the first `push`. @throws {TypeError} bad endpoint */
  constructor(options: ForwarderOptions) {
    this.url = metricsUrl(options.endpoint);
    this.#options = {
      endpoint: options.endpoint,
      gzip: options.gzip ?? false,
      timeoutMs: options.timeoutMs ?? 10_000,
      maxBatchPoints: options.maxBatchPoints ?? 1000,
      maxBatchBytes: options.maxBatchBytes ?? 1 << 20,
      maxDelayMs: options.maxDelayMs ?? 1000,
      maxQueuePoints: options.maxQueuePoints ?? 100_000,
      initialBackoffMs: options.initialBackoffMs ?? 500,
      maxBackoffMs: options.maxBackoffMs ?? 30_000,
      maxRetryAfterMs: options.maxRetryAfterMs ?? 300_000,
      maxAttempts: options.maxAttempts ?? Infinity,
    };
    for (const [k, v] of Object.entries(this.#options)) {
      if (typeof v === "number" && !(v >= 0)) throw new RangeError(`${k} must be ≥ 0`);
    }
    if (this.#options.maxQueuePoints < 1) throw new RangeError("maxQueuePoints must be ≥ 1");
    this.#headers = {
      "content-type": "application/x-protobuf",
      ...(this.#options.gzip ? { "content-encoding": "gzip" } : {}),
      ...options.headers,
    };
    this.#fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.#random = options.random ?? Math.random;
    this.#batcher = new MetricsBatcher(this.#options);
  }

  /** A snapshot of the counters. */
  get stats(): ForwarderStats {
    return {
      ...this.#stats,
      queued: this.#batcher.points,
      dropped: { ...this.#stats.dropped },
    };
  }

  /** Queues one `otlp_metrics` payload (an encoded request); false if undecodable. */
  push(payload: Uint8Array): boolean {
    let request: ExportMetricsServiceRequest;
    try {
      request = decodeMetricsPayload(payload);
    } catch {
      this.#stats.undecodable++;
      return false;
    }
    this.pushRequest(request, payload.length);
    return true;
  }

  /** Queues a decoded request. */
  pushRequest(request: ExportMetricsServiceRequest, size = 0): void {
    if (this.#closed) {
      let n = 0;
      for (const rm of request.resourceMetrics) {
        for (const sm of rm.scopeMetrics) {
          for (const m of sm.metrics) n += m.data.case ? m.data.value.dataPoints.length : 0;
        }
      }
      this.#stats.received += n;
      this.#stats.dropped.shutdown += n;
      return;
    }
    this.#stats.received += this.#batcher.add(request, size);
    const over = this.#batcher.points - this.#options.maxQueuePoints;
    if (over > 0) this.#stats.dropped.queueFull += this.#batcher.dropOldest(over);
    this.#schedule();
  }

  /** Sends everything queued now; resolves when the queue is empty (or all was dropped). */
  async flush(): Promise<void> {
    this.#flushing++;
    try {
      this.#schedule();
      while (this.#batcher.points > 0 || this.#pump) {
        await (this.#pump ?? Promise.resolve());
        if (this.#batcher.points > 0 && !this.#pump) this.#schedule();
      }
    } finally {
      this.#flushing--;
    }
  }

  /**
   * Final flush: stops accepting, sends what is queued (retrying until `timeoutMs`), then
   * counts whatever is left as `dropped.shutdown`.
   */
  async shutdown({ timeoutMs = 10_000 }: { timeoutMs?: number } = {}): Promise<void> {
    this.#closed = true;
    this.#deadline = Date.now() + timeoutMs;
    await this.flush();
    clearTimeout(this.#timer);
  }

  #schedule(): void {
    if (this.#pump) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const oldest = this.#batcher.oldestArrival;
    if (oldest === undefined) return;
    const due = this.#batcher.points >= this.#options.maxBatchPoints ||
        this.#batcher.bytes >= this.#options.maxBatchBytes || this.#flushing > 0
      ? 0
      : Math.max(0, oldest + this.#options.maxDelayMs - Date.now());
    if (due === 0) this.#pump = this.#run();
    else this.#timer = setTimeout(() => this.#schedule(), due);
  }

  async #run(): Promise<void> {
    try {
      for (;;) {
        const batch = this.#batcher.take();
        if (!batch) break;
        await this.#send(batch);
        const ready = this.#batcher.points >= this.#options.maxBatchPoints ||
          this.#batcher.bytes >= this.#options.maxBatchBytes || this.#flushing > 0;
        if (!ready) break;
      }
    } finally {
      this.#pump = undefined;
      this.#schedule();
    }
  }

  /** Sends one batch until accepted, rejected, out of attempts or out of time. */
  async #send(batch: Batch): Promise<void> {
    this.#stats.inFlight = batch.points;
    let body: Uint8Array = MetricsBatcher.encode(batch);
    if (this.#options.gzip) body = await gzip(body);
    try {
      for (let attempt = 1;; attempt++) {
        const result = await this.#attempt(body);
        if (result.ok) {
          this.#stats.sent += batch.points;
          this.#stats.requests++;
          this.#stats.partialRejected += result.rejectedPoints;
          if (result.message) this.#stats.lastError = `partial_success: ${result.message}`;
          return;
        }
        this.#stats.lastError = result.error;
        if (!result.retry) {
          this.#stats.dropped.rejected += batch.points;
          return;
        }
        if (attempt >= this.#options.maxAttempts) {
          this.#stats.dropped.retriesExhausted += batch.points;
          return;
        }
        const base = Math.min(
          this.#options.maxBackoffMs,
          this.#options.initialBackoffMs * 2 ** (attempt - 1),
        );
        // "Equal jitter": half the delay fixed, half random; Retry-After wins when given.
        const delay = result.retryAfterMs !== undefined
          ? Math.min(result.retryAfterMs, this.#options.maxRetryAfterMs)
          : base / 2 + this.#random() * base / 2;
        if (Date.now() + delay > this.#deadline) {
          this.#stats.dropped.shutdown += batch.points;
          return;
        }
        this.#stats.retries++;
        await new Promise<void>((resolve) => setTimeout(resolve, delay));
      }
    } finally {
      this.#stats.inFlight = 0;
    }
  }

  async #attempt(body: Uint8Array): Promise<Attempt> {
    const timeoutMs = Math.min(this.#options.timeoutMs, Math.max(1, this.#deadline - Date.now()));
    let response: Response;
    try {
      response = await this.#fetch(this.url, {
        method: "POST",
        headers: this.#headers,
        body: body as BodyInit,
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      const e = error as Error;
      return {
        ok: false,
        retry: true,
        error: e.name === "TimeoutError" ? `timeout after ${timeoutMs} ms` : e.message,
      };
    }
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await response.arrayBuffer());
    } catch (error) {
      // The connection broke while the body was read.
      return { ok: false, retry: true, error: (error as Error).message };
    }
    if (response.status >= 200 && response.status < 300) {
      let rejectedPoints = 0, message = "";
      if (bytes.length > 0 && !(response.headers.get("content-type") ?? "").includes("json")) {
        try {
          const r = fromBinary(ExportMetricsServiceResponseSchema, bytes);
          rejectedPoints = Number(r.partialSuccess?.rejectedDataPoints ?? 0n);
          message = r.partialSuccess?.errorMessage ?? "";
        } catch { /* not a response message: accepted, nothing to read */ }
      }
      return { ok: true, rejectedPoints, message };
    }
    return {
      ok: false,
      retry: RETRYABLE.has(response.status),
      retryAfterMs: parseRetryAfter(response.headers.get("retry-after")),
      error: `HTTP ${response.status}${
        bytes.length > 0 && bytes.length < 512 && /text|json/.test(
            response.headers.get("content-type") ?? "",
          )
          ? `: ${new TextDecoder().decode(bytes).trim()}`
          : ""
      }`,
    };
  }
}
