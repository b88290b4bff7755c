/**
 * Capturing what the exporter tells the OpenTelemetry diag logger, for tests of its messages.
 *
 * @module
 */
import { diag, DiagLogLevel } from "@opentelemetry/api";

/** Registers a diag logger collecting warnings and errors; `diag.disable()` removes it. */
export function captureDiag(): string[] {
  const messages: string[] = [];
  const keep = (m: string) => void messages.push(m);
  diag.setLogger(
    { error: keep, warn: keep, info: () => {}, debug: () => {}, verbose: () => {} },
    DiagLogLevel.WARN,
  );
  return messages;
}
