/**
 * A minimal OTLP/HTTP metrics receiver for the benchmark, run in its own process by
 * `bench.ts` (so its CPU is not charged to the exporter being measured): accepts `POST
 * /v1/metrics` on 127.0.0.1, reads the body, answers 200 with an empty
 * `ExportMetricsServiceResponse`. Prints `{"port":N}` once listening. Stops by itself when its
 * stdin closes (the benchmark ended or died) or after 120 s without a request.
 *
 * Run (by bench.ts): `bun bench/otlp_receiver.ts` / `deno run -A bench/otlp_receiver.ts`.
 *
 * @module
 */
import { createServer } from "node:http";
import process from "node:process";

const IDLE_MS = 120_000;
let requests = 0, bytes = 0;
let idle: ReturnType<typeof setTimeout> | undefined;
const stop = () => {
  server.close();
  process.stderr.write(`otlp_receiver: ${requests} requests, ${bytes} bytes\n`);
  process.exit(0);
};
const touch = () => {
  if (idle) clearTimeout(idle);
  idle = setTimeout(stop, IDLE_MS);
};

const server = createServer((req, res) => {
  touch();
  req.on("data", (chunk: Uint8Array) => (bytes += chunk.length));
  req.on("end", () => {
    requests++;
    res.writeHead(200, { "content-type": "application/x-protobuf", "content-length": "0" });
    res.end();
  });
});
server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  process.stdout.write(`${JSON.stringify({ port })}\n`);
  touch();
});
process.stdin.on("end", stop);
process.stdin.on("close", stop);
process.stdin.resume();
